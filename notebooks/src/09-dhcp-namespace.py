# %% [markdown]
# # 09 · OpenStack-style DHCP: dnsmasq in a `qdhcp-…` namespace
#
# Seed 001 explains how an OpenStack network node (Linux bridge, no L3 agent) hands out addresses:
# every tenant network gets
#
# - a bridge `brq<network id>` that the VMs' tap devices are plugged into,
# - a namespace `qdhcp-<network id>` with its own `dnsmasq`, so that many networks (even with
#   overlapping subnets) never see each other's DHCP servers,
# - a veth pair joining the two: `tap…` on the bridge, `ns-…` inside the namespace.
#
# You will build that with the seed's own names, start dnsmasq **inside** the namespace (the host's
# namespace never sees it), boot a "VM" (a namespace on the bridge) that runs a DHCP client, and
# capture the four messages of a lease: **DISCOVER → OFFER → REQUEST → ACK**, plus a surprise in
# between.

# %%
try:
    lab.close()  # a previous run of this notebook: start again from nothing
except NameError:
    pass

import sys
import time

from IPython.display import display

from labkit import Lab

lab = Lab(uplink=False)        # main plays the network node; no LAN needed here
NET = "ba48a3fc-e9"            # the seed's network id, shortened to fit device names (15 characters)
BRIDGE = f"brq{NET}"           # brqba48a3fc-e9, as in the seed
QDHCP = "qdhcp-ba48a3fc-e9e8"  # OpenStack uses the whole network UUID; a lab label is at most 32 characters
NS_DEV = "ns-45400fa0-9c"      # the DHCP port inside the namespace, as in the seed
TAP_DEV = "tap45400fa0-9c"     # its peer on the bridge
lab.view(title="A fresh lab: main plays the network node")

# %% [markdown]
# ## Step 1: the network's bridge and its DHCP namespace
#
# The seed gives `ns-…` the address `10.0.0.2/32`. Here it is `10.0.0.2/24`: dnsmasq serves a
# `--dhcp-range` only on an interface whose subnet contains that range, so with `/32` it would
# answer every DISCOVER with "no address range available". (Neutron gives the port the subnet's prefix.)

# %%
lab.bridge(BRIDGE)
lab.netns(QDHCP)
lab.veth(TAP_DEV, NS_DEV, peer_ns=QDHCP)
lab.enslave(TAP_DEV, BRIDGE)
lab.up(BRIDGE, TAP_DEV)
lab.addr(NS_DEV, "10.0.0.2/24", ns=QDHCP)
lab.up(NS_DEV, ns=QDHCP)
lab.view(title="Step 1: brq bridge ⇄ veth ⇄ qdhcp namespace")

# %% [markdown]
# ## Step 2: dnsmasq, started inside the namespace
#
# The seed's command line, run with `ip netns exec qdhcp-…` (that is what `lab.spawn(..., ns=...)`
# does). `--interface` and `--bind-interfaces` keep it on `ns-…` only; the lease file and the pid
# file get lab-specific names so that nothing of the host's own dnsmasq is touched. `--no-daemon`
# keeps it in the foreground so the lab owns it, and `--log-dhcp` makes it explain every answer.

# %%
def start_dnsmasq(first, last):
    """dnsmasq serving first–last on the DHCP port, as Neutron's DHCP agent starts it."""
    return lab.spawn(
        "dnsmasq", "--no-daemon", "--log-dhcp", "--no-hosts", "--no-resolv",
        "--except-interface=lo", "--bind-interfaces", f"--interface={NS_DEV}",
        f"--dhcp-range={first},{last},255.255.255.0,12h",
        f"--dhcp-leasefile=/tmp/labkit-{lab.lab_id}-{NET}.leases",
        f"--pid-file=/tmp/labkit-{lab.lab_id}-{NET}.pid",
        ns=QDHCP)


dnsmasq = start_dnsmasq("10.0.0.10", "10.0.0.100")
time.sleep(0.5)      # give it time to open its sockets
print(dnsmasq.output)

# %% [markdown]
# Like the seed's `netstat -tnpl`, list the listening sockets, first inside the namespace, then in
# `main`. DNS (53) is bound to `10.0.0.2` only; DHCP (67) listens on `0.0.0.0` because a DISCOVER
# comes from a client that has no address yet. In `main` there is nothing: the server exists
# only in its own namespace.

# %%
print(f"[{QDHCP}]")
print(lab.run("ss", "-lntup", ns=QDHCP).stdout)
print("[main]")
print(lab.run("ss", "-lntup").stdout)

# %% [markdown]
# ## Step 3: a VM on the bridge
#
# A VM's NIC is a tap device on `brq…` (notebook 07 shows that with a real tap); here a namespace
# `vm1` with a veth plays the VM: `eth0` inside, `tap796091c0-07` (the seed's VM tap) on the bridge.
# It has no address yet.

# %%
def boot_vm(name, tap):
    """A 'VM': namespace name, its eth0 cabled to the network's bridge through tap."""
    lab.netns(name)
    lab.veth(tap, "eth0", peer_ns=name)
    lab.enslave(tap, BRIDGE)
    lab.up(tap)
    lab.up("eth0", ns=name)


