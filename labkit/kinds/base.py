"""What a device kind is made of, declared once so that nothing about it can drift.

A :class:`Kind` lists its :class:`Param` settings. Each setting carries, in one
place, the step's keyword (``vni``), the word ``ip link add … type vxlan`` takes for
it (``id``), the netlink attribute the kernel keeps it in (``IFLA_VXLAN_ID``, number
1 inside ``IFLA_INFO_DATA``) with its :class:`Codec` (a 32-bit number), and the
conversion between what a learner types and what the kernel stores (seconds →
centiseconds for a bridge's ``forward_delay``; ``'l3'`` → 1 for an ipvlan mode).

From that single declaration come:

* the iproute2 command shown (:meth:`Kind.words`),
* the netlink request that runs (:meth:`Kind.info_data`, the same encoded values),
* the decoding of a dump (:meth:`Kind.decoders`) into snapshot facts (:meth:`Kind.facts`),
* the settings a device has now, for "already so" and for undo (:meth:`Kind.settings_of`),
* the kernel module, a probe device, and the picture's shape and colour.

Pure: nothing here touches a kernel.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..i18n import tr
from ..names import one_of


# -- codecs: how a value sits in a netlink attribute -----------------------------------------
@dataclass(frozen=True)
class Codec:
    """Bytes ⇄ value for one attribute type (``u32``, ``be16`` for ports, ``ip`` …)."""

    name: str
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes] | None = None  # None: read-only (the kernel reports it, nobody sets it)


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _ip_decode(b: bytes) -> str:
    return str(ipaddress.ip_address(b)) if len(b) in (4, 16) else _mac(b)


def _bridge_id(b: bytes) -> dict[str, Any]:
    # the shape pyroute2 gives (the priority's two bytes read little-endian); see kinds.bridge.bridge_id
    return {"prio": int(struct.unpack_from("<H", b)[0]), "addr": _mac(b[2:8])}


def _int_codec(name: str, fmt: str) -> Codec:
    return Codec(name, lambda b: int(struct.unpack_from(fmt, b)[0]), lambda v: struct.pack(fmt, int(v)))


U8 = _int_codec("u8", "=B")
U16 = _int_codec("u16", "=H")
U32 = _int_codec("u32", "=I")
BE16 = _int_codec("be16", "!H")  # UDP ports and EtherTypes travel in network byte order
IP = Codec("ip", _ip_decode, lambda v: ipaddress.ip_address(v).packed)
BRIDGE_ID = Codec("bridge_id", _bridge_id)


def word_codec(name: str, fmt: str, words: Mapping[str, int]) -> Codec:
    """A number the kernel stores that pyroute2 (and so every dump labkit reads) reports as its word."""
    names = {number: word for word, number in words.items()}
    return Codec(name, lambda b: names.get(int(struct.unpack_from(fmt, b)[0]), str(struct.unpack_from(fmt, b)[0])),
                 lambda v: struct.pack(fmt, words[v]))


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Mapping_:
    """Words a learner types ⇄ the numbers the kernel stores (``'bridge'`` ⇄ 4 for macvlan)."""

    words: Mapping[str, int]

    def to_kernel(self, value: Any) -> int:
        return self.words[value]

    def from_kernel(self, value: Any) -> Any:
        for word, number in self.words.items():
            if number == value:
                return word
        return value


def scaled(factor: int) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Seconds ⇄ the kernel's hundredths (USER_HZ): 2.3 s is stored, and shown, as 230."""
    return (lambda v: int(round(float(v) * factor))), (lambda v: v / factor)


