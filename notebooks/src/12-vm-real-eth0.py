# %% [markdown]
# # 12 · Bridging the VM's real eth0, with a safety net (commit-confirmed)
#
# Lab 05 bridged a *simulated* uplink. Here we do it for real, inside the disposable VM: the
# guest's `eth0` is the NIC that carries **our own SSH session** — the connection this notebook
# uses to drive the VM. Seed 002 warns that enslaving the uplink into a bridge in the wrong order
# cuts the machine off from its network. On a remote server that means a trip to the data centre.
#
# Network engineers protect themselves with **commit-confirmed** (a router's `commit confirmed 5`):
# apply the change, then confirm it from the same session within a few seconds; if the confirmation
# never arrives — because the change cut the session — the device undoes the change by itself.
# `lab.confirmed(timeout=5)` does exactly that: the agent in the VM applies the steps, starts a
# timer, and rolls back unless this notebook's confirmation reaches it in time.
#
# This lab needs the VM target (`LABKIT_TARGET=vagrant`): on the local sandbox there is no real
# eth0 to risk, and the notebook says so and stops.

# %%
try:
    lab.close()  # a previous run of this notebook: start again from nothing
except NameError:
    pass

import time

from IPython.display import HTML, display

from labkit import Lab
from labkit.errors import StepFailed

lab = Lab()
ON_VM = lab.target.name == "vagrant"
if not ON_VM:
    display(HTML(
        '<div style="border:2px solid #e69500;background:#fff8e1;padding:8px 12px;border-radius:6px">'
        "<b>⏭ skipped: this lab changes a real NIC, so it only runs on the VM target.</b><br>"
        "Start JupyterLab with <code>LABKIT_TARGET=vagrant</code> (or run it inside the VM: "
        "<code>vagrant up</code>, then open the printed URL).</div>"))
else:
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
if ON_VM:
    with lab.confirmed(timeout=5) as right:
        lab.bridge("br0", ns="host")
        lab.up("br0", ns="host")
        lab.enslave("eth0", "br0", ns="host")
        lab.move_ip("eth0", "br0", ns="host")
    print(f"kept: {right.kept}; confirmed {right.seconds:.2f} s after we sent it")
    display(lab.view(title="br0 now holds the address; eth0 is a port"))
    lab.check.has_address("host/br0", ORIGINAL[0])

# %% [markdown]
# Put it back as it was (the undo of a confirmed change is its exact reverse), so we can make the
# mistake next.

# %%
if ON_VM:
    lab.undo()
    display(lab.view(title="Back to the start"))
    lab.check.has_address("host/eth0", ORIGINAL[0])

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
if ON_VM:
    started = time.monotonic()
    try:
        with lab.confirmed(timeout=5):
            lab.bridge("br1", ns="host")
            lab.up("br1", ns="host")
            lab.enslave("eth0", "br1", ns="host")
            lab.neigh_flush("eth0", ns="host")
        print("kept?! this kernel delivered the ARP reply through a bridge port")
    except StepFailed as rolled_back:
        back_after = time.monotonic() - started
        display(HTML(f"<b>Rolled back:</b> {rolled_back.what}"))
        print(f"the session was back {back_after:.1f} s after the wrong change")

# %% [markdown]
# ## Exercise
#
# Check, from the kernel, that the wrong change left nothing behind: `eth0` is no bridge port,
# it holds its address again, and the VM is still reachable (the snapshot itself travelled over
# the session).

# %%
if ON_VM:
    snap = lab.snapshot()
    lab.check.that(snap.interface("eth0", "host").master is None, "eth0 is not a bridge port any more",
                   hint="the rollback should have released it")
    lab.check.has_address("host/eth0", ORIGINAL[0])
    lab.check.that(back_after < 10, f"the session came back within 10 s ({back_after:.1f} s)")

# %%
lab.close()
