# %% [markdown]
# # 03 · veth: a virtual cable, and the surprise of putting both ends in one namespace
#
# A veth pair is two network devices joined by a virtual cable: a frame sent out of
# one end is received by the other (section 3 of the article *002-Linux 虚拟网络设备*,
# "Linux virtual network devices", that these labs follow). Each end has the IP stack
# of its namespace behind it.
#
# In this lab you will:
#
# 1. do the article's experiment exactly: both ends in **one** namespace, 20.1.0.10 on
#    `veth0` and 20.1.0.11 on `veth1`, and `ping -I veth0 20.1.0.11`. On this kernel it
#    fails until you set `accept_local` (and, on many hosts, `rp_filter`), as the article's
#    note warns; you will see why;
# 2. capture on `veth1` and `lo` at once: the **requests cross the cable but the replies
#    come back on `lo`**, because for the stack both addresses are its own;
# 3. do it the right way: one end in another namespace, where the reply does cross the
#    cable;
# 4. find a veth's peer as the article *虚拟网络设备(tun tap,veth)* ("virtual network
#    devices: tun, tap, veth") does (`ip -d link`, `@ifN`, `ethtool -S` `peer_ifindex`),
#    and in the exercise find one among several.

# %%
import re

from IPython.display import display

from labkit.notebook import checks, fact, fresh_lab, seen

lab = fresh_lab(uplink=False)  # "main" plays the host, no simulated LAN; a previous run's lab is closed first
lab.view(title="A fresh lab: the namespace main, with only lo")

# %% [markdown]
# ## Step 1 · A veth pair with both ends in one namespace
#
# The article's five commands: the pair, an address on each end, both up.

# %%
lab.veth("veth0", "veth1")
lab.addr("veth0", "20.1.0.10/24")
lab.addr("veth1", "20.1.0.11/24")
lab.up("veth0", "veth1")
lab.view()

# %% [markdown]
# ## Step 2 · The article's ping, with the kernel's default settings
#
# `ping -I veth0 20.1.0.11` sends out of `veth0`; the frame arrives on `veth1`. We
# capture on both `veth1` and `lo` while it runs.
#
# A new namespace starts with a copy of the host's `net.ipv4.conf.all` settings (the
# kernel's `devconf_inherit_init_net` is 0), so a host that set `all.accept_local=1`
# would hide this experiment: the lab first puts its own `all.accept_local` back to the
# kernel's default, 0 (the host's stays as it is).

# %%
lab.sysctl("net.ipv4.conf.all.accept_local", 0)
with lab.capture("veth1", "lo", filter="icmp or arp") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", "-I", "veth0", "20.1.0.11")
display(result)
fact(not result.ok and set(seen(cap, "veth1")) == {"arp-request"},
     "no reply, and veth1 shows only ARP requests", saw={"ping": result.stdout, "veth1": seen(cap, "veth1")})
lab.view(cap)

# %% [markdown]
# No reply, and `veth1` shows only **ARP requests**: *who has 20.1.0.11? tell
# 20.1.0.10*, never answered. `veth1` received the request, but its sender address
# 20.1.0.10 is an address of this very namespace. A packet that arrives from outside
# claiming to come from one of our own addresses is a *martian*: the kernel drops it
# unless `accept_local` is set on the receiving device. This is the "some Ubuntu
# versions cannot ping" of the article's note.
#
# The article also turns off `rp_filter` (reverse-path filtering: drop a packet if the
# route back to its source does not leave through the device it came in on). The
# kernel uses the **larger** of `conf.all.rp_filter` and the device's own value.
# Many distributions set it to 1 or 2, and then the replies are dropped too; a fresh
# namespace may have 0 already. Let's look at this kernel, then set what the article sets:

# %%
values = {key: int(lab.run("sysctl", "-n", f"net.ipv4.conf.{key}", check=True).stdout)
          for key in ("all.rp_filter", "veth0.rp_filter", "veth1.rp_filter", "all.accept_local", "veth0.accept_local",
                      "veth1.accept_local")}
for key, value in values.items():
    print(f"net.ipv4.conf.{key:<20} = {value}")
