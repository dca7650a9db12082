"""What a step changed: the difference between two snapshots.

Items are compared by key ('namespace/name' for interfaces); an item present in
both with other field values is *changed*, with the fields that differ. Counters
(packet statistics) are not changes: they move all the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

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
