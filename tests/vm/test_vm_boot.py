"""The disposable VM boots our box and its kernel has what the labs need that the host lacks."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

pytestmark = pytest.mark.vm

# the device families of the labs; the host kernel here lacks 8021q, ipvlan, geneve, ipip and gre
MODULES = ("8021q", "ipvlan", "geneve", "ipip", "ip_gre", "sit", "vxlan", "macvlan", "bridge", "tun")


def test_guest_kernel_loads_the_lab_modules(vm) -> None:
    out = vm.ssh(f"sudo modprobe -a {' '.join(MODULES)} && ls /sys/module && ip -V && uname -r").stdout
    loaded = set(out.split())
    assert not [m for m in MODULES if m not in loaded], out
    assert "iproute2" in out


def test_guest_has_the_agent_needs_without_network(vm) -> None:
    """CI's guest has no route out: python3, pyroute2, tcpdump and nft must come from the box."""
    out = vm.ssh("python3 -c 'import pyroute2, sys; print(sys.version_info[:2])'"
                 " && command -v tcpdump nft ip ethtool && ip route show default | wc -l").stdout.split()
    assert out[-1] == "0", "the guest should have no default route in the sandbox"
    assert any(p.endswith("/tcpdump") for p in out)


def test_ssh_master_is_fast(vm) -> None:
    """One persistent connection: a command costs a fraction of `vagrant ssh -c` (seconds)."""
    t0 = time.monotonic()
    for _ in range(5):
        vm.ssh("true")
    per_call = (time.monotonic() - t0) / 5
    print(f"\n[vm] command over the ControlMaster: {per_call:.3f} s")
    assert per_call < 2.0


class GuestAgent:
    """The labkit agent in the guest, over the ssh master connection: JSON lines on stdin/stdout."""

    def __init__(self, vm, lab_id: str) -> None:
        self.proc = vm.popen(f"cd /vagrant && exec sudo python3 -m labkit.targets.agent --lab-id {lab_id} --target vagrant",
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0

    def call(self, method: str, **params):
        assert self.proc.stdin and self.proc.stdout
        self.next_id += 1
        self.proc.stdin.write(json.dumps({"id": self.next_id, "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            _, err = self.proc.communicate(timeout=30)
            pytest.fail(f"the agent in the guest answered nothing to {method}; stderr:\n{err[-3000:]}")
        answer = json.loads(line)
        assert answer["id"] == self.next_id
        assert answer["ok"], f"{method}: {answer.get('error')}"
        return answer["result"]

    def close(self) -> int:
        try:
            if self.proc.poll() is None:
                self.call("destroy")
                assert self.proc.stdin
                self.proc.stdin.close()
            code = self.proc.wait(timeout=60)
            if code != 0 and self.proc.stderr:
                print(f"the guest agent exited with {code}; its stderr:\n{self.proc.stderr.read()[-3000:]}")
            return code
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def test_agent_speaks_json_lines_in_the_guest(vm) -> None:
    """`python3 -m labkit.targets.agent` from the pushed source, with Debian's python3 + pyroute2."""
    agent = GuestAgent(vm, "vmt1")
    try:
        hello = agent.call("hello")
        assert hello["uid"] == 0
        assert agent.call("ping") == "pong"
    finally:
        assert agent.close() == 0


def test_agent_builds_vlan_and_ipvlan_in_the_guest(vm) -> None:
    """The point of the VM: device kinds this host kernel lacks, built by the agent, read back."""
    from labkit import steps

    plan = [steps.netns("main"), steps.veth("v0", "v1"), steps.vlan("v0.10", "v0", 10), steps.ipvlan("ipv0", "v1")]
    agent = GuestAgent(vm, "vmt2")
    try:
        for step in plan:
            agent.call("apply", ops=[op.to_dict() for op in step.ops])
        snapshot = json.dumps(agent.call("snapshot"))
        for name in ("v0.10", "ipv0"):
            assert f'"{name}"' in snapshot, f"{name} missing from the snapshot"
    finally:
        assert agent.close() == 0
    assert "vmt2" not in vm.ssh("ip netns list").stdout, "the agent left its namespaces behind"
