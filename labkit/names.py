"""Checks on names, addresses and numbers, before anything touches the kernel.

Linux keeps interface names in a 16-byte buffer (IFNAMSIZ) with a trailing NUL, so a
name has at most 15 *bytes* (a name of multi-byte letters is shorter in characters:
``'brücke'`` is 7 bytes in UTF-8), may not contain '/', ':' or white space, nor be
'.' or '..'. The kernel stops reading a name at a NUL byte, so ``'br0\\x00x'`` would
change ``br0``: such names, and names with a newline or another control character,
are refused here. A name that reaches an nftables script or a shell command must
also keep to the safe set ``[A-Za-z0-9_.-]`` (:func:`check_safe_name`).

A lab's namespaces are named ``labkit-<lab id>-<label>`` so that ``labkit reset`` can
find exactly what a lab left behind; every step checks its ``ns`` with
:func:`check_ns`, and a device elsewhere is written ``'h1/eth0'`` (:func:`split_ref`).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable

from .errors import InvalidInput

IFNAMSIZ = 16
NETNS_PREFIX = "labkit-"
_IFNAME_BAD = re.compile(r"[/:\s]")
_SAFE = re.compile(r"[A-Za-z0-9_.-]+")
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_LAB_ID = re.compile(r"[a-z0-9]{2,12}")
_LABEL_HINT = "name a namespace of the lab as a string of 1-32 lower-case letters, digits, '-', '_' or '.', e.g. 'main' or 'h1'"


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut short: what an error message quotes of a bad input."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _kind(value: object) -> str:
    return type(value).__name__


def _control(text: str) -> str | None:
    """The first control, format or unencodable character of ``text`` (NUL, newline, a lone surrogate…)."""
    for char in text:
        if unicodedata.category(char)[0] == "C":
            return char
    return None


def check_text(value: object, what: str, hint: str, *, empty: bool = False) -> str:
    """A plain one-line string: a ``str``, without NUL, newline or other control characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} {shown(value)} is a {_kind(value)}, not a string", hint=hint)
    if not value and not empty:
        raise InvalidInput(f"{what} is empty", hint=hint)
    bad = _control(value)
    if bad is not None:
        raise InvalidInput(f"{what} {shown(value)} contains the control character {bad!r}", hint=hint)
    return value


def check_ifname(name: object, what: str = "interface") -> str:
    """Return ``name`` if the kernel would take it, whole, as an interface name."""
    if not isinstance(name, str):
        raise InvalidInput(f"{what} name {shown(name)} is a {_kind(name)}, not a name",
                           hint="give the device's name as a string, e.g. 'veth0'")
    if not name:
        raise InvalidInput(f"an {what} name is empty", hint="give a name such as 'veth0'")
    bad = _control(name)
    if bad is not None:
        cut = " (the kernel stops reading a name at NUL, so another device would be changed)" if bad == "\x00" else ""
        raise InvalidInput(f"{what} name {shown(name)} contains the control character {bad!r}{cut}",
                           hint="use letters, digits, '-', '_' or '.' only")
    size = len(name.encode("utf-8"))
    if size > IFNAMSIZ - 1:
        counted = f"{len(name)} characters" if size == len(name) else f"{size} bytes in UTF-8 ({len(name)} characters)"
        fit = name.encode("utf-8")[:IFNAMSIZ - 1].decode("utf-8", "ignore")
        raise InvalidInput(
            f"{what} name {shown(name)} has {counted}; Linux allows at most {IFNAMSIZ - 1} bytes (IFNAMSIZ)",
            hint=f"use a shorter name such as {fit!r}",
        )
    if name in (".", "..") or _IFNAME_BAD.search(name) or b"\xa0" in name.encode("utf-8"):
        # the kernel's isspace() also counts byte 0xa0, which the UTF-8 of some letters contains
        raise InvalidInput(
            f"{what} name {shown(name)} contains '/', ':' or white space, or is '.'/'..'",
            hint="use letters, digits, '-', '_' or '.' only",
        )
    return name


def check_safe_name(name: object, what: str = "interface") -> str:
    """An interface name that may also be written into an nftables script or a shell command."""
    check_ifname(name, what)
    assert isinstance(name, str)
    if not _SAFE.fullmatch(name):
        raise InvalidInput(f"{what} name {shown(name)} has characters that are not safe in an nft rule or a shell",
                           hint="here a name may use only A-Z, a-z, 0-9, '_', '.' and '-'")
    return name


def check_label(name: object, what: str = "namespace") -> str:
    """Return a lab-level label (a namespace name like 'h1' or 'upstream') if it is valid."""
    if not isinstance(name, str) or not _LABEL.fullmatch(name):
        raise InvalidInput(f"{what} name {shown(name)} is not valid",
                           hint="use 1-32 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit")
    return name


def check_ns(ns: object, what: str = "ns") -> str:
    """The ``ns=`` of a step: the label of one of the lab's namespaces ('main', 'h1', …)."""
    if not isinstance(ns, str):
        raise InvalidInput(f"{what}={shown(ns)} is a {_kind(ns)}, not a namespace name", hint=_LABEL_HINT)
    if not _LABEL.fullmatch(ns):
        raise InvalidInput(f"{what}={shown(ns)} is not a valid namespace name", hint=_LABEL_HINT)
    return ns


