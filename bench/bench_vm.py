"""VM figures (prints numbers; not a timed test). Run as root: .venv/bin/python bench/bench_vm.py

In a fresh sandbox namespace (vm/sandbox.sh), with the box already built (vm/build-box.sh):
  - cold `vagrant up` to the first lab step,
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from labkit import Lab  # noqa: E402
from labkit.targets.vagrant import VagrantTarget  # noqa: E402

SANDBOX = REPO / "vm" / "sandbox.sh"


def main() -> None:
    box = subprocess.run([str(REPO / "vm" / "build-box.sh")], capture_output=True, text=True, check=True).stdout.split()[-1]
    netns = f"labkit-vmb{os.getpid()}"
    env = {**os.environ, "LABKIT_VM_NETNS": netns, "LABKIT_VM_STATE": f"/var/tmp/labkit-vm/{netns}", "LABKIT_BOX": box,
           "LABKIT_VM_MINIMAL": "1", "VAGRANT_CWD": str(REPO), "VAGRANT_NO_COLOR": "1", "LABKIT_VM_OWNER_PID": str(os.getpid())}
    subprocess.run([str(SANDBOX), "start"], env=env, check=True, timeout=180)
    try:
        t0 = time.perf_counter()
        target = VagrantTarget(REPO, prefix=[str(SANDBOX), "run"], env=env)
        with Lab(target, uplink=False) as lab:
            lab.veth("veth0", "veth1")
            first_step = time.perf_counter() - t0
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
                subprocess.run([str(SANDBOX), "run", "vagrant", "ssh", "-c", "true"], env=env, cwd=REPO, capture_output=True, check=True)
                ssh_c.append(time.perf_counter() - s)
        up = target.timings.get("up", 0.0)
        step, ping, cold = statistics.median(steps), statistics.median(pings), statistics.median(ssh_c)
        print(f"cold `vagrant up` (box present): {up:.0f} s; to the first step: {first_step:.0f} s "
              f"(agent start over ssh {target.timings.get('agent_start', 0):.1f} s)")
        print(f"a step (ip link set mtu) over the persistent connection: median {step * 1000:.1f} ms; "
              f"a bare round trip: {ping * 1000:.1f} ms")
        print(f"`vagrant ssh -c true`: median {cold:.2f} s  ->  ratio {cold / step:.0f}x per step, {cold / ping:.0f}x per round trip "
              "(goal >= 50x)")
        t0 = time.perf_counter()
        subprocess.run([str(SANDBOX), "run", "vagrant", "destroy", "-f"], env=env, cwd=REPO, capture_output=True, check=True)
        print(f"`vagrant destroy -f`: {time.perf_counter() - t0:.1f} s")
    finally:
        subprocess.run([str(SANDBOX), "stop"], env=env, check=False, timeout=180)


if __name__ == "__main__":
    main()
