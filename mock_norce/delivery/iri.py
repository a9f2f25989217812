"""IRI to URI: a subscriber URL as Norce's .NET client puts it on the wire.

A user may type ``http://bücher.example/hooks/€``; HTTP carries ASCII only. .NET's ``Uri``
sends the host in IDNA (punycode) and the rest percent-encoded as UTF-8, and so does
mock-norce, once, when a URL is set (API, UI, config file, environment): the converted URL is
what is stored, shown and sent. The conversion (RFC 3987, section 3.1) keeps what is already
a valid URI as it is: existing ``%XX`` escapes, reserved characters and the case of an ASCII
host, so an ASCII URL comes back unchanged. What cannot be converted (a bad IDNA label,
control characters, a space in the host, an IPv6 address outside brackets, a port out of
range...) is a ``BadUrl`` saying why.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import string

_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SUB_DELIMS = "!$&'()*+,;="
# What may stay as it is in each part (RFC 3986); everything else is percent-encoded as UTF-8.
_SAFE_USERINFO = frozenset(_UNRESERVED + _SUB_DELIMS)
_SAFE_PATH = frozenset(_UNRESERVED + _SUB_DELIMS + ":@/[]")  # [] kept: reserved, some APIs use them
_SAFE_QUERY = frozenset(_UNRESERVED + _SUB_DELIMS + ":@/?[]")
_HEX = frozenset(string.hexdigits)
# An ASCII host label: letters, digits, hyphen, and the underscore of container and service names.
_ASCII_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_ZONE = re.compile(r"^[A-Za-z0-9._~-]+$")


class BadUrl(ValueError):
    """A URL that cannot be turned into one HTTP can carry; the message says why."""


@functools.lru_cache(maxsize=1024)  # the same few subscriber URLs, checked at every event
def to_uri(url: str) -> str:
    """The URI form of an http(s) IRI (unchanged if it is a URI already), or BadUrl."""
    if url != url.strip():
        raise BadUrl("has leading or trailing whitespace")
    bad = next((c for c in url if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise BadUrl(f"contains the control character {bad!r}")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise BadUrl("contains a character that is not valid Unicode (a lone surrogate)") from None
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise BadUrl("is not http(s)")
    # The authority ends at the first / ? or #; a backslash there is refused, because parsers
    # disagree on it (.NET and browsers read it as /, Python's urlsplit does not).
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:end]
    if "\\" in authority:
        raise BadUrl("has a backslash in its host part")
    userinfo, at, hostport = authority.rpartition("@")
    host, port = _split_port(hostport)
    netloc = (_userinfo(userinfo) + "@" if at else "") + _host(host) + (f":{port}" if port is not None else "")
    rest, hash_, fragment = rest[end:].partition("#")
    path, question, query = rest.partition("?")
    out = f"{scheme}://{netloc}{_escape(path, _SAFE_PATH)}"
    if question:
        out += "?" + _escape(query, _SAFE_QUERY)
    if hash_:
        out += "#" + _escape(fragment, _SAFE_QUERY)
    return out


def _split_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise BadUrl("has an IPv6 address without its closing ]")
        host, after = hostport[:close + 1], hostport[close + 1:]
        if after and not after.startswith(":"):
            raise BadUrl(f"has {after!r} after its IPv6 address")
        port = after[1:] if after else None
    else:
        host, colon, port = hostport.partition(":")
        if ":" in port:
            raise BadUrl("has an IPv6 address outside brackets (write http://[::1]:8080/)")
        port = port if colon else None
    if port is None or port == "":
        return host, None  # "host:" means the default port
    if not (port.isascii() and port.isdigit()):
        raise BadUrl(f"has a bad port {port!r}")
    if not 1 <= int(port) <= 65535:
        raise BadUrl(f"has port {int(port)}, outside 1-65535")
    return host, port


def _host(host: str) -> str:
    if not host:
        raise BadUrl("has no host")
    if host.startswith("["):
        return _ipv6(host[1:-1])
    if any(c.isspace() for c in host):
        raise BadUrl("has whitespace in its host")
    if "%" in host:
        raise BadUrl("has a percent-encoded host; write the host name itself")
    if host.isascii():
        labels = host.split(".")
    else:
        labels = _idna_labels(host)
    body = labels[:-1] if len(labels) > 1 and labels[-1] == "" else labels  # a trailing dot is fine
    for label in body:
        if not _ASCII_LABEL.match(label):
            raise BadUrl(f"has a bad host label {label!r} (letters, digits, - and _, at most 63)"
                         if label else "has an empty host label (two dots in a row?)")
        if label[2:4] == "--" and label[:2].lower() == "xn":
            _check_alabel(label)
    joined = ".".join(labels)
    if len(joined.rstrip(".")) > 253:
        raise BadUrl("has a host name longer than 253 characters")
    return joined


def _idna_labels(host: str) -> list[str]:
    """Non-ASCII labels in IDNA (UTS 46 mapping, non-transitional, as .NET's IdnMapping)."""
    import idna  # its tables cost a few ms to load: only when a URL needs them

    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        return [lab if lab.isascii() else idna.alabel(lab).decode("ascii") for lab in mapped.split(".")]
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise BadUrl(f"has a host that is not a valid internationalized domain name ({exc})") from None


def _check_alabel(label: str) -> None:
    import idna

    try:
        idna.ulabel(label)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise BadUrl(f"has a bad IDNA label {label!r} ({exc})") from None


def _ipv6(inside: str) -> str:
    address, pct, zone = inside.partition("%")
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        raise BadUrl(f"has [{inside}], which is not an IPv6 address") from None
    if not pct:
        return f"[{address}]"
    # RFC 6874: the zone of a link-local address, its % written %25 (http://[fe80::1%25eth0]/).
    if not zone.startswith("25") or not _ZONE.match(zone[2:]):
        raise BadUrl(f"has a bad IPv6 zone in [{inside}] (write it as [fe80::1%25eth0])")
    return f"[{address}%{zone}]"


def _userinfo(userinfo: str) -> str:
    user, colon, password = userinfo.partition(":")
    return _escape(user, _SAFE_USERINFO) + (":" + _escape(password, _SAFE_USERINFO | {":"}) if colon else "")


def _escape(text: str, safe: frozenset[str]) -> str:
    """Percent-encode (as UTF-8) what is not safe, keeping valid %XX escapes as they are."""
    if all(c in safe for c in text) and "%" not in text:
        return text
    out = []
    for i, c in enumerate(text):
        if c in safe:
            out.append(c)
        elif c == "%" and len(text) > i + 2 and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append(c)  # an existing escape
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8"))
    return "".join(out)
