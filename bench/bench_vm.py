"""VM figures (prints numbers; not a timed test). Run as root: .venv/bin/python bench/bench_vm.py

In a fresh sandbox namespace (vm/sandbox.sh), with the box already built (vm/build-box.sh):
  - `vagrant up` (cold boot of the box),
  - the first step after it, as a learner's notebook does it (`Lab(VagrantTarget(...))`, which
    builds the lab's baseline, then `lab.veth(...)`), where the time goes, and whether a `vagrant`
    command ran: "after up" is the first lab after the boot (the Vagrantfile's trigger has warmed
    the agent: code stored, fork server started), "warm" the second one (goal, issue "Teaching a
    class" item 8: <= 5 s); then the same two with the guest's agent state removed first, which is
    how every first lab went before the warm-up (code sent, agent imported in the guest);
  - one step's round trip over labkit's persistent connection vs `vagrant ssh -c true`, in the
    same run (the ratio is the figure: the goal is >= 50x),
  - `vagrant destroy -f`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.vmsandbox import SandboxedVM, sandboxed_vm  # noqa: E402
from labkit import Lab  # noqa: E402
from labkit.targets.agent_fork import RUN_DIR  # noqa: E402
from labkit.targets.bundle import GUEST_STORE  # noqa: E402
from labkit.targets.vagrant import VagrantTarget, machine_dir, remembered_ssh_config, shared_socket  # noqa: E402

PARTS = (("ssh_config", "ssh-config (kept file)"), ("answer", "ssh + sudo + python3 until the bootstrap answers"),
         ("send", "build + send the agent's code"), ("hello", "agent (forked, or imported) to its hello"))


def first_step(vm: SandboxedVM) -> dict[str, Any]:
    """A new lab on the running VM, to its first step done; the parts and the vagrant commands run."""
    ran: list[str] = []
    real = VagrantTarget.vagrant

    def counted(self: VagrantTarget, *args: str, **kw: Any) -> Any:
        ran.append(args[0])
        return real(self, *args, **kw)

    VagrantTarget.vagrant = counted  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        target = VagrantTarget(REPO, prefix=vm.prefix, env=vm.env)
        t1 = time.perf_counter()
        with Lab(target) as lab:
            t2 = time.perf_counter()
            lab.veth("veth0", "veth1")
            t3 = time.perf_counter()
    finally:
        VagrantTarget.vagrant = real  # type: ignore[method-assign]
    return {"total": t3 - t0, "target": t1 - t0, "baseline": t2 - t1, "step": t3 - t2, "vagrant": ran,
            "sent": int(target.timings.get("sent_bytes", 0)), **target.timings}


def report(name: str, r: dict[str, Any]) -> None:
    parts = ", ".join(f"{label} {r.get(key, 0):.2f}" for key, label in PARTS)
    print(f"{name}: first step after `vagrant up` {r['total']:.1f} s (goal <= 5 s) = agent start {r['target']:.2f} s "
          f"[{parts}] + lab baseline {r['baseline']:.2f} s + the step {r['step']:.2f} s; "
          f"bundle sent: {r['sent'] // 1024} KiB; vagrant commands run: {r['vagrant'] or 'none'}")


def forget_agent(vm: SandboxedVM) -> None:
    """The guest as if nobody had warmed it: its fork servers stopped (by their pid files), its
    stored bundles removed, the shared ssh connection closed."""
    machine = machine_dir(REPO, vm.env)
    ssh = remembered_ssh_config(machine) if machine else None
    assert ssh is not None, "no kept ssh-config"
    script = (f"for f in {RUN_DIR}/*.pid; do [ -f \"$f\" ] && kill \"$(cat \"$f\")\"; done; "
              f"rm -rf {RUN_DIR} {GUEST_STORE}")
    vm.run(*ssh.argv(["sudo", "-n", "sh", "-c", script]))
    shared = shared_socket(machine)
    if shared:  # and no shared ssh connection: each lab logs in anew, as before
        subprocess.run([*vm.prefix, "ssh", "-o", f"ControlPath={shared}", "-O", "exit", "vm"], env=vm.env,
                       capture_output=True, check=False, timeout=30)


def round_trips(vm: SandboxedVM) -> None:
    with Lab(VagrantTarget(REPO, prefix=vm.prefix, env=vm.env), uplink=False) as lab:
        lab.veth("veth0", "veth1")
        steps, pings = [], []
        for i in range(20):
            s = time.perf_counter()
            lab.mtu("veth1", 1400 + (i % 2) * 100)
            steps.append(time.perf_counter() - s)
            s = time.perf_counter()
            lab.target.request("ping")
            pings.append(time.perf_counter() - s)
    ssh_c = []
    for _ in range(5):
        s = time.perf_counter()
        vm.run("vagrant", "ssh", "-c", "true")
        ssh_c.append(time.perf_counter() - s)
    step, ping, cold = statistics.median(steps), statistics.median(pings), statistics.median(ssh_c)
    print(f"a step (ip link set mtu) over the persistent connection: median {step * 1000:.1f} ms; "
          f"a bare round trip: {ping * 1000:.1f} ms")
    print(f"`vagrant ssh -c true`: median {cold:.2f} s  ->  ratio {cold / step:.0f}x per step, {cold / ping:.0f}x per round trip "
          "(goal >= 50x)")


#: the same first step with another labkit (``--before DIR``: e.g. `git worktree add DIR <commit>`), in a
#: process of its own whose labkit comes from DIR; it prints the seconds to the first step
BEFORE = """
import json, sys, time
from labkit import Lab
from labkit.targets.vagrant import VagrantTarget
t0 = time.perf_counter()
with Lab(VagrantTarget(sys.argv[1], prefix=json.loads(sys.argv[2]), env=json.loads(sys.argv[3]))) as lab:
    lab.veth("veth0", "veth1")
    print(json.dumps({"total": time.perf_counter() - t0, "agent_start": lab.target.timings.get("agent_start", 0)}))
"""


def before(vm: SandboxedVM, labkit_dir: str) -> None:
    import json

    for run in ("first", "second"):
        out = subprocess.run([sys.executable, "-c", BEFORE, str(REPO), json.dumps(vm.prefix), json.dumps(vm.env)],
                             cwd="/", env={**os.environ, "PYTHONPATH": labkit_dir}, capture_output=True, text=True,
                             check=True, timeout=900)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"before ({labkit_dir}), {run} lab: first step after `vagrant up` {r['total']:.1f} s "
              f"(its agent start {r['agent_start']:.1f} s)")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", metavar="DIR", help="also time the first step with the labkit in DIR, on the same VM")
    args = parser.parse_args()
    print(f"host load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    with sandboxed_vm() as vm:
        warmed = [line for line in vm.up_output.splitlines() if "labkit: agent warmed" in line]
        print(f"cold `vagrant up` (box present): {vm.timings['up']:.0f} s, of which the trigger's warm-up: "
              f"{warmed[0].split('labkit: ')[-1] if warmed else 'did not run'}")
        report("after: first lab after `vagrant up`", first_step(vm))
        report("after: warm (second lab)", first_step(vm))
        forget_agent(vm)
        report("before (no warm-up; the guest has no agent code): first lab", first_step(vm))
        report("before: second lab (the first one restarted the fork server and the shared ssh connection)", first_step(vm))
        if args.before:
            before(vm, args.before)
        round_trips(vm)
    print(f"`vagrant destroy -f`: {vm.timings['destroy']:.1f} s; host load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
