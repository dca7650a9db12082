# %% [markdown]
# # 07 · VM networking: tap devices as virtual NICs on the host's bridge
#
# The article *虚拟网络设备(tun tap,veth)* ("virtual network devices: tun, tap, veth")
# opens a running VM with `virsh domiflist` and `lsof`: the hypervisor
# (`qemu-kvm`) holds `/dev/net/tun` as file descriptor 26, tied to a tap device `tap0`
# that is a port of `br0`. Whatever the guest's NIC sends is a `write()` on that
# descriptor; it appears on `tap0`, and `br0` switches it like any frame, out of `eth0`
# to the LAN or to another VM's tap. The article *linux虚拟网络* ("Linux virtual
# networking") stresses the point: the VM's packets
# **never pass through the host's IP stack**; the host is only a switch for them.
#
# No VM boots here. A small program, `tap_guest` (`labkit/programs/tap_guest.py`),
# plays each guest's NIC: it holds the tap's descriptor, answers ARP and ping for the
# guest's address, and pings when asked. It is QEMU's side of the tap, without the VM.
#
# In this lab you will:
#
# 1. bridge the host's uplink `eth0` into `br0` the right way (lab 05);
# 2. create two taps as libvirt does, and see them without carrier until a "VM" runs;
# 3. start `vm1` and `vm2`, ping them from the host, and let `vm1` ping `vm2`, with
#    captures on the taps and on `br0`;
# 4. let `vm1` reach the gateway and the far server through `br0` and `eth0`, its own
#    MAC address on the wire;
# 5. in the exercise, add a third VM.

# %%
from IPython.display import display

from labkit.notebook import checks, fact, fresh_lab, seen

lab = fresh_lab()  # main (the host), eth0 on the simulated LAN "upstream" (gateway 192.168.3.1); closes a previous run's lab
FAR = "198.51.100.1"


def start_vm(name, tap, ip, mac):
    """Start a stand-in guest NIC on ``tap``: QEMU's end of the tap, answering ARP and ping for ``ip``."""
    return lab.spawn(*lab.program("tap_guest", "serve", "--dev", tap, "--ip", ip, "--mac", mac,
                                    "--gateway", "192.168.3.1", "--name", name))


def vm_ping(tap, target, count=2):
    """Ask the guest on ``tap`` to ping ``target`` (through its own NIC, not the host's stack)."""
    return lab.run(*lab.program("tap_guest", "ping", "--dev", tap, target, "--count", count))


lab.view(title="The host main, its uplink eth0, and the simulated LAN upstream")

# %% [markdown]
# ## Step 1 · The host's bridge, with eth0 as its uplink port
#
# Exactly lab 05's right way, as one atomic step: `eth0` becomes a port of `br0`, and
# its address and default route move to `br0`.

# %%
lab.bridge("br0")
lab.up("br0")
with lab.batch():  # one atomic step, as in lab 05
    lab.enslave("eth0", "br0")
    lab.move_ip("eth0", "br0")
checks(lab.check.reachable("main", FAR))
lab.view()

# %% [markdown]
# ## Step 2 · Two tap devices, as libvirt creates them for two VMs
#
# libvirt creates one tap per VM NIC (`vnet0`, `vnet1`, ...; the tun/tap article calls it `tap0`),
# sets it up and makes it a port of the bridge named in the VM's configuration.
#
# One detail matters: a bridge takes the **lowest** MAC of its ports (lab 04). A tap
# with a random MAC lower than `eth0`'s would change `br0`'s MAC, so the host's MAC on
# the LAN would change every time a VM starts. libvirt therefore gives each tap the
# guest's MAC with the first byte replaced by `fe` (guest `52:54:00:…` → tap
# `fe:54:00:…`), which is above any vendor's prefix. Our simulated `eth0` has a random
# MAC, which may itself start with `fe:`, so we use `fe:ff:ff:…`, the very top.

# %%
for number, tap in enumerate(("tap0", "tap1"), start=2):
    lab.tuntap(tap, mode="tap")
    lab.mac(tap, f"fe:ff:ff:00:00:0{number}")
    lab.enslave(tap, "br0")
    lab.up(tap)
display(lab.run("bridge", "link"))
checks(lab.check.port_state("tap0", "disabled"), lab.check.port_state("tap1", "disabled"),
       lab.check.same_mac("br0", "eth0", hint="a tap with a lower MAC than eth0 took over br0's MAC"))
lab.view()

# %% [markdown]
# `bridge link` shows both taps as ports with `NO-CARRIER` and state `disabled`: no VM
# holds them, so the bridge does not forward to them. `br0` kept `eth0`'s MAC.
#
# ## Step 3 · Start vm1 on tap0
#
# `vm1` gets the guest NIC MAC `52:54:00:00:00:02` (QEMU's prefix; note it is *not*
# `tap0`'s MAC: `tap0` is the host's end of the cable, the guest NIC is the other end)
# and 192.168.3.102/24 on the host's LAN, with 192.168.3.1 as gateway.

# %%
vm1 = start_vm("vm1", "tap0", "192.168.3.102/24", "52:54:00:00:00:02")
checks(lab.check.carrier("tap0"))
display(lab.run("bridge", "link", "show", "dev", "tap0"))
checks(lab.check.port_state("tap0", "forwarding"))
lab.view()

# %% [markdown]
# The carrier is up and the port is `forwarding`: for the kernel, the VM plugged its
# cable in. Now the host pings the VM, capturing on `br0` and `tap0`:

# %%
with lab.capture("br0", "tap0", filter="arp or icmp") as cap:
    checks(lab.check.reachable("main", "192.168.3.102"))
print(vm1.output)
fact({"arp-request", "arp-reply", "echo-request", "echo-reply"} <= set(seen(cap, "tap0")),
     "the host's ARP request and pings go out of tap0 to vm1, and vm1's answers come back", saw=seen(cap, "tap0"))
