"""The learner's pod of deploy/jupyterhub, reproduced on this kernel: a process with exactly the
values' container security context (uid 1000, gid 100, only the added capabilities in the bounding
set, no_new_privs) runs a lab on the rootless target, with a capture, and cannot touch its own
network namespace (the pod's interfaces). No cluster runs here; setpriv sets what the runtime would."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from bench.learners import shared_python, world_readable_labkit

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="setting another uid and a bounding set (setpriv) needs root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing"),
]
LAB = """
from labkit import Lab
from labkit.recipes import host_pair
with Lab(uplink=False) as lab:
    host_pair(lab, "h1", "v0", "v1", "10.66.0")
    lab.bridge("br0", stp=True, forward_delay=2)
    with lab.capture("v0", filter="icmp") as cap:
        ok = lab.run("ping", "-c", "2", "-i", "0.2", "-W", "2", "10.66.0.2").ok
    print(lab.target.mode, ok, cap.counts()["main/v0"])
"""


def pod_setpriv() -> list[str]:
    """setpriv arguments that give a process the values' container security context."""
    values = yaml.safe_load((ROOT / "deploy" / "jupyterhub" / "values.yaml").read_text())
    context = values["hub"]["config"]["KubeSpawner"]["container_security_context"]
    assert context["capabilities"]["drop"] == ["ALL"]
    bounding = ",".join(["-all", *(f"+{cap.lower()}" for cap in context["capabilities"]["add"])])
    argv = ["setpriv", f"--reuid={context['runAsUser']}", f"--regid={context['runAsGroup']}", "--clear-groups",
            f"--bounding-set={bounding}", "--inh-caps=-all"]
    if context["allowPrivilegeEscalation"] is False:
        argv.append("--no-new-privs")
    return argv


def test_a_process_with_the_pods_security_context_runs_a_lab_and_not_more() -> None:
    python, _ = shared_python()
    with tempfile.TemporaryDirectory(prefix="labkit-pod-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        src = world_readable_labkit(base)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(src), "HOME": tmp, "LANG": "C.UTF-8"}
        status = subprocess.run([*pod_setpriv(), "grep", "-E", "^(CapEff|CapBnd|NoNewPrivs)", "/proc/self/status"],
                                capture_output=True, text=True, check=True).stdout
        assert "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status, status
        lab = subprocess.run([*pod_setpriv(), str(python), "-c", LAB], capture_output=True, text=True, env=env, cwd=tmp,
                             timeout=120, check=False)
        assert lab.returncode == 0 and lab.stdout.split() == ["rootless", "True", "4"], lab.stdout + lab.stderr
    own = subprocess.run([*pod_setpriv(), "ip", "link", "add", "lkpod0", "type", "veth", "peer", "name", "lkpod1"],
                         capture_output=True, text=True, check=False)
    assert own.returncode != 0 and "Operation not permitted" in own.stderr, "the pod's own interfaces must stay out of reach"
