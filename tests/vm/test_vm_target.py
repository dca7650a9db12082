"""The VM through the library: Lab on the Vagrant target, the full-kernel labs, the real eth0.

Uses the session VM of conftest.py (built box, sandbox namespace, vagrant up). The labkit agent
runs in the guest over ONE ssh connection opened by VagrantTarget from `vagrant ssh-config`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

from labkit import Lab
from labkit.errors import StepFailed
from labkit.targets.vagrant import VagrantTarget

REPO = Path(__file__).resolve().parents[2]
SANDBOX = REPO / "vm" / "sandbox.sh"
VM = Any  # the session VM of conftest.py: .env (sandbox variables), .ssh(command)

pytestmark = pytest.mark.vm
FULL_KERNEL_NOTEBOOKS = ("11-full-kernel", "12-vm-real-eth0")


def target_for(vm: VM) -> VagrantTarget:
    return VagrantTarget(REPO, prefix=[str(SANDBOX), "run"], env=vm.env)


@pytest.fixture
def vm_lab(vm: VM) -> Iterator[Lab]:
    with Lab(target_for(vm)) as lab:
        yield lab


def test_a_step_is_one_round_trip_on_the_persistent_connection(vm_lab: Lab) -> None:
    assert vm_lab.target.name == "vagrant"
    vm_lab.veth("veth0", "veth1")
    assert vm_lab.snapshot().interface("veth0").peer == "main/veth1"
    rounds = []
    for _ in range(10):
        start = time.perf_counter()
        vm_lab.target.request("ping")
        rounds.append(time.perf_counter() - start)
    print(f"\n[vm] agent round trip: median {sorted(rounds)[5] * 1000:.1f} ms")
    assert sorted(rounds)[5] < 1.0, "a request over the open connection takes far less than a new ssh"


def test_the_guest_kernel_makes_every_kind_the_seeds_teach(vm_lab: Lab) -> None:
    kinds = ("veth", "bridge", "macvlan", "vxlan", "vlan", "ipvlan", "geneve", "ipip", "gre", "sit")
    assert vm_lab.missing(*kinds) == []


def test_right_way_keeps_the_session_and_wrong_way_rolls_back_within_10_s(vm_lab: Lab) -> None:
    lab = vm_lab
    eth0 = lab.snapshot().interface("eth0", "host")
    assert eth0 is not None, "the agent names the guest's own namespace 'host'"
    address = next(a for a in eth0.addresses if ":" not in a)
    with lab.confirmed(timeout=5) as right:
        lab.bridge("br0", ns="host")
        lab.up("br0", ns="host")
        lab.enslave("eth0", "br0", ns="host")
        lab.move_ip("eth0", "br0", ns="host")
    assert right.kept
    assert address in lab.snapshot().interface("br0", "host").addresses
    lab.undo()
    assert address in lab.snapshot().interface("eth0", "host").addresses

    routes_before = _guest_routes(lab)
    started = time.monotonic()
    with pytest.raises(StepFailed, match="rolled it back"), lab.confirmed(timeout=5):
        lab.bridge("br1", ns="host")
        lab.up("br1", ns="host")
        lab.enslave("eth0", "br1", ns="host")      # the address stays on a port...
        lab.neigh_flush("eth0", ns="host")         # ...and once ARP must ask again, no reply reaches the stack
    back = time.monotonic() - started
    print(f"\n[vm] wrong way: session back after {back:.1f} s")
    assert back < 10 + 1, "the session came back within about 10 s"
    snap = lab.snapshot()
    assert snap.interface("eth0", "host").master is None and address in snap.interface("eth0", "host").addresses
    # The guest's DHCP routes (proto dhcp; in the sandbox only the host route to 192.168.121.1: its isolated
    # network's DHCP gives no router, so there is no default route to lose) are as before: labkit's undo keeps
    # eth0's own, and systemd-networkd configures eth0 again when it leaves the bridge (DHCPv4 within ~1 s).
    deadline = time.monotonic() + 20
    while _guest_routes(lab) != routes_before and time.monotonic() < deadline:
        time.sleep(1)
    assert _guest_routes(lab) == routes_before, f"before:\n{routes_before}\nafter:\n{_guest_routes(lab)}"


def _guest_routes(lab: Lab) -> str:
    """The guest's own IPv4 routes, without the lab's (sorted)."""
    lines = lab.run("ip", "-4", "route", "show", "table", "main", ns="host", check=True).stdout.splitlines()
    return "\n".join(sorted(line.strip() for line in lines if "br0" not in line and "br1" not in line))


def test_closing_a_lab_undoes_its_changes_to_the_guests_own_namespace(vm: VM) -> None:
    with Lab(target_for(vm)) as lab:
        lab.bridge("br7", ns="host")
        assert lab.snapshot().interface("br7", "host") is not None
    with Lab(target_for(vm)) as lab:
        assert lab.snapshot().interface("br7", "host") is None


@pytest.mark.parametrize("name", FULL_KERNEL_NOTEBOOKS)
def test_full_kernel_notebook_runs_on_the_vm(vm: VM, name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in vm.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LABKIT_TARGET", "vagrant")
    monkeypatch.setenv("LABKIT_VAGRANT_DIR", str(REPO))
    monkeypatch.setenv("LABKIT_VM_PREFIX", f"{SANDBOX} run")
    notebook = nbformat.read(REPO / "notebooks" / "solutions" / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    started = time.monotonic()
    client.execute()
    print(f"\n[vm] {name} ran on the VM in {time.monotonic() - started:.0f} s")
    text = "\n".join(str(out.get("text", "")) + str(out.get("data", {}).get("text/html", ""))
                     for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", []))
    assert "skipped:" not in text, "on the VM's full kernel no part of the lab may be skipped"
    assert not [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    out_dir = REPO / "artifacts" / "vm"
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out_dir / f"{name}.executed.ipynb")


#: the guest's labkit processes that are not a fork server (labkit/targets/agent_fork.py keeps one,
#: its pid in /run/labkit/agent-KEY.pid, and its forked agents show its command line), then the servers
LEFT = ("servers=\" $(sudo sh -c 'cat /run/labkit/agent-*.pid' 2>/dev/null | tr '\\n' ' ') \"; "
        "for p in $(pgrep -f 'labkit[.]targets[.]agent'); do case $servers in *\" $p \"*) ;; *) echo $p;; esac; done; "
        "echo servers: $(for p in $servers; do [ -d /proc/$p ] && echo $p; done)")


def test_no_agent_is_left_in_the_guest(vm: VM) -> None:
    with Lab(target_for(vm)):
        pass
    deadline = time.monotonic() + 10  # the forked agent's last steps after its bootstrap left
    while True:
        *left, servers = vm.ssh(LEFT, check=False).stdout.strip().splitlines()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    namespaces = vm.ssh("ip netns list", check=False).stdout.strip()
    assert not namespaces, f"namespaces left in the guest: {namespaces}"
    assert not left, f"agent processes left in the guest: {left}"
    assert len(servers.split()) == 2, f"one warm fork server in the guest, for the current bundle: {servers}"


def test_a_new_lab_reaches_the_running_vm_without_vagrant_and_gets_its_code_once(vm: VM,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11 item 8: after `vagrant up` the Vagrantfile's trigger has kept the ssh-config, so a lab
    starts with no `vagrant` command (each a Ruby start of seconds), and the guest keeps the agent's
    code by its hash, so only a new labkit is sent."""
    from labkit.targets.vagrant import machine_dir, remembered_ssh_config

    machine = machine_dir(REPO, vm.env)
    assert machine is not None and remembered_ssh_config(machine) is not None, "the trigger kept no ssh-config"
    ran: list[str] = []
    real = VagrantTarget.vagrant
    monkeypatch.setattr(VagrantTarget, "vagrant", lambda self, *a, **kw: ran.append(a[0]) or real(self, *a, **kw))
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        with Lab(target_for(vm)) as lab:
            lab.veth("veth0", "veth1")
            timings.append({"first step": time.perf_counter() - started, **lab.target.timings})  # type: ignore[attr-defined]
    print("\n[vm] first step after the VM is up: " + "; ".join(
        ", ".join(f"{k} {v:.2f}" for k, v in t.items() if k != "sent_bytes") + f", sent {t['sent_bytes']:.0f} B" for t in timings))
    assert ran == [], f"a lab on the running VM ran `vagrant {' / '.join(ran)}`"
    assert timings[1]["sent_bytes"] == 0, "the guest had this labkit already: nothing to send"
    assert timings[1]["answer"] > 0 and timings[1]["ssh_config"] < 0.5
