"""The conformance battery: "would Norce be happy with your endpoint?"

Real deliveries against a user's endpoint, each case named with an expectation, a verdict
(pass, warn, fail; skip where a case does not apply to the chosen types) and its evidence.
``cases`` builds what to send and judges the answers, ``runner`` sends them through the
Sender (the same code path as every delivery), ``report`` holds the result and
``render`` turns it into a table, JSON or JUnit XML, ``reports`` keeps the last ones.

Owns: the cases, their verdicts, the reports and their renderings. Imports: catalogue (the
payload factory), delivery (the policy's redirect codes, URL and header checks, masking) and
the foundation; beside playback, below web and cli. No sockets here: the Sender's ``post``
is passed in, so this package reads without the network.
"""

from mock_norce.conformance.report import Case, Exchange, Report, VERDICTS
from mock_norce.conformance.runner import Battery, Plan

__all__ = ["Battery", "Case", "Exchange", "Plan", "Report", "VERDICTS"]
