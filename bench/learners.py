"""A class on one machine: N learners at once, each a user of its own, each running the bridge
and STP labs (bench/learner_worker.py) on the rootless local target; then every learner's results
are checked, and checked against each other's for isolation.

Run as root (it makes the users): :func:`run_class` returns a :class:`ClassRun`; its ``failures``
list is empty when every learner passed and none saw another. Used by bench/bench_learners.py
(figures) and tests/kernel/test_learners.py (N = 3).

- Users: a pool ``lkl<NNN>`` made with ``useradd`` (no login shell, a home of mode 0700 under a
  temporary folder) and removed with ``userdel`` afterwards, by name.
- Python: an interpreter every user can run. /opt/labkit/venv (``scripts/install-system.sh``) when it
  is there and works for another user; otherwise a venv made from /usr/bin/python3 in a world-readable
  temporary folder (root's own .venv lives under the private /root and cannot be run by others).
  labkit itself is this checkout's, copied to a world-readable folder and put first on PYTHONPATH.
- Memory: every learner (and so its agents and their children) is put in a memory cgroup of its own
  class (cgroup v1 ``memory.max_usage_in_bytes``, or v2 ``memory.peak``); the sum of the processes'
  RSS and PSS is sampled too.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/opt/labkit/venv/bin/python")
RUNTIME_DEPS = ["pyroute2>=0.9", "scapy>=2.5", "graphviz>=0.20", "ipywidgets>=8", "anywidget>=0.9"]
POOL = "lkl"
EXPECTED_BRIDGE_COUNTS = {"main/veth1": 4, "h1/eth0": 4}


@dataclass
class ClassRun:
    n: int
    wall_s: float = 0.0
    ready_s: float = 0.0
    results: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    peak_cgroup_bytes: int | None = None
    peak_rss_bytes: int = 0
    peak_pss_bytes: int = 0
    peak_processes: int = 0
    cpu_s: float | None = None
    python: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures and len(self.results) == self.n


def as_user(name: str) -> tuple[int, int]:
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


@contextmanager
def learner_users(n: int, base: Path) -> Iterator[list[str]]:
    """N throwaway users lkl000.. with homes under ``base`` (mode 0700); removed afterwards, by name."""
    names = [f"{POOL}{i:03d}" for i in range(n)]
    made = []
    try:
        for name in names:
            home = base / name
            try:
                pwd.getpwnam(name)
            except KeyError:
                subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                                "--user-group", name], check=True, capture_output=True)
            made.append(name)
            home.mkdir(mode=0o700)
            uid, gid = as_user(name)
            os.chown(home, uid, gid)
        yield names
    finally:
        for name in made:
            subprocess.run(["userdel", name], check=False, capture_output=True)


def world_readable_labkit(base: Path) -> Path:
    """A copy of this checkout's labkit package that every user can read (the checkout may sit under /root)."""
    dest = base / "src"
    shutil.copytree(ROOT / "labkit", dest / "labkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(Path(__file__).with_name("learner_worker.py"), dest / "learner_worker.py")
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def _runs_for_others(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", str(python), "-c",
                            "import pyroute2, scapy, graphviz"], capture_output=True, check=False, cwd="/")
    return probe.returncode == 0


