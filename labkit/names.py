"""Checks on names and addresses, before anything touches the kernel.

Linux keeps interface names in a 16-byte buffer (IFNAMSIZ) with a trailing NUL, so a
name has at most 15 characters, and may not contain '/', ':' or white space, nor be
'.' or '..'. A lab's namespaces are named ``labkit-<lab id>-<name>`` so that
``labkit reset`` can find exactly what a lab left behind.
"""

from __future__ import annotations

import ipaddress
import re

from .errors import InvalidInput

IFNAMSIZ = 16
NETNS_PREFIX = "labkit-"
_IFNAME_BAD = re.compile(r"[/:\s]")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_LAB_ID = re.compile(r"^[a-z0-9]{2,12}$")


def check_ifname(name: str) -> str:
    """Return ``name`` if the kernel would accept it as an interface name."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("an interface name is empty", hint="give a name such as 'veth0'")
    if len(name) > IFNAMSIZ - 1:
        raise InvalidInput(
            f"interface name {name!r} has {len(name)} characters; Linux allows at most {IFNAMSIZ - 1} (IFNAMSIZ)",
            hint=f"use a shorter name such as {name[:IFNAMSIZ - 1]!r}",
        )
    if name in (".", "..") or _IFNAME_BAD.search(name):
        raise InvalidInput(
            f"interface name {name!r} contains '/', ':' or white space, or is '.'/'..'",
            hint="use letters, digits, '-', '_' or '.' only",
        )
    return name


def check_label(name: str, what: str = "namespace") -> str:
    """Return a lab-level label (a namespace name like 'h1' or 'upstream') if it is valid."""
    if not isinstance(name, str) or not _LABEL.match(name):
        raise InvalidInput(
            f"{what} name {name!r} is not valid",
            hint="use 1-32 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return name


def check_lab_id(lab_id: str) -> str:
    """A lab id is 2-12 lower-case letters or digits; it is part of every namespace name."""
    if not isinstance(lab_id, str) or not _LAB_ID.match(lab_id):
        raise InvalidInput(f"lab id {lab_id!r} is not valid", hint="use 2-12 lower-case letters or digits")
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
    if not sep or not _LAB_ID.match(lab_id) or not label:
        return None
    return lab_id, label


def check_cidr(cidr: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Parse 'address/prefix' (e.g. '20.1.0.10/24'); the address keeps its host bits."""
    if not isinstance(cidr, str) or "/" not in cidr:
        raise InvalidInput(
            f"address {cidr!r} has no prefix length",
            hint="write it in CIDR form, e.g. '20.1.0.10/24'",
        )
    try:
        return ipaddress.ip_interface(cidr)
    except ValueError as exc:
        raise InvalidInput(f"address {cidr!r} is not a valid CIDR: {exc}", hint="e.g. '20.1.0.10/24' or 'fd00::1/64'") from None


def check_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a route destination: 'default' or a network such as '10.0.0.0/24'."""
    if cidr == "default":
        return ipaddress.ip_network("0.0.0.0/0")
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise InvalidInput(
            f"route destination {cidr!r} is not a network: {exc}",
            hint="use 'default' or a network with its host bits zero, e.g. '10.0.0.0/24'",
        ) from None


def check_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse a plain IP address (a gateway, a tunnel end)."""
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        raise InvalidInput(f"{address!r} is not an IP address", hint="e.g. '10.0.0.1'") from None


def check_mac(mac: str) -> str:
    """Normalise a MAC address to lower-case colon form."""
    parts = re.split(r"[:-]", mac.strip()) if isinstance(mac, str) else []
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9a-fA-F]{2}", p) for p in parts):
        raise InvalidInput(f"{mac!r} is not a MAC address", hint="e.g. '02:00:00:00:00:01'")
    return ":".join(p.lower() for p in parts)


def check_range(value: int, low: int, high: int, what: str) -> int:
    """An integer setting within the kernel's accepted range."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{what} {value!r} is out of range", hint=f"use a whole number from {low} to {high}")
    return value
