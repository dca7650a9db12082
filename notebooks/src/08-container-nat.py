# %% [markdown]
# # 08 · Container networking: a bridge, veth cables, and NAT to the outside
#
# The article *linux虚拟网络* ("Linux virtual networking") draws how Docker wires containers: each container is a network namespace whose
# `eth0` is one end of a veth cable; the other end is a port of the bridge `docker0` in the host;
# `docker0` carries the containers' gateway address; and the host **NATs** their traffic out of
# its own `eth0` ("docker needs the host's IP stack to do NAT", says the article). You will build
# exactly that, one piece at a time, and watch where a ping from a container stops at each stage:
#
# 1. the containers reach each other and the host, but not the LAN beyond it;
# 2. with routing (`ip_forward`) on, the ping leaves the host, but no answer comes back;
# 3. with an nftables **masquerade** rule it works, and two captures side by side, one inside the
#    container and one on the host's `eth0`, show the source address being rewritten.
#
# This lab's "outside world" is simulated: the host (`main`) has `eth0` = `192.168.3.10/24` on a LAN
# whose gateway is `192.168.3.1`, and behind the gateway sits a far server `198.51.100.1`.
# All of it lives in the lab's own namespaces.

# %%
import re

from IPython.display import display
from scapy.layers.inet import IP

from labkit.notebook import checks, fact, fresh_lab, seen

lab = fresh_lab()   # main = the Docker host; upstream = its LAN, gateway and the far server (closes a previous run's lab)
FAR = "198.51.100.1"
lab.view(title="The host (main) and its LAN (upstream) before any container")

# %% [markdown]
# ## Step 1: the bridge `docker0` with the gateway address
#
# Docker's default network is `172.17.0.0/16`, and the host's side of it is `172.17.0.1` on
# `docker0`. A bridge with an address is both a switch *and* a device of the host's IP stack:
# the stack can route between `docker0` and `eth0`.

# %%
lab.bridge("docker0")
lab.addr("docker0", "172.17.0.1/16")
lab.up("docker0")
lab.view(title="Step 1: docker0 with 172.17.0.1/16")

# %% [markdown]
# ## Step 2: two containers, c1 and c2
#
# For each container: a namespace, a veth cable whose container end is called `eth0` (as Docker
# renames it), the host end plugged into `docker0`, an address, and a default route via the
# gateway `172.17.0.1`. That is all a container's network is.

# %%
def container(name, address):
    lab.netns(name)
    lab.veth(f"veth-{name}", "eth0", peer_ns=name)     # host end ⇄ container end
    lab.enslave(f"veth-{name}", "docker0")
    lab.up(f"veth-{name}")
    lab.addr("eth0", address, ns=name)
    lab.up("eth0", ns=name)
    lab.route("default", via="172.17.0.1", ns=name)


container("c1", "172.17.0.2/16")
container("c2", "172.17.0.3/16")
lab.view(title="Step 2: c1 and c2 plugged into docker0")

# %% [markdown]
# ## Step 3: who can c1 reach?
#
# - `c2` (`172.17.0.3`): yes, the bridge switches the frames between the two ports.
# - the gateway `172.17.0.1`: yes, it is the host's own address on `docker0`.
# - `192.168.3.10`, the host's address on **`eth0`**: yes too, and this surprises many. An address
#   belongs to the whole namespace, not to one device, so the host answers on `docker0` for
#   any of its addresses; nothing is forwarded.
# - the LAN gateway `192.168.3.1` and the far server: no.

# %%
answers = {dst: lab.ping(dst, ns="c1") for dst in ("172.17.0.3", "172.17.0.1", "192.168.3.10", "192.168.3.1", FAR)}
for dst, ok in answers.items():
    print(f"c1 → {dst:<13}", "answers" if ok else "no answer")
fact(answers == {"172.17.0.3": True, "172.17.0.1": True, "192.168.3.10": True, "192.168.3.1": False, FAR: False},
     "c1 reaches c2, the gateway and the host's eth0 address, but not the LAN gateway nor the far server", saw=answers)

# %% [markdown]
# Why not beyond the host? Capture on both sides of the host while `c1` pings the far server:
# inside `c1` (`c1/eth0`) and on the host's uplink (`eth0`).

# %%
with lab.capture("c1/eth0", "eth0", filter="icmp", duration=2.5) as cap:
    display(lab.run("ping", "-c", "2", "-W", "1", FAR, ns="c1"))
print(cap.counts())
fact("echo-request" in seen(cap, "c1/eth0") and cap.counts()["main/eth0"] == 0,
     "the requests leave c1, and nothing leaves through the host's eth0", saw=cap.counts())
checks(lab.check.sysctl("net.ipv4.ip_forward", 0))
lab.view(cap, title="Step 3: the requests never leave the host")

# %% [markdown]
# The requests arrive at the host and stop there: a new namespace, like a freshly booted Linux
# machine, does **not** route packets between its devices. `net.ipv4.ip_forward` is 0.
#
# ## Step 4: turn routing on
#
# Docker sets `net.ipv4.ip_forward=1` on the host. Do the same and capture again.

# %%
lab.ip_forward(True)
with lab.capture("c1/eth0", "eth0", filter="icmp", duration=2.5) as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", FAR, ns="c1")
display(result)
print(cap.counts())
leaving = [p[IP].src for p in cap.packets("eth0") if p.haslayer(IP) and p[IP].dst == FAR]
fact(not result.ok and leaving and set(leaving) == {"172.17.0.2"} and "echo-reply" not in seen(cap, "c1/eth0"),
     "now the requests do leave through eth0, from 172.17.0.2, and no reply comes back", saw=leaving)