def split_ref(ref: object, default_ns: str = "main", what: str = "device") -> tuple[str, str]:
    """'veth1' → (default_ns, 'veth1'); 'h1/eth0' → ('h1', 'eth0'); both parts checked."""
    hint = f"name a {what} as 'veth1' (in {default_ns}) or 'h1/eth0' (eth0 in namespace h1)"
    if not isinstance(ref, str):
        raise InvalidInput(f"{what} {shown(ref)} is a {_kind(ref)}, not a name", hint=hint)
    ns, sep, dev = ref.partition("/")
    if not sep:
        ns, dev = default_ns, ref
    elif not ns or not dev or "/" in dev:
        raise InvalidInput(f"{what} {shown(ref)} is not 'namespace/device'", hint=hint)
    return check_ns(ns, "namespace"), check_ifname(dev, what if what != "device" else "interface")


def check_lab_id(lab_id: object) -> str:
    """A lab id is 2-12 lower-case letters or digits; it is part of every namespace name."""
    if not isinstance(lab_id, str) or not _LAB_ID.fullmatch(lab_id):
        raise InvalidInput(f"lab id {shown(lab_id)} is not valid", hint="use 2-12 lower-case letters or digits")
    return lab_id


def netns_name(lab_id: str, label: str) -> str:
    """The kernel-side name (under /run/netns) of a lab's namespace ``label``."""
    return f"{NETNS_PREFIX}{lab_id}-{label}"


def split_netns_name(netns: str) -> tuple[str, str] | None:
    """``labkit-<id>-<label>`` → (id, label); None for a namespace that is not a lab's."""
    if not netns.startswith(NETNS_PREFIX):
        return None
    rest = netns[len(NETNS_PREFIX):]
    lab_id, sep, label = rest.partition("-")
    if not sep or not _LAB_ID.fullmatch(lab_id) or not label:
        return None
    return lab_id, label


def _address_text(value: object, what: str, hint: str) -> str:
    text = check_text(value, what, hint)
    if "%" in text:
        raise InvalidInput(f"{what} {shown(value)} has a scope ('%…')", hint="name the device with dev=, not in the address")
    return text


def check_cidr(cidr: object) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Parse 'address/prefix' (e.g. '20.1.0.10/24'); the address keeps its host bits."""
    hint = "write it in CIDR form, e.g. '20.1.0.10/24' or 'fd00::1/64'"
    text = _address_text(cidr, "address", hint)
    if "/" not in text:
        raise InvalidInput(f"address {shown(cidr)} has no prefix length", hint="write it in CIDR form, e.g. '20.1.0.10/24'")
    try:
        return ipaddress.ip_interface(text)
    except ValueError as exc:
        raise InvalidInput(f"address {shown(cidr)} is not a valid CIDR: {exc}", hint=hint) from None


def check_network(cidr: object, what: str = "route destination") -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a route destination: 'default' or a network such as '10.0.0.0/24'."""
    hint = "use 'default' or a network with its host bits zero, e.g. '10.0.0.0/24'"
    text = _address_text(cidr, what, hint)
    if text == "default":
        return ipaddress.ip_network("0.0.0.0/0")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise InvalidInput(f"{what} {shown(cidr)} is not a network: {exc}", hint=hint) from None


def check_ip(address: object, what: str = "address") -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse a plain IP address (a gateway, a tunnel end)."""
    text = _address_text(address, what, "e.g. '10.0.0.1'")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise InvalidInput(f"{what} {shown(address)} is not an IP address", hint="e.g. '10.0.0.1'") from None


def check_mac(mac: object) -> str:
    """Normalise a MAC address to lower-case colon form."""
    parts = re.split(r"[:-]", mac.strip()) if isinstance(mac, str) else []
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9a-fA-F]{2}", p) for p in parts):
        raise InvalidInput(f"{shown(mac)} is not a MAC address", hint="e.g. '02:00:00:00:00:01'")
    return ":".join(p.lower() for p in parts)


def check_range(value: object, low: int, high: int, what: str) -> int:
    """An integer setting within the kernel's accepted range."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{what} {shown(value)} is out of range", hint=f"use a whole number from {low} to {high}")
    return value


def check_seconds(value: object, low: float, high: float, what: str) -> float:
    """A timer in seconds (an int or a float) within ``low``..``high``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:  # NaN fails it too
        raise InvalidInput(f"{what} {shown(value)} s is out of range", hint=f"use a number of seconds from {low:g} to {high:g}")
    return float(value)


def check_bool(value: object, what: str) -> bool:
    """A switch: True or False (also 1 or 0), never a string such as 'off' that Python finds true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidInput(f"{what}={shown(value)} is not on or off", hint=f"use {what}=True or {what}=False")


def check_choice(value: object, choices: Iterable[str], what: str) -> str:
    """One of a fixed set of words (a mode, a tunnel kind)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(f"{what} {shown(value)} is unknown", hint="use " + " or ".join(repr(o) for o in options))
    return value



def check_filter(expression: object) -> str:
    """A capture filter in pcap-filter syntax ('icmp or arp'), stripped; '' for none.

    tcpdump gets it after ``--``, and one that starts with '-' is refused as well: as an
    option, ``-w/path`` would make tcpdump (as root) write a file anywhere."""
    hint = "use pcap-filter syntax, e.g. filter='icmp or arp' or 'udp port 4789'"
    text = check_text(expression, "capture filter", hint, empty=True).strip()
    if text.startswith("-"):
        raise InvalidInput(f"capture filter {shown(expression)} starts with '-', so tcpdump would read it as an option",
                           hint=hint)
    if len(text) > 4096:
        raise InvalidInput(f"capture filter has {len(text)} characters", hint="keep a filter under 4096 characters")
    return text
