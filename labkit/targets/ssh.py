"""SSH to a VM, from ``vagrant ssh-config``: parsing it (pure) and the ssh command line."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

PERSIST = 600  # seconds an idle shared ssh connection stays


@dataclass(frozen=True)
class SshConfig:
    """What ``vagrant ssh-config`` says about one machine."""

    host: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...]
    proxy_command: str | None = None

    def options(self) -> list[str]:
        """ssh options that reach the machine without asking anything."""
        opts = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=20", "-o", "ServerAliveInterval=5",
                "-o", "ServerAliveCountMax=6", "-p", str(self.port)]
        for identity in self.identity_files:
            opts += ["-i", identity]
        if self.proxy_command:
            opts += ["-o", f"ProxyCommand={self.proxy_command}"]
        return opts

    def argv(self, remote: list[str], shared: str | None = None) -> list[str]:
        """``ssh ... user@host -- <remote command>`` (the remote words quoted for its shell).

        ``shared``: a control socket path. The first ssh then leaves a master connection behind
        (for :data:`PERSIST` idle seconds) and later ones run over it, with no new handshake,
        login and session (about 1-1.5 s under emulation)."""
        shares = ["-o", "ControlMaster=auto", "-o", f"ControlPath={shared}", "-o", f"ControlPersist={PERSIST}"] if shared else []
        return ["ssh", *self.options(), *shares, f"{self.user}@{self.hostname}", "--", shlex.join(remote)]


def parse_ssh_config(text: str) -> SshConfig:
    """Parse ``vagrant ssh-config`` output (the first Host block)."""
    values: dict[str, list[str]] = {}
    host = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        key, value = key.lower(), value.strip().strip('"')
        if key == "host":
            if host:
                break
            host = value
            continue
        values.setdefault(key, []).append(value)
    if not host or "hostname" not in values:
        raise ValueError("no Host/HostName in the ssh config")
    return SshConfig(
        host=host,
        hostname=values["hostname"][0],
        port=int(values.get("port", ["22"])[0]),
        user=values.get("user", ["vagrant"])[0],
        identity_files=tuple(values.get("identityfile", [])),
        proxy_command=values.get("proxycommand", [None])[0],
    )
