"""A step's commands as a root shell on the target would run them for *this* lab.

The commands a step shows use the lab's labels (``ip -n h1 …``, bare ``ip …`` for
``main``), which read well but would change the host's own namespace if pasted into
a root shell. :func:`shell_command` turns one shown command of an op in namespace
``ns`` into the command for the real namespaces (``ip -n labkit-<id>-h1 …``); it
inverts exactly the forms :func:`labkit.steps.base.ip` and :func:`~labkit.steps.base.tool`
write, and a kernel test replays a whole lab's script to prove it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

#: `netns X` inside a command: a veth peer or a device moved to another namespace
_NETNS_WORD = re.compile(r"(?<=\snetns )(\S+)")


_PREFIX = re.compile(r"^(ip -n|ip netns exec|bridge -n) (\S+) ")


def shell_command(ns: str, shown: str, real: Callable[[str], str], labels: set[str]) -> str:
    """The command ``shown`` (of an op in namespace ``ns``) for a root shell on the target.

    A command names its namespace with ``-n LABEL`` or ``ip netns exec LABEL``; one that
    names none runs in ``main``, the lab's stand-in for the host."""
    text = shown
    if text.startswith(("ip netns add ", "ip netns del ")):
        head, _, name = text.rpartition(" ")
        return f"{head} {real(name)}"
    found = _PREFIX.match(text)
    if found and found.group(2) in labels:
        where, text = found.group(2), text[found.end():]
        kind = {"ip -n": "ip", "bridge -n": "bridge"}.get(found.group(1), "exec")
    else:
        where = "main"
        kind = "ip" if text.startswith("ip ") else "bridge" if text.startswith("bridge ") else "exec"
        if kind != "exec":
            text = text.split(" ", 1)[1]
    text = _NETNS_WORD.sub(lambda m: real(m.group(1)) if m.group(1) in labels else m.group(1), text)
    netns = real(where)
    if kind in ("ip", "bridge"):
        return f"{kind} -n {netns} {text}"
    if text.startswith("nft -f -") and "\n" in text:  # a ruleset: as a here-document
        script = text.split("\n", 1)[1]
        return f"ip netns exec {shlex.quote(netns)} nft -f - <<'NFT'\n{script.rstrip()}\nNFT"
    return f"ip netns exec {netns} {text}"


def shell_script(changes: list[tuple[str, list[tuple[str, str]]]], labels: set[str], lab_id: str) -> str:
    """A ``sh`` script of ``changes`` (title, [(namespace, command), ...]) for lab ``lab_id``'s namespaces."""
    from ..names import netns_name

    lines = [f"#!/bin/sh\n# labkit lab {lab_id}: {len(changes) - 1} step(s) after the baseline\nset -e"]
    known = labels | {ns for _title, ran in changes for ns, _ in ran}
    for title, ran in changes:
        lines.append(f"# {title}")
        lines += [shell_command(ns, cmd, lambda label: netns_name(lab_id, label), known) for ns, cmd in ran]
    return "\n".join(lines) + "\n"
