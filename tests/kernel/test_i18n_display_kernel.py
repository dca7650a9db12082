"""Real errors of the display side, from a real kernel, in the learner's language (``labkit.i18n.use("zh")``).

An STP wait that cannot settle in time says so in Chinese, with the bridge and the kernel's reason as
fields; a check's hint built from the snapshot (labkit.diagnose) names the learner's call verbatim."""

from __future__ import annotations

import pytest

from labkit import Lab, i18n
from labkit.diagnose import unreachable_causes
from labkit.errors import StepFailed

pytestmark = pytest.mark.kernel



def test_an_stp_wait_that_times_out_says_so_in_chinese(zh: None) -> None:
    with Lab(uplink=False) as lab:
        lab.bridge("br0", stp=True)
        lab.stp("br0", on=True, forward_delay=4)
        lab.veth("p0", "p1")
        lab.enslave("p0", "br0")
        lab.up("br0", "p0", "p1")
        with pytest.raises(StepFailed) as failed:  # a port spends 2 × 4 s listening and learning: 1.5 s is too short
            lab.wait_stp("br0", timeout=1.5, show=False)
        message = str(failed.value)
        assert message.startswith("STP 在 1.5 秒内没有收敛："), message
        assert "br0" in message and "forward_delay" in message and "did not settle" not in message
        lab.bridge("br1", stp=True)  # no port at all: the agent's reason is a sentence, sent as ids, translated here
        with pytest.raises(StepFailed) as portless:
            lab.wait_stp("br1", timeout=0.5, show=False)
        assert "br1 没有任何端口" in str(portless.value) and "has no ports" not in str(portless.value), str(portless.value)


def test_a_hint_from_the_real_snapshot_is_chinese(zh: None) -> None:
    with Lab(uplink=False) as lab:
        lab.netns("h1")
        lab.veth("eth0", "eth0", ns="main", peer_ns="h1")
        lab.addr("eth0", "10.81.0.1/24", ns="main")
        causes = [i18n.localize(c) for c in unreachable_causes(lab.snapshot(), "main", "10.81.0.2")]
        assert "main/eth0 是通往 10.81.0.2 的必经设备，但它处于停用状态：lab.up('eth0', ns='main')" in causes
        assert "实验中没有任何设备拥有地址 10.81.0.2" in causes