lab.view(cap)

# %% [markdown]
# The host's stack sends from `br0` (its address is there); the bridge forwards the
# frames out of `tap0`, into the descriptor `vm1` reads, and `vm1`'s answers come back
# the same way. `vm1`'s output lists what it received: the ARP request and the pings.
#
# ## Step 4 · Start vm2 on tap1, and let vm1 ping vm2

# %%
vm2 = start_vm("vm2", "tap1", "192.168.3.103/24", "52:54:00:00:00:03")
checks(lab.check.carrier("tap1"))
with lab.capture("tap0", "tap1", "br0", filter="arp or icmp") as cap:
    result = vm_ping("tap0", "192.168.3.103")
display(result)
print(vm2.output)
on = {dev: seen(cap, dev) for dev in ("tap0", "tap1", "br0")}
fact(result.ok and "arp-request" in on["br0"] and {"arp-reply", "echo-request", "echo-reply"} <= set(on["tap1"]),
     "vm1's ARP broadcast reaches br0 too; vm2 answers; the pings go tap0 → tap1 and back", saw=on)
lab.view(cap)

# %% [markdown]
# `vm1` asked *who has 192.168.3.103?* (a broadcast: the bridge floods it to every port,
# so it also reaches `br0` and `eth0`), `vm2` answered, then the echo requests and
# replies went `tap0` → bridge → `tap1` and back.
#
# The capture on `br0` also shows the unicast frames between the two VMs. That is
# tcpdump's doing: it puts `br0` into promiscuous mode, and a promiscuous bridge device
# gets a copy of every frame the bridge forwards. The frames are not addressed to the
# host, and its IP stack drops those copies. Two kernel facts show the host took no
# part: it has no ARP entry for either VM's address but the one it pinged itself, and
# the bridge's forwarding database learned each VM's MAC on its tap:

# %%
display(lab.run("ip", "neigh", "show"), lab.run("bridge", "fdb", "show", "br", "br0", "dynamic"))
snap = lab.snapshot()
known = {n.ip for n in snap.neighbours if n.namespace == "main" and n.mac}
learned = {e.mac: e.port for e in snap.fdb if e.namespace == "main" and not e.permanent}
fact("192.168.3.102" in known and "192.168.3.103" not in known,
     "the host has an ARP entry for vm1, which it pinged, and none for vm2", saw=known)
fact(learned.get("52:54:00:00:00:02") == "tap0" and learned.get("52:54:00:00:00:03") == "tap1",
     "the bridge learned vm1's MAC on tap0 and vm2's on tap1", saw=learned)

# %% [markdown]
# ## Step 5 · vm1 reaches the LAN and beyond, through br0 and eth0
#
# `vm1` pings the far server 198.51.100.1. It is not on `vm1`'s subnet, so `vm1`
# resolves its gateway 192.168.3.1 and sends the ICMP packets to the gateway's MAC. We
# capture on `eth0`, the host's uplink.

# %%
lab.neigh_flush()
with lab.capture("eth0", filter="arp or icmp") as cap:
    result = vm_ping("tap0", FAR)
display(result)
fact(result.ok, "vm1 reaches the far server through br0 and eth0", saw=result)
checks(lab.check.captured(cap, "eth0", "52:54:00:00:00:02"))
lab.view(cap)

# %% [markdown]
# On `eth0` every frame carries `vm1`'s own MAC `52:54:00:00:00:02`: for the LAN, `vm1`
# is just another machine behind the host's port, as in the article's picture. The host
# did not route or NAT anything; it switched frames from `tap0` to `eth0`. (Docker's
# containers, lab 08, are different: their packets go through the host's stack and
# NAT.)

# %% [markdown]
# ## Exercise · Start a third VM
#
# Add `vm3`: a tap `tap2` as a port of `br0` (with the MAC `fe:ff:ff:00:00:04`, so
# `br0` keeps `eth0`'s MAC), up, and a guest on it with
# 192.168.3.104/24 and MAC `52:54:00:00:00:04`. The checks read the kernel and ask
# `vm1` to ping `vm3`.

# %% tags=["solution"]
lab.tuntap("tap2", mode="tap")
lab.mac("tap2", "fe:ff:ff:00:00:04")
lab.enslave("tap2", "br0")
lab.up("tap2")
vm3 = start_vm("vm3", "tap2", "192.168.3.104/24", "52:54:00:00:00:04")
lab.view()

# %% tags=["wrong"]
lab.tuntap("tap2", mode="tap")  # a wrong attempt: the tap is on the bridge, but no guest holds it
lab.mac("tap2", "fe:ff:ff:00:00:04")
lab.enslave("tap2", "br0")
lab.up("tap2")
lab.view()

# %% tags=["check"]
checks(lab.check.is_port_of("tap2", "br0"),
       lab.check.carrier("tap2", hint="start the guest on tap2 (start_vm)"),
       lab.check.same_mac("br0", "eth0", hint="give tap2 a MAC starting with fe: before it joins br0"),
       lab.check.reachable("main", "192.168.3.104"))
display(lab.check.that(vm_ping("tap0", "192.168.3.104").ok, "vm1 reaches vm3 through br0",
                       hint="is tap2 a port of br0, up, and held by a guest with 192.168.3.104/24?"))

# %% [markdown]
# What you saw: a VM's NIC is a tap whose descriptor the hypervisor holds; the tap is
# a bridge port, so the guests' frames are switched between taps and out of `eth0`
# without the host's IP stack, with the guests' own MACs. Ports without a VM have no
# carrier and do not forward; tap MACs start with `fe:` so that VMs coming and going
# never change the bridge's MAC.

# %%
lab.close()
