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

from .address_problems import address_problem, cidr_problem
from .errors import InvalidInput
from .i18n import Text, tr

IFNAMSIZ = 16
NETNS_PREFIX = "labkit-"
_IFNAME_BAD = re.compile(r"[/:\s]")
_SAFE = re.compile(r"[A-Za-z0-9_.-]+")
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_LAB_ID = re.compile(r"[a-z0-9]{2,12}")
_LABEL_HINT = tr("name a namespace of the lab as a string of 1-32 lower-case letters, digits, '-', '_' or '.', "
                 "e.g. 'main' or 'h1'")
_NAME_CHARS = tr("use letters, digits, '-', '_' or '.' only")


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
        raise InvalidInput(tr("{what} {value} is a {kind}, not a string", what=what, value=shown(value), kind=_kind(value)),
                           hint=hint)
    if not value and not empty:
        raise InvalidInput(tr("{what} is empty", what=what), hint=hint)
    bad = _control(value)
    if bad is not None:
        raise InvalidInput(tr("{what} {value} contains the control character {char!r}", what=what, value=shown(value),
                              char=bad), hint=hint)
    return value


#: what a name names, as error messages call it (a caller may pass its own ``tr()`` word)
INTERFACE, NAMESPACE, DEVICE = tr("interface"), tr("namespace"), tr("device")
ADDRESS, ROUTE_DESTINATION = tr("address"), tr("route destination")


def check_ifname(name: object, what: str = INTERFACE) -> str:
    """Return ``name`` if the kernel would take it, whole, as an interface name."""
    if not isinstance(name, str):
        raise InvalidInput(tr("{what} name {name} is a {kind}, not a name", what=what, name=shown(name), kind=_kind(name)),
                           hint=tr("give the device's name as a string, e.g. 'veth0'"))
    if not name:
        raise InvalidInput(tr("the {what} name is empty", what=what), hint=tr("give a name such as 'veth0'"))
    bad = _control(name)
    if bad is not None:
        if bad == "\x00":
            what_failed = tr("{what} name {name} contains the control character {char!r} (the kernel stops reading a "
                             "name at NUL, so another device would be changed)", what=what, name=shown(name), char=bad)
        else:
            what_failed = tr("{what} name {name} contains the control character {char!r}", what=what, name=shown(name),
                             char=bad)
        raise InvalidInput(what_failed, hint=_NAME_CHARS)
    size = len(name.encode("utf-8"))
    if size > IFNAMSIZ - 1:
        if size == len(name):
            counted = tr("{count} characters", count=len(name))
        else:
            counted = tr("{size} bytes in UTF-8 ({count} characters)", size=size, count=len(name))
        fit = name.encode("utf-8")[:IFNAMSIZ - 1].decode("utf-8", "ignore")
        raise InvalidInput(
            tr("{what} name {name} has {counted}; Linux allows at most {limit} bytes (IFNAMSIZ)",
               what=what, name=shown(name), counted=counted, limit=IFNAMSIZ - 1),
            hint=tr("use a shorter name such as {fit!r}", fit=fit),
        )
    if name in (".", "..") or _IFNAME_BAD.search(name) or b"\xa0" in name.encode("utf-8"):
        # the kernel's isspace() also counts byte 0xa0, which the UTF-8 of some letters contains
        raise InvalidInput(
            tr("{what} name {name} contains '/', ':' or white space, or is '.'/'..'", what=what, name=shown(name)),
            hint=_NAME_CHARS,
        )
    return name


def check_safe_name(name: object, what: str = INTERFACE) -> str:
    """An interface name that may also be written into an nftables script or a shell command."""
    check_ifname(name, what)
    assert isinstance(name, str)
    if not _SAFE.fullmatch(name):
        raise InvalidInput(tr("{what} name {name} has characters that are not safe in an nft rule or a shell",
                              what=what, name=shown(name)),
                           hint=tr("here a name may use only A-Z, a-z, 0-9, '_', '.' and '-'"))
    return name


def check_label(name: object, what: str = NAMESPACE) -> str:
    """Return a lab-level label (a namespace name like 'h1' or 'upstream') if it is valid."""
    if not isinstance(name, str) or not _LABEL.fullmatch(name):
        raise InvalidInput(tr("{what} name {name} is not valid", what=what, name=shown(name)),
                           hint=tr("use 1-32 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit"))
    return name


def check_ns(ns: object, what: str = "ns") -> str:
    """The ``ns=`` of a step: the label of one of the lab's namespaces ('main', 'h1', …).

    ``what`` is the keyword the learner typed (``ns``, ``peer_ns``, ``to_ns``): shown as is."""
    if not isinstance(ns, str):
        raise InvalidInput(tr("{what}={value} is a {kind}, not a namespace name", what=what, value=shown(ns), kind=_kind(ns)),
                           hint=_LABEL_HINT)
    if not _LABEL.fullmatch(ns):
        raise InvalidInput(tr("{what}={value} is not a valid namespace name", what=what, value=shown(ns)), hint=_LABEL_HINT)
    return ns


def split_ref(ref: object, default_ns: str = "main", what: str = DEVICE) -> tuple[str, str]:
    """'veth1' → (default_ns, 'veth1'); 'h1/eth0' → ('h1', 'eth0'); both parts checked."""
    hint = tr("name a {what} as 'veth1' (in {ns}) or 'h1/eth0' (eth0 in namespace h1)", what=what, ns=default_ns)
    if not isinstance(ref, str):
        raise InvalidInput(tr("{what} {ref} is a {kind}, not a name", what=what, ref=shown(ref), kind=_kind(ref)), hint=hint)
    ns, sep, dev = ref.partition("/")
    if not sep:
        ns, dev = default_ns, ref
    elif not ns or not dev or "/" in dev:
        raise InvalidInput(tr("{what} {ref} is not 'namespace/device'", what=what, ref=shown(ref)), hint=hint)
    return check_ns(ns, "namespace"), check_ifname(dev, what if what != DEVICE else INTERFACE)


