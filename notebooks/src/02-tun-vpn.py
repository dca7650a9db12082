# %% [markdown]
# # 02 · A tiny VPN over tun: the same packet, seen twice
#
# The picture of a VPN in the article *002-Linux 虚拟网络设备* ("Linux virtual network
# devices", section 2.3): App1 sends to 10.0.0.22; the stack routes the
# packet into `tun0`; **App2**, the VPN program holding `tun0`, reads it, wraps it in a
# new packet addressed to the other site's real address, and sends that through a
# socket, so the stack handles it a **second** time and sends it out of `eth0`. The
# article *虚拟网络设备(tun tap,veth)* ("virtual network devices: tun, tap, veth") shows
# the same flow with OpenVPN: a `tun0` device and a UDP socket on port 9112.
#
# Here two namespaces play two machines:
#
# * `client` with `eth0` 18.12.0.92/24 and `tun0` 10.0.0.12/24,
# * `server` with `eth0` 18.12.0.91/24 and `tun0` 10.0.0.22/24,
#
# joined by a veth cable that plays the physical network (the *underlay*). On each
# runs `tunvpn`, a 90-line OpenVPN without the crypto (`labkit/programs/tunvpn.py`):
# it carries every IP packet of `tun0` as one UDP datagram to the peer's port 9112.
#
# You will capture on `tun0` and on `eth0` at once and find the same ping twice: as
# itself on `tun0`, and inside a UDP datagram on `eth0`.

# %%
from IPython.display import display
from scapy.layers.inet import IP, UDP

from labkit.notebook import checks, fact, fresh_lab, seen

lab = fresh_lab(uplink=False)  # namespaces only: client and server are made below (a previous run's lab is closed first)
lab.view(title="A fresh lab")

# %% [markdown]
# ## Step 1 · Two machines and the network between them
#
# The underlay: a veth pair with one end, called `eth0`, in each machine. (`main`, the
# lab's own host namespace, stays empty in this lab.)

# %%
lab.netns("client")
lab.netns("server")
lab.veth("eth0", "eth0", ns="client", peer_ns="server")
lab.addr("eth0", "18.12.0.92/24", ns="client")
lab.addr("eth0", "18.12.0.91/24", ns="server")
lab.up("eth0", ns="client")
lab.up("eth0", ns="server")
display(lab.check.reachable("client", "18.12.0.91"))
lab.view()

# %% [markdown]
# ## Step 2 · A tun0 on each side
#
# The VPN's addresses live on the tun devices. Without a program they have no carrier
# (lab 01), so 10.0.0.22 is not reachable yet.

# %%
for ns, cidr in (("client", "10.0.0.12/24"), ("server", "10.0.0.22/24")):
    lab.tuntap("tun0", mode="tun", ns=ns)
    lab.addr("tun0", cidr, ns=ns)
    lab.up("tun0", ns=ns)
display(lab.check.unreachable("client", "10.0.0.22"))
lab.view()

# %% [markdown]
# ## Step 3 · Start the VPN on both sides
#
# Each `tunvpn` opens its `tun0` (the carrier comes up) and a UDP socket on port
# 9112, and sends to the peer's real address. This is the article's App2, twice.

# %%
vpn_client = lab.spawn(*lab.program("tunvpn", "--dev", "tun0", "--listen", "18.12.0.92:9112",
                                      "--peer", "18.12.0.91:9112"), ns="client")
vpn_server = lab.spawn(*lab.program("tunvpn", "--dev", "tun0", "--listen", "18.12.0.91:9112",
                                      "--peer", "18.12.0.92:9112"), ns="server")
checks(lab.check.carrier("client/tun0"), lab.check.carrier("server/tun0"))
sockets = lab.run("ss", "-uanp", ns="client")
display(sockets)
fact("18.12.0.92:9112" in sockets.stdout and "python" in sockets.stdout,
     "a python process holds a UDP socket on 18.12.0.92:9112", saw=sockets)
lab.view()

# %% [markdown]
# `ss` shows the VPN's UDP socket on 18.12.0.92:9112, held by a `python` process: the
# counterpart of the OpenVPN article's `openvpn ... UDP *:9112` in `lsof`.
#
# ## Step 4 · Ping through the tunnel, capturing on tun0 and on the underlay

# %%
with lab.capture("client/tun0", "client/eth0", filter="icmp or udp port 9112") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", "10.0.0.22", ns="client")
display(result)
print(vpn_client.output)
fact(result.ok and seen(cap, "client/tun0").count("echo-request") == 2, "the ping works, its two requests seen on tun0",
     saw=result)
lab.view(cap)

# %% [markdown]
# The ping works, and each echo request appears **twice**:
#
# * on `tun0`: `10.0.0.12 > 10.0.0.22: ICMP echo request`, 84 bytes: the packet as
#   App1 sent it;
# * on `eth0`: `18.12.0.92.9112 > 18.12.0.91.9112: UDP`, a datagram whose payload is
#   those 84 bytes. It is 28 bytes longer (a new 20-byte IP header and an 8-byte UDP
#   header), which is why VPNs lower the MTU of their tunnel.
#
# The replies make the same trip back. Let's unwrap the first datagram ourselves:

