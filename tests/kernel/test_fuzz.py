"""Bad input, fuzzed: every public step of a Lab refuses it, says what to do, and changes nothing.

A seeded generator takes a valid call of each step method and spoils one or two of its
parameters with a value from a pool of bad ones (wrong types, names the kernel would cut
short or misread, bad CIDRs, timers out of range, namespaces that are malformed or absent,
devices in another namespace). Some calls run inside ``with lab.batch():`` after a valid
step, and some are multi-op steps (``up``/``down`` of several names) whose last name is the
bad one, so a half-applied step would show. Each call must raise a
:class:`~labkit.errors.LabkitError` with a hint, within a per-call bound, and afterwards the
lab's snapshot and ``ip -j link/addr/route`` of every lab namespace are what they were.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from labkit import Lab
from labkit.errors import InvalidInput, LabkitError

pytestmark = pytest.mark.kernel

SEED = 20261202
CASES = 1200
PER_CALL = 10.0  # seconds: a call that takes longer hangs
CHECK_EVERY = 150  # compare the kernel's state after this many calls (and at the end)

# -- pools of bad values --------------------------------------------------------------
NOT_TEXT: list[Any] = [None, 5, 5.5, True, [], {}, ("va",), b"va", {"name": "va"}, ["va"], object]
BAD_NAME: list[Any] = [
    *NOT_TEXT, "", "a" * 16, "ä" * 8, "é" * 15, "va\x00x", "va\x00", "va\n", "\nva", "va\r", "va\t", "a b", " va",
    "va ", "a/b", "a:b", ".", "..", "x\udc80", "\u200bva", "va\u00a0", "a\x7fb", "à", "va\u2028", "\x1b[31m",
]
SAFE_ONLY: list[Any] = ['x"}', "x;y", "x$y", "x`y`", "x'y", "brü0", "x{y}", "x\\y", "x#y", "x|y"]
BAD_NS: list[Any] = [
    *NOT_TEXT, "", "H1", "Main", "h1\n", "main\n", "main\x00", "main\x00x", "a/b", "x" * 40, "x\udc80", "-x", " main",
    "main ", "ma in", "mäin", "..", "main\t",
]
ABSENT_NS: list[Any] = ["nosuch", "h9", "upstream"]
BAD_CIDR: list[Any] = [
    *NOT_TEXT, "", "10.9.9.9", "10.9.9.300/24", "10.9.9.9/33", "10.9.9.9/24\n", "10.9.9.9/24\x00", "fe80::1%va/64",
    "x/y", " 10.9.9.9/24", "10.9.9.9/24 ", "10.9.9.9/-1", "10.9.9.9//24", "::g/64", "10.9.9.9/24/1", "10.9.9.9/2 4",
]
BAD_NET: list[Any] = [*BAD_CIDR, "10.9.9.9/24", "defaultx", "default\n", "Default", "10.0.0.0/8\n"]
BAD_IP: list[Any] = [
    5, 5.5, [], {}, b"10.0.0.1", "", "10.0.0.256", "fe80::1%va", "host", "10.0.0.1\n", "10.0.0.1/24", " 10.0.0.1",
    "10.0.0.1\x00", 10**10,
]
BAD_TIMER: list[Any] = [{}, [], "2", "15", -1, 0, 0.5, 41, 1e9, float("nan"), float("inf"), True, b"5", [15], {"s": 15}]
BAD_INT: list[Any] = [-1, 2**32, 2**64, "1500", 1.5, {}, [], True, b"1", float("nan"), "0x10", [1]]
BAD_BOOL: list[Any] = ["no", "off", "yes", 2, -1, {}, [], 0.5, b"1", "False"]
BAD_MODE: list[Any] = [*NOT_TEXT, "", "tapx", "TAP", "tap\n", "tun\x00", "bridge\n", "l9"]
BAD_USER: list[Any] = ["no-such-user", 5.5, {}, [], "root\n", "", "ro ot", "x\x00", -1]
BAD_MAC: list[Any] = [*NOT_TEXT, "", "zz", "02:00:00:00:00", "02:00:00:00:00:01:02", "01:00:5e:00:00:01",
                      "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0g", "02:00:00:00:00:01\n0"]
BAD_KEY: list[Any] = [*NOT_TEXT, "", "kernel.panic", "net.ipv4.ip_forward\n", "net.ipv4/../../kernel/panic",
                      "net..ipv4", "net.ipv4.", "vm.swappiness", "net.ipv4.ip_forward\x00", "net.ipv4.conf.all.rp_filter;x",
                      "net.ipv4." + "x" * 300]
BAD_VALUE: list[Any] = [{}, [], None, "1\n2", "x" * 300, "1\x00", b"1", 1.5, "", "$(id)", ["1"]]
BAD_CIDRS: list[Any] = ["10.9.0.1/24", [], ["10.9.9.9"], [5], {}, ("x",), 5, ["10.9.0.1/24", None]]
BAD_SETTING: list[Any] = [{"colour": 1}, {"forward_delay": {}}, {"priority": -1}, {"ageing_time": {}},
                          {"hello_time": "2"}, {"stp": "off"}, {"max_age": []}, {"ageing_time": -5}]
BAD_FILTER: list[Any] = ["-w/tmp/labkit-fuzz.pcap", "-V/etc/passwd", " -w /tmp/x", 5, {}, "icmp\x00", "--", "-F/etc/shadow"]

POOLS: dict[str, list[Any]] = {
    "name": BAD_NAME, "optname": [v for v in BAD_NAME if v is not None], "safe": BAD_NAME + SAFE_ONLY,
    "label": BAD_NS, "ns": BAD_NS + ABSENT_NS, "cidr": BAD_CIDR, "net": BAD_NET,
    "ip": BAD_IP, "timer": BAD_TIMER, "int": BAD_INT, "bool": BAD_BOOL, "mode": BAD_MODE, "user": BAD_USER,
    "mac": BAD_MAC, "key": BAD_KEY, "value": BAD_VALUE, "cidrs": BAD_CIDRS, "filter": BAD_FILTER,
}

# -- the step methods, each parameter in the order of the method's signature: its valid value --
# -- (one that would change the lab, so an ignored bad value shows) and its pool (None: kept) ---
P = tuple[str, Any, "str | None"]
SPECS: dict[str, list[P]] = {
    "netns": [("name", "h5", "label")],
    "veth": [("name", "nv0", "name"), ("peer", "nv1", "name"), ("ns", "main", "ns"), ("peer_ns", "h1", "ns")],
    "tuntap": [("name", "tp0", "name"), ("mode", "tap", "mode"), ("ns", "main", "ns"), ("user", "root", "user")],
    "bridge": [("name", "br9", "name"), ("stp", True, "bool"), ("forward_delay", 4, "timer"), ("priority", 4096, "int"),
               ("ns", "main", "ns")],
    "stp": [("name", "br0", "name"), ("on", True, "bool"), ("forward_delay", 4, "timer"), ("priority", 4096, "int"),
            ("hello_time", 2, "timer"), ("max_age", 12, "timer"), ("ns", "main", "ns")],
    "enslave": [("dev", "vb", "name"), ("bridge", "br0", "name"), ("ns", "main", "ns")],
    "release": [("dev", "vc", "name"), ("ns", "main", "ns")],
    "port": [("dev", "vc", "name"), ("cost", 7, "int"), ("priority", 9, "int"), ("ns", "main", "ns")],
    "addr": [("dev", "va", "name"), ("cidr", "10.9.9.9/24", "cidr"), ("ns", "main", "ns")],
    "addr_del": [("dev", "va", "name"), ("cidr", "10.9.0.1/24", "cidr"), ("ns", "main", "ns")],
    "move_ip": [("src", "va", "name"), ("dst", "br0", "name"), ("ns", "main", "ns"), ("cidrs", None, "cidrs")],
    "delete": [("name", "vb", "name"), ("ns", "main", "ns")],
    "mtu": [("name", "va", "name"), ("value", 1400, "int"), ("ns", "main", "ns")],
    "mac": [("name", "va", "name"), ("value", "02:00:00:00:09:09", "mac"), ("ns", "main", "ns")],
    "move": [("name", "vb", "name"), ("to_ns", "h1", "ns"), ("ns", "main", "ns")],
    "route": [("dst", "10.77.0.0/16", "net"), ("via", "10.9.0.2", "ip"), ("dev", "va", "optname"), ("ns", "main", "ns")],
    "route_del": [("dst", "10.8.0.0/16", "net"), ("via", "10.9.0.2", "ip"), ("dev", "va", "optname"), ("ns", "main", "ns")],
    "neigh_flush": [("dev", "va", "optname"), ("ns", "main", "ns")],
    "sysctl": [("key", "net.ipv4.ip_forward", "key"), ("value", 1, "value"), ("ns", "main", "ns")],
    "rp_filter": [("dev", "va", "safe"), ("value", 2, "int"), ("ns", "main", "ns")],
    "accept_local": [("dev", "va", "safe"), ("value", 1, "bool"), ("ns", "main", "ns")],
    "ip_forward": [("on", True, "bool"), ("ns", "main", "ns")],
    "macvlan": [("name", "mv0", "name"), ("parent", "va", "name"), ("mode", "bridge", "mode"), ("ns", "main", "ns")],
    "vxlan": [("name", "vx0", "name"), ("vni", 42, "int"), ("remote", "10.9.0.2", "ip"), ("local", "10.9.0.1", "ip"),
              ("dev", "va", "optname"), ("port", 4789, "int"), ("ns", "main", "ns")],
    "vxlan_group": [("name", "vx1", "name"), ("vni", 43, "int"), ("remote", None, None), ("local", None, None),
                    ("dev", "va", "optname"), ("port", 4789, "int"), ("group", "239.1.1.1", "ip"), ("ns", "main", "ns")],
    "masquerade": [("source", "10.9.0.0/24", "net"), ("out_dev", "va", "safe"), ("ns", "main", "ns")],
    "up": [("names", ("vc",), "name"), ("ns", "main", "ns")],
    "down": [("names", ("va", "vb"), "name"), ("ns", "main", "ns")],
}
#: devices that exist, but in namespace h1: a step on them in main must say WrongNamespace (or NotFound)
ELSEWHERE: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("delete", ("hb",), {}), ("up", ("hb",), {}), ("down", ("va", "hb"), {}), ("addr", ("hb", "10.9.8.1/24"), {}),
    ("enslave", ("hb", "br0"), {}), ("move_ip", ("hb", "va"), {}), ("mtu", ("hb", 1300), {}), ("move", ("hb", "h1"), {}),
    ("mac", ("hb", "02:00:00:00:08:08"), {}), ("delete", ("va",), {"ns": "h1"}), ("down", ("hb", "va"), {"ns": "h1"}),
    ("release", ("hb",), {}), ("rp_filter", ("hb", 2), {}), ("route", ("10.66.0.0/16",), {"dev": "hb"}),
]


@dataclasses.dataclass
class Case:
    """One call: ``lab.<method>(*args, **kwargs)``; ``names`` are the parameter names of ``args``, for reading."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    spoiled: tuple[str, ...]
    batch: bool = False
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        shown = [f"{n}={a!r}" if n else repr(a) for n, a in itertools.zip_longest(self.names, self.args, fillvalue="")]
        call = ", ".join([*shown, *(f"{k}={v!r}" for k, v in self.kwargs.items())])
        text = f"lab.{self.method.replace('vxlan_group', 'vxlan')}({call})"
        return f"with lab.batch(): lab.down('va'); {text}" if self.batch else text