strict = max(values["all.rp_filter"], values["veth1.rp_filter"])
print(f"effective rp_filter on veth1: {strict}:",
      "the reverse-path filter is off already here" if strict == 0 else "the reverse-path filter would drop the replies too")
fact(values["veth1.accept_local"] == values["all.accept_local"] == 0, "accept_local is 0 by default: the martian filter is what dropped the ARP requests",
     saw=values)

# %%
lab.accept_local("veth0")
lab.accept_local("veth1")
lab.rp_filter("veth0", 0)
lab.rp_filter("veth1", 0)
lab.sysctl("net.ipv4.conf.all.rp_filter", 0)
lab.view()

# %% [markdown]
# The view lists only the commands that changed something; a setting that already
# had its value is marked "already so".
#
# ## Step 3 · Ping again, capturing on veth1 and lo

# %%
lab.neigh_flush()  # start from an empty ARP cache, as in the article
with lab.capture("veth1", "lo", filter="icmp or arp") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", "-I", "veth0", "20.1.0.11")
display(result)
on_veth1, on_lo = seen(cap, "veth1"), seen(cap, "lo")
fact(result.ok and {"arp-request", "arp-reply", "echo-request"} <= set(on_veth1) and "echo-reply" not in on_veth1
     and "echo-reply" in on_lo, "it works: ARP and the echo requests on veth1, the echo replies on lo only",
     saw={"veth1": on_veth1, "lo": on_lo})
lab.view(cap)

# %% [markdown]
# Now it works, and the capture shows the article's observation: on `veth1` the ARP
# exchange and the **echo requests**, but no echo reply; the **replies are on `lo`**.
#
# Why: the request came in on `veth1`, addressed to 20.1.0.11, a local address. The
# reply goes to 20.1.0.10, and the kernel looks that up in its routing tables. The
# `local` table is consulted first, and it says 20.1.0.10 is *local*: a packet for a
# local address never leaves on a wire, it is looped back through `lo`, whatever
# device the address sits on.

# %%
local = lab.run("ip", "route", "show", "table", "local")
get = lab.run("ip", "route", "get", "20.1.0.10", "from", "20.1.0.11")
display(local, get)
fact("local 20.1.0.10 dev veth0" in local.stdout and " dev lo " in f" {get.stdout} ",
     "20.1.0.10 is in the local table, and the route to it leaves through lo", saw=[local, get])

# %% [markdown]
# `local 20.1.0.10 dev veth0 table local` and `route get` answering `dev lo`: that is
# the whole surprise. A veth pair inside one namespace is a cable from the stack to
# itself.
#
# ## Step 4 · The right way: the other end in another namespace
#
# Containers and OpenStack's DHCP namespaces (lab 09) put one end of the pair into a
# separate network namespace, which has its own devices, addresses, routes and stack.
# `veth-a` stays in `main`, `veth-b` goes to a new namespace `h1`.

# %%
lab.netns("h1")
lab.veth("veth-a", "veth-b", peer_ns="h1")
lab.addr("veth-a", "20.2.0.1/24")
lab.addr("veth-b", "20.2.0.2/24", ns="h1")
lab.up("veth-a")
lab.up("veth-b", ns="h1")
lab.view()

# %%
with lab.capture("veth-a", "h1/veth-b", "lo", filter="icmp") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", "20.2.0.2")
display(result)
fact(result.ok and all({"echo-request", "echo-reply"} <= set(seen(cap, dev)) for dev in ("veth-a", "h1/veth-b"))
     and not seen(cap, "lo"), "request and reply on veth-a and on veth-b, nothing on lo", saw=cap.counts())
lab.view(cap)

# %% [markdown]
# No sysctl needed, and this time both the request and the reply cross the cable:
# each shows on `veth-a` and on `veth-b`, nothing on `lo`. 20.2.0.2 is not an
# address of `main`, so `main` has to send the request out; `h1`'s reply to 20.2.0.1
# is not local to `h1`, so it goes back through the cable.

# %% [markdown]
# ## Step 5 · Which device is the other end?
#
# In the picture the pair is drawn as one cable, because the lab reads the peer from
# the kernel. On a real host you ask the kernel yourself, as the tun/tap/veth article does:
#
# * `ip link` shows a veth as `NAME@PEER` when the peer is in the same namespace, and
#   `NAME@ifN` when it is elsewhere: `N` is the peer's index *in its own namespace*;
# * `ethtool -S DEV` gives `peer_ifindex`, the same number seen from the other side.