boot_vm("vm1", "tap796091c0-07")
lab.view(title="Step 3: vm1 on the bridge, without an address")

# %% [markdown]
# ## Step 4: the VM asks for an address
#
# The client is pyroute2's DHCP client (it comes with labkit's dependencies, so it is on every
# target), run inside `vm1`. Like `dhclient -1`, it exits once it holds a lease, after adding
# the address and the default route it was given. Two captures run meanwhile: inside the VM
# and inside the DHCP namespace.

# %%
PYTHON = lab.python()  # python on the target, with labkit's pyroute2 importable (local sandbox or VM alike)


def dhcp_client(ns, dev="eth0", timeout=20):
    """Run a DHCP client in namespace ns until it has a lease (or timeout seconds pass)."""
    return lab.run(
        *PYTHON, "-c", "import sys; from pyroute2.dhcp.cli import run; sys.exit(run())",
        "--lease-type", "pyroute2.dhcp.leases.JSONStdoutLease",
        "--hook", "pyroute2.dhcp.hooks.configure_ip", "--hook", "pyroute2.dhcp.hooks.add_default_gw",
        "--no-release", "--exit-on-timeout", str(timeout), dev,
        ns=ns, timeout=timeout + 10)


with lab.capture("vm1/eth0", f"{QDHCP}/{NS_DEV}", filter="udp port 67 or udp port 68 or arp or icmp") as cap:
    client = dhcp_client("vm1")
for line in client.stderr.splitlines():
    if "Sending" in line or "Received" in line or "Got lease" in line:
        print(line.split("] ", 1)[-1])
lab.view(cap, title="Step 4: DISCOVER, OFFER, REQUEST, ACK")

# %% [markdown]
# Read the two panes from the top:
#
# 1. **DISCOVER** from `0.0.0.0` to `255.255.255.255`: the VM has no address, so it broadcasts;
#    the bridge floods it to every port, including `tap45400fa0-9c`, and so into the namespace.
# 2. Then, the surprise: dnsmasq itself asks **"who has 10.0.0.x?"** by ARP for the address it is
#    about to offer, and waits about 3 s. Before offering an address it makes sure nobody already
#    uses it (its *ping check*; the ping is never sent because nobody answers the ARP). That is
#    the pause between DISCOVER and OFFER.
# 3. **OFFER**, then the VM's **REQUEST** (still broadcast, so that every other server sees which
#    offer it took), and the **ACK** that makes the lease.
#
# The kernel's view of `vm1` now: the address and the default route came from the ACK.

# %%
lab.view(title="Step 4b: vm1/eth0 got its address from dnsmasq")

# %%
display(lab.check.address_in("vm1/eth0", "10.0.0.10", "10.0.0.100"))
display(lab.check.route("default", "eth0", ns="vm1", via="10.0.0.2"))
lab.check.reachable("vm1", "10.0.0.2")

# %% [markdown]
# The server's side: its log, and its lease file (expiry time, MAC, address, client name, client id).
# In OpenStack, dnsmasq does not choose addresses itself: Neutron allocates one per port and its
# DHCP agent writes a hosts file (`--dhcp-hostsfile`) that ties each port's MAC to that address.
# Here dnsmasq picks from its range.

# %%
for line in dnsmasq.output.splitlines():
    if any(word in line for word in ("DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK")):
        print(line)
print(lab.run("cat", f"/tmp/labkit-{lab.lab_id}-{NET}.leases", ns=QDHCP).stdout)

# %% [markdown]
# ## Exercise: a new range, and a second VM
#
# The network's administrator wants VMs to get addresses from `10.0.0.200` to `10.0.0.250`.
#
# 1. Stop the running server (`dnsmasq.stop()`) and start it again with the new range
#    (`start_dnsmasq(first, last)`).
# 2. Boot a second VM `vm2` on the bridge (`boot_vm("vm2", "tap5c1e8d2a-11")`) and run the DHCP
#    client in it.
#
# `vm1` keeps its old address: a client only talks to the server again when its lease is half
# over (after 6 of its 12 hours), and dnsmasq would then refuse the old address with a NAK.
#
# The cell below holds one solution. Try your own first, then run the check.

# %%
# Solution
dnsmasq.stop()
dnsmasq = start_dnsmasq("10.0.0.200", "10.0.0.250")
time.sleep(0.5)
boot_vm("vm2", "tap5c1e8d2a-11")
with lab.capture("vm2/eth0", filter="udp port 67 or udp port 68") as cap:
    dhcp_client("vm2")
lab.view(cap, title="Exercise: vm2 leases an address from the new range")

# %%
# The check: vm2's address as the kernel has it, and real pings.
display(lab.check.address_in("vm2/eth0", "10.0.0.200", "10.0.0.250",
                             hint="restart dnsmasq with the new range before vm2 asks, then run dhcp_client('vm2')"))
display(lab.check.reachable("vm2", "10.0.0.2"))
lab.check.reachable("vm2", "vm1", hint="both VMs are on the same bridge: is vm2's tap a port of it, and up?")

# %%
lab.close()   # stops dnsmasq, removes the namespaces and the bridge