def _call(method: str, values: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any], tuple[str, ...]]:
    """The parameters before ``ns`` by position (so a renamed one is no escape), ``ns`` and those after it by name."""
    if method in ("up", "down"):
        return tuple(values["names"]), {"ns": values["ns"]}, ()
    names = list(values)
    cut = names.index("ns") if "ns" in names else len(names)
    return tuple(values[n] for n in names[:cut]), {n: values[n] for n in names[cut:]}, tuple(names[:cut])


def generate(seed: int = SEED, count: int = CASES) -> list[Case]:
    """``count`` distinct bad calls, the same ones for the same seed."""
    rng = random.Random(seed)
    seen: set[str] = set()
    cases: list[Case] = []
    methods = sorted(SPECS)
    for method, args, kwargs in ELSEWHERE:
        cases.append(Case(method, args, kwargs, ("elsewhere",)))
    while len(cases) < count:
        method = rng.choice(methods)
        spec = [p for p in SPECS[method] if p[2] is not None]
        spoil = rng.sample(spec, 2 if len(spec) > 1 and rng.random() < 0.2 else 1)
        values = {name: valid for name, valid, _ in SPECS[method]}
        for name, _valid, pool in spoil:
            bad = rng.choice(POOLS[str(pool)])
            if name == "names":  # a multi-op step: the bad name comes after valid ones
                bad = (*values["names"], bad)
            values[name] = bad
        args, kwargs, names = _call(method, values)
        case = Case(method, args, kwargs, tuple(n for n, _, _ in spoil), batch=rng.random() < 0.15, names=names)
        key = str(case)
        if key not in seen:
            seen.add(key)
            cases.append(case)
    return cases