# %%
brief = lab.run("ip", "-br", "link", "show")
detail = lab.run("ip", "-d", "link", "show", "veth-a")
stats = lab.run("ethtool", "-S", "veth-b", ns="h1")
display(brief, detail, stats)
index_a = lab.snapshot().interface("veth-a").index
fact(all(name in brief.stdout for name in ("veth0@veth1", "veth1@veth0", "veth-a@if2")) and "link-netns" in detail.stdout,
     "veth0@veth1 and veth1@veth0 name each other; veth-a@if2 points into another namespace (link-netns)", saw=brief)
fact(f"peer_ifindex: {index_a}" in stats.stdout, f"peer_ifindex of h1/veth-b is {index_a}, the index of veth-a in main",
     saw=stats)

# %% [markdown]
# `veth0@veth1` and `veth1@veth0` name each other. `veth-a@if2` says the peer has index
# 2 in *its* namespace (`link-netns` names it). `ethtool -S veth-b` run inside `h1`
# answers `peer_ifindex`: the index of `veth-a` in `main`. Indexes are per namespace,
# which is why the article looks the number up with `ip a | grep '^6:'` on the host.
#
# The snapshot the picture is drawn from has the same fact:

# %%
snap = lab.snapshot()
for itf in snap.interfaces:
    if itf.kind == "veth":
        print(f"{itf.key:<14} index {itf.index:<3} peer {itf.peer}")

# %% [markdown]
# ## Exercise · Find the cable
#
# The next cell builds what you meet on an OpenStack network node: three namespaces
# (`qdhcp-1`, `qdhcp-2`, `box`), each with a device `eth0` whose peer is one of three
# devices `tap1a2b`, `tap3c4d`, `tap5e6f` in `main`. The names do not tell which is
# which, and `@if2` is the same for all three.
#
# 1. Find the device in `main` whose peer is `box/eth0` **by asking the kernel** the
#    article's way (`ethtool -S` inside `box`, then the index in `main`), and store its
#    name in `answer`;
# 2. give it 20.3.0.1/24 and bring it up, so that `box` (20.3.0.2/24) reaches it.

# %%
for name, ns in (("tap5e6f", "qdhcp-1"), ("tap1a2b", "box"), ("tap3c4d", "qdhcp-2")):
    lab.netns(ns)
    lab.veth(name, "eth0", peer_ns=ns)
    lab.up("eth0", ns=ns)
lab.addr("eth0", "20.3.0.2/24", ns="box")
display(lab.run("ip", "-br", "link", "show"))
lab.view()

# %% tags=["solution"]
stats = lab.run("ethtool", "-S", "eth0", ns="box").stdout
peer_index = int(re.search(r"peer_ifindex: (\d+)", stats).group(1))
line = next(line for line in lab.run("ip", "-o", "link", "show").stdout.splitlines()
            if line.startswith(f"{peer_index}:"))
answer = line.split(":")[1].strip().split("@")[0]
print(f"box/eth0 has peer_ifindex {peer_index}: in main that is {answer}")

lab.addr(answer, "20.3.0.1/24")
lab.up(answer)
lab.view()

# %% tags=["wrong"]
answer = "tap5e6f"  # a wrong attempt: a guess from the names, not asked from the kernel
lab.addr(answer, "20.3.0.1/24")
lab.up(answer)
lab.view()

# %% tags=["check"]
checks(lab.check.peers(answer, "box/eth0", hint="ask `ethtool -S eth0` inside box, then find that index in main"),
       lab.check.has_address(answer, "20.3.0.1/24"),
       lab.check.reachable("box", "20.3.0.1"))

# %% [markdown]
# What you saw: a veth pair is a cable; with both ends in one namespace the stack
# talks to itself, so the martian filter (`accept_local`, `rp_filter`) gets in the way
# and the replies take `lo`; across namespaces it behaves like a real cable. And a
# veth's peer is found with `@ifN` and `ethtool -S`'s `peer_ifindex`, indexes being per
# namespace. Next: lab 04 plugs a veth into a bridge.

# %%
lab.close()
