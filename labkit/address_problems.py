"""Why an address a learner typed is not one: the exact mistake, in a sentence that translates.

An IPv4 address is four numbers from 0 to 255 joined by dots; IPv6 writes eight groups of
hex digits joined by colons (``::`` once, for a run of zeros). After the ``/`` comes the prefix
length: how many leading bits name the network (at most 32 for IPv4, 128 for IPv6). A *network*
(a route's destination) has every bit after the prefix zero: ``10.0.0.0/24``, not ``10.0.0.1/24``.

Python's :mod:`ipaddress` only says "does not appear to be an IPv4 or IPv6 interface"; these
functions are pure (text in, sentence out) and name the part that is wrong.
"""

from __future__ import annotations

import ipaddress

from .i18n import Text, tr


def address_problem(address: str) -> Text | None:
    """What is wrong with a bare address ('10.0.0.300'), or None when it is one."""
    if "/" in address:
        return tr("{address!r} has a prefix length: only the address goes here, without '/…'", address=address)
    if ":" in address:
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return tr("{address!r} is not an IPv6 address: up to eight groups of hex digits joined by colons, "
                      "'::' at most once", address=address)
        return None
    if "." not in address:
        return tr("{address!r} is neither IPv4 (four numbers joined by dots) nor IPv6 (groups joined by colons)",
                  address=address)
    parts = address.split(".")
    if len(parts) != 4:
        return tr("an IPv4 address is four numbers joined by dots; {address!r} has {count}",
                  address=address, count=len(parts))
    for part in parts:
        if not part.isdigit():
            return tr("{part!r} in {address!r} is not a number", part=part, address=address)
        if int(part) > 255:
            return tr("{part} in {address!r} is more than 255: each number of an IPv4 address is 0 to 255",
                      part=part, address=address)
    return None


def cidr_problem(text: str, *, network: bool = False) -> Text | str:
    """What is wrong with 'address/prefix' (an interface address, or with ``network`` a route's destination)."""
    address, _, prefix = text.partition("/")
    if (problem := address_problem(address)) is not None:
        return problem
    bits = 128 if ":" in address else 32
    if "/" in text and not prefix.isdigit():
        return tr("the prefix length {prefix!r} is not a number", prefix=prefix)
    if "/" in text and int(prefix) > bits:
        return tr("the prefix length {prefix} is more than {bits}, the bits of an IPv{version} address",
                  prefix=prefix, bits=bits, version=4 if bits == 32 else 6)
    if network:
        whole = ipaddress.ip_network(text, strict=False)
        if whole.network_address != ipaddress.ip_address(address):
            return tr("{text} has bits set after the prefix: the network that holds it is {network}",
                      text=text, network=str(whole))
    try:  # anything this did not foresee: Python's own words
        ipaddress.ip_network(text, strict=True) if network else ipaddress.ip_interface(text)
    except ValueError as exc:
        return str(exc)
    return ""
