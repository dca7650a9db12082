"""``/dev/net/tun``: the one door to tun and tap devices, and why it may be shut.

A program gets a tun or tap device by opening ``/dev/net/tun`` and asking for one
(``TUNSETIFF``); the kernel checks nothing more of a process that holds CAP_NET_ADMIN
in the device's namespace, which the rootless agent has in its own user namespace.
What can stop it is the file itself: missing when the kernel has no ``tun`` module,
or not openable when its mode (it should be ``crw-rw-rw-``) or a container's device
rules (Docker without ``--device /dev/net/tun``) forbid it. This module opens it and,
when that fails, says which of these it is and what to do.
"""

from __future__ import annotations

import errno
import os

from ..errors import LabkitError, NoPrivileges, NotFound
from ..i18n import tr

TUN = "/dev/net/tun"
VM_HINT = tr("or run the tun/tap labs on the VM target (Lab.vagrant())")


def tun_error(exc: OSError, path: str = TUN) -> LabkitError:
    """The labkit error for an ``OSError`` from opening ``path``: what failed, why, and the fix."""
    if exc.errno == errno.ENOENT:
        return NotFound(tr("{path} is missing, so no tun or tap device can be made here", path=path),
                        hint=tr("this kernel has no tun module loaded: as root, `modprobe tun`; {vm}", vm=VM_HINT))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return NoPrivileges(tr("{path} cannot be opened by this user ({reason}), so no tun or tap device can be made",
                               path=path, reason=exc.strerror),
                            where=f"uid {os.getuid()}",
                            hint=tr("`ls -l {path}` should show crw-rw-rw-: as root, `chmod 0666 {path}`; in a container, "
                                    "start it with `--device {path}`; {vm}", path=path, vm=VM_HINT))
    return NotFound(tr("{path} cannot be opened ({reason})", path=path, reason=exc.strerror), hint=VM_HINT)


def open_tun(path: str = TUN, flags: int = os.O_RDWR | os.O_CLOEXEC) -> int:
    """A file descriptor of ``path``, or the labkit error that says why there is none."""
    try:
        return os.open(path, flags)
    except OSError as exc:
        raise tun_error(exc, path) from None


def tun_problem(path: str = TUN) -> LabkitError | None:
    """None when ``path`` opens (opening it creates nothing), else the error that says why not and the fix."""
    try:
        os.close(open_tun(path))
    except LabkitError as exc:
        return exc
    return None
