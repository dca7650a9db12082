# %% [markdown]
# # 01 · tun and tap: a network card with a program at the other end
#
# A physical NIC has the kernel's IP stack on one side and a cable on the other.
# A **tun** or **tap** device has the IP stack on one side and **a program** on the
# other: whatever the kernel sends out of the device, the program reads from a file
# descriptor of `/dev/net/tun`; whatever the program writes there, the kernel receives
# as if it came in from a wire (section 2.2 of the article *002-Linux 虚拟网络设备*,
# "Linux virtual network devices", that these labs follow).
#
# In this lab you will:
#
# 1. create `tun0` and `tap0` and see how they differ before anything uses them:
#    a tun has no MAC address and does no ARP (it carries IP packets), a tap has a MAC
#    (it carries Ethernet frames);
# 2. see that both stay `DOWN` / `NO-CARRIER` until a program opens them;
# 3. play **App2** of the article's picture yourself: `ping 10.0.0.22` (App1) sends an
#    ICMP packet that the kernel routes into `tun0`; this notebook reads it from the
#    file descriptor, decodes it, and writes an answer back, and `ping` gets its reply;
# 4. do the same on `tap0` and meet ARP, which a tun never sees.
#
# Every cell makes one change on a real kernel (inside a sandbox of network
# namespaces, never the host's own network) and ends with the **cell view**: the
# topology read back from the kernel with the change highlighted, the `ip` commands
# that did it, and the packets captured when there was a capture.

# %%
import time

from IPython.display import display
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether

from labkit.notebook import checks, fact, fresh_lab

lab = fresh_lab(uplink=False)  # one namespace, "main", that plays the host; a previous run's lab is closed first


def wait_done(program, timeout=10.0):
    """Wait until a background program (lab.spawn) has ended; return what it printed."""
    deadline = time.monotonic() + timeout
    while program.running and time.monotonic() < deadline:
        time.sleep(0.1)
    return program.output


