"""Warm the VM's agent right after ``vagrant up``, so a learner's first lab starts at once.

The Vagrantfile's after-up trigger runs ``python -m labkit.targets.vmwarm MACHINE_DIR`` (the
machine's data folder, where the trigger has just written ``labkit-ssh-config``). It opens one
ssh session with the bootstrap in its ``--warm`` form: the guest stores this labkit's bundle (by
its content hash, :mod:`.bundle`) and starts the fork server that has imported the agent
(:mod:`.agent_fork`), then the session ends, leaving the machine's shared ssh connection open
(:func:`.vagrant.shared_socket`). Every later lab's agent is a fork of that server, over it.

Nothing depends on it having run: without it the first lab sends the bundle and imports the
agent itself (seconds slower) and starts the server for the next one. ``LABKIT_VM_WARM=0``
turns it off.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..errors import LabkitError, TargetError
from ..i18n import tr
from .agent_fork import WARM
from .bundle import AGENT_MODULE, BOOTSTRAP, GUEST_STORE, agent_bundle, offer
from .vagrant import AGENT_ANSWER, remembered_ssh_config, shared_socket

WARM_DONE = 180.0  # seconds for the server to import the agent under emulation, on a busy host


def warm_argv(python: str, key: str, store: str) -> list[str]:
    """The bootstrap's command line that only stores the bundle ``key`` and readies its fork server."""
    return [python, "-c", BOOTSTRAP, AGENT_MODULE, key, store, "fork", WARM]


def warm(machine: Path, prefix: list[str] | None = None) -> dict[str, float]:
    """Warm the guest of the machine whose data folder is ``machine``; the seconds each part took."""
    ssh = remembered_ssh_config(machine)
    if ssh is None:
        raise TargetError(tr("no labkit-ssh-config for this machine in {machine}", machine=str(machine)),
                          hint=tr("run `vagrant up` (its trigger writes it)"))
    bundle = agent_bundle()
    t0 = time.perf_counter()
    remote = ["sudo", "-n", *warm_argv("python3", bundle.key, GUEST_STORE)]
    argv = [*(prefix or []), *ssh.argv(remote, shared_socket(machine))]  # also opens the shared connection
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        offered = offer(proc, bundle, timeout=AGENT_ANSWER)
        _, err = proc.communicate(timeout=WARM_DONE)
    except (TargetError, subprocess.TimeoutExpired):
        proc.kill()
        _, err = proc.communicate()
        raise TargetError(tr("the VM's agent could not be warmed"), hint=err.decode(errors="replace")[-600:]) from None
    if proc.returncode != 0:
        raise TargetError(tr("warming the VM's agent failed (exit {code})", code=proc.returncode), hint=err.decode(errors="replace")[-600:])
    return {"answer": offered.answer, "send": offered.send, "sent_bytes": offered.size, "total": time.perf_counter() - t0}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m labkit.targets.vmwarm MACHINE_DATA_DIR", file=sys.stderr)
        return 2
    try:
        t = warm(Path(argv[0]))
    except LabkitError as exc:
        print(f"labkit: the agent was not warmed ({exc}); the first lab will take a few seconds more", file=sys.stderr)
        return 1
    print(f"labkit: agent warmed in {t['total']:.1f} s (bundle sent: {int(t['sent_bytes']) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
