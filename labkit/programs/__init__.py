"""Small programs that run inside a lab's namespaces, in the background.

They stand in for the user-space end of the seeds' pictures: ``tap_guest`` is a
virtual machine's NIC (it holds a tap device's file descriptor and answers ARP and
ping through it, as QEMU's guest would), ``tunvpn`` is a tiny OpenVPN (it carries
the IP packets of a tun device over a UDP socket to its peer). Each is one
stdlib-only file, so any ``python3`` on the target can run it::

    vm1 = lab.spawn(*lab.program("tap_guest", "serve", "--dev", "tap0", "--ip", "192.168.3.102/24"))

``lab.program`` gives the command line on the lab's target (the local sandbox, or the VM,
where labkit travels as a zip), and ``lab.spawn`` runs it inside a lab namespace as root.
``argv`` below does the same for the local machine only.
"""

from __future__ import annotations

import os
import sys

from ..errors import InvalidInput
from ..i18n import tr

NAMES = ("tap_guest", "tunvpn")


def path(name: str) -> str:
    """The file of program ``name`` ('tap_guest' or 'tunvpn')."""
    if name not in NAMES:
        raise InvalidInput(tr("unknown program {name!r}", name=name), hint=tr("choose one of: {choices}", choices=", ".join(NAMES)))
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")


def python() -> str:
    """The interpreter to run the programs with: this one if it can be executed, else ``python3``."""
    return sys.executable if sys.executable and os.access(sys.executable, os.X_OK) else "python3"


def argv(name: str, *args: object) -> list[str]:
    """The command line that runs program ``name`` with ``args``, ready for ``lab.spawn``/``lab.run``."""
    return [python(), "-u", path(name), *(str(a) for a in args)]
