"""Pure parts of the VM target: ssh-config parsing, Vagrant's machine-readable output, the agent bundle."""

import zipfile
from io import BytesIO

from labkit.progress import PHASES, parse_machine_readable, phase_of
from labkit.targets.bundle import BOOTSTRAP, agent_zip
from labkit.targets.ssh import parse_ssh_config

SSH_CONFIG = """Host default
  HostName 192.168.121.57
  User vagrant
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /root/.vagrant.d/insecure_private_key
  IdentityFile "/work/main/.vagrant/machines/default/libvirt/private_key"
  IdentitiesOnly yes
  LogLevel FATAL
  ProxyCommand ip netns exec labkit-vmci nc %h %p
"""


def test_ssh_config_is_parsed_into_a_batch_mode_command() -> None:
    cfg = parse_ssh_config(SSH_CONFIG)
    assert (cfg.host, cfg.hostname, cfg.port, cfg.user) == ("default", "192.168.121.57", 22, "vagrant")
    assert cfg.identity_files == ("/root/.vagrant.d/insecure_private_key", "/work/main/.vagrant/machines/default/libvirt/private_key")
    argv = cfg.argv(["sudo", "-n", "python3", "-c", "print('a b')"])
    assert argv[0] == "ssh" and "BatchMode=yes" in argv and "ProxyCommand=ip netns exec labkit-vmci nc %h %p" in argv
    assert argv[-2:] == ["--", "sudo -n python3 -c 'print('\"'\"'a b'\"'\"')'"]


def test_machine_readable_lines_and_phases() -> None:
    parsed = parse_machine_readable("1763780000,default,ui,info,==> default: Creating domain with the following settings...")
    assert parsed == ("default", "ui", ["info", "==> default: Creating domain with the following settings..."])
    assert parse_machine_readable("1763780000,default,state,running") == ("default", "state", ["running"])
    assert parse_machine_readable("not machine readable") is None
    assert parse_machine_readable("1,t,ui,info,a%!(VAGRANT_COMMA) b")[2][1] == "a, b"  # type: ignore[index]
    assert PHASES[phase_of("==> default: Waiting for domain to get an IP address...") or 0][1] == "waiting for the VM's network"
    assert phase_of("something else") is None


def test_the_agent_bundle_carries_labkit_and_pyroute2_but_no_notebook_code() -> None:
    names = zipfile.ZipFile(BytesIO(agent_zip())).namelist()
    assert "labkit/targets/agent.py" in names and "pyroute2/__init__.py" in names
    assert not any("__pycache__" in n for n in names)
    assert "main(['--lab-id',sys.argv[3],'--target','vagrant']" in BOOTSTRAP
