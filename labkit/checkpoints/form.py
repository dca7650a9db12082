"""A checkpoint as data: the steps that built a lab, and the state they must give.

A checkpoint file is versioned JSON a person can read: the lab's options (with or
without the simulated uplink), each step with its ops exactly as the agent applied
them (the iproute2 command of each op included, to read), the commands the lab ran
that a restore does not replay, and the **expected state**: the lab's snapshot in its
*normal form*, with its sha256 digest.

The normal form keeps what the steps decided and drops what the kernel assigns by
itself, which legitimately differs between two builds of the same lab:

* interface indexes, packet counters, the namespaces' kernel names (they carry the lab id);
* MAC addresses the kernel drew at random: a MAC a step fixed stays as it is; a bridge
  that took a port's MAC (a bridge takes the lowest MAC of its ports) says so, and a
  device sharing its parent's MAC (vlan, ipvlan) too; any other becomes ``(random)``.
  Bridge ids (``8000.<MAC>``) name the bridge that owns the MAC instead;
* learned state: the bridges' fdb and the neighbour (ARP/NDP) caches fill with traffic
  and empty with time, so a restored lab starts with them empty, as after ``neigh_flush``;
* ``PROMISC``, which a running capture sets.

Pure: no kernel, no I/O but reading and writing the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..i18n import tr
from ..model import Interface, Snapshot
from ..state.diff import diff
from ..steps.base import Op, Step

FORMAT = "labkit-checkpoint"
VERSION = 1
RANDOM_MAC = "(random)"
PORT_MAC = "(the MAC of one of its ports)"
LINK_MAC = "(the MAC of its parent device)"
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_MAC_KEYS = ("address", "peer_address", "mac")  # op arguments that fix a MAC
_ID_KEYS = ("root_id", "bridge_id", "designated_root", "designated_bridge")
_VOLATILE_FLAGS = {"PROMISC"}


@dataclass(frozen=True)
class RecordedStep:
    """One step of the lab, as applied: its ops, and the commit-confirmed timeout when it had one."""

    step: Step
    confirmed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.step.title, "ops": [op.to_dict() for op in self.step.ops]}
        if self.step.note:
            out["note"] = self.step.note
        if self.confirmed is not None:
            out["confirmed"] = self.confirmed
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RecordedStep:
        ops = tuple(Op.from_dict(op) for op in data["ops"])
        return RecordedStep(Step(str(data["title"]), ops, str(data.get("note", ""))), data.get("confirmed"))


@dataclass(frozen=True)
class RunRecord:
    """A command the lab ran (``lab.run``) or started (``lab.spawn``) after ``after`` steps: not replayed."""

    after: int
    argv: tuple[str, ...]
    ns: str
    how: str = "run"
    returncode: int | None = None

    @property
    def shown(self) -> str:
        return f"lab.{self.how}({', '.join(repr(w) for w in self.argv)}, ns={self.ns!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"after_step": self.after, self.how: list(self.argv), "ns": self.ns, "exit": self.returncode}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RunRecord:
        how = "spawn" if "spawn" in data else "run"
        return RunRecord(int(data["after_step"]), tuple(data[how]), str(data["ns"]), how, data.get("exit"))


def fixed_macs(steps: tuple[RecordedStep, ...] | list[RecordedStep]) -> frozenset[str]:
    """The MAC addresses the steps set themselves (``address=``, ``lab.mac(...)``): kept as they are."""
    found = set()
    for recorded in steps:
        for op in recorded.step.ops:
            for key in _MAC_KEYS:
                value = op.args.get(key)
                if isinstance(value, str) and _MAC.match(value.lower()):
                    found.add(value.lower())
    return frozenset(found)


def set_sysctls(steps: tuple[RecordedStep, ...] | list[RecordedStep]) -> frozenset[tuple[str, str]]:
    """The (namespace, key) of every sysctl a step set. The others are the kernel's: a new namespace copies
    the host's ``net.ipv4.conf.all``/``default`` values (``devconf_inherit_init_net`` 0), so they say
    which machine the lab ran on, not what the lab did."""
    return frozenset((op.ns, str(op.args["key"])) for recorded in steps for op in recorded.step.ops
                     if op.action == "sysctl")


def normal_form(snap: Snapshot, fixed: frozenset[str] = frozenset(),
                sysctls: frozenset[tuple[str, str]] | None = None) -> Snapshot:
    """``snap`` without what the kernel assigns by itself (see the module docstring), sorted; with
    ``sysctls`` (:func:`set_sysctls`), only the sysctls the steps set."""
    def kept(ns: str, values: Any) -> tuple[Any, ...]:
        return tuple(sorted(item for item in values if sysctls is None or (ns, item[0]) in sysctls))

    by_key = {itf.key: itf for itf in snap.interfaces}
    bridge_of_mac = {itf.mac: itf.key for itf in snap.interfaces if itf.kind == "bridge" and itf.mac}

    def mac(itf: Interface) -> str | None:
        if itf.mac is None or itf.mac.lower() in fixed or itf.mac == "00:00:00:00:00:00":
            return itf.mac
        if itf.kind == "bridge" and any(p.mac == itf.mac for p in snap.interfaces
                                        if p.master == itf.name and p.namespace == itf.namespace):
            return PORT_MAC
        lower = by_key.get(itf.link or "")
        if lower is not None and lower.mac == itf.mac:
            return LINK_MAC
        return RANDOM_MAC

    def bridge_id(value: Any) -> Any:
        prio, dot, addr = str(value).partition(".")
        if not dot or addr.lower() in fixed:
            return value
        return f"{prio}.{bridge_of_mac.get(addr, RANDOM_MAC)}"

    interfaces = tuple(sorted((replace(
        itf, index=0, stats=(), mac=mac(itf), addresses=tuple(sorted(itf.addresses)),
        flags=tuple(f for f in itf.flags if f not in _VOLATILE_FLAGS),
        info=tuple((k, bridge_id(v) if k in _ID_KEYS else v) for k, v in itf.info),
    ) for itf in snap.interfaces), key=lambda i: (i.namespace, i.name)))
    return Snapshot(
        lab_id="", target="", taken_at=0.0,
        namespaces=tuple(sorted((replace(ns, netns="", sysctls=kept(ns.name, ns.sysctls)) for ns in snap.namespaces),
                                key=lambda n: n.name)),
        interfaces=interfaces,
        routes=tuple(sorted(snap.routes, key=lambda r: (r.key, repr(r)))),
    )


def digest(state: Snapshot) -> str:
    """The sha256 of a normal form, over its canonical JSON."""
    text = json.dumps(state.to_dict(), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def differences(expected: Snapshot, found: Snapshot) -> list[str]:
    """What ``found`` has otherwise than ``expected`` (both normal forms), one line each, via labkit's diff."""
    return diff(expected, found).lines()