class Hung(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hung(f"no answer within {PER_CALL} s")


def run_case(lab: Lab, case: Case) -> BaseException | None:
    """Call the step (inside a batch after a valid step when asked); the exception it raised."""
    method = getattr(lab, "vxlan" if case.method == "vxlan_group" else case.method)
    kwargs = dict(case.kwargs)
    signal.setitimer(signal.ITIMER_REAL, PER_CALL)
    try:
        if case.batch:
            with lab.batch():
                lab.down("va")
                method(*case.args, **kwargs)
        else:
            method(*case.args, **kwargs)
    except BaseException as exc:  # every outcome is recorded and judged
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


# -- the state that must not change -------------------------------------------------------
def _kernel_state(lab: Lab) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for label in (ns.name for ns in lab.snapshot().namespaces):
        for what in ("link", "addr", "route"):
            if os.geteuid() == 0:
                out = subprocess.run(["ip", "-n", f"labkit-{lab.lab_id}-{label}", "-j", what], capture_output=True,
                                     text=True, check=True, timeout=10).stdout
            else:  # sudo or rootless: read it inside the lab, through the agent
                out = lab.run("ip", "-j", what, ns=label, check=True).stdout
            state[f"{label}/{what}"] = json.loads(out)
    state["nft"] = lab.run("nft", "list", "ruleset").stdout if _has("nft") else ""
    return state


def _snapshot(lab: Lab) -> Any:
    snap = lab.snapshot()
    interfaces = tuple(dataclasses.replace(i, stats=(), info=tuple((k, v) for k, v in i.info if "timer" not in k))
                       for i in snap.interfaces)
    return dataclasses.replace(snap, taken_at=0.0, interfaces=interfaces, neighbours=())


def _has(binary: str) -> bool:
    import shutil

    return shutil.which(binary) is not None


def state(lab: Lab) -> tuple[Any, dict[str, Any]]:
    return _snapshot(lab), _kernel_state(lab)


def settled(lab: Lab, before: tuple[Any, dict[str, Any]], wait: float = 3.0) -> tuple[Any, dict[str, Any]]:
    """The state now, polled for up to ``wait`` s until it equals ``before`` (a rollback's up settles)."""
    deadline = time.monotonic() + wait
    while True:
        now = state(lab)
        if now == before or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def build(lab: Lab) -> None:
    """main: va/vb (va 10.9.0.1/24, up, a route via 10.9.0.2), vc/vd with vc a port of br0; ha in main ↔ hb in h1."""
    lab.netns("h1")
    for ns in ("main", "h1"):  # no IPv6: no DAD or router solicitations changing the state under the test
        lab.sysctl("net.ipv6.conf.all.disable_ipv6", 1, ns=ns)
        lab.sysctl("net.ipv6.conf.default.disable_ipv6", 1, ns=ns)
    lab.veth("va", "vb")
    lab.veth("vc", "vd")
    lab.veth("ha", "hb", peer_ns="h1")
    lab.bridge("br0")
    lab.enslave("vc", "br0")
    lab.addr("va", "10.9.0.1/24")
    lab.up("va", "vb", "br0")
    lab.route("10.8.0.0/16", via="10.9.0.2")
    lab.up("hb", ns="h1")


@pytest.fixture(scope="module")
def fuzz_lab() -> Iterator[Lab]:
    with Lab(uplink=False) as lab:
        build(lab)
        yield lab


def test_generator_is_seeded_and_large() -> None:
    first, again = generate(), generate()
    assert [str(c) for c in first] == [str(c) for c in again]
    assert len({str(c) for c in first}) >= 1000
    assert {c.method for c in first} >= set(SPECS)


def _difference(now: tuple[Any, dict[str, Any]], before: tuple[Any, dict[str, Any]]) -> str:
    keys = [k for k in now[1] if now[1][k] != before[1].get(k)] + [k for k in before[1] if k not in now[1]]
    return ", ".join(keys) + (" and the snapshot" if now[0] != before[0] else "")


def test_every_bad_input_is_refused_with_a_hint_and_changes_nothing(fuzz_lab: Lab) -> None:
    lab = fuzz_lab
    cases = generate()
    previous = signal.signal(signal.SIGALRM, _alarm)
    kinds: collections.Counter[str] = collections.Counter()
    escapes: list[tuple[Case, str]] = []
    changed: list[str] = []
    reached = 0
    started = time.monotonic()
    history = len(lab.history)
    before = settled(lab, state(lab))
    try:
        for number, case in enumerate(cases, 1):
            exc = run_case(lab, case)
            if isinstance(exc, LabkitError) and exc.hint.strip():
                kinds[type(exc).__name__] += 1
            elif exc is None:
                escapes.append((case, "accepted"))
                while len(lab.history) > history:  # put back what the accepted call did, and only that
                    if lab.history[-1].did_change:
                        lab.undo()
                    else:
                        lab.history.pop()
            else:
                escapes.append((case, f"{type(exc).__name__}: {exc}"[:200] if not isinstance(exc, LabkitError)
                                else f"{type(exc).__name__} without a hint: {exc}"))
            if getattr(lab, "_batch", None) is not None:
                escapes.append((case, "the batch was left open"))
                lab._batch = None
            if len(lab.history) != history:
                escapes.append((case, "recorded a step"))
                del lab.history[history:]
            # a call that got past the plan (the kernel saw it) is checked at once; the rest in windows
            past_plan = not isinstance(exc, InvalidInput)
            reached += past_plan
            if past_plan or number % CHECK_EVERY == 0 or number == len(cases):
                now = settled(lab, before)
                if now != before:
                    where = str(case) if past_plan else f"one of calls {number - CHECK_EVERY + 1}..{number}"
                    changed.append(f"{where} changed {_difference(now, before)}")
                    if past_plan:
                        escapes.append((case, f"half-built: changed {_difference(now, before)}"))
                    lab.reset()  # start again from the same lab
                    build(lab)
                    history = len(lab.history)
                    before = settled(lab, state(lab))
    finally:
        signal.signal(signal.SIGALRM, previous)
    seconds = time.monotonic() - started
    print(f"\n{len(cases)} bad inputs in {seconds:.1f} s ({reached} got past the plan); refused as "
          f"{dict(kinds.most_common())}; {len(escapes)} escaped")
    for case, how in escapes:
        print(f"  ESCAPE {case}  ->  {how}")
    assert not changed, changed
    assert not escapes, f"{len(escapes)} bad inputs escaped, e.g. " + "; ".join(f"{c} -> {h}" for c, h in escapes[:8])
    assert len(cases) >= 1000 and sum(kinds.values()) + len({id(c) for c, _ in escapes}) >= len(cases)
    assert seconds < 60, f"the fuzz took {seconds:.0f} s"


@pytest.mark.parametrize("bad", BAD_FILTER)
def test_a_capture_refuses_a_filter_that_is_an_option(fuzz_lab: Lab, bad: Any) -> None:
    """tcpdump gets the filter after ``--``; one that starts with '-' is refused before it starts."""
    with pytest.raises(LabkitError) as err, fuzz_lab.capture("va", filter=bad):
        pass
    assert err.value.hint
    assert not os.path.exists("/tmp/labkit-fuzz.pcap")
