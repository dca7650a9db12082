"""A class on one machine, and labkit next to Mininet (prints figures; not a timed test).

Run as root: .venv/bin/python bench/bench_learners.py [--n 10,30] [--search] [--hosts 100,500]

(a) N learners at once (bench/learners.py): each a user of its own, each running the bridge and STP
    labs on the rootless target, all checked and checked for leaks between them; wall time and peak
    memory for each N. ``--search`` then raises N until a run fails or takes over ``--limit`` s
    (2 minutes), and says where it stopped and why.
(b) labkit next to Mininet, building and tearing down the same single-bridge topology of 100 and
    500 hosts (Mininet: ``mn --topo single,H --switch lxbr --controller none --test none``, run only
    inside a network namespace this bench creates and deletes; never ``mn -c``, which kills by name).
    Mininet is Debian's package: ``apt-get install mininet bridge-utils``; without it, (b) says so.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from learners import ClassRun, mib, run_class, shared_python

from labkit import Lab


def class_row(run: ClassRun) -> str:
    status = "pass" if run.passed else f"FAIL ({len(run.failures)})"
    return (f"  {run.n:>4}  {status:<9} {run.wall_s:>7.1f} s {run.ready_s:>7.1f} s  {mib(run.peak_cgroup_bytes):>9}  "
            f"{mib(run.peak_pss_bytes):>9}  {mib(run.peak_rss_bytes):>9}  {run.peak_processes:>6}  "
            + ("n/a" if run.cpu_s is None else f"{run.cpu_s:>6.0f} s ({run.cpu_s / run.n:.1f} s each)"))


def bench_class(sizes: list[int], search: bool, limit: float) -> None:
    python = shared_python()
    print(f"(a) N learners at once, each its own user, bridge + STP labs on the rootless target ({os.cpu_count()} CPUs)")
    print(f"    python: {python[1]}")
    print("     N  result       wall   all ready   cgroup peak   Σ PSS peak  Σ RSS peak  procs  CPU time")
    runs: dict[int, ClassRun] = {}

    def one(n: int) -> ClassRun:
        run = run_class(n, timeout=limit + 60, python=python)
        runs[n] = run
        print(class_row(run), flush=True)
        for failure in run.failures[:5]:
            print(f"        {failure[:300]}")
        return run

    for n in sizes:
        one(n)
    if not search:
        return
    good = max((n for n, r in runs.items() if r.passed and r.wall_s <= limit), default=0)
    step = 5
    n = max(good, max(sizes)) + step
    why = ""
    while True:
        run = one(n)
        if not run.passed:
            why = f"N = {n} failed: {run.failures[0][:200]}"
            break
        if run.wall_s > limit:
            why = f"N = {n} passed but took {run.wall_s:.0f} s, over {limit:.0f} s"
            break
        good = n
        n += step
    print(f"    largest N that passed within {limit:.0f} s: {good}; stopped because {why}")


def mininet(hosts: int) -> float:
    """Build and tear down Mininet's single,H topology inside a namespace of our own; wall seconds."""
    ns = f"lkb-mn-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        t0 = time.perf_counter()
        out = subprocess.run(["ip", "netns", "exec", ns, "mn", "--topo", f"single,{hosts}", "--switch", "lxbr",
                              "--controller", "none", "--test", "none"], capture_output=True, text=True, timeout=600, check=False)
        wall = time.perf_counter() - t0
        added = re.search(r"\*\*\* Adding hosts:\n(.*)\n", out.stderr + out.stdout)
        if out.returncode != 0 or not added or len(added.group(1).split()) != hosts:
            raise RuntimeError(f"mn did not build {hosts} hosts (exit {out.returncode}): {(out.stderr or out.stdout)[-500:]}")
        return wall
    finally:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout.split()
        for pid in pids:  # whatever mn left in our namespace, by PID
            subprocess.run(["kill", pid], check=False)
        subprocess.run(["ip", "netns", "del", ns], check=False)


def labkit_single(hosts: int) -> float:
    """The same topology through labkit: a bridge s1, H hosts h<i> each with h<i>-eth0 on 10.0.0.i/8; built
    in one batch, read back (untimed) to be sure it is there, then torn down; wall seconds."""
    t0 = time.perf_counter()
    lab = Lab(uplink=False)
    with lab.batch():
        lab.bridge("s1")
        for i in range(1, hosts + 1):
            lab.netns(f"h{i}")
            lab.veth(f"s1-eth{i}", "eth0", peer_ns=f"h{i}")
            lab.enslave(f"s1-eth{i}", "s1")
            lab.addr("eth0", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/8", ns=f"h{i}")
            lab.up(f"s1-eth{i}")
            lab.up("eth0", ns=f"h{i}")
        lab.up("s1")
    built = time.perf_counter() - t0
    ports = [p for p in lab.snapshot().ports_of("s1", "main")]
    t1 = time.perf_counter()
    lab.close()
    closed = time.perf_counter() - t1
    if len(ports) != hosts:
        raise RuntimeError(f"labkit built {len(ports)} ports of s1, not {hosts}")
    return built + closed


def bench_peers(sizes: list[int]) -> None:
    print("(b) one bridge with H hosts, built and torn down (each a host namespace with a veth on the bridge)")
    missing = [tool for tool in ("mn", "brctl") if shutil.which(tool) is None]
    rows = []
    for hosts in sizes:
        ours = labkit_single(hosts)
        theirs = None if missing else mininet(hosts)
        rows.append((hosts, theirs, ours))
    print("      H   Mininet 2.3 (lxbr)   labkit    Mininet / labkit")
    for hosts, theirs, ours in rows:
        if theirs is None:
            print(f"  {hosts:>5}   {'skipped':>18}  {ours:>6.2f} s")
        else:
            print(f"  {hosts:>5}   {theirs:>16.2f} s  {ours:>6.2f} s    {theirs / ours:>5.1f}x")
    if missing:
        print(f"    Mininet skipped: {', '.join(missing)} not found; install with `apt-get install mininet bridge-utils`")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="10,30", help="class sizes to run (comma-separated)")
    parser.add_argument("--search", action="store_true", help="then raise N by 5 until a run fails or exceeds --limit")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds a class run may take (default 120)")
    parser.add_argument("--hosts", default="100,500", help="host counts for the Mininet comparison ('' to skip)")
    parser.add_argument("--no-class", action="store_true", help="only the Mininet comparison")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_learners.py runs as root: it makes the learners' users and runs Mininet", file=sys.stderr)
        return 2
    if not args.no_class:
        bench_class([int(n) for n in args.n.split(",") if n], args.search, args.limit)
    if args.hosts:
        bench_peers([int(h) for h in args.hosts.split(",") if h])
    return 0


if __name__ == "__main__":
    sys.exit(main())