@dataclass(frozen=True)
class Checkpoint:
    """A named point of a lab: how to rebuild it (``steps``) and what it must then hold (``state``)."""

    name: str
    steps: tuple[RecordedStep, ...]
    state: Snapshot
    uplink: bool = True
    notebook: str | None = None
    not_replayed: tuple[RunRecord, ...] = ()

    @property
    def digest(self) -> str:
        return digest(self.state)

    @property
    def label(self) -> str:
        return f"{self.notebook}/{self.name}" if self.notebook else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "name": self.name, "notebook": self.notebook,
            "lab": {"uplink": self.uplink},
            "steps": [recorded.to_dict() for recorded in self.steps],
            "not_replayed": [run.to_dict() for run in self.not_replayed],
            "expected": {"digest": self.digest, "state": self.state.to_dict()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> Path:
        where = Path(path)
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(self.to_json(), encoding="utf-8")
        return where

    @staticmethod
    def from_dict(data: dict[str, Any], where: str = "") -> Checkpoint:
        """Read a checkpoint's data; the recorded digest must be that of the recorded state."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CheckpointError(tr("this is not a labkit checkpoint (no \"format\": \"labkit-checkpoint\")"), where=where,
                                  hint=tr("make one with lab.checkpoint(name, path=...)"))
        if data.get("version") != VERSION:
            raise CheckpointError(tr("checkpoint format version {found!r}; this labkit reads version {version}",
                                     found=data.get("version"), version=VERSION),
                                  where=where, hint=tr("make the checkpoint again with this labkit (python -m labkit.checkpoints)"))
        try:
            expected = data["expected"]
            point = Checkpoint(
                name=str(data["name"]), notebook=data.get("notebook"), uplink=bool(data["lab"]["uplink"]),
                steps=tuple(RecordedStep.from_dict(s) for s in data["steps"]),
                not_replayed=tuple(RunRecord.from_dict(r) for r in data.get("not_replayed", ())),
                state=Snapshot.from_dict(expected["state"]))
        except (KeyError, TypeError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise CheckpointError(tr("the checkpoint lacks or mangles a field ({error})", error=error),
                                  where=where, hint=tr("make the checkpoint again rather than editing it by hand")) from None
        if expected.get("digest") != point.digest:
            raise CheckpointError(tr("the expected state does not match its digest (recorded {recorded}, the state hashes "
                                     "to {digest}): the file was edited or damaged",
                                     recorded=expected.get("digest"), digest=point.digest), where=where,
                                  hint=tr("make the checkpoint again rather than editing it by hand"))
        return point

    @staticmethod
    def from_json(text: str, where: str = "") -> Checkpoint:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CheckpointError(tr("the checkpoint is not valid JSON: {error}", error=str(exc)), where=where) from None
        return Checkpoint.from_dict(data, where)

    @staticmethod
    def load(path: str | Path) -> Checkpoint:
        where = Path(path)
        if not where.is_file():
            raise CheckpointError(tr("no checkpoint file {path}", path=str(where)),
                                  hint=tr("list the shipped ones with labkit.notebook.checkpoints('NN-name'), "
                                          "or save one with lab.checkpoint(name, path=...)"))
        return Checkpoint.from_json(where.read_text(encoding="utf-8"), where=str(where))

    def __repr__(self) -> str:
        return f"<Checkpoint {self.label}: {len(self.steps)} steps, {self.digest[:19]}…>"
