"""The Vagrant target: a disposable VM with a full Debian kernel, driven from Python.

``VagrantTarget(path)`` brings the VM up if needed (progress from Vagrant's
machine-readable output), reads ``vagrant ssh-config``, and opens ONE SSH
connection that runs the labkit agent in the guest (see :mod:`.bundle`), so a step
costs one round trip on that connection, not a ``vagrant ssh`` process (seconds).
In the guest the agent may also work in the guest's own namespace (label ``host``),
e.g. to bridge the real eth0 with a commit-confirmed change.

``LABKIT_VM_PREFIX`` (e.g. ``vm/sandbox.sh run``) prefixes every vagrant and ssh
command, so they run inside the namespace where the VM's network lives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from ..errors import MissingTool, TargetError
from ..names import check_lab_id
from ..progress import PHASES, Progress, default_progress, parse_machine_readable, phase_of
from ..settings import settings
from .base import AgentTarget
from .bundle import agent_zip, bootstrap_argv
from .client import AgentConnection
from .local import new_lab_id
from .ssh import SshConfig, parse_ssh_config


class VagrantTarget(AgentTarget):
    """A lab inside a Vagrant VM, through one persistent SSH connection."""

    name = "vagrant"

    def __init__(self, path: str | os.PathLike[str] = ".", lab_id: str | None = None, *, up: bool = True,
                 provider: str | None = None, prefix: list[str] | None = None, progress: Progress | None = None,
                 destroy_on_close: bool = False, env: dict[str, str] | None = None) -> None:
        self.path = Path(path).resolve()
        if not (self.path / "Vagrantfile").is_file():
            raise TargetError(f"no Vagrantfile in {self.path}", hint="pass the folder of labkit's Vagrantfile: Lab.vagrant('path/to/labkit')")
        if shutil.which("vagrant") is None:
            raise MissingTool("vagrant is not installed", hint="apt-get install vagrant vagrant-libvirt (or install VirtualBox + Vagrant)")
        self.lab_id = check_lab_id(lab_id or new_lab_id())
        config = settings()
        self.prefix = prefix if prefix is not None else list(config.vm_prefix)
        self.provider = provider or config.vm_provider
        self.destroy_on_close = destroy_on_close
        self.env = env
        self.timings: dict[str, float] = {}
        if up:
            self.up(progress)
        self.ssh = self.ssh_config()
        t0 = time.perf_counter()
        bundle = agent_zip()
        remote = ["sudo", "-n", *bootstrap_argv("python3", self.lab_id, "--allow-host")]
        self.connect(AgentConnection([*self.prefix, *self.ssh.argv(remote)], env=self.env, what="labkit agent in the VM",
                                     preamble=f"{len(bundle)}\n".encode() + bundle))
        self.timings["agent_start"] = time.perf_counter() - t0

    # -- vagrant --------------------------------------------------------------------
    def vagrant(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.prefix, "vagrant", *args], cwd=self.path, capture_output=True, text=True,
                              timeout=timeout, check=False, env=self.env)
        if check and done.returncode != 0:
            raise TargetError(f"`vagrant {' '.join(args)}` failed (exit {done.returncode})",
                              where=str(self.path), hint=(done.stderr or done.stdout).strip()[-600:])
        return done

    def state(self) -> str:
        """The machine's state as Vagrant says it ('running', 'not_created', 'shutoff', ...)."""
        for line in self.vagrant("status", "--machine-readable", timeout=120).stdout.splitlines():
            parsed = parse_machine_readable(line)
            if parsed and parsed[1] == "state" and parsed[2]:
                return parsed[2][0]
        return "unknown"

    def up(self, progress: Progress | None = None) -> None:
        """``vagrant up`` unless the VM already runs, reporting its phases."""
        if self.state() == "running":
            return
        report = progress or default_progress("vagrant up")
        argv = [*self.prefix, "vagrant", "up", "--machine-readable"] + ([f"--provider={self.provider}"] if self.provider else [])
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            parsed = parse_machine_readable(line)
            if not parsed or parsed[1] != "ui" or len(parsed[2]) < 2:
                continue
            message = parsed[2][1].strip()
            tail = [*tail, message][-15:]
            phase = phase_of(message)
            if phase is not None:
                report.update((phase + 1) / (len(PHASES) + 1), f"{PHASES[phase][1]} ({time.perf_counter() - t0:.0f} s)")
        if proc.wait() != 0:
            raise TargetError("`vagrant up` failed", where=str(self.path), hint="\n".join(tail[-8:]))
        self.timings["up"] = time.perf_counter() - t0
        report.done(f"VM up in {self.timings['up']:.0f} s")

    def ssh_config(self) -> SshConfig:
        return parse_ssh_config(self.vagrant("ssh-config", timeout=120).stdout)

    def destroy(self) -> None:
        """``vagrant destroy -f``: the VM and its disk are gone."""
        self.close()
        self.vagrant("destroy", "-f", timeout=300)

    def close(self) -> None:
        super().close()
        if self.destroy_on_close:
            self.destroy_on_close = False
            self.vagrant("destroy", "-f", timeout=300, check=False)
