"""Which commands run with ``lab.run`` change the lab, so that a checkpoint cannot stand in for them.

A checkpoint replays the lab's *steps* (each an exact plan of ops). ``lab.run`` runs any
command, and most are looks (``ping``, ``ip neigh show``, ``bridge link``): a restore skips
them, and the file lists them under ``not_replayed``. A command that is known to change
the kernel (``ip link set …``, ``sysctl -w``, ``nft add …``) would leave the rebuilt lab
short of it, so :func:`changes_kernel` names it and taking the checkpoint fails, saying
which step to use instead. A command neither known to look nor to change is kept as not
replayed; the restore's comparison with the recorded state is then the judge.

Pure: words in, a verdict out.
"""

from __future__ import annotations

import os

#: iproute2 / bridge verbs that change something (anything else, or no verb, only shows)
_VERBS = {"add", "del", "delete", "set", "change", "replace", "flush", "append", "prepend", "attach", "detach",
          "create", "reset"}
#: ip options that take a value, so the value is not the object word
_IP_VALUE_OPTIONS = {"-n", "-netns", "-f", "-family", "-b", "-batch", "-l", "-loops", "-rc", "-rcvbuf", "-c", "-color"}
_NFT = {"add", "delete", "flush", "insert", "replace", "create", "destroy", "reset", "-f", "--file"}
_IPTABLES = {"-A", "-I", "-D", "-F", "-X", "-N", "-P", "-R", "-Z", "-E", "--append", "--insert", "--delete", "--flush",
             "--new-chain", "--policy", "--replace", "--zero", "--rename-chain", "--delete-chain"}
_ETHTOOL_SETS = {"-s", "-K", "-G", "-L", "-A", "-C", "-E", "-p", "-U", "-N", "--change", "--features", "--offload",
                 "--set-ring", "--set-channels", "--pause", "--coalesce", "--change-eeprom", "--config-nfc"}
#: tools that only change things (or load kernel code)
_ALWAYS = {"brctl", "tunctl", "vconfig", "modprobe", "rmmod", "insmod", "ifup", "ifdown", "dhclient", "udhcpc"}


def _strip_wrappers(words: list[str]) -> list[str]:
    """``env A=B``, ``sudo`` and ``ip netns exec NS`` in front of the real command."""
    while words:
        head = os.path.basename(words[0])
        if head == "env":
            words = words[1:]
            while words and ("=" in words[0] or words[0].startswith("-")):
                words = words[1:]
        elif head == "sudo":
            words = [w for w in words[1:]]
            while words and words[0].startswith("-"):
                words = words[1:]
        elif head == "ip" and words[1:3] == ["netns", "exec"] and len(words) > 4:
            words = words[4:]
        else:
            return words
    return words


def _object_and_verb(words: list[str]) -> tuple[str, str]:
    """The object and verb of an ``ip``/``bridge`` command line (``ip -n h1 link set …`` → link, set)."""
    rest, position = [], 1
    while position < len(words):
        word = words[position]
        if word.startswith("-"):
            position += 2 if word in _IP_VALUE_OPTIONS else 1
            continue
        rest.append(word)
        position += 1
    return (rest[0] if rest else "", rest[1] if len(rest) > 1 else "")


def changes_kernel(argv: list[str] | tuple[str, ...]) -> bool:
    """True when ``argv`` is known to change the lab's kernel state (so a checkpoint cannot replay it)."""
    words = _strip_wrappers([str(w) for w in argv])
    if not words:
        return False
    tool = os.path.basename(words[0])
    if tool in ("ip", "bridge"):
        obj, verb = _object_and_verb(words)
        if obj == "netns" and verb in ("add", "del", "delete", "set", "attach"):
            return True
        return verb in _VERBS or (obj == "tuntap" and verb in ("add", "del"))
    if tool == "sysctl":
        return "-w" in words or "--write" in words or any("=" in w and not w.startswith("-") for w in words[1:])
    if tool == "nft":
        return any(w in _NFT for w in words[1:])
    if tool in ("iptables", "ip6tables", "ebtables", "arptables"):
        return any(w in _IPTABLES for w in words[1:])
    if tool == "tc":
        return any(w in ("add", "del", "delete", "change", "replace") for w in words[1:])
    if tool == "ethtool":
        return any(w in _ETHTOOL_SETS for w in words[1:])
    if tool == "ifconfig":
        return len(words) > 2
    return tool in _ALWAYS


def step_for(argv: list[str] | tuple[str, ...]) -> str:
    """The hint of what to use instead of a command that changes the kernel."""
    words = _strip_wrappers([str(w) for w in argv])
    tool = os.path.basename(words[0]) if words else ""
    if tool in ("ip", "bridge"):
        obj, _verb = _object_and_verb(words)
        return {"link": "lab.up/down/mtu/mac/enslave/release/delete", "addr": "lab.addr/addr_del/move_ip",
                "address": "lab.addr/addr_del/move_ip", "route": "lab.route/route_del", "netns": "lab.netns",
                "tuntap": "lab.tuntap", "neigh": "lab.neigh_flush"}.get(obj, "a lab step")
    return {"sysctl": "lab.sysctl (or accept_local, rp_filter, ip_forward)", "nft": "lab.masquerade"}.get(tool, "a lab step")
