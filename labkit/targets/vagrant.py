"""The Vagrant target: a disposable VM with a full Debian kernel, driven from Python.

``VagrantTarget(path)`` opens ONE SSH connection that runs the labkit agent in the guest
(see :mod:`.bundle`), so a step costs one round trip on that connection, not a ``vagrant
ssh`` process (seconds). In the guest the agent may also work in the guest's own namespace
(label ``host``), e.g. to bridge the real eth0 with a commit-confirmed change.

Starting is kept short, because every ``vagrant`` command is a Ruby start-up of seconds and
every byte the guest compiles is slow under emulation:

* the SSH settings come from ``labkit-ssh-config`` in the machine's data folder
  (``.vagrant/machines/<name>/<provider>/``), written by the Vagrantfile's trigger after
  ``vagrant up`` and by this target after a ``vagrant ssh-config``, and trusted only while the
  machine's ``id`` is the one it names. With it, a running VM is reached without any
  ``vagrant`` command; if that fails (the VM was halted, its address changed) the target falls
  back to ``vagrant status`` / ``vagrant up`` / ``vagrant ssh-config`` once;
* the agent's code is sent only when the guest does not already have it (:mod:`.bundle`), and
  the agent is forked from a server in the guest that has imported it once (:mod:`.agent_fork`;
  the Vagrantfile's trigger starts it after ``vagrant up``, :mod:`.vmwarm`);
* ssh runs over one shared connection per machine (``ControlMaster``, :func:`shared_socket`),
  which the trigger's warm-up opens and which stays 10 idle minutes, so a lab opens no new
  ssh login; the Vagrantfile closes it before ``vagrant halt`` / ``destroy``.

``LABKIT_VM_PREFIX`` (e.g. ``vm/sandbox.sh run``) prefixes every vagrant and ssh
command, so they run inside the namespace where the VM's network lives.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from ..errors import MissingTool, TargetError
from ..i18n import tr
from ..names import check_lab_id
from ..progress import PHASES, Progress, default_progress, parse_machine_readable, phase_of
from ..settings import settings
from .base import AgentTarget
from .bundle import GUEST_STORE, Bundle, Offered, agent_bundle, bootstrap_argv, offer
from .client import AgentConnection
from .local import new_lab_id
from .ssh import SshConfig, parse_ssh_config

SSH_CACHE = "labkit-ssh-config"  # in the machine's data folder: `vagrant ssh-config` after a first line CACHE_HEADER + id
CACHE_HEADER = "# labkit: machine "  # the Vagrantfile's trigger writes the same
AGENT_ANSWER = 120.0  # seconds for ssh + sudo + python3 to answer in the guest (slow under emulation, on a busy host)


class VagrantTarget(AgentTarget):
    """A lab inside a Vagrant VM, through one persistent SSH connection."""

    name = "vagrant"

    def __init__(self, path: str | os.PathLike[str] = ".", lab_id: str | None = None, *, up: bool = True,
                 provider: str | None = None, prefix: list[str] | None = None, progress: Progress | None = None,
                 destroy_on_close: bool = False, env: dict[str, str] | None = None) -> None:
        self.path = Path(path).resolve()
        if not (self.path / "Vagrantfile").is_file():
            raise TargetError(tr("no Vagrantfile in {path}", path=str(self.path)),
                              hint=tr("pass the folder of labkit's Vagrantfile: Lab.vagrant('path/to/labkit')"))
        if shutil.which("vagrant") is None:
            raise MissingTool(tr("vagrant is not installed"),
                              hint=tr("apt-get install vagrant vagrant-libvirt (or install VirtualBox + Vagrant)"))
        self.lab_id = check_lab_id(lab_id or new_lab_id())
        config = settings()
        self.prefix = prefix if prefix is not None else list(config.vm_prefix)
        self.provider = provider or config.vm_provider
        self.destroy_on_close = destroy_on_close
        self.env = env
        self.timings: dict[str, float] = {}
        bundle = agent_bundle()
        started = time.perf_counter()
        cached = self.cached_ssh_config()
        self.timings["ssh_config"] = time.perf_counter() - started
        if cached is not None:
            try:
                self._start_agent(cached, bundle)
                self.timings["agent_start"] = time.perf_counter() - started
                return
            except TargetError:
                self.forget_ssh_config()  # stale (halted VM, new address): ask vagrant, once
        if up:
            self.up(progress)
        t0 = time.perf_counter()
        self.ssh = self.cached_ssh_config() or self.ssh_config()
        self.timings["ssh_config"] = time.perf_counter() - t0
        self._start_agent(self.ssh, bundle)
        self.timings["agent_start"] = time.perf_counter() - started - self.timings.get("up", 0.0)

    def _start_agent(self, ssh: SshConfig, bundle: Bundle) -> None:
        """The agent over one ssh session, its code sent only if the guest lacks it."""
        self.ssh = ssh
        remote = ["sudo", "-n", *bootstrap_argv("python3", self.lab_id, "--allow-host", key=bundle.key, store=GUEST_STORE,
                                                target=self.name, fork_server=True)]
        t0 = time.perf_counter()
        connection = AgentConnection([*self.prefix, *ssh.argv(remote, shared_socket(self.machine_dir()))], env=self.env, what=tr("labkit agent in the VM"),
                                     handshake=lambda proc: offer(proc, bundle, timeout=AGENT_ANSWER))
        offered = connection.handshake_result
        assert isinstance(offered, Offered)
        self.timings.update(answer=offered.answer, send=offered.send, sent_bytes=offered.size)
        t1 = time.perf_counter()
        self.connect(connection)
        self.timings["hello"] = time.perf_counter() - t1
        self.timings["connect"] = time.perf_counter() - t0

    # -- vagrant --------------------------------------------------------------------
    def vagrant(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.prefix, "vagrant", *args], cwd=self.path, capture_output=True, text=True,
                              timeout=timeout, check=False, env=self.env)
        if check and done.returncode != 0:
            raise TargetError(tr("`{command}` failed (exit {code})", command=" ".join(["vagrant", *args]), code=done.returncode),
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
                report.update((phase + 1) / (len(PHASES) + 1),
                              tr("{phase} ({seconds:.0f} s)", phase=PHASES[phase][1], seconds=time.perf_counter() - t0))
        if proc.wait() != 0:
            raise TargetError(tr("`{command}` failed", command="vagrant up"), where=str(self.path), hint="\n".join(tail[-8:]))
        self.timings["up"] = time.perf_counter() - t0
        report.done(tr("VM up in {seconds:.0f} s", seconds=self.timings["up"]))

    def ssh_config(self) -> SshConfig:
        """``vagrant ssh-config``, remembered for this machine (see the module docstring)."""
        text = self.vagrant("ssh-config", timeout=120).stdout
        config = parse_ssh_config(text)
        machine = self.machine_dir()
        if machine is not None:
            remember_ssh_config(machine, text)
        return config

    def machine_dir(self) -> Path | None:
        return machine_dir(self.path, self.env if self.env is not None else os.environ)

    def cached_ssh_config(self) -> SshConfig | None:
        machine = self.machine_dir()
        return remembered_ssh_config(machine) if machine is not None else None

    def forget_ssh_config(self) -> None:
        machine = self.machine_dir()
        if machine is not None:
            (machine / SSH_CACHE).unlink(missing_ok=True)

    def destroy(self) -> None:
        """``vagrant destroy -f``: the VM and its disk are gone."""
        self.close()
        self.vagrant("destroy", "-f", timeout=300)

    def close(self) -> None:
        super().close()
        if self.destroy_on_close:
            self.destroy_on_close = False
            self.vagrant("destroy", "-f", timeout=300, check=False)


# -- the remembered ssh-config ---------------------------------------------------------
def machine_dir(project: Path, env: Mapping[str, str]) -> Path | None:
    """The created machine's data folder (``<dotfile>/machines/<name>/<provider>``, where Vagrant
    keeps its ``id``), if there is exactly one. ``VAGRANT_DOTFILE_PATH`` moves the dotfile folder."""
    dotfile = project / (env.get("VAGRANT_DOTFILE_PATH") or ".vagrant")
    found = [p.parent for p in dotfile.glob("machines/*/*/id") if p.read_text().strip()]
    return found[0] if len(found) == 1 else None


def shared_socket(machine: Path | None, tmp: str | None = None) -> str | None:
    """The socket of the machine's shared ssh connection: ``<tmp>/labkit-ssh-<uid>/<id>.sock``, in a
    folder only this user can use (a unix socket's path must stay short, so not the project's), or
    None when there is no machine or that folder is not ours alone."""
    try:
        machine_id = (machine / "id").read_text().strip() if machine is not None else ""
    except OSError:
        return None
    if not machine_id or not all(c.isalnum() or c == "-" for c in machine_id):
        return None
    folder = Path(tmp or tempfile.gettempdir()) / f"labkit-ssh-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return str(folder / f"{machine_id[:16]}.sock")


def remember_ssh_config(machine: Path, text: str) -> None:
    """Keep ``vagrant ssh-config``'s ``text`` for the machine whose data folder is ``machine``."""
    machine_id = (machine / "id").read_text().strip()
    (machine / SSH_CACHE).write_text(f"{CACHE_HEADER}{machine_id}\n{text}")


def remembered_ssh_config(machine: Path) -> SshConfig | None:
    """The kept ssh-config, if it was kept for the machine that exists now (same ``id``)."""
    try:
        first, _, text = (machine / SSH_CACHE).read_text().partition("\n")
        machine_id = (machine / "id").read_text().strip()
    except OSError:
        return None
    if first != CACHE_HEADER + machine_id:
        return None
    try:
        return parse_ssh_config(text)
    except ValueError:
        return None
