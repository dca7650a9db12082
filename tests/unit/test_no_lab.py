"""fresh_lab() where no network namespace can be made: the first cell says why, the lab stops its next use."""

from __future__ import annotations

from typing import Any

import pytest

from labkit import notebook
from labkit.errors import NoPrivileges, TargetError


def failing_factory(**_options: Any) -> Any:
    raise TargetError("the labkit agent is not running. unshare: unshare failed: Operation not permitted")


def test_no_namespaces_gives_a_banner_and_a_lab_that_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(notebook, "_display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setattr(notebook, "_no_namespaces_here", lambda: "a seccomp filter refuses the unshare system call")
    lab = notebook.fresh_lab(home=object(), factory=failing_factory)
    [banner] = shown
    assert banner[notebook.SKIP_MIME]["reason"] == "this server cannot make network namespaces: a seccomp filter refuses the unshare system call"
    with pytest.raises(NoPrivileges, match=r"lab\.veth: no lab runs on this server, since a seccomp filter"):
        lab.veth("veth0", "veth1")
    lab.close()  # the notebook's last cell: nothing to remove


def test_any_other_failure_is_raised_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook, "_no_namespaces_here", lambda: "")
    with pytest.raises(TargetError):
        notebook.fresh_lab(home=object(), factory=failing_factory)