def next_packet(dev, want, timeout=5.0):
    """Read from a tun/tap handle until a packet for which want(raw) is true arrives; skip the rest."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        raw = dev.read(timeout=left)
        if raw is None:
            break
        if want(raw):
            return raw
        print(f"  (skipped {len(raw)} bytes: the kernel's own IPv6 chatter on a new device)")
    raise TimeoutError(f"nothing matching arrived on {dev.name} within {timeout} s")


lab.view(title="A fresh lab: the namespace main, with only lo")

# %% [markdown]
# ## Step 1 · Create tun0 and tap0
#
# `ip tuntap add` makes a *persistent* device: it stays even though no program holds
# it. The article's experiment (its section 2.4.2) shows the two differ at once.

# %%
lab.tuntap("tun0", mode="tun")
lab.tuntap("tap0", mode="tap")
lab.view()

# %% [markdown]
# Ask the kernel how it sees them:

# %%
display(lab.run("ip", "link", "show", "tun0"))
display(lab.run("ip", "link", "show", "tap0"))
snap = lab.snapshot()
for name in ("tun0", "tap0"):
    itf = snap.interface(name)
    print(f"{name}: kind={itf.kind:<4} mac={itf.mac!s:<18} flags={','.join(itf.flags)}")
tun, tap = snap.interface("tun0"), snap.interface("tap0")
fact(not tun.mac and {"POINTOPOINT", "NOARP"} <= set(tun.flags), "tun0 is POINTOPOINT,NOARP with no MAC address", saw=tun)
fact(bool(tap.mac) and "BROADCAST" in tap.flags, "tap0 is BROADCAST with a MAC address", saw=tap)

# %% [markdown]
# * `tun0` is `POINTOPOINT,NOARP` with `link/none`: **no MAC address**. It is a
#   layer-3 device; the program at its other end reads and writes bare IP packets,
#   so there is nothing to resolve and the kernel never sends ARP on it.
# * `tap0` is `BROADCAST` with `link/ether` and a random MAC: a layer-2 device, an
#   Ethernet card. Its program reads and writes whole Ethernet frames, ARP included.

# %% [markdown]
# ## Step 2 · An address and "up", but no carrier
#
# Give `tun0` the article's address 10.0.0.12/24 and set both devices up.

# %%
lab.addr("tun0", "10.0.0.12/24")
lab.up("tun0", "tap0")
display(lab.run("ip", "-br", "link", "show"))
routes = lab.run("ip", "route")
display(routes)
snap = lab.snapshot()
fact(all("UP" in snap.interface(n).flags and "LOWER_UP" not in snap.interface(n).flags for n in ("tun0", "tap0")),
     "both are UP, but without a carrier (no LOWER_UP)", saw=[snap.interface(n) for n in ("tun0", "tap0")])
fact("linkdown" in routes.stdout, "the route to 10.0.0.0/24 is marked linkdown", saw=routes)
lab.view()

# %% [markdown]
# Both are administratively `UP` but their state is `DOWN` with `NO-CARRIER`, and the
# route to 10.0.0.0/24 is marked `linkdown`. The article says a persistent tun/tap "stays
# DOWN until a program opens its file descriptor": for the kernel, a program holding
# `/dev/net/tun` *is* the cable. A ping now goes nowhere:

# %%
result = lab.run("ping", "-c", "1", "-W", "1", "10.0.0.22")
display(result)
fact(not result.ok, "no reply: the ping goes nowhere", saw=result)

# %% [markdown]
# ## Step 3 · Be App2: open tun0 from this notebook
#
# `lab.tun_open("tun0")` does what every VPN does at start: `open("/dev/net/tun")`
# and `ioctl(TUNSETIFF, "tun0")`. Because `tun0` exists already, the descriptor is
# attached to it, and the carrier comes up.

# %%
app2 = lab.tun_open("tun0", mode="tun")
display(lab.run("ip", "-br", "link", "show", "tun0"))
checks(lab.check.carrier("tun0"))
lab.view()

# %% [markdown]
# ## Step 4 · App1 sends, the kernel routes the packet into tun0, App2 reads it
#
# `ping 10.0.0.22` is App1 (it runs in the background and waits up to five minutes
# for its answer, so take your time). The kernel looks up 10.0.0.22, finds the route
# `10.0.0.0/24 dev tun0` and sends the packet out of `tun0`: into our descriptor.
# A tcpdump on `tun0` sees it leave.

# %%
with lab.capture("tun0", filter="icmp") as cap:
    app1 = lab.spawn("ping", "-c", "1", "-W", "300", "10.0.0.22")
    raw = next_packet(app2, lambda p: p[0] >> 4 == 4)  # the first nibble is the IP version
print("the first 28 bytes read from the descriptor:", raw[:28].hex(" "))
request = IP(raw)
request.show()
fact(raw[0] == 0x45 and request[ICMP].type == 8, "a bare IPv4 packet (first byte 45), an ICMP echo request", saw=raw[:28].hex(" "))
lab.view(cap)

# %% [markdown]
# What the descriptor gives is a bare IPv4 packet: it starts with `45` (version 4,
# 20-byte header), no Ethernet header in front. The kernel may also have sent a few
# IPv6 packets of its own (router solicitations, multicast reports) as soon as the
# device came up; the loop above skipped those.

# %% [markdown]
# ## Step 5 · App2 writes the reply; ping gets its answer
#
# A real VPN would now encapsulate the packet and send it to the other site (lab 02).
# Here App2 answers itself: an ICMP echo reply from 10.0.0.22 to 10.0.0.12 with the
# same id, sequence number and payload. Writing it to the descriptor makes the
# kernel receive it *on tun0*, as if it had come in from a wire.

# %%
reply = (IP(src=request[IP].dst, dst=request[IP].src)
         / ICMP(type="echo-reply", id=request[ICMP].id, seq=request[ICMP].seq)
         / request[ICMP].payload)
with lab.capture("tun0", filter="icmp") as cap:
    app2.write(reply)
    printed = wait_done(app1)
print(printed)
fact("1 received" in printed, "ping got its reply: 1 received", saw=printed)
lab.view(cap)

# %% [markdown]
# `ping` printed `1 received`: a reply that no remote host sent. The capture on `tun0`
# showed the request going out in the previous step and shows the reply coming in
# here. The stack cannot tell a program from a wire. Its `time=` is how long App2 took
# to answer: the time between running the two cells. (A tun device has no MAC, so the
# capture panes cannot tell the direction and mark it `·`; the addresses do.)

# %% [markdown]
# ## Step 6 · A tap carries Ethernet frames, so the kernel asks ARP first
#
# Now the same on `tap0`, with 10.0.1.12/24 for the host. Before the kernel can send
# an IP packet out of an Ethernet device it needs the destination's MAC, so the first
# thing our descriptor receives is not the ping but an **ARP request**, a broadcast
# frame.

# %%
lab.addr("tap0", "10.0.1.12/24")
guest = lab.tun_open("tap0", mode="tap")
with lab.capture("tap0", filter="arp or icmp") as cap:
    app1 = lab.spawn("ping", "-c", "1", "-W", "300", "10.0.1.22")
    frame = next_packet(guest, lambda f: f[12:14] == b"\x08\x06")  # EtherType 0x0806: ARP
who_has = Ether(frame)
who_has.show()
fact(who_has.dst == "ff:ff:ff:ff:ff:ff" and who_has[ARP].op == 1 and who_has[ARP].pdst == "10.0.1.22",
     "the first frame is a broadcast ARP request: who has 10.0.1.22?", saw=who_has.summary())
lab.view(cap)

# %% [markdown]
# The frame starts with a 14-byte Ethernet header: destination `ff:ff:ff:ff:ff:ff`
# (everyone), source `tap0`'s MAC, type `0x0806`. The ARP payload asks *who has
# 10.0.1.22? tell 10.0.1.12*. Nobody answers yet, so `ping` keeps waiting and the kernel
# repeats the question about once a second.
#
# This is the difference the articles draw between the two devices: tun for routed IP
# tunnels (OpenVPN's routed mode), tap wherever something must look like an Ethernet
# card: a VM's NIC (lab 07) or OpenVPN's bridged mode.

# %% [markdown]
# ## Exercise · Be the machine behind tap0
#
# Answer as the host 10.0.1.22 with MAC `02:00:00:00:01:22`: complete `answer(frame)`,
# which returns what that machine sends back for one frame it receives:
#
# 1. for an **ARP request** for your IP, an ARP reply (`op="is-at"`, from your MAC and
#    IP to the asker's MAC and IP; the Ethernet header goes from your MAC to the asker);
# 2. for an **ICMP echo request** to your IP, an echo reply with the same id, sequence
#    number and payload, wrapped in an Ethernet header.
#
# The loop below starts a new `ping` and answers every frame until it is done (the
# `ping` of step 6 may still be waiting too: it gets its answer as well). The
# solution is filled in; change it and run the cells again to experiment. The check
# cell reads the kernel's ARP cache and the output of `ping`.

# %%
MY_MAC, MY_IP = "02:00:00:00:01:22", "10.0.1.22"

# %% tags=["solution"]
def answer(frame):
    f = Ether(frame)
    if ARP in f and f[ARP].op == 1 and f[ARP].pdst == MY_IP:
        return (Ether(src=MY_MAC, dst=f.src)
                / ARP(op="is-at", hwsrc=MY_MAC, psrc=MY_IP, hwdst=f[ARP].hwsrc, pdst=f[ARP].psrc))
    if ICMP in f and f[ICMP].type == 8 and f[IP].dst == MY_IP:
        return (Ether(src=MY_MAC, dst=f.src)
                / IP(src=MY_IP, dst=f[IP].src)
                / ICMP(type="echo-reply", id=f[ICMP].id, seq=f[ICMP].seq)
                / f[ICMP].payload)
    return None  # anything else: a machine ignores it


# %% tags=["wrong"]
def answer(frame):  # a wrong attempt: answers ARP, forgets the ping
    f = Ether(frame)
    if ARP in f and f[ARP].op == 1 and f[ARP].pdst == MY_IP:
        return (Ether(src=MY_MAC, dst=f.src)
                / ARP(op="is-at", hwsrc=MY_MAC, psrc=MY_IP, hwdst=f[ARP].hwsrc, pdst=f[ARP].psrc))
    return None


# %%
with lab.capture("tap0", filter="arp or icmp") as cap:
    app1 = lab.spawn("ping", "-c", "1", "-W", "300", MY_IP)
    deadline = time.monotonic() + 10
    while app1.running and time.monotonic() < deadline:
        for frame in guest.read_all(timeout=0.5):
            out = answer(frame)
            if out is not None:
                guest.write(out)
print(app1.output)
lab.view(cap)

# %% tags=["check"]
display(lab.check.neighbour("tap0", "10.0.1.22", mac=MY_MAC,
                            hint="write an ARP reply (op='is-at') to the tap's descriptor"))
display(lab.check.that("1 received" in app1.output, "ping 10.0.1.22 got its echo reply through tap0",
                       hint="after the ARP reply, read the echo request and write an echo reply wrapped in Ethernet"))

# %% [markdown]
# What you saw, in the kernel's own words: a tun hands its program IP packets and
# never ARPs; a tap hands it Ethernet frames, and the program must answer ARP like any
# machine on a LAN. Both have no carrier until a program opens them. Next: lab 02 puts
# a real App2 on each side of a UDP connection, a tiny VPN.
#
# The last cell removes the lab: its namespace, devices and the background `ping`.

# %%
lab.close()
