"""/dev/net/tun errors: a missing file and a forbidden one each say why, and the fix."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from labkit.errors import NoPrivileges, NotFound
from labkit.targets.tunfile import open_tun, tun_error, tun_problem


def test_a_missing_tun_file_says_the_module_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="is missing") as caught:
        open_tun(str(tmp_path / "tun"))
    assert "modprobe tun" in caught.value.hint and "VM target" in caught.value.hint
    problem = tun_problem(str(tmp_path / "tun"))
    assert isinstance(problem, NotFound)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM])
def test_a_forbidden_tun_file_says_who_and_how_to_open_it(code: int) -> None:
    error = tun_error(OSError(code, "Permission denied"), "/dev/net/tun")
    assert isinstance(error, NoPrivileges) and "cannot be opened by this user" in error.what
    assert "chmod 0666 /dev/net/tun" in error.hint and "--device /dev/net/tun" in error.hint and "uid" in error.where


def test_an_openable_file_is_no_problem(tmp_path: Path) -> None:
    usable = tmp_path / "tun"
    usable.write_bytes(b"")
    assert tun_problem(str(usable)) is None
