"""A real lab speaks the learner's language: bad input to ``lab.veth`` / ``lab.addr`` gives a Chinese
error box under ``labkit.i18n.use("zh")`` (and the same English one as ever without), nothing changes on
the kernel, and a step that ran shows its title in Chinese with the commands exactly as the kernel ran them."""

from __future__ import annotations

import html
import re

import pytest
from IPython.lib.pretty import pretty

from labkit import Lab
from labkit.errors import InvalidInput
from labkit.ipython import render

CJK = re.compile(r"[\u4e00-\u9fff]")



def _box(call, *args, **kwargs) -> tuple[InvalidInput, str]:
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value, html.unescape(render(caught.value))


def test_bad_input_to_a_real_lab_in_chinese(lab: Lab, zh) -> None:
    before = lab.snapshot()
    _error, box = _box(lab.veth, "veth0", "veth/1")
    assert "接口名称 'veth/1' 含有 '/'、':' 或空白字符" in box and "只能使用字母、数字" in box
    _error, box = _box(lab.addr, "lo", "20.1.0.10/33")
    assert "地址 '20.1.0.10/33' 不是有效的 CIDR：" in box and "请写成 CIDR 形式" in box
    _error, box = _box(lab.veth, "veth0", "veth1", ns="H1")
    assert "ns='H1' 不是有效的命名空间名称" in box
    assert lab.history == [] and lab.snapshot().interfaces == before.interfaces  # refused before the kernel


def test_bad_input_to_a_real_lab_in_english_is_unchanged(lab: Lab) -> None:
    error, box = _box(lab.veth, "veth0", "veth/1")
    assert str(error) == ("interface name 'veth/1' contains '/', ':' or white space, or is '.'/'..'. "
                          "use letters, digits, '-', '_' or '.' only")
    assert not CJK.search(box)
    error, _ = _box(lab.addr, "lo", "20.1.0.10/33")
    assert str(error).startswith("address '20.1.0.10/33' is not a valid CIDR: ")


def test_a_step_that_ran_shows_in_chinese(lab: Lab, zh) -> None:
    change = lab.veth("veth0", "veth1")
    shown = pretty(change)
    assert shown.startswith("✔ 创建 veth 对 veth0 ↔ veth1")
    assert "$ ip link add name veth0 type veth peer name veth1" in shown
    again = pretty(lab.veth("veth0", "veth1"))
    assert "本来就是这样：没有任何改动" in again
    assert pretty(lab.undo()).startswith("✔ 撤销：创建 veth 对 veth0 ↔ veth1")