def shared_python(cache: Path = Path(tempfile.gettempdir()) / "labkit-learners-venv") -> tuple[Path, str]:
    """An interpreter with labkit's dependencies that every user can run, and where it came from."""
    if _runs_for_others(SYSTEM_PYTHON):
        return SYSTEM_PYTHON, "the system install /opt/labkit/venv (scripts/install-system.sh)"
    python = cache / "bin" / "python"
    if not _runs_for_others(python):
        shutil.rmtree(cache, ignore_errors=True)
        old = os.umask(0o022)
        try:
            subprocess.run(["/usr/bin/python3", "-m", "venv", str(cache)], check=True)
            subprocess.run([str(cache / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *RUNTIME_DEPS],
                           check=True, capture_output=True)
        finally:
            os.umask(old)
        for path in [cache, *cache.parents]:
            if path == Path("/"):
                break
            path.chmod(path.stat().st_mode | 0o055)
    return python, f"a temporary venv from /usr/bin/python3 in {cache} (no /opt/labkit/venv here)"


class MemoryGroup:
    """A memory cgroup for one class run: v1 (memory.max_usage_in_bytes) or v2 (memory.peak)."""

    def __init__(self, name: str) -> None:
        self.path: Path | None = None
        self.peak_file = ""
        for root, peak in ((Path("/sys/fs/cgroup/memory"), "memory.max_usage_in_bytes"), (Path("/sys/fs/cgroup"), "memory.peak")):
            try:
                (root / name).mkdir()
            except OSError:  # no such hierarchy here, or not ours to write
                continue
            if (root / name / peak).exists():
                self.path, self.peak_file = root / name, peak
                break
            (root / name).rmdir()

        self.cpu: Path | None = Path("/sys/fs/cgroup/cpuacct") / name  # v1: CPU time of the whole class
        try:
            self.cpu.mkdir()
        except OSError:
            self.cpu = None

    def cpu_seconds(self) -> float | None:
        if self.cpu is not None:
            return int((self.cpu / "cpuacct.usage").read_text()) / 1e9
        if self.path is not None and (self.path / "cpu.stat").exists():  # v2
            return int((self.path / "cpu.stat").read_text().split()[1]) / 1e6
        return None

    def enter_argv(self) -> list[str]:
        """A prefix that moves the command into the group before it runs."""
        if self.path is None:
            return []
        cpu = f" && echo $$ > {self.cpu}/cgroup.procs" if self.cpu is not None else ""
        return ["sh", "-c", f'echo $$ > {self.path}/cgroup.procs{cpu} && exec "$@"', "cgroup"]

    def pids(self) -> list[int]:
        if self.path is None:
            return []
        return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]

    def peak(self) -> int | None:
        return int((self.path / self.peak_file).read_text()) if self.path else None

    def remove(self) -> None:
        for path in (self.path, self.cpu):
            for _ in range(50 if path is not None else 0):
                try:
                    path.rmdir()  # type: ignore[union-attr]
                    break
                except OSError:
                    time.sleep(0.1)


