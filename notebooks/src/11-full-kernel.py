# %% [markdown]
# # 11 · The devices that need a full kernel: ipvlan, 802.1Q VLANs, Geneve, ipip, gre, sit
#
# The article *Linux 中的虚拟网络接口* ("virtual network interfaces in Linux") lists more virtual
# devices than the earlier labs used. Each of them lives in its own kernel module (`ipvlan`, `8021q`,
# `geneve`, `ipip`, `ip_gre`, `sit`), and a trimmed kernel, like the one many CI machines and
# containers run, may not have them. This notebook therefore first **asks the kernel** which kinds
# it can really create (`lab.supports`, which tries each one in a scratch namespace), and runs each
# part only where it can:
#
# - **Part A · ipvlan**: like macvlan (lab 10), but every child shares the parent's MAC address;
# - **Part B · 802.1Q VLANs**: two hosts on one cable (a *trunk*) carrying two isolated
#   networks, told apart by the tag in each frame, seen with `tcpdump -e`;
# - **Part C · tunnels**: Geneve (Ethernet in UDP, like VXLAN), ipip (IPv4 in IPv4), gre, and sit
#   (IPv6 in IPv4), each with its overhead in bytes, and an exercise that routes a network through
#   a tunnel.
#
# Where a part cannot run, an orange box says so and its cells do nothing: run the notebook on
# the VM target (`LABKIT_TARGET=vagrant`), whose Debian kernel has every module.

# %%
from IPython.display import display
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Dot1Q

from labkit.notebook import checks, fact, fresh_lab, requires

lab = fresh_lab()  # main = the host, eth0 = 192.168.3.10 on a simulated LAN (upstream); closes a previous run's lab
kernel = lab.run("uname", "-r").stdout.strip()
print(f"kernel {kernel}:")
for kind, ok in lab.supports("ipvlan", "vlan", "geneve", "ipip", "gre", "sit").items():
    can = "✔ can be created" if ok else "✘ missing"
    print(f"  {kind:<7} {can}")
lab.view(title="The host (main) on its LAN (upstream)")

# %% [markdown]
# ## Part A · ipvlan: children that share their parent's MAC
#
# Two "containers" `i1` and `i2`, each with an ipvlan child of the host's `eth0` in **L2 mode**,
# on the LAN's own subnet. Compare the MACs in the picture: all three devices have the same one.
# The LAN's switch therefore learns a single MAC behind the host's port, which is the point of
# ipvlan where the number of MACs per port is limited (or on Wi-Fi, where an access point accepts
# only the MAC that associated, and macvlan fails). The article's warning follows from it: DHCP
# servers that tell clients apart by MAC would mix them up, so each needs its own client id.

# %%
ipvlan_ok = requires(lab, kinds=["ipvlan"], why="Part A, ipvlan")
if ipvlan_ok:
    for name, address in (("i1", "192.168.3.31/24"), ("i2", "192.168.3.32/24")):
        lab.netns(name)
        lab.ipvlan(f"ipvl-{name}", "eth0", mode="l2")
        lab.move(f"ipvl-{name}", name)
        lab.addr(f"ipvl-{name}", address, ns=name)
        lab.up(f"ipvl-{name}", ns=name)
    display(lab.view(title="Part A: ipvl-i1 and ipvl-i2 on main/eth0, one MAC for all"))

# %% [markdown]
# Ping the LAN gateway from both, capture on the LAN switch's port, and list what the switch
# learned behind that port.

# %%
if ipvlan_ok:
    with lab.capture("upstream/port-main", filter="icmp", duration=2) as cap:
        answers = {name: lab.ping("192.168.3.1", ns=name) for name in ("i1", "i2")}
    snap = lab.snapshot()
    macs = {snap.interface("eth0").mac, snap.interface("ipvl-i1", "i1").mac, snap.interface("ipvl-i2", "i2").mac}
    learned = {e.mac for e in snap.fdb if e.namespace == "upstream" and e.port == "port-main" and not e.permanent}
    print("i1 → gateway, i2 → gateway:", answers)
    print("MACs of eth0, ipvl-i1, ipvl-i2:", macs)
    print("MACs the LAN switch learned behind port-main:", learned)
    fact(all(answers.values()), "i1 and i2 both reach the LAN gateway", saw=answers)
    fact(len(macs) == 1 and learned == macs,
         "the parent and both ipvlan children share one MAC, the only one the switch learned behind port-main",
         saw={"macs": macs, "learned": learned})
    display(lab.view(cap, title="Part A: two containers, one MAC on the wire"))

