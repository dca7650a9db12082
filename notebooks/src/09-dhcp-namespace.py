# %% [markdown]
# # 09 · OpenStack-style DHCP: dnsmasq in a `qdhcp-…` namespace
#
# The article *虚拟网络设备(tun tap,veth)* ("virtual network devices: tun, tap, veth") explains
# how an OpenStack network node (Linux bridge, no L3 agent) hands out addresses:
# every tenant network gets
#
# - a bridge `brq<network id>` that the VMs' tap devices are plugged into,
# - a namespace `qdhcp-<network id>` with its own `dnsmasq`, so that many networks (even with
#   overlapping subnets) never see each other's DHCP servers,
# - a veth pair joining the two: `tap…` on the bridge, `ns-…` inside the namespace.
#
# You will build that with the article's own names, start dnsmasq **inside** the namespace (the host's
# namespace never sees it), boot a "VM" (a namespace on the bridge) that runs a DHCP client, and
# capture the four messages of a lease: **DISCOVER → OFFER → REQUEST → ACK**, plus a surprise in
# between.

# %%
import re
import time

from IPython.display import display
from scapy.layers.dhcp import DHCP
from scapy.layers.l2 import ARP

from labkit.notebook import checks, fact, fresh_lab

lab = fresh_lab(uplink=False)  # main plays the network node, no LAN needed here; closes a previous run's lab
NET = "ba48a3fc-e9"            # the article's network id, shortened to fit device names (15 characters)
BRIDGE = f"brq{NET}"           # brqba48a3fc-e9, as in the article
QDHCP = "qdhcp-ba48a3fc-e9e8"  # OpenStack uses the whole network UUID; a lab label is at most 32 characters
NS_DEV = "ns-45400fa0-9c"      # the DHCP port inside the namespace, as in the article
TAP_DEV = "tap45400fa0-9c"     # its peer on the bridge
lab.view(title="A fresh lab: main plays the network node")

# %% [markdown]
# ## Step 1: the network's bridge and its DHCP namespace
#
# The article gives `ns-…` the address `10.0.0.2/32`. Here it is `10.0.0.2/24`: dnsmasq serves a
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
# The article's command line, run with `ip netns exec qdhcp-…` (that is what `lab.spawn(..., ns=...)`
# does). `name="dnsmasq"` makes the cell safe to run again: starting a program under a name that
# is already running stops the old one first, so there is never a second server on the port. `--interface` and `--bind-interfaces` keep it on `ns-…` only; the lease file and the pid
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
        ns=QDHCP, name="dnsmasq")


dnsmasq = start_dnsmasq("10.0.0.10", "10.0.0.100")
time.sleep(0.5)      # give it time to open its sockets
print(dnsmasq.output)
# the dnsmasq processes whose network namespace is this one (pgrep alone would count the whole machine's)
servers = lab.run("sh", "-c", "pgrep -c -x dnsmasq --ns $$ --nslist net", ns=QDHCP)
fact(dnsmasq.running and servers.stdout.strip() == "1", "one dnsmasq runs in the namespace", saw=servers)

# %% [markdown]
# Like the article's `netstat -tnpl`, list the listening sockets, first inside the namespace, then in
# `main`. DNS (53) is bound to `10.0.0.2` only; DHCP (67) listens on `0.0.0.0` because a DISCOVER
# comes from a client that has no address yet, tied to the server's device (`ss` prints it as
# `0.0.0.0%ns-…:67`: dnsmasq binds that socket to the interface it serves). In `main` there is
# nothing: the server exists only in its own namespace.

# %%
inside, outside = lab.run("ss", "-lntup", ns=QDHCP), lab.run("ss", "-lntup")
display(inside, outside)
fact("10.0.0.2:53 " in inside.stdout and re.search(r" 0\.0\.0\.0(%\S+)?:67 ", inside.stdout) and "dnsmasq" not in outside.stdout,
     "DNS on 10.0.0.2:53 and DHCP on 0.0.0.0:67 inside the namespace; nothing of dnsmasq in main", saw=[inside, outside])

# %% [markdown]
# ## Step 3: a VM on the bridge
#
# A VM's NIC is a tap device on `brq…` (notebook 07 shows that with a real tap); here a namespace
# `vm1` with a veth plays the VM: `eth0` inside, `tap796091c0-07` (the article's VM tap) on the bridge.
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