@dataclass(frozen=True)
class Param:
    """One setting of a device kind."""

    name: str                    # the step's keyword: vni
    word: str                    # the iproute2 word: id
    attr: str                    # the netlink attribute: IFLA_VXLAN_ID
    code: int                    # its number inside IFLA_INFO_DATA
    codec: Codec                 # how it is encoded
    check: Callable[[Any], Any] | None = None      # validates the learner's value, returns it normalised
    to_kernel: Callable[[Any], Any] = _same        # learner's value → kernel's value (shown and sent alike)
    from_kernel: Callable[[Any], Any] = _same      # kernel's value → learner's value (undo, "already so")
    device: bool = False         # the value names a device; the kernel takes its ifindex
    default: Any = None          # what the kernel uses when the step leaves it out
    fact: str | None = None      # its key in the snapshot's facts; default: name
    settable: bool = True        # False: only reported by the kernel (a bridge's root id)
    show: Callable[[Any], Any] = _same             # kernel's value → the snapshot's fact (a bridge id as '8000.aa:…')
    when: Callable[[Any], bool] | None = None      # the kernel's value means this setting only if this holds
                                                    # (VXLAN keeps a remote and a multicast group in one attribute)
    word_of: Callable[[Any], Any] | None = None    # learner's value → the word shown (None: the kernel's value)
    read_word: Callable[[Any], Any] = _same        # how iproute2 reads that word back into the kernel's value

    @property
    def fact_key(self) -> str:
        return self.fact if self.fact is not None else self.name


def enum(param_name: str, words: Mapping[str, int]) -> dict[str, Any]:
    """The check/to_kernel/from_kernel of a setting that is one of a few words."""
    mapping = Mapping_(words)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in words:
            raise InvalidInput(tr("{what} {value!r} is unknown", what=param_name, value=value), hint=one_of(words))
        return value

    return {"check": check, "to_kernel": mapping.to_kernel, "from_kernel": mapping.from_kernel,
            "word_of": _same, "read_word": mapping.to_kernel, "show": mapping.from_kernel}


def word_choice(param_name: str, words: Mapping[str, int]) -> dict[str, Any]:
    """The check of a setting that is one of a few words and is kept as that word (see :func:`word_codec`)."""
    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in words:
            raise InvalidInput(tr("{what} {value!r} is unknown", what=param_name, value=value), hint=one_of(words))
        return value

    return {"check": check}


@dataclass(frozen=True)
class Style:
    """How the picture draws a device of this kind (Graphviz node attributes)."""

    shape: str = "box"
    fill: str = "#ffffff"


