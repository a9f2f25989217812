"""The exit statuses of the ``mock-norce`` command."""

import signal

EXIT_OK, EXIT_NEGATIVE, EXIT_USAGE = 0, 1, 2
# stdout closed by its reader (`mock-norce generate ... | head -n 1`): the status a tool
# killed by SIGPIPE has in a shell (`yes | head` gives 141 under `set -o pipefail`), without
# a message; the reader had all it wanted, and finally blocks still run.
EXIT_PIPE = 128 + signal.SIGPIPE
# `mock-norce conform`: the battery ran and at least one case failed (warnings alone exit 0),
# told apart from 1 (a negative answer of another command) and 2 (bad input) in a CI job.
EXIT_NONCONFORMANT = 3
