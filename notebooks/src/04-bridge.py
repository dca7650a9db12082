# %% [markdown]
# # 04 · bridge: a switch in the kernel, and the port that stops talking to the stack
#
# A bridge is a virtual switch: it forwards Ethernet frames between its ports by MAC
# address. It is also a network device of its own (`br0`), with the IP stack behind
# it (section 4 of the article *002-Linux 虚拟网络设备*, "Linux virtual network devices",
# that these labs follow). The article's experiment shows what happens to a device that becomes
# a port: it stops delivering what it receives to the stack and hands it to the
# bridge instead.
#
# In this lab you will:
#
# 1. rebuild the article's veth pair (20.1.0.10 on `veth0`, 20.1.0.11 on `veth1`, in one
#    namespace) and create `br0`;
# 2. make `veth0` a port of `br0` and watch `ping -I veth0 20.1.0.11` keep working at
#    first (a cached ARP entry hides the problem) and then fail once the neighbour
#    cache is flushed, with a capture on `br0` that shows the **ARP reply swallowed** by
#    the bridge;
# 3. move the IP from `veth0` to `br0` and ping through `br0` (the replies, as in lab 03,
#    come back on `lo`);
# 4. see that `br0` has taken `veth0`'s MAC address.
#
# **Fell behind?** Lines `checkpoint(lab, "04-bridge", …)` mark the points you can jump to: on a
# fresh kernel, run the first cell, then `lab = restore("04-bridge", "step-5")` (or `"exercise"`)
# rebuilds the lab as it stands there, and you continue with that step.

# %%
from IPython.display import display

from labkit.notebook import checkpoint, checks, fact, fresh_lab, restore, seen  # restore: to jump to a checkpoint

lab = fresh_lab(uplink=False)  # the namespace "main" plays the host; a previous run's lab is closed first
lab.view(title="A fresh lab: the namespace main, with only lo")

# %% [markdown]
# ## Step 1 · The article's veth pair, with the settings lab 03 explained
#
# Both ends sit in one namespace, so the ping needs `accept_local` on the receiving
# side and no reverse-path filter (lab 03 shows why). With them, `ping -I veth0`
# works:

# %%
lab.veth("veth0", "veth1")
lab.addr("veth0", "20.1.0.10/24")
lab.addr("veth1", "20.1.0.11/24")
lab.up("veth0", "veth1")
for dev in ("veth0", "veth1"):
    lab.accept_local(dev)
    lab.rp_filter(dev, 0)
display(lab.check.reachable("main", "20.1.0.11", iface="veth0"))
lab.view()

# %% [markdown]
# ## Step 2 · Create br0

# %%
lab.bridge("br0")
lab.up("br0")
display(lab.run("ip", "-br", "link", "show", "br0"))
br0 = lab.snapshot().interface("br0")
fresh_mac = br0.mac
if "LOWER_UP" in br0.flags:  # kernels differ here: say what this one does
    carrier = f"this kernel ({lab.run('uname', '-r').stdout.strip()}) gives a bridge without ports a carrier (state UNKNOWN)"
else:
    carrier = "without a port br0 has no carrier (NO-CARRIER, state DOWN)"
fact("UP" in br0.flags and br0.state in ("UNKNOWN", "DOWN"), f"br0 is administratively up; {carrier}", saw=br0)
lab.view()

# %% [markdown]
# A fresh bridge without ports is administratively `UP`. Whether it has a carrier depends on
# the kernel, and the line above says what this one reported: the kernels of the original
# articles showed `NO-CARRIER`, state `DOWN`, until the first port came up; recent kernels
# (6.x) report `LOWER_UP` and state `UNKNOWN` instead, since nothing tells a bridge without
# ports that it has no link. Either way no frame can go anywhere yet. It has a random MAC of
# its own. Watch that MAC in the next steps.
#
# ## Step 3 · veth0 becomes a port of br0