@dataclass(frozen=True)
class Kind:
    """A device kind: everything labkit knows about it, in one declaration."""

    name: str                                  # as `ip link add … type NAME` and the snapshot call it
    summary: str                               # one line that teaches what it is
    module: str                                # the kernel module that provides it
    params: tuple[Param, ...] = ()
    parent: bool = False                       # stacked on a parent device (`ip link add link eth0 …`)
    probe: Mapping[str, Any] = field(default_factory=dict)  # settings of a throwaway device that shows the kernel can make one
    style: Style = Style()
    netlink_kind: str = ""                     # IFLA_INFO_KIND, when it differs from name (a tap is a 'tun')
    created_by: str = "link_add"               # the op that makes one ('tuntap_add' for tun and tap)
    extra_facts: Callable[[dict[str, Any], dict[str, Any]], list[tuple[str, Any]]] | None = None
    word_order: tuple[str, ...] = ()           # the settings' order in the command, when not the declaration's
    own_mac: bool = True                       # False: the device takes its MAC from others (a bridge, from its ports),
                                               # so an undo must not pin one

    @property
    def info_kind(self) -> str:
        return self.netlink_kind or self.name

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def settable(self) -> tuple[Param, ...]:
        """The settings a step may give, in the order the command shows them."""
        found = [p for p in self.params if p.settable]
        order = {name: position for position, name in enumerate(self.word_order)}
        return tuple(sorted(found, key=lambda p: order.get(p.name, len(order))))

    # -- from the learner's values --------------------------------------------------------
    def check(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The settings validated and normalised; unknown keys and None values are dropped with an error / silently."""
        known = {p.name: p for p in self.settable}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            hint = (tr("{kind} settings: {settings}", kind=self.name, settings=", ".join(known)) if known
                    else tr("{kind} devices take no settings", kind=self.name))
            raise InvalidInput(tr("{kind} devices have no setting {settings}", kind=self.name, settings=", ".join(unknown)),
                               hint=hint)
        out: dict[str, Any] = {}
        for name, value in settings.items():
            if value is None:
                continue
            p = known[name]
            out[name] = p.check(value) if p.check else value
        return out

    def encoded(self, settings: Mapping[str, Any]) -> list[tuple[Param, Any, Any]]:
        """(param, the learner's value, the kernel's value) of each setting given or defaulted, in declaration
        order; a device stays a name (the kernel's index is looked up when the request is made)."""
        out = []
        for p in self.settable:
            value = settings.get(p.name)
            if value is None:
                value = p.default
            if value is not None:
                out.append((p, value, value if p.device else p.to_kernel(value)))
        return out

    def words(self, settings: Mapping[str, Any]) -> list[object]:
        """The words after ``type KIND`` in the iproute2 command: ``id 42 remote 10.0.0.2 dstport 4789``."""
        words: list[object] = []
        for p, value, kernel in self.encoded(settings):
            words += [p.word, p.word_of(value) if p.word_of else kernel]
        return words

    def info_data(self, settings: Mapping[str, Any], index_of: Callable[[str], int]) -> list[tuple[int, bytes]]:
        """The ``IFLA_INFO_DATA`` attributes of the request: the same values :meth:`words` shows, encoded."""
        out = []
        for p, _value, kernel in self.encoded(settings):
            assert p.codec.encode is not None, f"{self.name}.{p.name} is read-only"
            out.append((p.code, p.codec.encode(index_of(kernel) if p.device else kernel)))
        return out

    # -- from the kernel's values ---------------------------------------------------------
    def decoders(self) -> dict[int, tuple[str, Callable[[bytes], Any]]]:
        """How the raw reader decodes this kind's ``IFLA_INFO_DATA`` (attribute number → name, decoder)."""
        return {p.code: (p.attr, p.codec.decode) for p in self.params}

    def settings_of(self, data: Mapping[str, Any], name_of: Callable[[int], str | None] = lambda i: None) -> dict[str, Any]:
        """The learner's settings of a device as the kernel has it (``IFLA_INFO_DATA`` decoded)."""
        out: dict[str, Any] = {}
        for p in self.settable:
            raw = data.get(p.attr)
            if raw is None or (p.when is not None and not p.when(raw)):
                continue
            out[p.name] = name_of(raw) if p.device else p.from_kernel(raw)
        return out

    def differences(self, wanted: Mapping[str, Any], data: Mapping[str, Any],
                    index_of: Callable[[str], int | None] = lambda n: None) -> list[str]:
        """The settings asked for that the kernel's device does not have, as 'vni 42 (the device has 7)'."""
        found: list[str] = []
        for p, _value, value in self.encoded(wanted):
            have = data.get(p.attr)
            if have is None:
                continue  # the kernel does not report this setting: nothing to compare it with
            if p.when is not None and not p.when(have):
                found.append(tr("{setting} {wanted!r} (the device has none)", setting=p.name,
                                wanted=wanted.get(p.name, p.default)))
                continue
            if p.device:
                value = index_of(value)
            if have != value:
                shown = have if p.device else p.from_kernel(have)
                found.append(tr("{setting} {wanted!r} (the device has {have!r})", setting=p.name,
                                wanted=wanted.get(p.name, p.default), have=shown))
        return found

    def facts(self, data: Mapping[str, Any], link: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """The snapshot's facts of one device: each setting the kernel reports, as the kernel stores it."""
        out = [(p.fact_key, p.show(data[p.attr])) for p in self.params
               if p.fact != "" and data.get(p.attr) is not None and (p.when is None or p.when(data[p.attr]))]
        if self.extra_facts is not None:
            out += self.extra_facts(dict(data), dict(link))
        return out
