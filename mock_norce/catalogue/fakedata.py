"""Nordic fake data: people, phone numbers, e-mail addresses, codes and prices.

Names come from the market's names file (names.py: weighted by their bearers, from the
country's statistics), or a Faker locale's tables, read once into cumulative tables. Drawing
from those with our own seeded ``random.Random`` is ~4x faster than calling Faker per field,
and the same seed gives the same people.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from mock_norce.catalogue.names import NameTables, faker_names
from mock_norce.catalogue.patterns import fill  # noqa: F401 (re-exported: fakedata.fill)
from mock_norce.catalogue.tenant import Market

def name_tables(market: Market) -> NameTables:
    """The market's name tables: its names file's, else its Faker locale's."""
    return market.names if market.names is not None else faker_names(market.locale)


def hex32(rng: Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def uuid4(rng: Random) -> str:
    """A version-4 UUID string drawn from rng (so it is reproducible from a seed)."""
    n = (rng.getrandbits(128) & ~(0xF << 76) | (0x4 << 76)) & ~(0x3 << 62) | (0x2 << 62)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def reference(kind: str, rng: Random) -> str:
    """A reference of a kind named in the tenant: 'uuid', 'hex32', 'HEX32' (upper case, as
    Swish writes its payment ids) or a fill() pattern."""
    if kind == "uuid":
        return uuid4(rng)
    if kind == "hex32":
        return hex32(rng)
    if kind == "HEX32":
        return hex32(rng).upper()
    return fill(kind, rng)


_ASCII = str.maketrans({
    "å": "a", "ä": "a", "ö": "o", "ø": "o", "æ": "ae", "é": "e", "è": "e", "ü": "u",
    "á": "a", "ó": "o", "í": "i", "ð": "d", "þ": "th", " ": "", "'": "",
})


def mailbox_part(name: str) -> str:
    """A name as the part of an e-mail address: lower case, ASCII, no spaces or hyphens."""
    return name.lower().translate(_ASCII).replace("-", "")


@dataclass(frozen=True)
class Person:
    """A buyer or contact. phone/email are None when the person did not give them."""

    first_name: str | None
    last_name: str | None
    phone: str | None
    email: str | None


def person(market: Market, rng: Random, phone_share: float = 0.85, email_share: float = 0.95,
           name_share: float = 0.97) -> Person:
    """A person of the market: locale names, a mobile number, an address at a local provider.

    Each part is given with its share; a person without a name (e-mail only) is rare but real.
    """
    tables = name_tables(market)
    first = (tables.female if rng.random() < 0.5 else tables.male).pick(rng)
    last = tables.last.pick(rng)
    phone = None
    if rng.random() < phone_share:
        phone = fill(market.mobile_patterns[int(rng.random() * len(market.mobile_patterns))], rng)
    email = None
    if rng.random() < email_share:
        email = email_address(first, last, market, rng)
    if rng.random() >= name_share:
        first = last = None
    return Person(first, last, phone, email)


def email_address(first: str, last: str, market: Market, rng: Random) -> str:
    f, l = mailbox_part(first), mailbox_part(last)
    style = int(rng.random() * 5)
    if style == 0:
        box = f"{f}.{l}"
    elif style == 1:
        box = f"{f}{l}"
    elif style == 2:
        box = f"{f[0]}{l}"
    elif style == 3:
        box = f"{f}.{l}{int(rng.random() * 90) + 10}"
    else:
        box = f"{f}_{l}"
    return f"{box}@{market.email_domains.pick(rng)}"


def price(low: float, high: float, endings: tuple[float, ...], rng: Random) -> float:
    """A shop price in [low, high]: whole units (log-uniform) with a typical ending."""
    # Log-uniform: cheap articles are more common than expensive ones.
    value = low * (high / low) ** rng.random()
    ending = endings[int(rng.random() * len(endings))]
    if value >= 100:
        whole = int(value / 10) * 10 + 9  # 199, 249, 1 299...
    else:
        whole = int(value)
    return round(min(max(whole + ending, low), high), 2)


def amount(low: float, high: float, rng: Random) -> float:
    """An order total: any cent amount in [low, high], log-uniform."""
    return round(low * (high / low) ** rng.random(), 2)


def between(bounds: tuple[int, int], rng: Random) -> int:
    low, high = bounds
    return low + int(rng.random() * (high - low + 1))
