"""What the kernel holds, as frozen data: the Snapshot and its parts.

A Snapshot is read back from the kernel after every step; the picture, the diff
and the self-checks are all computed from it, never from what a step meant to do.
It is plain data (tuples, strings, numbers) so it crosses the agent's pipe as JSON
and can be stored next to a test as a recorded dump.

Namespaces are named by their lab label ('main', 'upstream', 'h1', ...), not by the
kernel-side ``labkit-<id>-<label>`` name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Bridge port states as the kernel numbers them (IFLA_BRPORT_STATE / BR_STATE_*).
STP_STATES = ("disabled", "listening", "learning", "forwarding", "blocking")


@dataclass(frozen=True)
class Interface:
    """One network device in one namespace of the lab.

    ``peer`` is the other end of a veth pair as 'namespace/name'. ``link`` is the
    lower device of a macvlan/vlan/ipvlan ('namespace/name'). ``stp_state`` is set for
    bridge ports. ``info`` holds kind-specific facts (vxlan id, tun type and whether
    a program holds its file descriptor, bridge STP settings, ...).
    """

    name: str
    namespace: str
    index: int
    kind: str
    mac: str | None
    mtu: int
    state: str
    flags: tuple[str, ...] = ()
    master: str | None = None
    peer: str | None = None
    link: str | None = None
    addresses: tuple[str, ...] = ()
    stp_state: str | None = None
    info: tuple[tuple[str, Any], ...] = ()
    stats: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> str:
        """'namespace/name': unique within a lab."""
        return f"{self.namespace}/{self.name}"

    @property
    def node_id(self) -> str:
        """The id of this interface's node in the picture. '/' can be in neither a namespace
        label nor an interface name, so ids never collide (``a-b`` + ``c`` vs ``a`` + ``b-c``)."""
        return f"itf-{self.key}"

    @property
    def is_up(self) -> bool:
        return "UP" in self.flags

    def detail(self, name: str, default: Any = None) -> Any:
        """One kind-specific fact from ``info``."""
        return dict(self.info).get(name, default)

    def counter(self, name: str) -> int:
        """A packet/byte counter such as 'rx_packets'."""
        return dict(self.stats).get(name, 0)


@dataclass(frozen=True)
class Route:
    """A route in a namespace's main table."""

    namespace: str
    dst: str
    dev: str | None
    gateway: str | None = None
    src: str | None = None
    scope: str = "universe"
    proto: str = ""
    family: int = 4

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.dst}/{self.dev}/{self.gateway}"


@dataclass(frozen=True)
class FdbEntry:
    """A MAC address a bridge has learned (or was given) on one of its ports."""

    namespace: str
    bridge: str
    port: str
    mac: str
    vlan: int | None = None
    permanent: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.bridge}/{self.port}/{self.mac}/{self.vlan}"


@dataclass(frozen=True)
class Neighbour:
    """An ARP (IPv4) or NDP (IPv6) cache entry: which MAC answers for an IP on a device."""

    namespace: str
    dev: str
    ip: str
    mac: str | None
    state: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.dev}/{self.ip}"


@dataclass(frozen=True)
class Namespace:
    """A network namespace of the lab: ``name`` is its label, ``netns`` its kernel-side name."""

    name: str
    netns: str
    sysctls: tuple[tuple[str, str], ...] = ()

    def sysctl(self, key: str) -> str | None:
        return dict(self.sysctls).get(key)


@dataclass(frozen=True)
class Snapshot:
    """Everything a lab's namespaces hold at one moment, as read from the kernel."""

    lab_id: str
    namespaces: tuple[Namespace, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    fdb: tuple[FdbEntry, ...] = ()
    neighbours: tuple[Neighbour, ...] = ()
    taken_at: float = 0.0
    target: str = "local"
    notes: tuple[str, ...] = field(default=())

    def interface(self, name: str, namespace: str = "main") -> Interface | None:
        """The interface ``name`` in ``namespace``, or None."""
        for itf in self.interfaces:
            if itf.name == name and itf.namespace == namespace:
                return itf
        return None

    def find(self, name: str) -> list[Interface]:
        """Every interface called ``name``, in any namespace."""
        return [itf for itf in self.interfaces if itf.name == name]

    def in_namespace(self, namespace: str) -> list[Interface]:
        return [itf for itf in self.interfaces if itf.namespace == namespace]

    def ports_of(self, bridge: str, namespace: str = "main") -> list[Interface]:
        """The ports enslaved to ``bridge``, in index order."""
        return sorted(
            (itf for itf in self.interfaces if itf.master == bridge and itf.namespace == namespace),
            key=lambda i: i.index,
        )

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Snapshot:
        """Rebuild a Snapshot from :meth:`to_dict` output."""

        def build(cls: type, row: dict[str, Any]) -> Any:
            kwargs = {}
            for f in fields(cls):
                if f.name not in row:
                    continue
                value = row[f.name]
                if isinstance(value, list):
                    value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
                kwargs[f.name] = value
            return cls(**kwargs)

        return Snapshot(
            lab_id=data["lab_id"],
            namespaces=tuple(build(Namespace, r) for r in data.get("namespaces", ())),
            interfaces=tuple(build(Interface, r) for r in data.get("interfaces", ())),
            routes=tuple(build(Route, r) for r in data.get("routes", ())),
            fdb=tuple(build(FdbEntry, r) for r in data.get("fdb", ())),
            neighbours=tuple(build(Neighbour, r) for r in data.get("neighbours", ())),
            taken_at=data.get("taken_at", 0.0),
            target=data.get("target", "local"),
            notes=tuple(data.get("notes", ())),
        )