def check_lab_id(lab_id: object) -> str:
    """A lab id is 2-12 lower-case letters or digits; it is part of every namespace name."""
    if not isinstance(lab_id, str) or not _LAB_ID.fullmatch(lab_id):
        raise InvalidInput(tr("lab id {value} is not valid", value=shown(lab_id)),
                           hint=tr("use 2-12 lower-case letters or digits"))
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
        raise InvalidInput(tr("{what} {value} has a scope ('%…')", what=what, value=shown(value)),
                           hint=tr("name the device with dev=, not in the address"))
    return text


def check_cidr(cidr: object) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Parse 'address/prefix' (e.g. '20.1.0.10/24'); the address keeps its host bits."""
    hint = tr("write it in CIDR form, e.g. '20.1.0.10/24' or 'fd00::1/64'")
    text = _address_text(cidr, ADDRESS, hint)
    if "/" not in text:
        raise InvalidInput(tr("address {value} has no prefix length", value=shown(cidr)),
                           hint=tr("write it in CIDR form, e.g. '20.1.0.10/24'"))
    try:
        return ipaddress.ip_interface(text)
    except ValueError as exc:
        raise InvalidInput(tr("address {value} is not a valid CIDR: {reason}", value=shown(cidr),
                              reason=cidr_problem(text) or str(exc)), hint=hint) from None


def check_network(cidr: object, what: str = ROUTE_DESTINATION) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a route destination: 'default' or a network such as '10.0.0.0/24'."""
    hint = tr("use 'default' or a network with its host bits zero, e.g. '10.0.0.0/24'")
    text = _address_text(cidr, what, hint)
    if text == "default":
        return ipaddress.ip_network("0.0.0.0/0")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise InvalidInput(tr("{what} {value} is not a network: {reason}", what=what, value=shown(cidr),
                              reason=cidr_problem(text, network=True) or str(exc)), hint=hint) from None


def check_ip(address: object, what: str = ADDRESS) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse a plain IP address (a gateway, a tunnel end)."""
    example = tr("e.g. {example!r}", example="10.0.0.1")
    text = _address_text(address, what, example)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        problem = address_problem(text)
        failed = (tr("{what} {value} is not an IP address: {reason}", what=what, value=shown(address), reason=problem)
                  if problem else tr("{what} {value} is not an IP address", what=what, value=shown(address)))
        raise InvalidInput(failed, hint=example) from None


def check_mac(mac: object) -> str:
    """Normalise a MAC address to lower-case colon form."""
    parts = re.split(r"[:-]", mac.strip()) if isinstance(mac, str) else []
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9a-fA-F]{2}", p) for p in parts):
        raise InvalidInput(tr("{value} is not a MAC address", value=shown(mac)),
                           hint=tr("e.g. {example!r}", example="02:00:00:00:00:01"))
    return ":".join(p.lower() for p in parts)


def check_range(value: object, low: int, high: int, what: str) -> int:
    """An integer setting within the kernel's accepted range."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(tr("{what} {value} is out of range", what=what, value=shown(value)),
                           hint=tr("use a whole number from {low} to {high}", low=low, high=high))
    return value


def check_seconds(value: object, low: float, high: float, what: str) -> float:
    """A timer in seconds (an int or a float) within ``low``..``high``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:  # NaN fails it too
        raise InvalidInput(tr("{what} {value} s is out of range", what=what, value=shown(value)),
                           hint=tr("use a number of seconds from {low:g} to {high:g}", low=low, high=high))
    return float(value)


def check_bool(value: object, what: str) -> bool:
    """A switch: True or False (also 1 or 0), never a string such as 'off' that Python finds true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidInput(tr("{what}={value} is not on or off", what=what, value=shown(value)),
                       hint=tr("use {what}=True or {what}=False", what=what))


def check_choice(value: object, choices: Iterable[str], what: str) -> str:
    """One of a fixed set of words (a mode, a tunnel kind)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(tr("{what} {value} is unknown", what=what, value=shown(value)), hint=one_of(options))
    return value


def one_of(options: Iterable[str]) -> Text:
    """The hint that lists the words a setting may be: "use 'tun' or 'tap'"."""
    words = [repr(o) for o in options]
    choices = words[0] if words else ""
    for word in words[1:]:
        choices = tr("{first} or {then}", first=choices, then=word)
    return tr("use {choices}", choices=choices)


def check_filter(expression: object) -> str:
    """A capture filter in pcap-filter syntax ('icmp or arp'), stripped; '' for none.

    tcpdump gets it after ``--``, and one that starts with '-' is refused as well: as an
    option, ``-w/path`` would make tcpdump (as root) write a file anywhere."""
    hint = tr("use pcap-filter syntax, e.g. filter='icmp or arp' or 'udp port 4789'")
    text = check_text(expression, tr("capture filter"), hint, empty=True).strip()
    if text.startswith("-"):
        raise InvalidInput(tr("capture filter {value} starts with '-', so tcpdump would read it as an option",
                              value=shown(expression)), hint=hint)
    if len(text) > 4096:
        raise InvalidInput(tr("capture filter has {count} characters", count=len(text)),
                           hint=tr("keep a filter under 4096 characters"))
    return text
