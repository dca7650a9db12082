# %% [markdown]
# # 05 · Bridging the uplink eth0: the order that cuts you off, the one that does not
#
# To put VMs or containers on the same LAN as the host (as the article *linux虚拟网络*,
# "Linux virtual networking", does), the host's
# physical card `eth0` becomes a port of a bridge `br0`. Lab 04 showed what that does
# to an address left on a port. On `eth0` it is worse: the address carries the
# host's default route, so a wrong order of commands cuts the host off its network,
# and on a remote server the SSH session that typed the command with it.
#
# Here `eth0` is the lab's simulated uplink: a veth whose other end is in a namespace
# `upstream` that plays the LAN (a switch `lan`, the gateway 192.168.3.1) and, behind
# the gateway, a far server 198.51.100.1. The host is `main` with 192.168.3.10/24.
#
# In this lab you will:
#
# 1. check that the host reaches the far server through its gateway;
# 2. do it the **wrong** way (enslave `eth0` first): the host is cut off;
# 3. roll back with `lab.undo()`;
# 4. do it the **right** way: enslave `eth0` and move its address *and routes* to
#    `br0` in one atomic step, confirmed by a ping, with an automatic rollback;
# 5. in the exercise, type the article's "正确姿势" (right way) script yourself.

# %%
from IPython.display import display

from labkit.notebook import checks, fact, fresh_lab, seen

lab = fresh_lab()  # main (the host) with eth0 on the simulated LAN "upstream"; a previous run's lab is closed first
FAR = "198.51.100.1"  # a server beyond the gateway 192.168.3.1
lab.view(title="The host main, its uplink eth0, and the simulated LAN upstream")

# %% [markdown]
# ## Step 1 · The host as it starts
#
# `eth0` holds 192.168.3.10/24 and the default route points at 192.168.3.1 through
# `eth0`. The far server answers.

# %%
display(lab.run("ip", "-br", "addr"), lab.run("ip", "route"))
checks(lab.check.has_address("eth0", "192.168.3.10/24"), lab.check.route("default", "eth0", via="192.168.3.1"),
       lab.check.reachable("main", FAR))

# %% [markdown]
# ## Step 2 · Create br0
#
# Nothing changes for the host yet: `br0` has no port and no address.

# %%
lab.bridge("br0")
lab.up("br0")
checks(lab.check.reachable("main", FAR))
lab.view()

# %% [markdown]
# ## Step 3 · The wrong order: enslave eth0 first
#
# The article's first attempt, `ip link set dev eth0 master br0`, with the address and
# the default route still on `eth0`. Then we ping the far server, capturing on
# `eth0` and `br0`. The neighbour cache is flushed first, as the self-check does
# too, so a cached gateway MAC cannot hide the problem for a few minutes (lab 04).

# %%
lab.enslave("eth0", "br0")
lab.neigh_flush()
with lab.capture("eth0", "br0", filter="arp or icmp") as cap:
    result = lab.run("ping", "-c", "2", "-W", "1", FAR)
display(result)
on = {dev: seen(cap, dev) for dev in ("eth0", "br0")}
fact(not result.ok and {"arp-request", "arp-reply"} <= set(on["eth0"]) and "arp-reply" in on["br0"],
     "cut off: the stack asks for the gateway out of eth0, the gateway answers, and the answer is handed to br0", saw=on)
checks(lab.check.unreachable("main", FAR, hint="with eth0 a port and the IP still on it, the host should be cut off"))
lab.view(cap)

# %% [markdown]
# Cut off. The capture shows why, exactly as in lab 04:
#
# * the stack still asks *who has 192.168.3.1?* out of `eth0` (the default route says
#   `dev eth0`), and the gateway **answers**;
# * but the answer, received by `eth0`, is handed to `br0`: `br0`'s capture shows it.
#   The stack waits for it on `eth0` and never sees it.
#
# You may also see the gateway ask *who has 192.168.3.10?* and get an answer through
# `br0`: Linux answers ARP for any of its addresses on whichever device the question
# arrives (the "weak host" model). The host can be found; it just cannot find anyone.
#
# On a real server you would now have lost your SSH session, which came in through
# `eth0` as well. The article's script exists for this moment: it pings, and if the ping
# fails it undoes the change.
#
# ## Step 4 · Roll back
#
# Every lab step remembers how to undo itself; `lab.undo()` undoes the last one that
# changed something (here: `ip link set dev eth0 nomaster`).

# %%
display(lab.undo())
checks(lab.check.reachable("main", FAR))
lab.view()