# %% [markdown]
# ## Part B · 802.1Q VLANs: two networks on one cable
#
# A fresh lab. `h1` and `h2` are joined by one cable, `eth0 ⇄ eth0`: the *trunk*. On each host,
# `eth0.10` and `eth0.20` are VLAN devices on `eth0`: what `eth0.10` sends leaves `eth0` with an
# 802.1Q tag saying "VLAN 10" inserted after the MAC addresses, and `eth0.10` receives only frames
# tagged 10. VLAN 10 is `10.0.10.0/24`, VLAN 20 is `10.0.20.0/24`. IPv6 is off in both hosts so
# that the captures hold only what we send.

# %%
vlan_ok = requires(lab, kinds=["vlan"], why="Part B, 802.1Q VLANs")
if vlan_ok:
    lab.reset()
    for n in (1, 2):
        lab.netns(f"h{n}")
        lab.sysctl("net.ipv6.conf.all.disable_ipv6", 1, ns=f"h{n}")
        lab.sysctl("net.ipv6.conf.default.disable_ipv6", 1, ns=f"h{n}")
    lab.veth("eth0", "eth0", ns="h1", peer_ns="h2")   # the trunk
    for n in (1, 2):
        lab.up("eth0", ns=f"h{n}")
        for vid in (10, 20):
            lab.vlan(f"eth0.{vid}", "eth0", vid, ns=f"h{n}")
            lab.addr(f"eth0.{vid}", f"10.0.{vid}.{n}/24", ns=f"h{n}")
            lab.up(f"eth0.{vid}", ns=f"h{n}")
    display(lab.view(title="Part B: VLAN 10 and VLAN 20 over one trunk"))

# %% [markdown]
# Ping in VLAN 10 while capturing on `h2`'s trunk `eth0` and on both of its VLAN devices. The panes
# read like `tcpdump -e`: on `eth0` each frame shows `ethertype 802.1Q (0x8100)` and `vlan 10`;
# on `eth0.10` the same frames arrive with the tag already removed; `eth0.20` sees nothing, not
# even the ARP broadcast: the two VLANs are separate broadcast domains.

# %%
if vlan_ok:
    with lab.capture("h2/eth0", "h2/eth0.10", "h2/eth0.20", duration=2) as cap:
        result = lab.run("ping", "-c", "1", "10.0.10.2", ns="h1")
    display(result)
    print(cap.counts())
    tagged = [p[Dot1Q].vlan for p in cap.packets("h2/eth0") if p.haslayer(Dot1Q)]
    untagged = [p for p in cap.packets("h2/eth0.10") if p.haslayer(ARP) or p.haslayer(ICMP)]
    leaked = [p for p in cap.packets("h2/eth0.20") if p.haslayer(ARP) or p.haslayer(ICMP)]
    print("VLAN ids of the frames on the trunk:", sorted(set(tagged)))
    fact(result.ok and 10 in tagged and untagged and not any(p.haslayer(Dot1Q) for p in untagged) and not leaked,
         "the ping answers; the trunk carries VLAN 10 tags, eth0.10 gets the frames untagged, eth0.20 sees none of them",
         saw=cap.counts())
    display(lab.view(cap, title="Part B: tagged on the trunk, untagged on eth0.10, silent on eth0.20"))

# %% [markdown]
# ### Try it: a third VLAN
#
# Add VLAN **30** on both hosts (`eth0.30`, addresses `10.0.30.1/24` and `10.0.30.2/24`) and make
# `h1` reach `10.0.30.2`. The cell below holds one solution; the next one checks.

# %% tags=["solution"]
# Solution
if vlan_ok:
    for n in (1, 2):
        lab.vlan("eth0.30", "eth0", 30, ns=f"h{n}")
        lab.addr("eth0.30", f"10.0.30.{n}/24", ns=f"h{n}")
        lab.up("eth0.30", ns=f"h{n}")
    display(lab.view(title="Part B · Try it: VLAN 30"))

# %% tags=["wrong"]
if vlan_ok:  # a wrong attempt: VLAN 30 on h1 only, so nothing on the trunk's other end listens to tag 30
    lab.vlan("eth0.30", "eth0", 30, ns="h1")
    lab.addr("eth0.30", "10.0.30.1/24", ns="h1")
    lab.up("eth0.30", ns="h1")
    display(lab.view(title="Part B · Try it: VLAN 30"))

# %% tags=["check"]
if vlan_ok:
    vlan30 = lab.snapshot().interface("eth0.30", "h2")
    checks(lab.check.exists("h2/eth0.30", kind="vlan", hint="both ends of the trunk need a VLAN 30 device"),
           lab.check.that(vlan30 is not None and vlan30.detail("vlan_id") == 30, "h2/eth0.30 tags its frames with VLAN id 30",
                          hint="lab.vlan('eth0.30', 'eth0', 30, ns='h2')"),
           lab.check.reachable("h1", "10.0.30.2", hint="both ends need VLAN 30 on the trunk, an address and 'up'"))

