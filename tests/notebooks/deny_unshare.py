"""Run a command the way Docker's default seccomp profile (public Binder's) would: unshare refused.

    python deny_unshare.py COMMAND [ARGS...]

Installs a seccomp filter, then execs the command. Like Docker's default profile for a container
without CAP_SYS_ADMIN, the filter answers ``unshare`` and a ``clone`` that asks for a new user
namespace with EPERM, and ``clone3`` with ENOSYS (so the C library falls back to ``clone``, whose
flags a filter can read). Everything else is allowed. The filter is the kernel's, inherited by every
child and kept across exec, so the command meets a real refusal, not a switch in labkit; and nothing
of the host changes (a global ``sysctl user.max_user_namespaces=0`` would stop every other user).
x86-64 only: on another architecture the wrapper says so and exits 3.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
NR_CLONE, NR_UNSHARE, NR_CLONE3 = 56, 272, 435
CLONE_NEWUSER = 0x10000000
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
LD_W_ABS, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def program() -> list[tuple[int, int, int, int]]:
    """The filter, as (code, jump-if-true, jump-if-false, k) instructions over struct seccomp_data."""
    return [
        (LD_W_ABS, 0, 0, 4),                       # 0 A = arch
        (JEQ_K, 1, 0, AUDIT_ARCH_X86_64),          # 1 x86-64? go on at 3
        (RET_K, 0, 0, RET_ALLOW),                  # 2 another arch: leave it alone
        (LD_W_ABS, 0, 0, 0),                       # 3 A = syscall number
        (JEQ_K, 0, 1, NR_UNSHARE),                 # 4
        (RET_K, 0, 0, RET_ERRNO | errno.EPERM),    # 5 unshare: EPERM
        (JEQ_K, 0, 1, NR_CLONE3),                  # 6
        (RET_K, 0, 0, RET_ERRNO | errno.ENOSYS),   # 7 clone3: ENOSYS
        (JEQ_K, 0, 3, NR_CLONE),                   # 8 not clone: allow (at 12)
        (LD_W_ABS, 0, 0, 16),                      # 9 A = low half of clone's flags
        (JSET_K, 0, 1, CLONE_NEWUSER),             # 10
        (RET_K, 0, 0, RET_ERRNO | errno.EPERM),    # 11 clone(CLONE_NEWUSER): EPERM
        (RET_K, 0, 0, RET_ALLOW),                  # 12
    ]


def install() -> None:
    code = b"".join(struct.pack("HBBI", *insn) for insn in program())
    buffer = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(program()), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    fprog_buffer = ctypes.create_string_buffer(fprog)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog_buffer), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


if __name__ == "__main__":
    if platform.machine() != "x86_64":
        print(f"deny_unshare.py knows the system call numbers of x86-64 only, not {platform.machine()}", file=sys.stderr)
        sys.exit(3)
    install()
    os.execvp(sys.argv[1], sys.argv[1:])