# %% [markdown]
# ## Step 5 · The right way: one atomic step, confirmed by a ping
#
# Three things must happen together: `eth0` becomes a port, its address moves to
# `br0`, and **the routes that used `eth0`** (the default route!) move to `br0` too.
# `move_ip` moves addresses and routes in one go; inside `with lab.batch():` it and
# `enslave` become **one** step, applied atomically at the end of the block (if any
# part fails, the others are undone).
#
# Then the step is *confirmed*: if the far server does not answer, it is rolled back
# at once, the way a remote change should be made (network engineers call it "commit
# confirmed"). On a real machine, where your own SSH session runs over `eth0`, the
# rollback must happen on the machine itself, without you: that is
# `with lab.confirmed(timeout=5):` on the VM target (lab 12).

# %%
with lab.batch():
    lab.enslave("eth0", "br0")
    lab.move_ip("eth0", "br0")
if lab.ping(FAR, count=2):
    print("confirmed: the far server answers through br0")
else:
    print("no answer: rolling back", lab.undo())
display(lab.run("ip", "route"))
lab.view()

# %%
checks(lab.check.is_port_of("eth0", "br0"),
       lab.check.has_address("br0", "192.168.3.10/24"),
       lab.check.route("default", "br0", via="192.168.3.1"),
       lab.check.reachable("main", FAR))

# %% [markdown]
# The routes moved with the address (`default via 192.168.3.1 dev br0`), and `br0` took
# `eth0`'s MAC, so for the gateway nothing changed at all: same IP, same MAC. Watch a
# ping now, capturing on `eth0` and `br0`: the frames cross `eth0` as a cable and are
# delivered on `br0`.

# %%
lab.neigh_flush()
with lab.capture("eth0", "br0", filter="arp or icmp") as cap:
    result = lab.run("ping", "-c", "1", "-W", "1", FAR)
display(result)
on = {dev: seen(cap, dev) for dev in ("eth0", "br0")}
fact(result.ok and all({"echo-request", "echo-reply"} <= set(on[dev]) for dev in on),
     "the ping and its reply cross eth0 and are delivered on br0", saw=on)
checks(lab.check.same_mac("br0", "eth0"))
lab.view(cap)

# %% [markdown]
# ## Step 6 · Rolling the right way back
#
# The article's script also knows how to go back: delete the bridge and put the route
# back on `eth2`. Undoing our one step restores everything it changed, in reverse
# order: routes and address back on `eth0`, then `eth0` released from `br0`.

# %%
display(lab.undo(), lab.run("ip", "route"))
checks(lab.check.has_address("eth0", "192.168.3.10/24"), lab.check.route("default", "eth0", via="192.168.3.1"),
       lab.check.reachable("main", FAR))
lab.view()

# %% [markdown]
# ## Exercise · The article's script, in its own order
#
# The article's "添加网桥的正确姿势" ("the right way to add a bridge") does it without an atomic step, in an order that never
# leaves the host without a working path for long:
#
# ```
# ip link add name br-wan type bridge
# ip link set br-wan up
# ip addr add 192.168.12.68/24 dev br-wan       # here: move 192.168.3.10/24 from eth0
# ip link set dev eth2 master br-wan
# ip route del default via 192.168.12.1 dev eth2
# ip route add default via 192.168.12.1 dev br-wan
# ```
#
# Do the same for this lab's `eth0` with the lab's steps (`lab.bridge`, `lab.up`,
# `lab.move_ip`, `lab.enslave`, and, if your address move left the route behind,
# `lab.route_del` / `lab.route`), using a bridge named `br-wan`. The checks below read
# the kernel: `eth0` is a port of `br-wan` with no address, `br-wan` has
# 192.168.3.10/24 and the default route, and the far server answers.
#
# (`lab.move_ip` moves routes too, so the two route commands are already done by it.
# Try `lab.addr_del` + `lab.addr` instead to see the route vanish with the address.)

# %% tags=["solution"]
lab.bridge("br-wan")
lab.up("br-wan")
lab.move_ip("eth0", "br-wan")
lab.enslave("eth0", "br-wan")
display(lab.run("ip", "route"))
lab.view()

# %% tags=["wrong"]
lab.bridge("br-wan")  # a wrong attempt: the wrong order of step 3, eth0 enslaved with its address still on it
lab.up("br-wan")
lab.enslave("eth0", "br-wan")
display(lab.run("ip", "route"))
lab.view()

# %% tags=["check"]
checks(lab.check.is_port_of("eth0", "br-wan"),
       lab.check.no_address("eth0"),
       lab.check.has_address("br-wan", "192.168.3.10/24"),
       lab.check.route("default", "br-wan", via="192.168.3.1", hint="the default route must leave through the bridge now"),
       lab.check.reachable("main", FAR))

# %% [markdown]
# What you saw: a port hands what it receives to its bridge, so the uplink's address
# and **routes** must move to the bridge together with the enslaving; done in the wrong
# order the host loses its gateway, and a change to a remote machine's uplink should
# confirm itself or roll back. Next: lab 07 plugs VMs into this bridge.

# %%
lab.close()
