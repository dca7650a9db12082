# %% [markdown]
# # 00 · Quickstart: a veth pair, two captures, one picture
#
# A **veth pair** is a virtual cable: whatever goes into one end comes out of the other.
# Here both ends stay in the same namespace, as in the first experiment of the article
# *002-Linux 虚拟网络设备* ("Linux virtual network devices") that these labs follow, and we
# ping from one end to the other while `tcpdump` listens on `veth1` **and** on `lo`.
#
# The surprise the captures show: the echo *requests* cross the cable and arrive on `veth1`,
# but the *replies* never go back through it. `20.1.0.10` is a local address, so the kernel
# delivers the reply through the loopback device `lo`.
#
# Every picture below is read back from the kernel after the step, never drawn from what we meant to build.
# Click an interface in a picture to see what the kernel says about it.

# %%
from IPython.display import display

from labkit.notebook import fact, fresh_lab, seen

lab = fresh_lab()    # a sandbox: namespaces of its own, never the host's network (a previous run's lab is closed first)
lab.view(title="A fresh lab: the host (main) and a simulated LAN (upstream)")

# %% [markdown]
# ## Step 1: the cable
#
# Create the pair, give each end an address of the same subnet, and bring both ends up.
# The cell view shows the topology with what changed highlighted, and the exact `ip` commands the step ran.

# %%
lab.veth("veth0", "veth1")
lab.addr("veth0", "20.1.0.10/24")
lab.addr("veth1", "20.1.0.11/24")
lab.up("veth0", "veth1")
lab.view(title="Step 1: veth0 ⇄ veth1, both ends in main")

# %% [markdown]
# ## Step 2: let the kernel accept its own addresses from the wire
#
# A packet from `20.1.0.10` arriving on `veth1` carries a *local* source address. Linux drops
# such packets as martians unless `accept_local=1`, and reverse-path filtering (`rp_filter`)
# would drop them too. The article warns about exactly this; these sysctls turn both off.

# %%
for dev in ("veth0", "veth1", "all"):
    lab.sysctl(f"net.ipv4.conf.{dev}.rp_filter", 0)
lab.accept_local("veth0")
lab.accept_local("veth1")
lab.view(title="Step 2: accept_local=1, rp_filter=0")

# %% [markdown]
# ## Step 3: ping through the cable, with two captures side by side
#
# `lab.capture(...)` starts one `tcpdump` per device and returns once each of them is listening,
# so no packet of the ping is missed. Open a packet to see all its layers; where Wireshark's `sharkd` is
# installed, the same click shows Wireshark's tree under the panes: every field with the bytes it was read
# from and its display filter (hover a line). The ⬇ links save each device's `.pcap`, and `capture.pcapng`
# with both devices in one file (one Wireshark window). In the picture, the devices that saw packets are red,
# with their counts.

# %%
with lab.capture("veth1", "lo", filter="icmp") as cap:
    result = lab.run("ping", "-c", "2", "-i", "0.2", "-I", "veth0", "20.1.0.11")
display(result)
fact(result.ok and set(seen(cap, "veth1")) == {"echo-request"} and "echo-reply" in seen(cap, "lo"),
     "the requests arrive on veth1, and the replies come back on lo, never on veth1",
     saw={dev: seen(cap, dev) for dev in ("veth1", "lo")})
lab.view(cap, title="Step 3: requests arrive on veth1, replies come back on lo")

# %% [markdown]
# The same capture as data: counts per device, and each file read back with scapy: one `.pcap` per
# device, and `capture.pcapng` that holds both devices' packets, each named by its interface.
# `cap.dissect("veth1", 0)` gives Wireshark's tree of a packet as data (scapy's layers, said so,
# where sharkd is not installed).

# %%
from scapy.utils import rdpcap

print(cap.counts())
files = {path: len(rdpcap(path)) for path in cap.save("captures")}
for path, count in files.items():
    print(path, count, "packets")
fact(cap.counts() == {"main/veth1": 2, "main/lo": 2}, "two requests on veth1, two replies on lo", saw=cap.counts())
fact(files["captures/capture.pcapng"] == 4, "the pcapng holds the packets of both devices", saw=files)

# %%
lab.close()   # removes the namespaces, the devices and every tcpdump
