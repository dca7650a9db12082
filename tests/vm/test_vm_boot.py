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


def test_agent_speaks_json_lines_in_the_guest(vm) -> None:
    """`python3 -m labkit.targets.agent` from the synced source, with Debian's python3 + pyroute2."""
    proc = vm.popen("cd /vagrant && exec sudo python3 -m labkit.targets.agent --lab-id vmt1 --target vagrant",
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write(json.dumps({"id": 1, "method": "hello", "params": {}}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"the agent in the guest answered nothing; stderr:\n{err[-3000:]}")
        answer = json.loads(line)
        assert answer["id"] == 1 and answer["ok"], answer
        assert answer["result"]["uid"] == 0
        proc.stdin.write(json.dumps({"id": 2, "method": "destroy", "params": {}}) + "\n")
        proc.stdin.flush()
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