# %% [markdown]
# ## Part C · Tunnels: Geneve, ipip, gre, sit
#
# A fresh lab: `host1` and `host2` on an underlay cable, `172.16.0.1` and `172.16.0.2`, as in lab 10.
# Each tunnel below joins the two hosts with its own overlay addresses. Watch the picture after the
# first ipip, gre or sit device: the kernel also creates `tunl0`, `gre0`, `gretap0`, `erspan0`,
# `sit0`… by itself, once per namespace. These *fallback* devices receive tunnel packets that
# match no configured tunnel; they stay down and can be ignored.

# %%
tunnels_ok = requires(lab, kinds=["geneve", "ipip", "gre", "sit"], why="Part C, the tunnels and the exercise")
if tunnels_ok:
    lab.reset()
    for n in (1, 2):
        lab.netns(f"host{n}")
    lab.veth("eth0", "eth0", ns="host1", peer_ns="host2")
    for n in (1, 2):
        lab.addr("eth0", f"172.16.0.{n}/24", ns=f"host{n}")
        lab.up("eth0", ns=f"host{n}")
    display(lab.view(title="Part C: host1 ⇄ host2, the underlay"))


def tunnel_pair(make, name, overlay):
    """The same tunnel on both hosts, each pointing at the other; overlay is '10.30.0.{}/24'-like."""
    for n, other in ((1, 2), (2, 1)):
        make(n, other)
        lab.addr(name, overlay.format(n), ns=f"host{n}")
        lab.up(name, ns=f"host{n}")


def ping_captured(dst, bpf, title, ns="host1"):
    """Ping dst from ns with a capture on the tunnel's underlay; show the result and the cell view."""
    for _ in range(5):  # a new IPv6 address is 'tentative' for about a second (duplicate address detection)
        if lab.ping(dst, ns=ns):
            break
    with lab.capture(f"{ns}/eth0", filter=bpf, duration=1.5) as cap:
        result = lab.run("ping", "-c", "1", dst, ns=ns)
    display(result, lab.view(cap, title=title))
    return result, cap.packets(f"{ns}/eth0")


def fallbacks(*names):
    """Which of the kernel's fallback tunnel devices exist in host1, and whether each is down."""
    return {itf.name: itf.is_up for itf in lab.snapshot().in_namespace("host1") if itf.name in names}


# %% [markdown]
# ### Geneve: Ethernet in UDP port 6081
#
# Geneve does what VXLAN does, with a header that can carry options of variable length (Cilium
# uses it). Its base header is 8 bytes, like VXLAN's.

# %%
if tunnels_ok:
    tunnel_pair(lambda n, other: lab.geneve("gnv0", 42, remote=f"172.16.0.{other}", ns=f"host{n}"), "gnv0", "10.20.0.{}/24")
    result, underlay = ping_captured("10.20.0.2", "udp port 6081", "Geneve: the inner frame inside UDP 6081")
    fact(result.ok and len(underlay) >= 2 and all(p.haslayer(UDP) and 6081 in (p[UDP].sport, p[UDP].dport) for p in underlay),
         "the Geneve ping answers, request and reply carried in UDP 6081 on the underlay",
         saw=[p.summary() for p in underlay])

# %% [markdown]
# ### ipip: IPv4 inside IPv4 (protocol 4)
#
# No Ethernet header inside, no UDP: the inner IP packet directly follows an outer IP header.
# The outer header's protocol field says 4 ("IP in IP").

# %%
if tunnels_ok:
    tunnel_pair(lambda n, other: lab.ipip("ipip1", f"172.16.0.{n}", f"172.16.0.{other}", ns=f"host{n}"),
                "ipip1", "10.30.0.{}/24")
    result, underlay = ping_captured("10.30.0.2", "ip proto 4", "ipip: IP in IP on the underlay")
    fact(result.ok and len(underlay) >= 2 and all(p[IP].proto == 4 and p[IP].payload.haslayer(ICMP) for p in underlay),
         "the ipip ping answers, each packet an ICMP packet right behind an outer IP header of protocol 4",
         saw=[p.summary() for p in underlay])
    fact(fallbacks("tunl0") == {"tunl0": False}, "the kernel made the fallback device tunl0 by itself, and it is down",
         saw=fallbacks("tunl0"))

# %% [markdown]
# ### gre: Generic Routing Encapsulation (protocol 47)
#
# A 4-byte GRE header between the outer and inner IP headers names the inner protocol, so GRE
# can carry anything (IPv4, IPv6, and with `gretap` whole Ethernet frames).