lab.view(cap, title="Step 4: forwarded, but no reply comes back")

# %% [markdown]
# Now the requests **do** leave through `eth0`, still with the source address `172.17.0.2`. The far
# side answers to `172.17.0.2`, and its gateway has no route to that private network: it knows
# only `192.168.3.0/24`. The replies are dropped there. On the real internet, routers drop private
# source addresses (RFC 1918) on sight. The host has to send the packets in **its own name**.
#
# ## Step 5: masquerade (source NAT) out of `eth0`
#
# One nftables rule in the host's `postrouting` hook: packets from `172.17.0.0/16` that leave
# through `eth0` get `eth0`'s address as their source. The kernel's connection tracking remembers
# each rewrite and undoes it on the replies. This is the rule Docker installs (through iptables).

# %%
lab.masquerade("172.17.0.0/16", "eth0")
with lab.capture("c1/eth0", "eth0", filter="icmp", count=4) as cap:
    result = lab.run("ping", "-c", "2", "-i", "0.3", FAR, ns="c1")
display(result)
fact(result.ok, "with the masquerade rule the ping works", saw=result)
lab.view(cap, title="Step 5: the same ping, before NAT (c1/eth0) and after NAT (eth0)")

# %% [markdown]
# Compare the two panes: inside the container the conversation is `172.17.0.2 ⇄ 198.51.100.1`; on
# the wire outside it is `192.168.3.10 ⇄ 198.51.100.1`. The far server never learns that a
# container exists. The same packets, read as data:

# %%
inside = [p[IP].src for p in cap.packets("c1/eth0") if p.haslayer(IP) and p[IP].dst == FAR]
outside = [p[IP].src for p in cap.packets("eth0") if p.haslayer(IP) and p[IP].dst == FAR]
print("source of the requests inside c1 :", inside)
print("source of the requests on eth0   :", outside)
fact(inside and outside and set(inside) == {"172.17.0.2"} and set(outside) == {"192.168.3.10"},
     "the source address was rewritten from 172.17.0.2 to 192.168.3.10", saw=(inside, outside))

# %% [markdown]
# Where the kernel keeps what it rewrote: the rule's packet counter, and the connection-tracking
# table. Each entry shows the original direction (`src=172.17.0.2 dst=198.51.100.1`) and the reply
# it expects (`src=198.51.100.1 dst=192.168.3.10`): that second half is what lets the reply find its
# way back to `c1`. (An ICMP entry lives 30 s after the last packet.)
#
# Notice `counter packets 1` although `c1` sent two requests: a `nat` chain sees only the **first**
# packet of each connection. The kernel decides the rewrite once, stores it in the conntrack
# entry, and applies it to every later packet, in both directions, without looking at the rules.

# %%
table, conntrack = lab.run("nft", "list", "table", "ip", "labkit_nat"), lab.run("cat", "/proc/net/nf_conntrack")
display(table, conntrack)
counted = [int(n) for n in re.findall(r"counter packets (\d+)", table.stdout)]
fact(counted == [1], "the masquerade rule counted 1 packet for the two requests", saw=table)
fact(re.search(r"src=172\.17\.0\.2 dst=198\.51\.100\.1 .*src=198\.51\.100\.1 dst=192\.168\.3\.10", conntrack.stdout),
     "conntrack holds the original direction from 172.17.0.2 and the reply it expects to 192.168.3.10", saw=conntrack)

# %% [markdown]
# ## Exercise: a third container
#
# Add a container `c3` with the address `172.17.0.4/16`, wired like the others (the cable's end
# inside is `eth0`, its host end `veth-c3` is a port of `docker0`), and make it reach the far server
# `198.51.100.1`. Do you need another NAT rule? (Look at what the rule matches.)
#
# The cell below holds one solution. Try your own first, then run the check.

# %% tags=["solution"]
# Solution: the same five steps as c1 and c2. No new rule: 172.17.0.4 is inside 172.17.0.0/16.
container("c3", "172.17.0.4/16")
lab.view(title="Exercise: c3 joins docker0")

# %% tags=["wrong"]
lab.netns("c3")  # a wrong attempt: wired and addressed, but without the default route
lab.veth("veth-c3", "eth0", peer_ns="c3")
lab.enslave("veth-c3", "docker0")
lab.up("veth-c3")
lab.addr("eth0", "172.17.0.4/16", ns="c3")
lab.up("eth0", ns="c3")
lab.view(title="Exercise: c3 joins docker0")

# %% tags=["check"]
# The check: real pings from inside c3, and c3's routing table read from the kernel.
checks(lab.check.is_port_of("veth-c3", "docker0",
                            hint="plug the host end of c3's cable into docker0: lab.enslave('veth-c3', 'docker0')"),
       lab.check.route("default", "eth0", ns="c3", via="172.17.0.1",
                       hint="a container needs a default route via its gateway: lab.route('default', via='172.17.0.1', ns='c3')"),
       lab.check.reachable("c3", FAR, hint="is c3's eth0 up with 172.17.0.4/16, and its host end up too?"))

# %%
lab.close()   # removes the containers, docker0, the NAT table and the simulated LAN
