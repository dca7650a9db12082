"""The steps, names, kinds, checkpoints and results speak the learner's language (issue 12, item 2).

Real bad input to real step functions gives an error box in Chinese under ``labkit.i18n.use("zh")``
and the very same English as before without it; step titles, results and change words follow too."""

from __future__ import annotations

import html
import re

import pytest

from labkit import i18n, steps
from labkit.checkpoints.form import Checkpoint
from labkit.errors import CheckpointError, InvalidInput
from labkit.ipython import render
from labkit.progress import PHASES, TerminalProgress
from labkit.results import Change, RunResult
from labkit.state.diff import describe

CJK = re.compile(r"[\u4e00-\u9fff]")



def _error(call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_too_long_veth_name_in_chinese(zh) -> None:
    error = _error(steps.veth, "a-very-long-veth-name", "veth1")
    box = html.unescape(render(error))
    assert "接口名称 'a-very-long-veth-name' 有 21 个字符；Linux 最多允许 15 个字节（IFNAMSIZ）" in box
    assert "请用更短的名称，例如 'a-very-long-vet'" in box
    assert "has 21 characters" not in box and "use a shorter name" not in box
    assert CJK.search(str(error))


def test_a_too_long_veth_name_in_english_is_unchanged() -> None:
    error = _error(steps.veth, "a-very-long-veth-name", "veth1")
    assert str(error) == ("interface name 'a-very-long-veth-name' has 21 characters; Linux allows at most 15 bytes "
                          "(IFNAMSIZ). use a shorter name such as 'a-very-long-vet'")
    assert not CJK.search(render(error))


def test_a_bad_cidr_in_chinese_and_in_english(zh) -> None:
    error = _error(steps.addr, "veth0", "20.1.0.10")
    assert "地址 '20.1.0.10' 缺少前缀长度" in render(error).replace("&#x27;", "'")
    i18n.use("en")
    assert str(error) == "address '20.1.0.10' has no prefix length. write it in CIDR form, e.g. '20.1.0.10/24'"
    i18n.use("zh")
    bad = _error(steps.addr, "veth0", "20.1.0.300/24")
    assert str(bad).startswith("地址 '20.1.0.300/24' 不是有效的 CIDR：")  # Python's own reason stays as it says it


def test_nested_words_are_translated_too(zh) -> None:
    """A field that is itself a tr() word (the kind of name, the list of choices) is Chinese as well."""
    assert str(_error(steps.tuntap, "tap0", mode="tep")) == "tuntap 模式 'tep' 未知。请使用 'tun' 或 'tap'"
    assert "网桥名称 'a/b'" in str(_error(steps.enslave, "veth0", "a/b"))
    assert str(_error(steps.macvlan, "mv0", "eth0", mode="nat")).endswith("请使用 'private' 或 'vepa' 或 'bridge' 或 "
                                                                          "'passthru' 或 'source'")


def test_step_titles_and_results_in_chinese(zh) -> None:
    step = steps.veth("veth0", "eth0", peer_ns="h1")
    change = Change(step, [False])
    shown = _pretty(change)
    assert shown.startswith("✔ 创建 veth 对 veth0 ↔ eth0（对端在 h1 中）（本来就是这样：没有任何改动）")
    assert "ip link add name veth0 type veth peer name eth0 netns h1" in shown  # the command stays as typed
    assert step.title == "Create veth pair veth0 ↔ eth0 (peer in h1)"  # the data keeps the English
    run = RunResult(["false"], "h1", 1, "", "")
    assert "退出码 1（失败）" in run._repr_html_()
    with pytest.raises(Exception, match="以退出码 1 结束"):
        run.check_returncode()


def test_what_changed_on_an_interface_in_chinese(zh) -> None:
    assert [i18n.localize(t) for t in describe("master", None, "br0")] == ["现在是 br0 的端口"]
    assert [i18n.localize(t) for t in describe("stp_state", "listening", "forwarding")] == ["STP forwarding"]
    i18n.use("en")
    assert [i18n.localize(t) for t in describe("master", None, "br0")] == ["now a port of br0"]


def test_a_damaged_checkpoint_in_chinese(zh) -> None:
    with pytest.raises(CheckpointError) as caught:
        Checkpoint.from_json("{not json")
    assert str(caught.value).startswith("检查点不是有效的 JSON：")


def test_the_vm_phases_in_chinese(zh, capsys) -> None:
    bar = TerminalProgress("vagrant up")
    bar.update(0.4, PHASES[3][1])
    assert "正在启动虚拟机" in capsys.readouterr().err


def _pretty(value: object) -> str:
    from IPython.lib.pretty import pretty

    return pretty(value)