# %%
lab.enslave("veth0", "br0")
display(lab.run("bridge", "link"))
checks(lab.check.port_state("veth0", "forwarding"), lab.check.same_mac("br0", "veth0"))
lab.view()

# %% [markdown]
# `bridge link` lists `veth0` as a port of `br0` in state `forwarding` (STP is off, so
# a port forwards at once). In the picture a `forwarding` edge now joins `veth0` to
# `br0`, and `br0` has taken `veth0`'s MAC (more on that in step 6).
#
# ## Step 4 · Ping through veth0: fine, until the ARP cache is flushed
#
# First the ping exactly as before:

# %%
result = lab.run("ping", "-c", "1", "-W", "1", "-I", "veth0", "20.1.0.11")
display(result, lab.run("ip", "neigh", "show", "dev", "veth0"))
fact(result.ok, "it still answers: the cached ARP entry hides the problem", saw=result)

# %% [markdown]
# It still answers, which the article does not predict. The stack may still *send* out of
# a port: `veth0` already knows `veth1`'s MAC from step 1 (the `REACHABLE` entry above),
# so the request goes straight out, and the reply comes back through `br0` to the same
# stack, which owns 20.1.0.10 on any device.
#
# Now forget the neighbours, as a host does after a few minutes, and try again while
# capturing on `veth0` and `br0`:

# %%
lab.neigh_flush()
with lab.capture("veth0", "br0", filter="arp or icmp") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", "-I", "veth0", "20.1.0.11")
display(result, lab.run("ip", "neigh", "show"))
stuck = [n.state for n in lab.snapshot().neighbours if n.namespace == "main" and n.dev == "veth0" and n.ip == "20.1.0.11"]
fact(not result.ok and "arp-request" in seen(cap, "veth0") and "arp-reply" in seen(cap, "veth0")
     and "arp-reply" in seen(cap, "br0") and not set(stuck) - {"INCOMPLETE", "FAILED"},
     "no reply; the ARP reply comes in on veth0 and is handed to br0; veth0's entry stays INCOMPLETE or FAILED",
     saw={"ping": result.stdout, "veth0": seen(cap, "veth0"), "br0": seen(cap, "br0"), "veth0 entry": stuck})
lab.view(cap)

# %% [markdown]
# No reply: 100% packet loss. The capture tells the story:
#
# * on `veth0`: the request *who has 20.1.0.11?* goes out, and the **reply** comes in;
# * on `br0`: the **same ARP reply**. A port hands every frame it receives to its
#   bridge, so the reply is delivered to the stack as received on `br0`, not on `veth0`.
#   The stack was waiting for an answer on `veth0`; `ip neigh` shows the entry on
#   `veth0` `INCOMPLETE` or `FAILED` (and any learned one on `br0`).
#
# This is the article's picture: `br0` sits between `veth0` and the stack and takes what
# `veth0` receives. The address on `veth0` has become useless.

# %%
checks(lab.check.unreachable("main", "20.1.0.11", iface="veth0"))

# %% [markdown]
# ## Step 5 · Move the IP to br0
#
# The address belongs on the bridge, the device the stack now talks to. `move_ip`
# deletes it from `veth0` and adds it to `br0` (and would move routes via `veth0`
# along with it). Because 20.1.0.11 is still in the same namespace, `br0` needs the
# same `accept_local`/`rp_filter` settings as `veth0` had. `with lab.live():` shows the
# lab's picture while these steps run and lists what the kernel reported (rtnetlink, the
# same notifications `ip monitor` prints): the address leaving `veth0`, arriving on `br0`,
# and its subnet's route following it.

# %%
checkpoint(lab, "04-bridge", "step-5")  # a point to jump to: restore("04-bridge", "step-5")
with lab.live():  # the picture follows the kernel while the block runs; the list of changes stays below it
    lab.move_ip("veth0", "br0")
    lab.accept_local("br0")
    lab.rp_filter("br0", 0)
    lab.neigh_flush()
