"""The README's limits table says what limits.py enforces, and check_number refuses what it should."""

from __future__ import annotations

import math

import pytest

from mock_norce import limits
from mock_norce.delivery.dispatcher import Dispatcher
from mock_norce.errors import OutOfRange

from .conftest import ROOT


def limits_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Limits", 1)[1].split("\n## ", 1)[0]


def test_the_readme_table_matches_the_constants():
    section = limits_section()
    assert f"0 to {limits.TIME_SCALE_MAX:g} |" in section
    assert f"up to {limits.DURATION_MAX / 86400:g} days" in section
    assert f"0 to {limits.JITTER_MAX:g} s" in section
    assert f"| chaos: `reorder_window`, `delay` | 0 to {limits.CHAOS_DELAY_MAX:g} s (" in section
    assert f"up to {limits.RATE_MAX:,.0f} events per second ({limits.RATE_MAX * 60:,.0f} per minute)" in section
    assert f"1 to {limits.COUNT_MAX:,}" in section
    assert f"{limits.SEED_MIN} to {limits.SEED_MAX}" in section
    assert f"at most {limits.BULK_REDELIVER_MAX:,} deliveries a call" in section
    assert f"0 to {limits.OFFSET_MAX:,} (UI pages: up to {limits.PAGE_MAX:,})" in section
    assert f"0 to {limits.WAIT_MAX:g} s" in section
    assert f"nested at most {limits.JSON_DEPTH_MAX} deep, integers of at most {limits.JSON_INT_DIGITS_MAX} digits" in section
    assert f"| {limits.TOKEN_LIFETIME_MIN} to {limits.TOKEN_LIFETIME_MAX} s |" in section
    assert f"| 0 to {limits.QUERY_RATE_MAX:g} requests a second |" in section
    assert f"at most {Dispatcher.__init__.__kwdefaults__['window_cap']:,}; at most " \
           f"{Dispatcher.__init__.__kwdefaults__['max_workers']} sender threads" in section


@pytest.mark.parametrize("value", [True, "1", None, math.nan, math.inf, -math.inf, 101, -0.5, 10**400])
def test_check_number_refuses_with_the_range(value):
    with pytest.raises(OutOfRange) as err:
        limits.check_number(value, "time_scale", 0, limits.TIME_SCALE_MAX)
    assert "between 0 and 100" in err.value.message


def test_check_number_accepts_the_bounds_and_sleep_is_capped():
    assert limits.check_number(0, "x", 0, 100) == 0 and limits.check_number(100.0, "x", 0, 100) == 100.0
    with pytest.raises(OutOfRange):
        limits.check_number(1.5, "count", 1, 10, integer=True)
    assert limits.sleep_for(1e300) == limits.SLEEP_MAX and limits.sleep_for(-5) == 0
    assert limits.sleep_for(None) == limits.SLEEP_MAX and limits.sleep_for(math.nan) == limits.SLEEP_MAX
