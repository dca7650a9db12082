"""JupyterHub for a class on one Linux server: each learner a real local user, each lab rootless.

Install (as root, once): ``./dev install-system --hub`` puts labkit, JupyterLab, JupyterHub and its
proxy (configurable-http-proxy, from npm) in /opt/labkit. Learners: ``deploy/one-server/add-learners.sh
N`` makes N local users in the group ``labkit-learners`` and prints their passwords. Start (as root,
from a directory the hub keeps its database and cookie secret in)::

    mkdir -p /var/lib/labkit-hub && cd /var/lib/labkit-hub
    /opt/labkit/venv/bin/jupyterhub -f /path/to/labkit/deploy/one-server/jupyterhub_config.py

and put TLS in front of it (or ``--ip``/``--port`` and ``c.JupyterHub.ssl_key``/``ssl_cert``) before it
listens beyond 127.0.0.1.

Why real local users (PAM) and not a shared password or DummyAuthenticator: the isolation between
learners is the kernel's isolation between uids. Each learner's server runs as their own uid
(LocalProcessSpawner), their labs run in user namespaces of their own (labkit's rootless mode), their
captures and notebooks sit in files only they can read (home 0700, capture dirs 0700). A
DummyAuthenticator, or a shared workshop password, lets anyone log in under any name, so one learner
could open another's server, labs and captures by typing their name: no isolation at all. With local
accounts a password leaks one learner, not the class. (A workshop that wants one password for the
room can use ``SharedPasswordAuthenticator`` with ``allowed_users``, but every learner then can be
every other; we do not ship that.)

Why no sudo and no root for the learners: labkit's rootless mode needs only unprivileged user
namespaces (``labkit doctor`` checks them) and /dev/net/tun for the tun/tap labs. The hub itself runs
as root, because starting a server as another user takes root (setuid); it starts nothing else.
"""

# ruff: noqa: F821  (`c` is the config object JupyterHub gives this file)

import os

PREFIX = "/opt/labkit"

# -- where it listens: the proxy on 127.0.0.1:8000 (the hub's API on 127.0.0.1:8081) unless told otherwise
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = 8000
c.JupyterHub.hub_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.command = [f"{PREFIX}/venv/bin/configurable-http-proxy"]

# -- who may log in: local accounts of the group labkit-learners, checked by PAM (see the docstring)
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {"labkit-learners"}
c.PAMAuthenticator.open_sessions = False  # no systemd/logind here; a session module would only log errors

# -- each learner's server: labkit's JupyterLab on their own working copy (~/labkit), rootless labs
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [f"{PREFIX}/venv/bin/labkit", "lab", "--hub"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    "LABKIT_TARGET": "local",
    "LABKIT_MODE": "rootless",  # never sudo, even for a learner who happens to have it
    "PATH": f"{PREFIX}/venv/bin:/usr/local/bin:/usr/bin:/bin",
}
c.Spawner.env_keep = ["LANG", "LC_ALL"]  # nothing of the hub's own environment (no PYTHONPATH, no root PATH)
c.Spawner.start_timeout = 120  # a busy two-core server takes a while to start thirty JupyterLabs
c.Spawner.http_timeout = 120
c.LocalProcessSpawner.shell_cmd = []  # run the command itself, not through a login shell

# -- state: in the directory the hub was started from, readable by root only
c.JupyterHub.cookie_secret_file = os.path.abspath("jupyterhub_cookie_secret")
c.JupyterHub.db_url = "sqlite:///" + os.path.abspath("jupyterhub.sqlite")
c.ConfigurableHTTPProxy.pid_file = os.path.abspath("jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server (and so their labs)
