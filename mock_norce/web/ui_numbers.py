"""How the UI writes numbers: durations with their unit, rates per second and counts with
thousands separators (``8.35 s``, ``2,482 /s``, ``1,234,567``), never a raw float such as
``8352.227`` ms. app.js has the same rules for the figures it refreshes live (``fmt``), so a
number reads the same before and after a refresh.
"""

from __future__ import annotations

from datetime import datetime, timezone

from mock_norce.web.ui_shared import bp

NONE = "–"


@bp.app_template_filter("duration_ms")
def duration_ms(value) -> str:
    """Milliseconds as a person reads them: 0.42 ms, 12.3 ms, 840 ms, 8.35 s, 42.1 s, 1,234 s."""
    if value is None:
        return NONE
    v = float(value)
    if v < 10:
        return f"{v:.2f} ms"
    if v < 100:
        return f"{v:.1f} ms"
    if v < 1000:
        return f"{v:.0f} ms"
    if v < 10_000:
        return f"{v / 1000:.2f} s"
    if v < 100_000:
        return f"{v / 1000:.1f} s"
    return f"{v / 1000:,.0f} s"


@bp.app_template_filter("per_s")
def per_second(value) -> str:
    """A rate: 2,482 /s, 12.4 /s, 0.50 /s."""
    if value is None:
        return NONE
    v = float(value)
    if v >= 100:
        return f"{v:,.0f} /s"
    if v >= 10:
        return f"{v:.1f} /s"
    return f"{v:.2f} /s"


# Not "count": that name is Jinja's own (an alias of length), which it would shadow.
@bp.app_template_filter("thousands")
def thousands(value) -> str:
    """A whole number with thousands separators: 1,234,567."""
    if value is None:
        return NONE
    return f"{int(value):,}"


@bp.app_template_filter("ts_ms")
def timestamp_ms(value) -> str:
    """A Unix time as UTC with milliseconds: 2026-11-25 06:58:39.209."""
    if not value:
        return NONE
    return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@bp.app_template_filter("seconds")
def seconds(value) -> str:
    """A span of seconds: 0.02 s, 6 s, 3 min 20 s, 2 h 05 min (as app.js's timeLeft)."""
    if value is None:
        return NONE
    v = float(value)
    if v < 60:
        return f"{round(v, 3):g} s"
    if v < 3600:
        return f"{int(v // 60)} min {int(v % 60):02d} s"
    return f"{int(v // 3600):,} h {int(v % 3600 // 60):02d} min"
