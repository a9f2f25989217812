"""Generated data Norce's platform and the Nordic markets could produce (issue 15, item 4).

Each rule is checked over a few thousand payloads: names weighted like the population, one
phone format, marketplace orders paid by the marketplace, pickup only for web orders and
with a place, supplier part numbers, Swish references, numbers written one way, ids that
differ between markets.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from mock_norce.catalogue import fakedata

N = 2000
MARKETS = ("SE", "NO", "FI", "DK")


def people(factory, code: str, n: int = N):
    market = factory.tenant.market(code)
    rng = random.Random(f"people:{code}")
    return [fakedata.person(market, rng, 1.0, 1.0, 1.0) for _ in range(n)]


def top(counter: Counter, n: int) -> set:
    return {name for name, _ in counter.most_common(n)}


# --- names --------------------------------------------------------------------------------

# The most common names by the statistics offices' tables (DST, SSB, DVV, SCB): each
# market's sample must have most of its own at its top.
COMMON_LAST = {
    "DK": {"Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"},
    "NO": {"Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen"},
    "FI": {"Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen"},
    "SE": {"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson"},
}
COMMON_FIRST = {
    "DK": {"Peter", "Jens", "Michael", "Lars", "Henrik", "Thomas", "Søren", "Anne", "Kirsten", "Mette", "Hanne",
           "Anna", "Helle", "Susanne"},
    "NO": {"Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Anne", "Inger", "Kari", "Marit", "Ingrid",
           "Liv", "Eva"},
    "FI": {"Juha", "Timo", "Matti", "Kari", "Mikko", "Jari", "Antti", "Tuula", "Päivi", "Anne", "Anna", "Pirjo",
           "Sari", "Minna"},
    "SE": {"Lars", "Mikael", "Anders", "Johan", "Erik", "Per", "Peter", "Anna", "Eva", "Maria", "Karin", "Sara",
           "Lena", "Kristina"},
}
# Names borne almost only as middle names (Juhani is Finland's commonest given name, hardly
# anyone's first).
MIDDLE_NAMES = {
    "FI": {"Juhani", "Olavi", "Antero", "Tapani", "Johannes", "Kalevi", "Ilmari", "Petteri", "Sakari", "Kristian",
           "Henrik", "Kalervo", "Ensio", "Helena", "Anneli", "Kaarina", "Hannele", "Marjatta", "Annikki", "Tuulikki",
           "Katariina", "Sinikka", "Inkeri", "Orvokki", "Kyllikki", "Tellervo", "Irmeli", "Maarit"},
}
INVENTED = {"Ørni", "Øvli", "Åbjørn", "Øivind", "Øjvind", "Clavs", "Jano", "Weena", "Zehnia", "Esmarelda", "Cirkeline"}


@pytest.mark.parametrize("code", MARKETS)
def test_names_are_weighted_like_the_population(factory, code):
    sample = people(factory, code)
    last = Counter(p.last_name for p in sample)
    first = Counter(p.first_name for p in sample)
    # The five commonest surnames of the sample are among the country's eight or nine commonest.
    assert top(last, 5) <= COMMON_LAST[code], last.most_common(8)
    # ...and weigh like it: in Denmark Nielsen, Jensen and Hansen alone are one name in nine
    # of the whole population, more in a table of the top names; uniform draws give 3 in 100.
    share = sum(last[n] for n in sorted(COMMON_LAST[code])[:3]) / N
    assert share > {"DK": 0.10}.get(code, 0.0), share
    assert len(top(first, 10) & COMMON_FIRST[code]) >= 6, first.most_common(12)


def test_the_commonest_names_lead(factory):
    """Denmark's and Norway's -sen names, Sweden's -son names, and the names people go by:
    Anna, not Maria (a middle name more often than not), leads in Sweden; Juha, not Juhani,
    in Finland."""
    leaders = {"DK": ("Nielsen", "Jensen", "Hansen"), "NO": ("Hansen", "Johansen", "Olsen"),
               "SE": ("Andersson", "Johansson")}
    for code, names in leaders.items():
        sample = people(factory, code)
        last = Counter(p.last_name for p in sample)
        assert top(last, 5) >= set(names), (code, last.most_common(5))
        assert all(last[n] > N / 50 for n in names), (code, [(n, last[n]) for n in names])
    first = {code: Counter(p.first_name for p in people(factory, code)) for code in ("SE", "FI")}
    assert first["SE"]["Anna"] > first["SE"]["Maria"]
    assert first["FI"]["Juha"] > first["FI"]["Juhani"] * 10


@pytest.mark.parametrize("code", MARKETS)
def test_first_names_are_first_names_not_middle_names_and_none_invented(factory, code):
    sample = people(factory, code)
    names = Counter(p.first_name for p in sample) + Counter(p.last_name for p in sample)
    assert not INVENTED & set(names), INVENTED & set(names)
    middle = sum(n for name, n in names.items() if name in MIDDLE_NAMES.get(code, ()))
    # Faker's fi_FI draws a middle name as a first name one time in four; a country's
    # first-name table does so rarely (Mikael, Oskari: a few first names are both).
    assert middle / N < 0.02, Counter(
        {k: v for k, v in names.items() if k in MIDDLE_NAMES.get(code, ())}).most_common(5)


def test_every_market_names_a_names_file_and_each_file_is_sound(factory):
    for market in factory.tenant.markets:
        tables = fakedata.name_tables(market)
        assert market.names is tables, market.code  # our tables, not Faker's fallback
        for part in (tables.female, tables.male, tables.last):
            assert len(part.values) >= 60 and len(set(part.values)) == len(part.values)
            assert all(re.fullmatch(r"[A-ZÅÄÖØÆÜÉ][a-zåäöøæüéè]+", name) for name in part.values), part.values


def test_a_names_file_with_a_name_twice_is_refused(tmp_path):
    from mock_norce.catalogue.names import load_names
    from mock_norce.errors import TenantError

    path = tmp_path / "x.yaml"
    path.write_text("female: {Anna: 2}\nmale: {Per: 1, Per: 2}\nlast: {Berg: 1}\n", encoding="utf-8")
    with pytest.raises(TenantError, match="'Per' is listed twice"):
        load_names(str(path))
    path.write_text("female: {Anna: 2}\nmale: {Per: 0}\nlast: {Berg: 1}\n", encoding="utf-8")
    with pytest.raises(TenantError, match="Per"):
        load_names(str(path))


# --- phone numbers ---------------------------------------------------------------------------

COUNTRY_CODES = {"SE": "+46", "NO": "+47", "FI": "+358", "DK": "+45"}


@pytest.mark.parametrize("code", MARKETS)
def test_phone_numbers_are_e164_in_every_market(factory, code):
    phones = [p.phone for p in people(factory, code)]
    phones += [factory.generate("OrderReceivedEvent", seed=s, market=code).body.get("CellPhone")
               for s in range(500)]
    for phone in filter(None, phones):
        assert re.fullmatch(r"\+[1-9]\d{7,14}", phone), phone
        assert phone.startswith(COUNTRY_CODES[code]), phone


# --- payments ----------------------------------------------------------------------------------

def test_swish_references_are_upper_case_hex(factory):
    refs = [b.get("PaymentRef") for b in (factory.generate("OrderPaymentReceivedEvent", seed=s, market="SE").body
                                          for s in range(N)) if b.get("PaymentMethodCode") == "SWISH"]
    assert len([r for r in refs if r]) > 200
    for ref in filter(None, refs):
        assert re.fullmatch(r"[0-9A-F]{32}", ref), ref