# %%
on_tun = [p for p in cap.packets("client/tun0") if IP in p]
on_wire = [p for p in cap.packets("client/eth0") if UDP in p]
outer = on_wire[0]
inner = IP(bytes(outer[UDP].payload))
print("on eth0: ", outer[IP].summary(), f"({len(outer[IP])} bytes)")
print("  inside:", inner.summary(), f"({len(inner)} bytes)")
print("on tun0: ", on_tun[0][IP].summary(), f"({len(on_tun[0][IP])} bytes)")
fact(bytes(inner) == bytes(on_tun[0][IP]), "the UDP payload on eth0 is, byte for byte, the packet on tun0")
fact(len(inner) == 84 and len(outer[IP]) - len(inner) == 28, "84 bytes on tun0, 28 more on the underlay",
     saw=(len(inner), len(outer[IP])))

# %% [markdown]
# ## Step 5 · "Encryption": the underlay sees noise
#
# The article notes that the VPN's packets "may already be encrypted" on the wire. Restart
# both ends with `--xor 90`: every payload byte is scrambled (a stand-in for real
# encryption). The tunnel still works; the underlay no longer shows what is inside.

# %%
vpn_client.stop()
vpn_server.stop()
vpn_client = lab.spawn(*lab.program("tunvpn", "--dev", "tun0", "--listen", "18.12.0.92:9112",
                                      "--peer", "18.12.0.91:9112", "--xor", "90"), ns="client")
vpn_server = lab.spawn(*lab.program("tunvpn", "--dev", "tun0", "--listen", "18.12.0.91:9112",
                                      "--peer", "18.12.0.92:9112", "--xor", "90"), ns="server")
checks(lab.check.carrier("client/tun0"))
with lab.capture("client/tun0", "client/eth0", filter="icmp or udp port 9112") as cap:
    result = lab.run("ping", "-c", "1", "-W", "1", "10.0.0.22", ns="client")
display(result)
outer = next(p for p in cap.packets("client/eth0") if UDP in p)
scrambled = bytes(outer[UDP].payload)
print("UDP payload on eth0:", scrambled[:20].hex(" "), "...")
fact(result.ok and scrambled[0] == 0x45 ^ 90 and "echo-request" in seen(cap, "client/tun0"),
     "the tunnel still works, the underlay carries 1f… instead of 45…, and tun0 shows the clear ping", saw=result)
lab.view(cap)

# %% [markdown]
# An IPv4 packet starts with `45`; the scrambled one starts with `1f` (`0x45 ^ 90`).
# `tun0` still shows the clear ping: the VPN unscrambles before it writes.

# %% [markdown]
# ## Exercise · Reach the network behind the server
#
# OpenVPN's server usually pushes routes to the client: networks behind the server
# that the client should reach through the tunnel (step 2 of the client's flow in
# the OpenVPN article). The next cell builds such a network behind `server`: a host `web` with
# 10.8.0.2/24, connected to `server`'s `lan0` (10.8.0.1/24), with `server` as its
# default gateway.
#
# Make `client` reach 10.8.0.2 through the VPN:
#
# 1. in `client`, route 10.8.0.0/24 into `tun0` (what the pushed route does);
# 2. let `server` forward packets between `tun0` and `lan0` (it is a router now).
#
# `web`'s reply goes to 10.0.0.12; `server` already knows that network is on `tun0`.

# %%
lab.netns("web")
lab.veth("lan0", "eth0", ns="server", peer_ns="web")
lab.addr("lan0", "10.8.0.1/24", ns="server")
lab.addr("eth0", "10.8.0.2/24", ns="web")
lab.up("lan0", ns="server")
lab.up("eth0", ns="web")
lab.route("default", via="10.8.0.1", ns="web")
lab.view()

# %% tags=["solution"]
lab.route("10.8.0.0/24", dev="tun0", ns="client")
lab.ip_forward(True, ns="server")
lab.view()

# %% tags=["wrong"]
lab.route("10.8.0.0/24", dev="tun0", ns="client")  # a wrong attempt: the route, but server does not forward
lab.view()

# %% tags=["check"]
display(lab.check.route("10.8.0.0/24", "tun0", ns="client"))
display(lab.check.sysctl("net.ipv4.ip_forward", 1, ns="server", hint="server must route between tun0 and lan0"))
display(lab.check.reachable("client", "10.8.0.2", hint="a route in client into tun0, and forwarding on server"))

# %% [markdown]
# What you saw: a tun device lets a program take IP packets out of the stack and put
# them back in; a VPN is that program plus a UDP socket, so each packet crosses the
# stack twice, once as itself and once wrapped for the underlay. Next: lab 03, veth.

# %%
lab.close()