def _rss_pss(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


def _sample(group: MemoryGroup, run: ClassRun, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        pids = group.pids()
        rss, pss = _rss_pss(pids)
        run.peak_rss_bytes = max(run.peak_rss_bytes, rss)
        run.peak_pss_bytes = max(run.peak_pss_bytes, pss)
        run.peak_processes = max(run.peak_processes, len(pids))


def run_class(n: int, timeout: float = 240.0, python: tuple[Path, str] | None = None) -> ClassRun:
    """N learners at once; every result checked, and every pair of learners checked for leaks."""
    run = ClassRun(n)
    exe, run.python = python or shared_python()
    with tempfile.TemporaryDirectory(prefix="labkit-class-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        src = world_readable_labkit(base)
        board = base / "board"  # where learners say they are ready; world-writable like /tmp, sticky
        board.mkdir(mode=0o1777)
        board.chmod(0o1777)
        group = MemoryGroup(f"labkit-class-{os.getpid()}")
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(group, run, stop), daemon=True)
        (base / "home").mkdir(mode=0o755)
        with learner_users(n, base / "home") as names:
            procs = []
            t0 = time.monotonic()
            sampler.start()
            for name in names:
                home = base / "home" / name
                uid, gid = as_user(name)
                env = {"HOME": str(home), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(src), "USER": name,
                       "LANG": "C.UTF-8"}
                argv = [*group.enter_argv(), "setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups",
                        str(exe), str(src / "learner_worker.py"), "--name", name, "--ready", str(board / f"{name}.ready"),
                        "--go", str(board / "go"), "--out", str(home / "result.json"), "--timeout", str(timeout)]
                procs.append(subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.DEVNULL,
                                              stderr=open(home / "stderr.txt", "wb")))  # noqa: SIM115
            deadline = t0 + timeout
            while time.monotonic() < deadline and any(p.poll() is None for p in procs):
                ready = list(board.glob("*.ready"))
                if len(ready) == n and not (board / "go").exists():
                    pids = [pid for path in ready for pid in json.loads(path.read_text())["pids"]]
                    run.ready_s = time.monotonic() - t0
                    (board / "go.tmp").write_text(json.dumps({"pids": pids}))
                    (board / "go.tmp").chmod(0o644)
                    (board / "go.tmp").rename(board / "go")
                time.sleep(0.1)
            for proc in procs:
                if proc.poll() is None:
                    run.failures.append(f"learner pid {proc.pid} still running after {timeout:.0f} s: stopped")
                    proc.kill()
                proc.wait()
            run.wall_s = time.monotonic() - t0
            stop.set()
            sampler.join()
            run.peak_cgroup_bytes = group.peak()
            run.cpu_s = group.cpu_seconds()
            for name in names:
                out = base / "home" / name / "result.json"
                if out.exists():
                    run.results.append(json.loads(out.read_text()))
                else:
                    err = (base / "home" / name / "stderr.txt").read_text(errors="replace")[-800:]
                    run.failures.append(f"{name}: wrote no result; stderr: {err}")
        group.remove()
    run.failures += verify(run.results)
    return run


def verify(results: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a class's results (pure): each learner's own checks, then isolation between them."""
    failures = []
    owned: dict[str, str] = {}
    class_ids = {lab["lab_id"]: r["name"] for r in results if r.get("ok") for lab in r["labs"].values()}
    for r in results:
        name = r["name"]
        if not r.get("ok"):
            failures.append(f"{name}: {r.get('error', 'failed')}")
            continue
        if r.get("uid", 0) == 0 or r.get("mode") != "rootless":
            failures.append(f"{name}: ran as uid {r.get('uid')} in mode {r.get('mode')}, not as a rootless learner")
        if not (r["ping_br0"] and r["ping_h1"]):
            failures.append(f"{name}: a ping failed (br0 → veth1 {r['ping_br0']}, h1 → br0 {r['ping_h1']})")
        # veth1: br0's 2 requests, and h1's 2 requests to br0 whose replies leave main by veth1 (its /24 route);
        # h1/eth0: its 2 requests and 2 replies. One frame more or less is a leak or a loss.
        if r["bridge_counts"] != EXPECTED_BRIDGE_COUNTS:
            failures.append(f"{name}: the bridge lab's capture counts {r['bridge_counts']}, not {EXPECTED_BRIDGE_COUNTS}")
        if not r["stp_converged"] or r["stp_root"] != "sw1/br0":
            failures.append(f"{name}: STP did not settle with sw1 the root")
        # h1's 3 requests cross veth1; the replies cross it too, or leave main by br0 (two routes to the same /24)
        if not r["together_ping"] or not 3 <= r["together_counts"].get("main/veth1", 0) <= 6 or r["together_counts"].get("sw3/to-sw2", 0) < 1:
            failures.append(f"{name}: the capture taken with the whole class running missed its own frames: {r['together_counts']}")
        mine = {mac for lab in r["labs"].values() for mac in lab["macs"]}
        strange = (set(r["bridge_capture_macs"]) | set(r["together_macs"])) - mine
        if strange:
            failures.append(f"{name}: its captures hold MACs that are not its own: {sorted(strange)}")
        opened = [pid for pid, what in r["others_netns"].items() if what == "opened"]
        if opened:
            failures.append(f"{name}: could open the network namespace of other learners' agents {opened}")
        ids = {lab["lab_id"] for lab in r["labs"].values()}
        for lab_name, lab in r["labs"].items():
            foreign = [ns for ns in lab["run_netns"] if not any(ns.startswith(f"labkit-{i}-") for i in ids)]
            if foreign:
                failures.append(f"{name}: its {lab_name} lab's /run/netns shows namespaces of other labs: {foreign}")
        seen = sorted({class_ids[i] for ns in r["ip_netns"] for i in class_ids if f"labkit-{i}-" in ns})
        if seen:
            failures.append(f"{name}: `ip netns` on the machine shows the namespaces of {seen}")
        for mac in mine:
            if mac in owned and owned[mac] != name:
                failures.append(f"{name} and {owned[mac]} both see an interface with MAC {mac}")
            owned[mac] = name
    ids = [lab["lab_id"] for r in results if r.get("ok") for lab in r["labs"].values()]
    if len(ids) != len(set(ids)):
        failures.append("two labs of the class got the same lab id")
    return failures


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.0f} MiB"


if __name__ == "__main__":
    result = run_class(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    print(json.dumps({"passed": result.passed, "wall_s": round(result.wall_s, 1), "failures": result.failures,
                      "peak_cgroup": mib(result.peak_cgroup_bytes), "peak_pss": mib(result.peak_pss_bytes)}, indent=1))