with lab.capture("br0", "veth1", "lo", filter="arp or icmp") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", "-I", "br0", "20.1.0.11")
display(result)
on = {dev: seen(cap, dev) for dev in ("br0", "veth1", "lo")}
fact(result.ok and {"arp-request", "arp-reply", "echo-request"} <= set(on["br0"]) and "echo-reply" not in on["br0"]
     and "echo-request" in on["veth1"] and "echo-reply" in on["lo"],
     "the ping works; ARP both ways and the echo requests on br0 and veth1; the echo replies on lo", saw=on)
lab.view(cap)

# %% [markdown]
# The ping from `br0` works. The ARP request leaves through `br0`, is switched out of
# its port `veth0` and crosses the cable to `veth1`; `veth1`'s ARP reply comes back the
# same way and is delivered on `br0`, where the stack asked. The echo requests follow
# that path too. The echo **replies** do not: they go to 20.1.0.10, an address of this
# very namespace, so, as in labs 00 and 03, the kernel loops them back through `lo`.
# The `br0` pane holds only requests. `veth0` is now just a cable plugged into the
# switch, which is what a bridge port should be.
#
# ## Step 6 · br0 took veth0's MAC

# %%
snap = lab.snapshot()
for name in ("br0", "veth0", "veth1"):
    print(f"{name:<6} {snap.interface(name).mac}")
first_mac = globals().get("fresh_mac") or "not seen: you jumped past step 2"
print(f"br0 before it had a port: {first_mac}")
checks(lab.check.same_mac("br0", "veth0"))
checkpoint(lab, "04-bridge", "exercise")  # a point to jump to, before the exercise: restore("04-bridge", "exercise")

# %% [markdown]
# The article says "br0's MAC becomes veth0's". Precisely: unless it was given a MAC of its
# own, a bridge takes the **lowest** MAC of its ports, and changes it when ports come
# and go. With one port, that is `veth0`'s. (Lab 07 meets the consequence: hypervisors
# give tap devices MACs that start with `fe:` so they never win.)

# %% [markdown]
# ## Exercise · Plug a container into the switch
#
# Containers (the article *linux虚拟网络*, "Linux virtual networking", draws them) sit on a bridge through a veth pair: one end is a port of the
# bridge in `main`, the other end is the container's `eth0` in its own namespace.
#
# 1. create a namespace `h1` and a veth pair `veth-h1` (in `main`) ↔ `eth0` (in `h1`);
# 2. make `veth-h1` a port of `br0`, with no IP address, and bring it up;
# 3. give `h1/eth0` the address 20.1.0.20/24 and bring it up,
#
# so that `h1` reaches 20.1.0.10 on `br0`. The solution is filled in; the checks
# below read the kernel.

# %% tags=["solution"]
lab.netns("h1")
lab.veth("veth-h1", "eth0", peer_ns="h1")
lab.enslave("veth-h1", "br0")
lab.up("veth-h1")
lab.addr("eth0", "20.1.0.20/24", ns="h1")
lab.up("eth0", ns="h1")
lab.view()

# %% tags=["wrong"]
lab.netns("h1")  # a wrong attempt: the cable is there, but veth-h1 is not plugged into br0
lab.veth("veth-h1", "eth0", peer_ns="h1")
lab.up("veth-h1")
lab.addr("eth0", "20.1.0.20/24", ns="h1")
lab.up("eth0", ns="h1")
lab.view()

# %% tags=["check"]
checks(lab.check.is_port_of("veth-h1", "br0"),
       lab.check.no_address("veth-h1"),
       lab.check.reachable("h1", "20.1.0.10", hint="is veth-h1 up and a port of br0? is h1/eth0 up with 20.1.0.20/24?"))

# %% [markdown]
# What you saw: a port gives what it receives to its bridge, so an IP address left on
# a port stops working (after the ARP cache forgets, which hides the problem for a
# while); the address belongs on the bridge, which takes the lowest MAC of its ports.
# Next: lab 05 does the same to the host's uplink `eth0`, where a mistake cuts the host
# off.

# %%
lab.close()
