"""Errors raised inside the agent reach the notebook in the learner's language.

The agent runs as root (sudo, a user namespace or the VM) and does not know the learner's
language: it sends English plus message ids and fields. The notebook's process, which
chose Chinese with ``labkit.i18n.use("zh")``, shows them in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from labkit import Lab, i18n
from labkit.errors import InvalidInput, LabkitError, NotFound, StepFailed
from labkit.ipython import render
from labkit.steps import Step, ops


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def zh_lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lab, list[dict[str, Any]]]]:
    """A lab whose agent starts without LABKIT_LANG (and in the C locale), with Chinese chosen in this
    process only; yields the lab and every error dict that came over the agent's pipe."""
    for name in ("LABKIT_LANG", "LANGUAGE", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("LANG", "C.UTF-8")
    wire: list[dict[str, Any]] = []
    received = LabkitError.from_dict

    def record(data: dict[str, Any]) -> LabkitError:
        wire.append(data)
        return received(data)

    monkeypatch.setattr(LabkitError, "from_dict", staticmethod(record))
    i18n.use("zh")
    try:
        with Lab(uplink=False) as lab:
            lab.veth("veth0", "veth1")
            yield lab, wire
    finally:
        i18n.use(None)


def test_a_bad_namespace_refused_inside_the_agent_reads_chinese(zh_lab) -> None:
    lab, wire = zh_lab
    with pytest.raises(NotFound) as err:
        lab.run("true", ns="nowhere")
    sent = wire[-1]
    assert sent["what"] == "namespace 'nowhere' does not exist", "the agent itself spoke English"
    assert sent["text"]["what"]["id"] == "namespace {ns!r} does not exist"
    shown = str(err.value)
    assert shown.startswith("网络命名空间 'nowhere' 不存在") and "main" in shown and lab.lab_id in shown
    assert "does not exist" not in shown and "existing" not in shown
    box = render(err.value)
    assert "nowhere" in box and chinese(box) and "does not exist" not in box


def test_a_step_the_kernel_refuses_reads_chinese_with_the_command_verbatim(zh_lab) -> None:
    lab, wire = zh_lab
    with pytest.raises(StepFailed) as err:
        lab.apply(Step("an MTU beyond what a veth takes", (ops.link_set("main", "veth0", mtu=70000),)))
    assert wire[-1]["what"].startswith("`ip link set dev veth0 mtu 70000` was refused by the kernel")
    shown = str(err.value)
    assert "`ip link set dev veth0 mtu 70000` 被内核拒绝" in shown and "Invalid argument" in shown
    assert "网络命名空间 main" in shown and "没有做任何改动" in shown
    assert "refused" not in shown and "nothing was changed" not in shown


def test_a_half_done_step_says_in_chinese_that_it_was_undone(zh_lab) -> None:
    """The hint built in the agent from nested sentences (the error's own hint, then the rollback's) is translated whole."""
    lab, wire = zh_lab
    half = Step("veth, then enslave into a missing bridge",
                (ops.link_add("main", "x0", "veth", peer="x1", peer_ns="main"), ops.link_set("main", "x0", master="nobridge")))
    with pytest.raises(NotFound) as err:
        lab.apply(half)
    assert wire[-1]["hint"].endswith("The step's earlier changes were undone")
    shown = str(err.value)
    assert "网络命名空间 'main' 中不存在网桥 'nobridge'" in shown and "该步骤先前的改动已被撤销" in shown
    assert "undone" not in shown and "bridge 'nobridge'" not in shown
    assert lab.snapshot().interface("x0") is None


def test_a_bridge_step_on_a_veth_reads_chinese(zh_lab) -> None:
    lab, _wire = zh_lab
    with pytest.raises(InvalidInput) as err:
        lab.apply(Step("enslave into a veth", (ops.link_set("main", "veth0", master="veth1"),)))
    assert str(err.value).startswith("'veth1' 是一个 veth 设备，不是网桥")
