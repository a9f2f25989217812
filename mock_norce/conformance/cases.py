"""The cases of the battery: what each sends, and how its answers are judged.

Why each case matters is Norce's delivery guide (``docs/ci.md`` says it for users): any
answer but 2xx is a failure that Norce retries 16 more times over about 22 hours; it
delivers at least once (a retry after a lost answer is a duplicate) and promises no order;
OrderId is an int64; names are Nordic; optional fields may be absent; each attempt has 5 s
in all, redirects included, and a 301/302/303 is followed with a GET (the body is lost).
The ``Plan`` is pure data (bodies as bytes), so a test can read what a battery would send.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from mock_norce.catalogue.payloads import EventFactory, dumps
from mock_norce.conformance.report import Case, Exchange
from mock_norce.delivery import policy
from mock_norce.settings import CONTENT_TYPES

INT32_BEYOND = 2**31  # the first id an int32 column cannot hold
JS_BEYOND = 2**53 + 1  # 9007199254740993: a JavaScript number (a double) turns it into ...992
NORDIC_NAMES = {"FirstName": "Åsa-Øydis", "LastName": "Ærø Ängström-Öberg"}
# An order's life as Norce tells it; the battery sends the chosen ones last first.
LIFECYCLE = ("OrderReceivedEvent", "OrderConfirmedEvent", "OrderPaymentReceivedEvent", "OrderPartlyDeliveredEvent",
             "OrderDeliveredEvent")
LATENCY_WARN_MS = 1000.0
SLOW_SHARE = 0.8  # of the budget: the slowest answer above it is a warning
RETRY_WORDS = "Norce retries any answer but 2xx 16 times over about 22 hours, then marks the event dead"


def retry_words(rules: policy.Policy, status: int | None, error_class: str | None) -> str:
    """What Norce does with a failed attempt under this policy (the battery's reasons say it)."""
    if rules.retry_on == "any":
        return RETRY_WORDS if rules is policy.CURRENT else (
            f"Norce retries any answer but 2xx {rules.max_attempts - 1} times, then marks the event dead")
    if rules.retried(status, error_class):
        return (f"Norce's {rules.name} policy retries it {rules.max_attempts - 1} times at once, then marks "
                "the event dead")
    return f"Norce's {rules.name} policy does not retry it: the event is dead, never delivered"


@dataclass
class Step:
    """One body to POST, and what it is (for the reason of a failure)."""

    event_type: str
    body: bytes
    label: str


@dataclass
class Job:
    """A case that sends: its steps, one after the other (in order, each after the last answer)."""

    name: str
    expectation: str
    steps: list[Step] = field(default_factory=list)
    skip: str = ""  # why the case does not apply to the chosen types
    content_type: str | None = None  # sent with this Content-Type instead of the battery's
    soft: bool = False  # a refusal warns instead of failing (what Norce does there is not documented)


def _step(factory: EventFactory, event_type: str, seed: int, label: str = "", **kw) -> Step:
    payload = factory.generate(event_type, seed=seed, **kw)
    return Step(event_type, dumps(payload.body).encode("utf-8"), label or event_type)


def jobs(factory: EventFactory, types: list[str], seed: int, content_type: str = CONTENT_TYPES[0]) -> list[Job]:
    """Every sending case for the chosen types, with the bodies it will send (``content_type``:
    the battery's; the content-type case sends the other one)."""
    catalog = factory.catalog
    out = [Job(f"accepts/{t}", f"a realistic {t} is answered 2xx", [_step(factory, t, seed + i)])
           for i, t in enumerate(types)]
    first = "OrderConfirmedEvent" if "OrderConfirmedEvent" in types else types[0]
    dup = _step(factory, first, seed + 1000, f"{first} (same body twice)")
    # Norce documents application/json; its .NET platform's StringContent sends
    # "application/json; charset=utf-8" unless told otherwise. Which one a tenant sends is not
    # documented, so refusing the other one warns.
    other = next(c for c in CONTENT_TYPES if c != content_type)
    out.append(Job("content-type", f"an event with Content-Type: {other} is answered 2xx too (Norce documents "
                   "application/json; .NET's StringContent sends it with charset=utf-8)",
                   [_step(factory, first, seed + 500, f"{first} with Content-Type: {other}")],
                   content_type=other, soft=True))
    out.append(Job("duplicate", "the same event delivered twice is answered 2xx both times (at-least-once delivery)",
                   [dup, dup]))

    chosen = [t for t in LIFECYCLE if t in types]
    job = Job("out-of-order", "events of one order in reverse lifecycle order are each answered 2xx "
              "(Norce promises no order)")
    if len(chosen) < 2:
        job.skip = "needs two of " + ", ".join(LIFECYCLE) + " among the types"
    else:
        draw = factory.draw(random.Random(seed + 2000))
        for t in reversed(chosen):
            body = factory.generate(t, draw=draw).body
            job.steps.append(Step(t, dumps(body).encode("utf-8"), t))
    out.append(job)

    with_id = [t for t in types if "OrderId" in catalog.get(t).fields]
    job = Job("int64-ids", f"OrderId beyond int32 ({INT32_BEYOND}) and beyond 2^53 ({JS_BEYOND}) is answered 2xx "
              "(OrderId is an int64)")
    if not with_id:
        job.skip = "no chosen type has an OrderId"
    else:
        t = "OrderConfirmedEvent" if "OrderConfirmedEvent" in with_id else with_id[0]
        job.steps = [_step(factory, t, seed + 3000 + n, f"{t} with OrderId {v}", overrides={"OrderId": v})
                     for n, v in enumerate((INT32_BEYOND, JS_BEYOND))]
    out.append(job)

    named = [t for t in types if {"FirstName", "LastName"} <= set(catalog.get(t).fields)]
    job = Job("non-ascii", "names with Nordic letters (Ø, Å, Æ, Ä, Ö) are answered 2xx")
    if not named:
        job.skip = "no chosen type has FirstName and LastName"
    else:
        t = "OrderConfirmedEvent" if "OrderConfirmedEvent" in named else named[0]
        job.steps = [_step(factory, t, seed + 4000, f"{t} with {NORDIC_NAMES['FirstName']} "
                           f"{NORDIC_NAMES['LastName']}", overrides=NORDIC_NAMES)]
    out.append(job)

    job = Job("optional-absent", "each type with every optional field absent is answered 2xx")
    for n, t in enumerate(types):
        et = catalog.get(t)
        optional = [f for f in et.fields if f not in et.required]
        if optional:
            job.steps.append(_step(factory, t, seed + 5000 + n, f"{t} without {', '.join(optional)}", omit=optional))
    if not job.steps:
        job.skip = "no chosen type has an optional field"
    out.append(job)
    return out


def burst_job(factory: EventFactory, types: list[str], seed: int, size: int) -> Job:
    """size different events of the first type, to be sent at once."""
    t = "OrderConfirmedEvent" if "OrderConfirmedEvent" in types else types[0]
    return Job("burst", f"{size} deliveries at once (the configured concurrency) are all answered 2xx",
               [_step(factory, t, seed + 6000 + n, f"{t} #{n + 1} of {size}") for n in range(size)])


# --- judging -----------------------------------------------------------------------------

def why_not(ex: Exchange, rules: policy.Policy = policy.CURRENT) -> str:
    """Why an answer fails a case, in Norce's terms."""
    if ex.status is not None:
        return f"HTTP {ex.status}: {retry_words(rules, ex.status, ex.error_class)}"
    if ex.error_class == "timeout":
        return f"no answer within the budget (timeout): {retry_words(rules, None, 'timeout')}"
    return f"{ex.error_class} ({ex.error}): {retry_words(rules, None, ex.error_class)}"


def judge_sent(job: Job, exchanges: list[Exchange], rules: policy.Policy = policy.CURRENT) -> Case:
    """A sending case: pass when every answer was 2xx, else fail naming the first that was not."""
    case = Case(job.name, job.expectation, exchanges=exchanges)
    if job.skip:
        case.verdict, case.reason = "skip", job.skip
        return case
    bad = [(step, ex) for step, ex in zip(job.steps, exchanges) if not ex.ok]
    if not bad:
        answers = sorted({ex.answer() for ex in exchanges})
        case.reason = f"{len(exchanges)} answered {', '.join(answers)}"
        return case
    step, ex = bad[0]
    case.verdict = "warn" if job.soft else "fail"
    prefix = ""
    if job.name == "duplicate":
        prefix = "the second delivery of the same body " if ex is exchanges[-1] and exchanges[0].ok else ""
        if ex.status == 409:
            prefix += "got 409 Conflict: a duplicate must be answered 2xx (and ignored). "
    elif job.name == "out-of-order" and ex is not exchanges[0]:
        prefix = f"{step.label} after {job.steps[0].label}: "
    else:
        prefix = f"{step.label}: "
    more = f" ({len(bad)} of {len(exchanges)} failed)" if len(bad) > 1 else ""
    case.reason = prefix + why_not(ex, rules) + more
    return case


def not_sent(job: Job, first: Exchange) -> Case:
    """A case left unsent because the first request found no endpoint to talk to."""
    if job.skip:
        return Case(job.name, job.expectation, "skip", job.skip)
    return Case(job.name, job.expectation, "fail", f"not sent: the endpoint cannot be reached "
                f"({first.error_class}: {first.error})")


def judge_redirects(exchanges: list[Exchange]) -> Case:
    """301/302/303 warn (Norce re-sends a GET: the body is lost), 307/308 to a 2xx pass, a broken chain fails."""
    case = Case("redirects", "no redirect, or a 307/308 that keeps the POST and ends in 2xx "
                "(a 301/302/303 makes Norce follow with a GET, without the body)")
    redirected = [ex for ex in exchanges if any(h.get("status") in policy.REDIRECT_CODES for h in ex.hops)]
    broken = [ex for ex in exchanges if ex.error_class in ("bad_redirect", "too_many_redirects")]
    broken += [ex for ex in redirected if not ex.ok and ex not in broken]
    if broken:
        case.verdict, case.exchanges = "fail", broken[:1]
        ex = broken[0]
        case.reason = f"the redirect chain breaks: {ex.answer()} after {_chain(ex)}"
        return case
    if not redirected:
        case.reason = "no redirects: the URL answers itself"
        return case
    case.exchanges = redirected[:1]
    codes = sorted({h["status"] for ex in redirected for h in ex.hops if h.get("status") in policy.REDIRECT_CODES})
    lossy = [c for c in codes if c in (301, 302, 303)]
    if lossy:
        case.verdict = "warn"
        case.reason = (f"the URL answers {'/'.join(map(str, lossy))}: Norce follows it with a GET, so the event's "
                       f"body never arrives ({_chain(redirected[0])}); point Norce at the final URL")
    else:
        case.reason = f"{'/'.join(map(str, codes))} keeps the POST and its body; it ends in 2xx"
    return case


def _chain(ex: Exchange) -> str:
    return " -> ".join(f"{h['method']} {h['url']} ({h['status'] if h.get('status') else h.get('error', '?')})"
                       for h in ex.hops)


def answered(exchanges: list[Exchange]) -> list[Exchange]:
    """The attempts that took time to judge: an answer came, or the deadline passed waiting."""
    return [ex for ex in exchanges if ex.status is not None or ex.error_class == "timeout"]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (0 < share <= 1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def judge_latency(exchanges: list[Exchange], budget_ms: float, rules: policy.Policy = policy.CURRENT) -> Case:
    """p50/p99 of every attempt against the budget: fail on a timeout, warn above 1 s."""
    case = Case("latency", f"p99 of all answers at most {LATENCY_WARN_MS:.0f} ms, and none hits the "
                f"{budget_ms / 1000:g} s budget")
    exchanges = answered(exchanges)
    times = [ex.latency_ms for ex in exchanges]
    if not times:
        case.verdict, case.reason = "skip", "no answer came (see the cases above)"
        return case
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    timeouts = [ex for ex in exchanges if ex.error_class == "timeout"]
    case.figures = {"attempts": len(times), "p50_ms": p50, "p99_ms": p99, "max_ms": max(times),
                    "budget_ms": budget_ms, "warn_above_ms": LATENCY_WARN_MS, "timeouts": len(timeouts)}
    text = f"p50 {p50:.0f} ms, p99 {p99:.0f} ms over {len(times)} attempts"
    if timeouts:
        case.verdict, case.exchanges = "fail", timeouts[:1]
        case.reason = f"{len(timeouts)} attempt(s) hit the {budget_ms / 1000:g} s deadline ({text}): {retry_words(rules, None, 'timeout')}"
    elif p99 > LATENCY_WARN_MS:
        case.verdict = "warn"
        case.reason = f"{text}: slow answers eat the budget; acknowledge first, work later"
    else:
        case.reason = text
    return case


def judge_slow_path(exchanges: list[Exchange], budget_ms: float, rules: policy.Policy = policy.CURRENT) -> Case:
    """The slowest answer and its headroom to the deadline: warn above 80 % of it, fail at it."""
    case = Case("slow-path", f"the slowest answer leaves at least {100 - SLOW_SHARE * 100:.0f} % of the "
                f"{budget_ms / 1000:g} s budget")
    exchanges = answered(exchanges)
    if not exchanges:
        case.verdict, case.reason = "skip", "no answer came (see the cases above)"
        return case
    slowest = max(exchanges, key=lambda ex: ex.latency_ms)
    headroom = budget_ms - slowest.latency_ms
    case.exchanges = [slowest]
    case.figures = {"slowest_ms": slowest.latency_ms, "headroom_ms": round(headroom, 1), "budget_ms": budget_ms}
    if slowest.error_class == "timeout":
        case.verdict = "fail"
        case.reason = f"the slowest attempt hit the {budget_ms / 1000:g} s deadline: {retry_words(rules, None, 'timeout')}"
    elif slowest.latency_ms > SLOW_SHARE * budget_ms:
        case.verdict = "warn"
        case.reason = (f"the slowest answer took {slowest.latency_ms:.0f} ms, {headroom:.0f} ms short of the "
                       f"deadline: a slower day makes it a timeout, and Norce retries it")
    else:
        case.reason = f"the slowest answer took {slowest.latency_ms:.0f} ms ({headroom:.0f} ms to spare)"
    return case
