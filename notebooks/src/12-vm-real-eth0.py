# %% [markdown]
# # 12 · Bridging the VM's real eth0, with a safety net (commit-confirmed)
#
# Lab 05 bridged a *simulated* uplink. Here we do it for real, inside the disposable VM: the
# guest's `eth0` is the NIC that carries **our own SSH session** — the connection this notebook
# uses to drive the VM. The article *linux虚拟网络* ("Linux virtual networking") warns that
# enslaving the uplink into a bridge in the wrong order cuts the machine off from its network.
# On a remote server that means a trip to the data centre.
#
# Network engineers protect themselves with **commit-confirmed** (a router's `commit confirmed 5`):
# apply the change, then confirm it from the same session within a few seconds; if the confirmation
# never arrives — because the change cut the session — the device undoes the change by itself.
# `lab.confirmed(timeout=5)` does exactly that: the agent in the VM applies the steps, starts a
# timer, and rolls back unless this notebook's confirmation reaches it in time.
#
# This lab needs the VM target (`LABKIT_TARGET=vagrant`): on the local sandbox there is no real
# eth0 to risk, and the notebook says so and its cells do nothing.

# %%
import time

from IPython.display import display

from labkit.errors import StepFailed
from labkit.notebook import checks, fact, fresh_lab, requires

lab = fresh_lab()  # on the VM target, the guest's own namespace is ns="host"; closes a previous run's lab
on_vm = requires(lab, target="vagrant", why="bridging the VM's real eth0")
if on_vm:
    guest_eth0 = lab.snapshot().interface("eth0", "host")
    ORIGINAL = [a for a in guest_eth0.addresses if ":" not in a]
    print("the guest's eth0:", guest_eth0.mac, ORIGINAL)
    display(lab.view(title="The guest's own namespace ('host'): eth0 carries our SSH session"))

# %% [markdown]
# ## The right way: bridge, port and address move together
#
# One confirmed change: create `br0`, bring it up, enslave `eth0`, and move its address *and the
# default route* to `br0` (`move_ip`). The bridge takes eth0's MAC (it is its only port), so even
# the neighbours' ARP caches stay right. The session survives, the confirmation arrives, the
# change is kept.

# %%
if on_vm:
    with lab.confirmed(timeout=5) as right:
        lab.bridge("br0", ns="host")
        lab.up("br0", ns="host")
        lab.enslave("eth0", "br0", ns="host")
        lab.move_ip("eth0", "br0", ns="host")
    print(f"kept: {right.kept}; confirmed {right.seconds:.2f} s after we sent it")
    fact(right.kept, "the session survived and the confirmation arrived: the change is kept",
         saw=f"kept={right.kept} after {right.seconds:.2f} s")
    checks(lab.check.has_address("host/br0", ORIGINAL[0]), lab.check.is_port_of("host/eth0", "br0"))
    display(lab.view(title="br0 now holds the address; eth0 is a port"))

# %% [markdown]
# Put it back as it was (the undo of a confirmed change is its exact reverse), so we can make the
# mistake next.

# %%
if on_vm:
    display(lab.undo())
    checks(lab.check.has_address("host/eth0", ORIGINAL[0]))
    display(lab.view(title="Back to the start"))

# %% [markdown]
# ## The wrong way: enslave first, address left behind
#
# Now only enslave `eth0` into a new bridge `br1`. Its address stays on a bridge port, and
# frames arriving on a port go to the bridge, never to eth0's IP stack. Surprisingly, the session
# does not die at once: the guest still knows the controller's MAC (its ARP cache) and the bridge
# even hands unicast frames for its own MAC up through `br1`. It dies when ARP must ask again,
# because the ARP *reply* arrives on a port and is lost to eth0 — so the change also flushes the
# neighbour cache, as a cache expiry would a minute later. The confirmation cannot arrive; after
# 5 s the agent undoes the change by itself, TCP retransmits, and the session comes back. We time it.

# %%
if on_vm:
    started = time.monotonic()
    rolled_back = None
    try:
        with lab.confirmed(timeout=5):
            lab.bridge("br1", ns="host")
            lab.up("br1", ns="host")
            lab.enslave("eth0", "br1", ns="host")
            lab.neigh_flush("eth0", ns="host")
    except StepFailed as error:
        rolled_back = error
        print("rolled back:", error.what)
    back_after = time.monotonic() - started
    print(f"the session was back {back_after:.1f} s after the wrong change")
    fact(rolled_back is not None, "the change cut the session, so the agent rolled it back by itself",
         saw=rolled_back or "the change was kept: this kernel delivered the ARP reply through a bridge port")

# %% [markdown]
# Did the rollback leave anything behind? Ask the kernel (the snapshot itself travels over the
# session, so getting one at all says the VM is reachable again): `eth0` is no bridge port, it
# holds its address again, and all that took less than 10 s.

# %%
if on_vm:
    guest_eth0 = lab.snapshot().interface("eth0", "host")
    fact(guest_eth0.master is None and ORIGINAL[0] in guest_eth0.addresses and back_after < 10,
         f"eth0 is no port any more and holds {ORIGINAL[0]} again; the session came back within 10 s ({back_after:.1f} s)",
         saw=guest_eth0)
    print("the guest's routes now:", *[f"{r.dst} dev {r.dev}" + (f" via {r.gateway}" if r.gateway else "") + f" ({r.proto})"
                                       for r in lab.snapshot().routes if r.namespace == "host"], sep="\n  ")
    display(lab.view(title="After the rollback: eth0 as it was"))

# %% [markdown]
# ## Exercise: repair the wrong way
#
# Bridge `eth0` into `br1` again, this time so that the session survives: in one
# `lab.confirmed(timeout=5)` change, make `br1`, bring it up, make `eth0` its port and move eth0's
# address and routes to it. The check wants the change kept: `eth0` a port of `br1` and the
# address on `br1`. (The lab's last cell undoes it, as every change to the VM's own namespace.)
#
# The cell below holds one solution. Try your own first, then run the check.

# %% tags=["solution"]
if on_vm:
    with lab.confirmed(timeout=5) as repaired:
        lab.bridge("br1", ns="host")
        lab.up("br1", ns="host")
        lab.enslave("eth0", "br1", ns="host")
        lab.move_ip("eth0", "br1", ns="host")
    print(f"kept: {repaired.kept}")
    display(lab.view(title="Exercise: eth0 bridged into br1, the session intact"))

# %% tags=["wrong"]
if on_vm:
    with lab.confirmed(timeout=5) as repaired:  # a wrong attempt: the bridge is made, but eth0 is never its port
        lab.bridge("br1", ns="host")
        lab.up("br1", ns="host")
    print(f"kept: {repaired.kept}")
    display(lab.view(title="Exercise: br1"))

# %% tags=["check"]
if on_vm:
    checks(lab.check.is_port_of("host/eth0", "br1", hint="lab.enslave('eth0', 'br1', ns='host'), in the same confirmed change"),
           lab.check.has_address("host/br1", ORIGINAL[0], hint="move eth0's address with lab.move_ip('eth0', 'br1', ns='host')"))

# %%
lab.close()   # undoes every change to the VM's own namespace, then removes the lab
