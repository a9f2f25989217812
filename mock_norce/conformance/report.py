"""What a battery found: each case with its verdict and evidence, and the overall verdict.

An ``Exchange`` is one request as sent and what came back (status, headers, a body excerpt,
the redirect hops, the time); a ``Case`` is a named expectation with its verdict, a one-line
reason and the exchanges (or figures) that back it. Secrets are masked when the evidence is
taken, so every rendering (JSON, JUnit, the UI, stored reports) shows the same masked text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from mock_norce.delivery.subscriptions import mask_headers, mask_url

VERDICTS = ("pass", "warn", "fail", "skip")
BODY_EXCERPT = 2048  # characters of each answer kept as evidence


@dataclass
class Exchange:
    """One request (its redirect hops included) and its outcome."""

    method: str
    url: str
    request_headers: list[list[str]]
    request_body: str
    status: int | None
    response_headers: list[list[str]]
    response_body: str
    latency_ms: float
    started_ms: float  # from the start of the battery
    error_class: str | None = None
    error: str | None = None
    hops: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status <= 299

    def answer(self) -> str:
        """'HTTP 200', or the error class and words when no answer came."""
        if self.status is not None:
            return f"HTTP {self.status}"
        return f"{self.error_class}: {self.error}"


def exchange(url: str, body: bytes, headers: dict[str, str], outcome, started_ms: float,
             user_agent: str, content_type: str = "application/json") -> Exchange:
    """The evidence of one Sender outcome, secrets masked."""
    sent = {"User-Agent": user_agent, "Content-Type": content_type, **headers}
    text = outcome.response_body.decode("utf-8", "replace")
    if len(text) > BODY_EXCERPT or outcome.body_truncated:
        text = text[:BODY_EXCERPT] + " [...]"
    return Exchange(
        method="POST", url=mask_url(url) or "", request_headers=[list(p) for p in mask_headers(sent).items()],
        request_body=body.decode("utf-8", "replace"), status=outcome.status,
        response_headers=mask_headers(outcome.response_headers),
        response_body=text, latency_ms=round(outcome.latency_ms, 1), started_ms=round(started_ms, 1),
        error_class=outcome.error_class, error=outcome.error,
        hops=[{**h, "url": mask_url(h["url"]) or ""} for h in outcome.hops])


@dataclass
class Case:
    """A named expectation, its verdict, why, and the evidence."""

    name: str
    expectation: str
    verdict: str = "pass"
    reason: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    duration_ms: float = 0.0


@dataclass
class Report:
    """One run of the battery."""

    id: str
    url: str
    types: list[str]
    seed: int
    started: float  # epoch seconds
    budget_ms: float
    cases: list[Case] = field(default_factory=list)
    duration_ms: float = 0.0
    verify_url: str | None = None
    content_type: str = "application/json"  # how the cases were sent (the content-type case: the other one)
    redirect_headers: str = "origin"
    policy: str = "current"  # whose retries the reasons speak of

    @property
    def verdict(self) -> str:
        """fail if any case failed, else warn if any warned, else pass."""
        seen = {c.verdict for c in self.cases}
        return "fail" if "fail" in seen else "warn" if "warn" in seen else "pass"

    def counts(self) -> dict[str, int]:
        return {v: sum(c.verdict == v for c in self.cases) for v in VERDICTS}

    def to_dict(self) -> dict:
        """The report as JSON-ready data (what the API, the CLI's --format json and --verify get)."""
        return {"id": self.id, "url": self.url, "types": list(self.types), "seed": self.seed,
                "started": self.started, "duration_ms": round(self.duration_ms, 1), "budget_ms": self.budget_ms,
                "verdict": self.verdict, "counts": self.counts(), "verify_url": self.verify_url,
                "content_type": self.content_type, "redirect_headers": self.redirect_headers, "policy": self.policy,
                "cases": [_case(c) for c in self.cases]}


def _case(c: Case) -> dict:
    out = asdict(c)
    out["duration_ms"] = round(c.duration_ms, 1)
    return out