# %%
if tunnels_ok:
    tunnel_pair(lambda n, other: lab.gre("gre1", f"172.16.0.{n}", f"172.16.0.{other}", ns=f"host{n}"),
                "gre1", "10.40.0.{}/24")
    result, underlay = ping_captured("10.40.0.2", "ip proto 47", "gre: IP in GRE in IP on the underlay")
    fact(result.ok and len(underlay) >= 2 and all(p[IP].proto == 47 for p in underlay),
         "the gre ping answers, request and reply carried as IP protocol 47 on the underlay",
         saw=[p.summary() for p in underlay])
    made = fallbacks("gre0", "gretap0", "erspan0")
    fact(made == {"gre0": False, "gretap0": False, "erspan0": False},
         "the kernel made the fallback devices gre0, gretap0 and erspan0 by itself, all down", saw=made)

# %% [markdown]
# ### sit: IPv6 inside IPv4 (protocol 41, "6in4")
#
# The overlay is IPv6 (`fd00:41::1` and `fd00:41::2`) over an IPv4-only underlay. The first ping
# may have to wait a second: a new IPv6 address is *tentative* until duplicate address detection is done.

# %%
if tunnels_ok:
    tunnel_pair(lambda n, other: lab.sit("sit1", f"172.16.0.{n}", f"172.16.0.{other}", ns=f"host{n}"),
                "sit1", "fd00:41::{}/64")
    result, underlay = ping_captured("fd00:41::2", "ip proto 41", "sit: IPv6 in IPv4 on the underlay")
    fact(result.ok and len(underlay) >= 2 and all(p[IP].proto == 41 for p in underlay),
         "the IPv6 ping answers, request and reply carried as IPv4 protocol 41 on the underlay",
         saw=[p.summary() for p in underlay])
    fact(fallbacks("sit0") == {"sit0": False}, "the kernel made the fallback device sit0 by itself, and it is down",
         saw=fallbacks("sit0"))

# %% [markdown]
# ### What each tunnel costs
#
# The kernel sets each tunnel device's MTU to what fits into the 1500-byte underlay; the difference
# is the tunnel's overhead per packet.

# %%
if tunnels_ok:
    snap = lab.snapshot()
    costs = {}
    for name, what in (("gnv0", "Geneve: outer Ethernet 14 + IP 20 + UDP 8 + Geneve 8"), ("ipip1", "ipip: outer IP 20"),
                       ("gre1", "gre: outer IP 20 + GRE 4"), ("sit1", "sit: outer IPv4 20")):
        costs[name] = 1500 - snap.interface(name, "host1").mtu
        print(f"{name:<6} mtu {1500 - costs[name]}  → {costs[name]:>2} bytes  ({what})")
    fact(costs == {"gnv0": 14 + 20 + 8 + 8, "ipip1": 20, "gre1": 20 + 4, "sit1": 20},
         "the kernel gave each tunnel the underlay's 1500 minus its overhead: 50, 20, 24 and 20 bytes", saw=costs)

# %% [markdown]
# ## Exercise: route a network through the tunnel
#
# A tunnel is a device like any other, so routes can point into it; this is how a VPN (lab 02)
# makes whole networks reachable. `host2` now has a far network on its loopback: `10.99.0.1/32`.
# Make `host1` reach `10.99.0.1` **through the ipip tunnel** `ipip1`.
# (`host2` already knows the way back: `host1`'s overlay address `10.30.0.1` is on the ipip link.)
#
# The cell after the next holds one solution; the one after it checks.

# %%
if tunnels_ok:
    lab.addr("lo", "10.99.0.1/32", ns="host2")
    display(lab.view(title="Exercise: host2 has 10.99.0.1 on its loopback"))

# %% tags=["solution"]
if tunnels_ok:
    # Solution: one route into the tunnel device
    lab.route("10.99.0.1/32", dev="ipip1", ns="host1")
    display(lab.view(title="Exercise: host1 routes 10.99.0.1 into ipip1"))

# %% tags=["wrong"]
if tunnels_ok:  # a wrong attempt: 10.99.0.1 answers, but the route goes over the underlay, not through the tunnel
    lab.route("10.99.0.1/32", via="172.16.0.2", ns="host1")
    display(lab.view(title="Exercise: host1 routes 10.99.0.1 via 172.16.0.2"))

# %% tags=["check"]
# The check: host1's routing table as the kernel has it, and a real ping.
if tunnels_ok:
    checks(lab.check.route("10.99.0.1/32", "ipip1", ns="host1", hint="lab.route('10.99.0.1/32', dev='ipip1', ns='host1')"),
           lab.check.reachable("host1", "10.99.0.1", hint="does the route point into ipip1, and is ipip1 up on both hosts?"))

# %%
lab.close()   # removes every namespace, device and tunnel of this lab
