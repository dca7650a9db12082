"""Pure parts of the VM target: ssh-config parsing and remembering, Vagrant's machine-readable output
(the agent's bundle: tests/unit/test_bundle.py)."""

import os
from pathlib import Path

from labkit.progress import PHASES, parse_machine_readable, phase_of
from labkit.targets.ssh import parse_ssh_config
from labkit.targets.vagrant import CACHE_HEADER, SSH_CACHE, machine_dir, remember_ssh_config, remembered_ssh_config

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



def test_ssh_config_is_remembered_for_one_machine_id(tmp_path: Path) -> None:
    machine = tmp_path / ".vagrant" / "machines" / "default" / "libvirt"
    machine.mkdir(parents=True)
    assert machine_dir(tmp_path, {}) is None, "no machine created yet"
    (machine / "id").write_text("5d1c-uuid-1")
    assert machine_dir(tmp_path, {}) == machine
    assert remembered_ssh_config(machine) is None
    remember_ssh_config(machine, SSH_CONFIG)
    kept = remembered_ssh_config(machine)
    assert kept is not None and kept.hostname == "192.168.121.57" and kept == parse_ssh_config(SSH_CONFIG)
    (machine / "id").write_text("77aa-uuid-2")  # destroyed and made again: another machine
    assert remembered_ssh_config(machine) is None


def test_vagrant_dotfile_path_moves_the_machines_folder(tmp_path: Path) -> None:
    machine = tmp_path / "state" / "vagrant" / "machines" / "default" / "libvirt"
    machine.mkdir(parents=True)
    (machine / "id").write_text("u1")
    assert machine_dir(tmp_path, {}) is None
    assert machine_dir(tmp_path, {"VAGRANT_DOTFILE_PATH": str(tmp_path / "state" / "vagrant")}) == machine


def test_the_vagrantfile_trigger_writes_the_file_and_header_the_target_reads() -> None:
    vagrantfile = (Path(__file__).resolve().parents[2] / "Vagrantfile").read_text()
    assert f'"{SSH_CACHE}"' in vagrantfile and f'"{CACHE_HEADER}#{{machine.id}}"' in vagrantfile


def test_a_lab_shares_the_machines_ssh_connection_in_a_private_folder(tmp_path: Path) -> None:
    from labkit.targets.vagrant import shared_socket

    config = parse_ssh_config("Host default\n  HostName 192.168.121.7\n  User vagrant\n  Port 22\n")
    machine = tmp_path / "machines" / "default" / "libvirt"
    machine.mkdir(parents=True)
    assert shared_socket(machine, str(tmp_path)) is None, "no machine id yet: nothing to share"
    (machine / "id").write_text("760f9d5a-2679-41b3-aaf1-37da5685703c")
    sock = shared_socket(machine, str(tmp_path))
    assert sock == str(tmp_path / f"labkit-ssh-{os.getuid()}" / "760f9d5a-2679-41.sock")
    assert (tmp_path / f"labkit-ssh-{os.getuid()}").stat().st_mode & 0o777 == 0o700
    argv = config.argv(["true"], sock)
    at = argv.index("vagrant@192.168.121.7")
    assert argv[at - 6:at] == ["-o", "ControlMaster=auto", "-o", f"ControlPath={sock}", "-o", "ControlPersist=600"]
    assert not any(a.startswith("Control") for a in config.argv(["true"])), "no socket, no sharing"
    (tmp_path / f"labkit-ssh-{os.getuid()}").chmod(0o755)
    assert shared_socket(machine, str(tmp_path)) is None, "a folder others can enter is not used"
    (machine / "id").write_text("../../x")
    assert shared_socket(machine, str(tmp_path)) is None
