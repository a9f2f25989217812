"""Runs the battery: the sending cases through the Sender, then the burst, then the cases
that read every answer (redirects, latency, the slow path), then the user's verification.

Sending cases run side by side up to ``parallel`` at once (the configured concurrency per
subscriber, 1 by default, as mock-norce itself delivers), each case's own steps one after the
other; the burst runs alone afterwards, so its N requests at once are the only ones in flight
and a failure under load is not blamed on another case. ``post`` is ``Sender.post`` (the same
code path as every delivery: the 5 s deadline over the whole attempt, redirects as Norce's
.NET client follows them, the static headers), injected so this module needs no socket.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from mock_norce.catalogue.payloads import EventFactory, new_seed
from mock_norce.conformance import cases
from mock_norce.conformance.report import Case, Exchange, Report, exchange
from mock_norce.delivery.subscriptions import check_choice, check_headers, check_url, mask_url
from mock_norce.errors import ConformanceError, MockNorceError
from mock_norce.limits import SEED_MAX, SEED_MIN
from mock_norce.delivery import policy as policies
from mock_norce.settings import CONTENT_TYPES, POLICIES, REDIRECT_HEADER_RULES

TYPE_SLOT = "%7Btype%7D"  # "{type}" in a URL, as check_url writes it: the event type goes there
# What the first attempt can end in that no other request would end differently in.
UNREACHABLE = ("dns", "connection_refused", "blocked_address", "bad_request", "tls")
BURST_MIN = 4  # with the default concurrency of 1 a "burst" of one would test nothing
BURST_MAX = 64


@dataclass
class Plan:
    """What to run: checked input (see ``Battery.plan``)."""

    url: str
    types: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    verify: str | Callable[[dict], Any] | None = None
    seed: int = 0
    burst: int = BURST_MIN
    content_type: str = CONTENT_TYPES[0]  # as MOCK_NORCE_CONTENT_TYPE or the request says
    policy: str = POLICIES[0]  # whose retries the reasons speak of (MOCK_NORCE_POLICY)
    redirect_headers: str = REDIRECT_HEADER_RULES[0]


class Battery:
    """The conformance battery over a Sender's ``post`` and the payload factory."""

    def __init__(self, post: Callable, factory: EventFactory, *, budget: float = 5.0, parallel: int = 1,
                 burst: int = BURST_MIN, user_agent: str = "mock-norce", allow_link_local: bool = False,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 idle: Callable[[], Any] | None = None, content_type: str = CONTENT_TYPES[0],
                 redirect_headers: str = REDIRECT_HEADER_RULES[0], policy: str = POLICIES[0]):
        self.post = post
        self.idle = idle  # closes the sender's idle connections after a run (none linger between runs)
        self.factory = factory
        self.budget = budget
        self.parallel = max(1, parallel)
        self.burst = min(max(burst, BURST_MIN), BURST_MAX)
        self.user_agent = user_agent
        self.allow_link_local = allow_link_local
        self.clock = clock
        self.monotonic = monotonic
        self.content_type = content_type  # the global settings; a plan may choose others
        self.redirect_headers = redirect_headers
        self.policy = policy

    def plan(self, url: Any, types: Any = None, headers: Any = None, verify: Any = None,
             seed: Any = None, default_types: list[str] | None = None, content_type: Any = None,
             redirect_headers: Any = None, policy: Any = None) -> Plan:
        """The checked input, or a ConformanceError naming the field at fault; no types (or []) means
        default_types (the enabled subscriptions), or every type when that is empty too."""
        try:
            target = check_url(url.strip() if isinstance(url, str) else url, self.allow_link_local)
        except MockNorceError as exc:
            raise ConformanceError(exc.message, "url") from None
        names = self.factory.catalog.names()
        if types is None or types == []:
            types = list(default_types or names)
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ConformanceError("types must be a list of event type names", "types")
        unknown = [t for t in types if t not in names]
        if unknown:
            raise ConformanceError(f"unknown event type(s): {', '.join(unknown)}; known: {', '.join(names)}", "types")
        try:
            checked = check_headers(headers)
        except MockNorceError as exc:
            raise ConformanceError(exc.message, "headers") from None
        if isinstance(verify, str):
            try:
                verify = check_url(verify.strip(), self.allow_link_local, what="verify URL")
            except MockNorceError as exc:
                raise ConformanceError(exc.message, "verify") from None
        elif verify is not None and not callable(verify):
            raise ConformanceError("verify must be a URL (or, in Python, a callable)", "verify")
        if seed is None:
            seed = new_seed()
        if not isinstance(seed, int) or isinstance(seed, bool) or not SEED_MIN <= seed <= SEED_MAX:
            raise ConformanceError(f"seed must be an integer between {SEED_MIN} and {SEED_MAX}", "seed")
        for name, value in (("content_type", content_type), ("redirect_headers", redirect_headers),
                            ("policy", policy)):
            try:
                check_choice(name, value)  # the values a subscription may take
            except MockNorceError as exc:
                raise ConformanceError(exc.message, name) from None
        return Plan(target, list(dict.fromkeys(types)), checked, verify, seed, self.burst,
                    content_type=content_type or self.content_type,
                    redirect_headers=redirect_headers or self.redirect_headers, policy=policy or self.policy)

    def run(self, plan: Plan) -> Report:
        """Send every case, judge it, and return the report."""
        start = self.monotonic()
        shown = (mask_url(plan.url) or "").replace(TYPE_SLOT, "{type}")
        report = Report(id=uuid.uuid4().hex[:12], url=shown, types=plan.types, seed=plan.seed,
                        started=self.clock(), budget_ms=self.budget * 1000,
                        verify_url=mask_url(plan.verify) if isinstance(plan.verify, str) else None,
                        content_type=plan.content_type, redirect_headers=plan.redirect_headers,
                        policy=plan.policy)
        sending = cases.jobs(self.factory, plan.types, plan.seed, plan.content_type)
        burst = cases.burst_job(self.factory, plan.types, plan.seed, plan.burst)
        # The first case alone: an endpoint that cannot be reached at all fails every case at
        # once, instead of some 50 requests that would each say the same (each up to 5 s).
        done = [self._sequence(sending[0], plan, start)]
        first = done[0].exchanges[0]
        if first.error_class in UNREACHABLE:
            done += [cases.not_sent(job, first) for job in sending[1:] + [burst]]
        else:
            with ThreadPoolExecutor(self.parallel, thread_name_prefix="conform") as pool:
                done += list(pool.map(lambda job: self._sequence(job, plan, start), sending[1:]))
            done.append(self._at_once(burst, plan, start))
        every: list[Exchange] = [ex for case in done for ex in case.exchanges]
        rules = policies.named(plan.policy)
        report.cases = done + [cases.judge_redirects(every), cases.judge_latency(every, self.budget * 1000, rules),
                               cases.judge_slow_path(every, self.budget * 1000, rules)]
        if plan.verify is not None:
            report.cases.append(self._verify(plan, report, start))
        report.duration_ms = (self.monotonic() - start) * 1000
        if self.idle is not None:
            self.idle()
        return report

    # --- sending ---------------------------------------------------------------------------

    def _send(self, plan: Plan, step: cases.Step, start: float, content_type: str | None = None) -> Exchange:
        # Norce posts each type to its own URL (the body does not say its type): {type} in the
        # URL stands for it, so one receiver can route (and deduplicate) per type.
        url = plan.url.replace(TYPE_SLOT, step.event_type)
        began = self.monotonic()
        content_type = content_type or plan.content_type
        outcome = self.post(url, step.body, plan.headers, content_type=content_type,
                            redirect_headers=plan.redirect_headers)
        return exchange(url, step.body, plan.headers, outcome, (began - start) * 1000, self.user_agent,
                        content_type)

    def _sequence(self, job: cases.Job, plan: Plan, start: float) -> Case:
        began = self.monotonic()
        exchanges = [] if job.skip else [self._send(plan, step, start, job.content_type) for step in job.steps]
        case = cases.judge_sent(job, exchanges, policies.named(plan.policy))
        case.duration_ms = (self.monotonic() - began) * 1000
        return case

    def _at_once(self, job: cases.Job, plan: Plan, start: float) -> Case:
        """Every step of the job at the same moment, one thread each, released by a barrier."""
        began = self.monotonic()
        gate = threading.Barrier(len(job.steps))

        def one(step: cases.Step) -> Exchange:
            gate.wait(timeout=self.budget + 5)
            return self._send(plan, step, start)

        with ThreadPoolExecutor(len(job.steps), thread_name_prefix="conform-burst") as pool:
            exchanges = list(pool.map(one, job.steps))
        case = cases.judge_sent(job, exchanges, policies.named(plan.policy))
        case.duration_ms = (self.monotonic() - began) * 1000
        return case

    def _verify(self, plan: Plan, report: Report, start: float) -> Case:
        """The user's check of side effects: the report so far (bodies included) to their URL or callable."""
        case = Case("verify", "the user's verification of side effects passes (2xx from --verify, or the "
                    "callable returns)")
        began = self.monotonic()
        data = report.to_dict()
        if callable(plan.verify):
            try:
                plan.verify(data)
                case.reason = "the verification returned"
            except Exception as exc:  # noqa: BLE001 - the user's assertion, whatever it raised
                case.verdict, case.reason = "fail", f"{type(exc).__name__}: {exc}"
        else:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            outcome = self.post(plan.verify, body, {}, content_type=CONTENT_TYPES[0])
            ex = exchange(plan.verify, body, {}, outcome, (began - start) * 1000, self.user_agent, CONTENT_TYPES[0])
            ex.request_body = ex.request_body[:2048] + (" [...]" if len(ex.request_body) > 2048 else "")
            case.exchanges = [ex]
            if ex.ok:
                case.reason = f"the verify URL answered {ex.answer()}"
            else:
                case.verdict = "fail"
                case.reason = f"the verify URL answered {ex.answer()}: {ex.response_body[:300]}"
        case.duration_ms = (self.monotonic() - began) * 1000
        return case