def lease_story(frames):
    """(time, what) for the DHCP messages and the server's own ARP requests in a capture."""
    names = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 5: "ACK", 6: "NAK"}
    story = []
    for frame in frames:
        p = frame.packet
        if p.haslayer(DHCP):
            kind = dict(o for o in p[DHCP].options if isinstance(o, tuple) and len(o) == 2).get("message-type")
            story.append((frame.time, names.get(kind, f"DHCP {kind}")))
        elif p.haslayer(ARP) and p[ARP].op == 1 and p[ARP].psrc == "10.0.0.2":
            story.append((frame.time, f"ARP who-has {p[ARP].pdst}"))
    return story


story = lease_story(cap.frames(f"{QDHCP}/{NS_DEV}"))
for t, what in story:
    print(f"  +{t - story[0][0]:5.2f} s  {what}")
order = [what.split()[0] for _, what in story]
offered = next((t for t, what in story if what == "OFFER"), None)
fact(client.ok and order[:1] == ["DISCOVER"] and "ARP" in order and order.index("ARP") < order.index("OFFER")
     < order.index("REQUEST") < order.index("ACK") and offered - story[0][0] >= 2,
     "DISCOVER, the server's own ARP question and a pause of seconds, then OFFER, REQUEST, ACK", saw=story)
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
checks(lab.check.address_in("vm1/eth0", "10.0.0.10", "10.0.0.100"),
       lab.check.route("default", "eth0", ns="vm1", via="10.0.0.2"),
       lab.check.reachable("vm1", "10.0.0.2"))

# %% [markdown]
# The server's side: its log, and its lease file (expiry time, MAC, address, client name, client id).
# In OpenStack, dnsmasq does not choose addresses itself: Neutron allocates one per port and its
# DHCP agent writes a hosts file (`--dhcp-hostsfile`) that ties each port's MAC to that address.
# Here dnsmasq picks from its range.

# %%
for line in dnsmasq.output.splitlines():
    if any(word in line for word in ("DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK")):
        print(line)
leases = lab.run("cat", f"/tmp/labkit-{lab.lab_id}-{NET}.leases", ns=QDHCP)
display(leases)
vm1_address = lab.snapshot().interface("eth0", "vm1").addresses[0].split("/")[0]
fact(f" {vm1_address} " in leases.stdout, f"the lease file holds vm1's address {vm1_address}", saw=leases)

# %% [markdown]
# ## Exercise: a new range, and a second VM
#
# The network's administrator wants VMs to get addresses from `10.0.0.200` to `10.0.0.250`.
#
# 1. Start the server again with the new range (`start_dnsmasq(first, last)`: the running
#    one is stopped first, because it was started with `name="dnsmasq"`).
# 2. Boot a second VM `vm2` on the bridge (`boot_vm("vm2", "tap5c1e8d2a-11")`) and run the DHCP
#    client in it.
#
# `vm1` keeps its old address: a client only talks to the server again when its lease is half
# over (after 6 of its 12 hours), and dnsmasq would then refuse the old address with a NAK.
#
# The cell below holds one solution. Try your own first, then run the check.

# %% tags=["solution"]
# Solution
dnsmasq = start_dnsmasq("10.0.0.200", "10.0.0.250")
time.sleep(0.5)
boot_vm("vm2", "tap5c1e8d2a-11")
with lab.capture("vm2/eth0", filter="udp port 67 or udp port 68") as cap:
    display(dhcp_client("vm2"))
lab.view(cap, title="Exercise: vm2 leases an address from the new range")

# %% tags=["wrong"]
boot_vm("vm2", "tap5c1e8d2a-11")  # a wrong attempt: vm2 asks before the server has the new range
with lab.capture("vm2/eth0", filter="udp port 67 or udp port 68") as cap:
    display(dhcp_client("vm2"))
lab.view(cap, title="Exercise: vm2 leases an address")

# %% tags=["check"]
# The check: vm2's address as the kernel has it, and real pings.
checks(lab.check.address_in("vm2/eth0", "10.0.0.200", "10.0.0.250",
                            hint="restart dnsmasq with the new range before vm2 asks, then run dhcp_client('vm2')"),
       lab.check.reachable("vm2", "10.0.0.2"),
       lab.check.reachable("vm2", "vm1", hint="both VMs are on the same bridge: is vm2's tap a port of it, and up?"))

# %%
lab.close()   # stops dnsmasq, removes the namespaces and the bridge
