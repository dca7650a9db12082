"""The VM tier: one disposable Vagrant VM per test session, inside a sandbox namespace.

The VM boots the box that ``vm/build-box.sh`` makes from Debian packages, under libvirt whose
daemons, management bridge (192.168.121.0/24) and dnsmasq live only inside a network
namespace made by ``vm/sandbox.sh``; vagrant and every ssh to the guest run in there too.
Nothing reaches the guest from the host's own namespace.

When it runs:
  * ``LABKIT_VM_TESTS=1``: always (root needed); builds the box first if it is missing, and
    *fails* (never skips) when a tool or root is missing.
  * ``LABKIT_VM_TESTS=0``: never.
  * unset: only when the box for the current build script is already in the cache and the tools
    (vagrant + vagrant-libvirt, libvirtd, qemu) are installed.
Every skip prints its reason (``-ra``).

Knobs: LABKIT_VM_KEEP=1 leaves the VM and the sandbox up after the session (for debugging;
``vm/sandbox.sh stop`` with the printed LABKIT_VM_NETNS removes them).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from labkit.targets.procs import alive

REPO = Path(__file__).resolve().parents[2]
BUILD_BOX = REPO / "vm" / "build-box.sh"
SANDBOX = REPO / "vm" / "sandbox.sh"
STATE_ROOT = Path("/var/tmp/labkit-vm")
NETNS_PREFIX = "labkit-vmt"
TOOLS = ("vagrant", "libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "qemu-img", "nsenter", "ssh", "rsync")
VM_TIMEOUT = 1800  # seconds a vm test may take, set-up included (box build + cold boot under TCG)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if item.get_closest_marker("vm") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(VM_TIMEOUT))


def _missing_tools() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if "vagrant" not in missing and not any(Path("/usr/share/rubygems-integration/all/gems").glob("vagrant-libvirt-*")):
        plugins = subprocess.run(["vagrant", "plugin", "list"], capture_output=True, text=True, check=False).stdout
        if "vagrant-libvirt" not in plugins:
            missing.append("vagrant-libvirt")
    return missing


def _box_path() -> Path:
    out = subprocess.run([str(BUILD_BOX), "--path"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _why_not() -> str | None:
    """The reason the VM tests cannot run here, or None."""
    wanted = os.environ.get("LABKIT_VM_TESTS")
    if wanted == "0":
        return "LABKIT_VM_TESTS=0"
    if os.geteuid() != 0:
        return "the VM sandbox needs root (network namespace, libvirtd)"
    missing = _missing_tools()
    if missing:
        return (f"missing tools: {', '.join(missing)} "
                "(apt-get install vagrant vagrant-libvirt libvirt-daemon-system qemu-system-x86)")
    if wanted != "1":
        try:
            box = _box_path()
        except (OSError, subprocess.CalledProcessError) as e:
            return f"vm/build-box.sh --path failed: {e}"
        if not box.is_file():
            return f"no box at {box} (build it with vm/build-box.sh, or set LABKIT_VM_TESTS=1)"
    return None


def _stop_stale_sandboxes() -> None:
    """Remove test sandboxes whose pytest session died without tearing them down."""
    if not STATE_ROOT.is_dir():
        return
    for state in STATE_ROOT.glob(f"{NETNS_PREFIX}*"):
        try:
            owner = int((state / "owner").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if owner != os.getpid() and not alive(owner):
            env = {**os.environ, "LABKIT_VM_NETNS": state.name, "LABKIT_VM_STATE": str(state)}
            subprocess.run([str(SANDBOX), "stop"], env=env, check=False, timeout=120)


@dataclass
class VM:
    """A running guest, reached over one persistent ssh connection (ControlMaster) in the sandbox."""

    netns: str
    state: Path
    env: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ssh_config(self) -> Path:
        return self.state / "ssh_config"

    @property
    def control_path(self) -> Path:
        return self.state / "ssh-control.sock"

    def sandbox(self, *argv: str, timeout: float = 120, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:
        """Run argv inside the sandbox (network + mount namespace), from the repository."""
        return subprocess.run([str(SANDBOX), "run", *argv], cwd=REPO, env=self.env, text=True,
                              timeout=timeout, check=check, **kw)

    def logged(self, log: Path, *argv: str, timeout: float) -> int:
        """Run argv inside the sandbox, its output to ``log`` with elapsed seconds on each line."""
        t0 = time.monotonic()
        with log.open("w") as out, subprocess.Popen([str(SANDBOX), "run", *argv], cwd=REPO, env=self.env, text=True,
                                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
            assert proc.stdout
            watchdog = threading.Timer(timeout, proc.kill)  # a silent hang must end too
            watchdog.start()
            try:
                for line in proc.stdout:
                    if "Progress:" not in line:
                        out.write(f"{time.monotonic() - t0:7.1f} {line}")
                        out.flush()
                return proc.wait()
            finally:
                watchdog.cancel()

    def ssh_argv(self, command: str) -> list[str]:
        return [str(SANDBOX), "run", "ssh", "-F", str(self.ssh_config), "-o", f"ControlPath={self.control_path}",
                "-o", "ControlMaster=no", "default", "--", command]

    def ssh(self, command: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a shell command in the guest over the master connection (~0.15 s a call)."""
        return subprocess.run(self.ssh_argv(command), cwd=REPO, env=self.env, text=True, capture_output=True,
                              timeout=timeout, check=check)

    def push_source(self) -> None:
        """Copy labkit/ to /vagrant/labkit in the guest over the master connection (no synced folder in CI)."""
        ssh = f"ssh -F {shlex.quote(str(self.ssh_config))} -o ControlPath={shlex.quote(str(self.control_path))}"
        self.sandbox("rsync", "-a", "--delete", "--exclude", "__pycache__/", "-e", ssh,
                     f"{REPO / 'labkit'}/", "default:/vagrant/labkit/", capture_output=True, timeout=120)

    def popen(self, command: str, **kw) -> subprocess.Popen[str]:
        """A long-lived command in the guest (e.g. the agent speaking JSON lines on stdin/stdout)."""
        return subprocess.Popen(self.ssh_argv(command), cwd=REPO, env=self.env, text=True, **kw)


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _prune_old_boxes(box: Path) -> None:
    """Vagrant keeps every box it added; ours are named by content hash, so drop the stale ones."""
    boxes = Path(os.environ.get("VAGRANT_HOME", Path.home() / ".vagrant.d")) / "boxes"
    current = f"labkit-VAGRANTSLASH-{box.stem}"
    for old in boxes.glob("labkit-VAGRANTSLASH-labkit-bookworm-*"):
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def vm_box() -> Path:
    """The box file, built (or found in the cache) by vm/build-box.sh."""
    reason = _why_not()
    if reason and os.environ.get("LABKIT_VM_TESTS") == "1":
        pytest.fail(f"LABKIT_VM_TESTS=1 asks for the VM tier, but it cannot run: {reason}", pytrace=False)
    if reason:
        pytest.skip(f"VM tests skipped: {reason}")
    t0 = time.monotonic()
    out = subprocess.run([str(BUILD_BOX)], capture_output=True, text=True, timeout=1500)
    if out.returncode != 0:
        pytest.fail(f"vm/build-box.sh failed ({out.returncode}):\n{out.stderr[-4000:]}")
    box = Path(out.stdout.strip().splitlines()[-1])
    _prune_old_boxes(box)
    print(f"\n[vm] box {box} ready in {time.monotonic() - t0:.1f} s")
    return box


