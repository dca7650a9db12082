"""The targets' messages (agent, client, kernel, tun/tap) in the learner's language.

Each test makes a real error the way a learner meets it, then reads it in Chinese: the
device names, paths and commands stay as the kernel prints them, the sentence is Chinese."""

from __future__ import annotations

import errno
import json

import pytest

from labkit import i18n
from labkit.errors import Interrupted, InvalidInput, LabkitError
from labkit.i18n import Text, joined, tr
from labkit.ipython import render
from labkit.settings import Settings
from labkit.targets.agent_api import Call, Cancelled
from labkit.targets.agent_stp import unsettled_reason
from labkit.targets.choose import target_from_settings
from labkit.targets.client import AgentConnection, _Pending
from labkit.targets.texts import api
from labkit.targets.tunfile import tun_error


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)



def test_an_unknown_target_is_refused_in_chinese(zh) -> None:
    with pytest.raises(InvalidInput) as err:
        target_from_settings(Settings(target="moon"), None, None)
    assert "'moon'" in str(err.value) and "LABKIT_TARGET" in str(err.value) and chinese(str(err.value))
    assert "is not a target" not in str(err.value) and "use 'local' or 'vagrant'" not in str(err.value)
    assert "'local'" in str(err.value) and "'vagrant'" in str(err.value)


def test_a_missing_dev_net_tun_explains_itself_in_chinese_with_the_commands_verbatim(zh) -> None:
    error = tun_error(OSError(errno.ENOENT, "No such file or directory"), "/dev/net/tun")
    box = render(error)
    for verbatim in ("/dev/net/tun", "`modprobe tun`", "Lab.vagrant()"):
        assert verbatim in str(error) and verbatim in box
    assert "虚拟机" in str(error), "the nested VM hint is translated too"
    assert "is missing" not in str(error) and "VM target" not in str(error)


def test_english_stays_the_default_and_byte_identical() -> None:
    error = tun_error(OSError(errno.EACCES, "Permission denied"), "/dev/net/tun")
    assert error.hint == ("`ls -l /dev/net/tun` should show crw-rw-rw-: as root, `chmod 0666 /dev/net/tun`; in a container, "
                          "start it with `--device /dev/net/tun`; or run the tun/tap labs on the VM target (Lab.vagrant())")
    assert joined([tr("unknown"), "x", tr("another device")]) == "unknown; x; another device"
    assert (api("lab.up", "veth0"), api("lab.up", "veth0", ns="h1")) == ("lab.up('veth0')", "lab.up('veth0', ns='h1')")


def test_a_joined_list_keeps_each_part_translatable(zh) -> None:
    parts = joined([tr("parent {link!r} (the device's parent is {have})", link="eth0", have=tr("another device")), "mtu 1400"])
    assert isinstance(parts, Text)
    shown = i18n.localize(parts)
    assert "父设备 'eth0'" in shown and "另一个设备" in shown and shown.endswith("；mtu 1400")
    assert joined([]) == "" and joined(["only"]) == "only"


def test_an_interrupt_relayed_by_the_client_names_the_request_in_the_learners_words(zh) -> None:
    """The agent cancels a request (Cancelled, raised inside it) and can name only its method; the client's
    Interrupted box names it as the notebook asked for it ("the wait for STP"), in the learner's language."""
    call = Call(7, "stp_wait")
    call.cancelled.set()
    with pytest.raises(Cancelled) as cancelled:
        call.check()
    wire = json.loads(json.dumps({"id": 7, "ok": False, "error": cancelled.value.to_dict()}))
    assert wire["error"]["what"] == "stp_wait was interrupted", "the agent speaks English on the wire"
    connection = AgentConnection.__new__(AgentConnection)
    connection.what = tr("labkit agent")
    pending = _Pending("stp_wait", reply=wire)
    error = connection._interrupted("stp_wait", tr("the wait for STP"), pending)
    assert type(error) is Interrupted
    assert str(error) == "等待生成树协议（STP）收敛已被停止。你的实验完好无损", "the learner's words for the request, not the agent's method name"
    late = connection._interrupted("apply", tr("the step"), _Pending("apply"))
    assert str(late).startswith("已请求停止：该步骤") and "labkit 代理程序" in str(late) and "5 秒" in str(late)


def test_why_stp_has_not_settled_is_a_sentence_that_crosses_the_pipe(zh) -> None:
    reason = unsettled_reason([["main", "br0"]], {"main/veth0": ("br0", "disabled")})
    assert str.__str__(reason) == "every port of br0 is disabled (are the links down?)"
    assert isinstance(reason, Text)
    arrived = Text.from_data(json.loads(json.dumps(reason.to_data())))
    assert arrived.localized() == "br0 的所有端口都是 disabled（禁用）状态（链路是否都已停用？）"


def test_every_error_here_says_the_same_in_both_directions_of_the_pipe() -> None:
    """An agent's error arrives with its type, English and ids intact (what the notebook shows in either language)."""
    sent = tun_error(OSError(errno.EPERM, "Operation not permitted"), "/dev/net/tun")
    arrived = LabkitError.from_dict(json.loads(json.dumps(sent.to_dict())))
    assert type(arrived) is type(sent) and str(arrived) == str(sent)
    i18n.use("zh")
    try:
        assert str(arrived) == str(sent) and chinese(str(arrived)) and "`chmod 0666 /dev/net/tun`" in str(arrived)
    finally:
        i18n.use(None)
