"""A disposable VM for a bench: a fresh vm/sandbox.sh namespace, `vagrant up` of the built box, and
everything removed afterwards (`vagrant destroy -f`, then `sandbox.sh stop`). Run as root.

    with sandboxed_vm() as vm:       # vm.env: the sandbox's variables; vm.prefix: `vm/sandbox.sh run`
        VagrantTarget(REPO, prefix=vm.prefix, env=vm.env)
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SANDBOX = REPO / "vm" / "sandbox.sh"


@dataclass
class SandboxedVM:
    env: dict[str, str]
    prefix: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    up_output: str = ""

    def run(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *argv], env=self.env, cwd=REPO, capture_output=True, text=True,
                              check=True, timeout=timeout)


@contextmanager
def sandboxed_vm(tag: str = "vmb", up: bool = True) -> Iterator[SandboxedVM]:
    """A sandbox named ``labkit-<tag><pid>``; with ``up``, the VM is booted (timed) before it is handed over."""
    box = subprocess.run([str(REPO / "vm" / "build-box.sh")], capture_output=True, text=True, check=True).stdout.split()[-1]
    netns = f"labkit-{tag}{os.getpid()}"
    state = f"/var/tmp/labkit-vm/{netns}"
    env = {**os.environ, "LABKIT_VM_NETNS": netns, "LABKIT_VM_STATE": state, "LABKIT_BOX": box,
           "LABKIT_VM_MINIMAL": "1", "VAGRANT_CWD": str(REPO), "VAGRANT_NO_COLOR": "1",
           "VAGRANT_DOTFILE_PATH": f"{state}/vagrant", "LABKIT_VM_OWNER_PID": str(os.getpid())}
    vm = SandboxedVM(env, [str(SANDBOX), "run"])
    subprocess.run([str(SANDBOX), "start"], env=env, check=True, timeout=180, capture_output=True)
    try:
        if up:
            t0 = time.perf_counter()
            vm.up_output = vm.run("vagrant", "up", "--provider=libvirt", "--no-tty", timeout=1500).stdout
            vm.timings["up"] = time.perf_counter() - t0
        yield vm
    finally:
        t0 = time.perf_counter()
        subprocess.run([*vm.prefix, "vagrant", "destroy", "-f"], env=env, cwd=REPO, capture_output=True, check=False,
                       timeout=300)
        vm.timings["destroy"] = time.perf_counter() - t0
        subprocess.run([str(SANDBOX), "stop"], env=env, check=False, timeout=180, capture_output=True)