def _keep_logs(state: Path) -> None:
    """Copy the VM's logs to artifacts/vm/ before the sandbox (and its state directory) goes."""
    dest = REPO / "artifacts" / "vm"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("vagrant-up.log", "console.log", "log/libvirtd.log"):
        src = state / name
        if src.is_file():
            shutil.copyfile(src, dest / src.name)


@pytest.fixture(scope="session")
def vm(vm_box: Path) -> Iterator[VM]:
    """One VM for the whole session: sandbox start, vagrant up, ControlMaster; torn down after."""
    _stop_stale_sandboxes()
    netns = f"{NETNS_PREFIX}{os.getpid()}"
    state = STATE_ROOT / netns
    env = {**os.environ, "LABKIT_VM_NETNS": netns, "LABKIT_VM_STATE": str(state),
           "LABKIT_VM_OWNER_PID": str(os.getpid()), "LABKIT_BOX": str(vm_box), "LABKIT_VM_MINIMAL": "1",
           "VAGRANT_CWD": str(REPO), "VAGRANT_NO_COLOR": "1",
           "VAGRANT_DOTFILE_PATH": str(state / "vagrant")}  # sandbox.sh's default, said aloud: the target reads it too
    vm = VM(netns=netns, state=state, env=env)
    keep = os.environ.get("LABKIT_VM_KEEP") == "1"
    t0 = time.monotonic()
    subprocess.run([str(SANDBOX), "start"], env=env, check=True, timeout=180)
    vm.timings["sandbox_start"] = time.monotonic() - t0
    try:
        up_log = state / "vagrant-up.log"
        t0 = time.monotonic()
        returncode = vm.logged(up_log, "vagrant", "up", "--provider=libvirt", "--no-tty", timeout=1200)
        vm.timings["vagrant_up"] = time.monotonic() - t0
        if returncode != 0:
            pytest.fail(f"vagrant up failed ({returncode}); {up_log}:\n{_tail(up_log)}\n"
                        f"console {state / 'console.log'}:\n{_tail(state / 'console.log', 20)}")
        cfg = vm.sandbox("vagrant", "ssh-config", capture_output=True)
        vm.ssh_config.write_text(cfg.stdout)
        t0 = time.monotonic()
        vm.sandbox("ssh", "-F", str(vm.ssh_config), "-o", "ControlMaster=yes", "-o", f"ControlPath={vm.control_path}",
                   "-o", "ControlPersist=yes", "-o", "ServerAliveInterval=10", "-f", "-N", "default", timeout=60)
        vm.timings["ssh_master"] = time.monotonic() - t0
        t0 = time.monotonic()
        vm.push_source()
        vm.timings["push_source"] = time.monotonic() - t0
        print(f"\n[vm] up in sandbox {netns}: " + json.dumps({k: round(v, 1) for k, v in vm.timings.items()}))
        yield vm
    finally:
        if keep:
            print(f"\n[vm] LABKIT_VM_KEEP=1: left up; remove with LABKIT_VM_NETNS={netns} "
                  f"LABKIT_VM_STATE={state} {shlex.quote(str(SANDBOX))} stop")
        else:
            _keep_logs(state)
            if vm.control_path.exists():
                vm.sandbox("ssh", "-F", str(vm.ssh_config), "-o", f"ControlPath={vm.control_path}", "-O", "exit", "default",
                           check=False, capture_output=True, timeout=30)
            vm.sandbox("vagrant", "destroy", "-f", check=False, capture_output=True, timeout=300)
            subprocess.run([str(SANDBOX), "stop"], env=env, check=False, timeout=180)
