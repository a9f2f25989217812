"""The tenant file: loads, is consistent, and bad files fail with a message naming the part."""

from __future__ import annotations

import pytest

from mock_norce.errors import TenantError
from mock_norce.catalogue.tenant import load_tenant


def test_shipped_tenant_is_consistent(settings):
    tenant = load_tenant(settings.tenant_path)
    assert [m.code for m in tenant.markets] == ["SE", "NO", "FI", "DK"]
    assert len({m.application_id for m in tenant.markets}) == 4
    location_ids = [loc.id for w in tenant.warehouses for loc in w.locations]
    assert len(location_ids) == len(set(location_ids))
    price_list_ids = [pl.id for m in tenant.markets for pl in m.price_lists]
    assert len(price_list_ids) == len(set(price_list_ids))
    assert tenant.order_sources.values[0].source == "WEB"
    for m in tenant.markets:
        __import__(f"faker.providers.person.{m.locale}")  # every locale exists in Faker
        assert m.sale_price[0] > 0 and m.order_total[0] > 0


def test_unquoted_norway_is_caught(tmp_path, settings):
    text = settings.tenant_path.read_text().replace('code: "NO"', "code: NO")
    path = tmp_path / "tenant.yaml"
    path.write_text(text)
    with pytest.raises(TenantError, match="unquoted NO"):
        load_tenant(path)


@pytest.mark.parametrize("text,message", [
    ("markets: [", "not valid YAML"),
    ("- 1\n- 2\n", "must be a mapping"),
    ("client: {id: 1}\n", "missing or malformed 'markets'"),
])
def test_bad_tenant_files(tmp_path, text, message):
    path = tmp_path / "tenant.yaml"
    path.write_text(text)
    with pytest.raises(TenantError, match=message):
        load_tenant(path)


def test_missing_tenant_file(tmp_path):
    with pytest.raises(TenantError, match="cannot read tenant file"):
        load_tenant(tmp_path / "none.yaml")


def test_non_positive_weight_is_rejected(tmp_path, settings):
    text = settings.tenant_path.read_text().replace("{source: WEB, weight: 86", "{source: WEB, weight: 0")
    path = tmp_path / "tenant.yaml"
    path.write_text(text)
    with pytest.raises(TenantError, match="order_sources: weight of .* must be a positive number"):
        load_tenant(path)


def test_the_one_weighted_picker():
    import random
    from collections import Counter

    from mock_norce.weighted import Weighted

    picker = Weighted([("a", 1), ("b", 3), ("c", 0.5)])
    rng = random.Random(7)
    counts = Counter(picker.pick(rng) for _ in range(9000))
    assert abs(counts["b"] / 9000 - 3 / 4.5) < 0.03 and abs(counts["c"] / 9000 - 0.5 / 4.5) < 0.02
    # One random number per draw: value i is picked when r * total falls in [cum[i-1], cum[i]).
    draws = [picker.pick(FixedRandom(r)) for r in (0.0, 0.2, 0.23, 0.88, 0.9, 1 - 2**-53)]
    assert draws == ["a", "a", "b", "b", "c", "c"]
    assert Weighted.uniform(["x"]).pick(rng) == "x"
    for bad in ([], [("a", 0)], [("a", -1)], [("a", True)], [("a", float("nan"))], [("a", float("inf"))]):
        with pytest.raises(TenantError, match="where"):
            Weighted(bad, "where", error=TenantError)


class FixedRandom:
    def __init__(self, r):
        self.r = r

    def random(self):
        return self.r
