"""What a step changed: the difference between two snapshots.

Items are compared by key ('namespace/name' for interfaces); an item present in
both with other field values is *changed*, with the fields that differ. Counters
(packet statistics) are not changes: they move all the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..i18n import tr
from ..model import Snapshot

IGNORED = {"stats", "index", "taken_at"}


@dataclass(frozen=True)
class Diff:
    """Keys of added and removed items, and changed fields per key, by item kind."""

    added: dict[str, tuple[str, ...]] = field(default_factory=dict)
    removed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    changed: dict[str, dict[str, tuple[tuple[str, Any, Any], ...]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.added.values()) and not any(self.removed.values()) and not any(self.changed.values())

    def is_new(self, kind: str, key: str) -> bool:
        return key in self.added.get(kind, ())

    def changes_of(self, kind: str, key: str) -> tuple[tuple[str, Any, Any], ...]:
        return self.changed.get(kind, {}).get(key, ())

    def interface_changes(self, key: str) -> list[str]:
        """What changed on interface ``key``, in a learner's words (empty: nothing a step did)."""
        return [text for name, old, new in self.changes_of("interfaces", key) for text in describe(name, old, new)]

    def count(self) -> int:
        """How many things the step changed: namespaces, interfaces and routes added, removed or changed
        (an interface with several changed facts is one change; moving STP facts are not changes)."""
        total = 0
        for kind in COUNTED:
            total += len(self.added.get(kind, ())) + len(self.removed.get(kind, ()))
            for key in self.changed.get(kind, {}):
                total += 1 if kind != "interfaces" or self.interface_changes(key) else 0
        return total

    def lines(self) -> list[str]:
        """A readable summary, one line per change."""
        out = []
        for kind, keys in self.added.items():
            out += [f"+ {kind[:-1] if kind.endswith('s') else kind} {k}" for k in keys]
        for kind, keys in self.removed.items():
            out += [f"- {kind[:-1] if kind.endswith('s') else kind} {k}" for k in keys]
        for items in self.changed.values():
            for key, changes in items.items():
                out += [f"~ {key}: {name} {old!r} → {new!r}" for name, old, new in changes]
        return out


#: kind facts that move by themselves while STP runs (who is root, the path cost): news, but not a step's change
MOVING_FACTS = {"root_id", "root_port", "root_path_cost", "designated_root", "designated_bridge", "port_no"}
#: what counts as one change of the lab for the learner (fdb and neighbour entries come and go with traffic)
COUNTED = ("namespaces", "interfaces", "routes")


def describe(name: str, old: Any, new: Any) -> list[str]:
    """One changed field of an interface in a learner's words ('up', 'now a port of br0', 'STP learning'):
    ``tr()`` sentences, shown in the learner's language; kernel words (``forwarding``) stay as printed."""
    if name == "flags":
        was, now = "UP" in old, "UP" in new
        if was != now:
            return [tr("up") if now else tr("down")]
        gained = "LOWER_UP" in new and "LOWER_UP" not in old
        lost = "LOWER_UP" in old and "LOWER_UP" not in new
        return [tr("carrier on")] if gained else [tr("carrier lost")] if lost else []
    if name == "state":
        return []  # the operational state follows flags: said there
    if name == "addresses":
        added = [a for a in new if a not in old]
        gone = [a for a in old if a not in new]
        return [f"+{a}" for a in added] + [f"−{a}" for a in gone]
    if name == "master":
        return [tr("now a port of {bridge}", bridge=new) if new else tr("no longer a port of {bridge}", bridge=old)]
    if name == "stp_state":
        return [tr("STP {state}", state=new)] if new else []
    if name == "info":
        before, after = dict(old), dict(new)
        return [f"{key} {before.get(key)} → {after.get(key)}" for key in after
                if key not in MOVING_FACTS and before.get(key) != after.get(key)]
    if name in ("mtu", "mac"):
        return [f"{name} {new}"]
    if name == "namespace":
        return [tr("moved to {ns}", ns=new)]
    return [name]


def _compare(old: Any, new: Any) -> tuple[tuple[str, Any, Any], ...]:
    return tuple((f.name, getattr(old, f.name), getattr(new, f.name)) for f in fields(old)
                 if f.name not in IGNORED and getattr(old, f.name) != getattr(new, f.name))


def diff(before: Snapshot | None, after: Snapshot) -> Diff:
    """What changed from ``before`` to ``after`` (everything is new when ``before`` is None)."""
    added: dict[str, tuple[str, ...]] = {}
    removed: dict[str, tuple[str, ...]] = {}
    changed: dict[str, dict[str, tuple[tuple[str, Any, Any], ...]]] = {}
    for kind in ("namespaces", "interfaces", "routes", "fdb", "neighbours"):
        old_items = {_key(i): i for i in (getattr(before, kind) if before else ())}
        new_items = {_key(i): i for i in getattr(after, kind)}
        added[kind] = tuple(k for k in new_items if k not in old_items)
        removed[kind] = tuple(k for k in old_items if k not in new_items)
        changed[kind] = {k: c for k in new_items if k in old_items for c in [_compare(old_items[k], new_items[k])] if c}
    return Diff(added, removed, changed)


def _key(item: Any) -> str:
    return item.key if hasattr(item, "key") else item.name
