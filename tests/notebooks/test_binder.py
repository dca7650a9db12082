"""binder/: the same apt and pip lists and the same start script, as a non-root user.

A throwaway user runs ``binder/start`` with a venv made from /usr/bin/python3 and
``binder/requirements.txt`` (as repo2docker would; root's own .venv cannot be run by others here),
and executes a host-kernel notebook (04-bridge) through it: every fact and check passes, rootless.
Then the same, under a seccomp filter that refuses ``unshare`` as Docker's default profile does on
public Binder (deny_unshare.py): the first cell must say that no network namespace can be made here
and why, with the skip marker, and its first use of the lab must stop with the same reason in one box.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from labkit.notebook import SKIP_MIME

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/labkit-binder-test")  # world-readable: the learner runs the venv and reads the copy
USER = "lkbinder"
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="making the throwaway learner (useradd) needs root"),
    pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="needs /usr/bin/python3, an interpreter every user can run"),
]


def binder_apt() -> list[str]:
    return (ROOT / "binder" / "apt.txt").read_text().split()


def test_apt_txt_lists_the_lab_tools_of_the_install() -> None:
    import re
    import shlex

    base = shlex.split(re.search(r"^BASE=\((.*?)\)", (ROOT / "scripts" / "packages.sh").read_text(), re.S | re.M).group(1))  # type: ignore[union-attr]
    brought_by_binder = {"python3", "python3-venv", "python3-pip", "ca-certificates", "sudo"}  # its image; never sudo
    assert set(base) - brought_by_binder <= set(binder_apt()), set(base) - brought_by_binder - set(binder_apt())
    missing = [p for p in binder_apt() if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                                                         text=True, check=False).stdout != "install ok installed"]
    assert not missing, f"apt.txt's {missing} are not installed here: run scripts/install.sh"


@pytest.fixture(scope="module")
def binder_env() -> Any:
    """A world-readable copy of the repository, a venv from /usr/bin/python3 with binder/requirements.txt
    (cached by the content of the lists), and a throwaway user; the user is removed afterwards."""
    key = hashlib.sha256((ROOT / "binder" / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    repo, venv = CACHE / "repo", CACHE / f"venv-{key}"
    old = os.umask(0o022)
    try:
        CACHE.mkdir(exist_ok=True)
        shutil.rmtree(repo, ignore_errors=True)
        for part in ("labkit", "notebooks", "binder"):
            shutil.copytree(ROOT / part, repo / part, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        for part in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / part, repo / part)
        complete = (venv / "bin" / "python").exists() and subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import labkit, nbclient, ipykernel, jupyterlab, pyroute2, scapy, graphviz"],
            capture_output=True, check=False, cwd="/").returncode == 0
        if not complete:  # a first run, or one stopped half-way through pip
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
            pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r",
                                  "binder/requirements.txt", "nbclient", "ipykernel"], cwd=repo, capture_output=True, text=True, check=False)
            if pip.returncode != 0:
                shutil.rmtree(venv)
                pytest.fail(f"pip install -r binder/requirements.txt failed: {pip.stderr[-1500:]}")
        else:  # the editable install points at repo/, refreshed above; make sure it is still the one found
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--disable-pip-version-check", "-e", "."],
                           cwd=repo, capture_output=True, check=True)
        for path in [CACHE, *CACHE.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
    finally:
        os.umask(old)
    home = CACHE / "home"
    shutil.rmtree(home, ignore_errors=True)
    subprocess.run(["userdel", USER], capture_output=True, check=False)
    subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin", "--user-group", USER],
                   check=True, capture_output=True)
    home.mkdir(mode=0o700)
    shutil.chown(home, USER, USER)
    try:
        yield repo, venv, home
    finally:
        subprocess.run(["userdel", USER], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


def run_through_start(env: Any, notebook: str, wrapper: list[str],
                      edition: str = "") -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run a notebook as the learner, through binder/start, optionally inside ``wrapper``; ``edition``
    'solutions' runs the instructor's edition (every exercise answered), '' the learner's."""
    repo, venv, home = env
    out = home / f"{notebook}.out.ipynb"
    shutil.copy2(HERE / "binder_run.py", home / "binder_run.py")
    shutil.chown(home / "binder_run.py", USER, USER)
    environ = {"HOME": str(home), "USER": USER, "LANG": "C.UTF-8", "PATH": f"{venv}/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    argv = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups", *wrapper, str(repo / "binder" / "start"),
            "python3", str(home / "binder_run.py"), str(repo / "notebooks" / edition / f"{notebook}.ipynb"), str(out)]
    done = subprocess.run(argv, env=environ, cwd=repo, capture_output=True, text=True, timeout=600, check=False)
    assert out.exists(), f"the notebook was not saved: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    return done, json.loads(out.read_text())


def outputs(cell: dict[str, Any]) -> str:
    return json.dumps(cell.get("outputs", []))


@pytest.mark.timeout(1800)  # a first run installs JupyterLab into a fresh venv: minutes on a busy machine
def test_a_host_kernel_notebook_runs_through_start_as_a_learner(binder_env: Any) -> None:
    done, notebook = run_through_start(binder_env, "04-bridge", [], edition="solutions")
    assert done.returncode == 0, f"04-bridge failed through binder/start: {done.stdout[-1500:]}{done.stderr[-2000:]}"
    text = "".join(outputs(cell) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert SKIP_MIME not in text, "nothing of 04-bridge may skip where user namespaces work"
    assert text.count("as the text says") >= 5 and "✘" not in text
    assert "runs   04-bridge" in done.stderr, f"start's check should say 04-bridge runs: {done.stderr[-800:]}"


@pytest.mark.timeout(1800)
@pytest.mark.skipif(platform.machine() != "x86_64", reason="deny_unshare.py knows x86-64's system call numbers only")
def test_without_user_namespaces_the_first_cell_says_so_and_why(binder_env: Any) -> None:
    _repo, _venv, home = binder_env
    shutil.copy2(HERE / "deny_unshare.py", home / "deny_unshare.py")  # the learner cannot read a checkout in a 0700 folder
    wrapper = ["/usr/bin/python3", str(home / "deny_unshare.py")]
    done, notebook = run_through_start(binder_env, "04-bridge", wrapper)
    assert done.returncode == 1 and done.stdout.strip().endswith("error: NoPrivileges"), done.stdout[-800:] + done.stderr[-800:]
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    first = [o for o in code[0]["outputs"] if o.get("output_type") == "display_data" and SKIP_MIME in o.get("data", {})]
    assert first, f"the first cell shows no skip banner: {outputs(code[0])[:800]}"
    reason = first[0]["data"][SKIP_MIME]["reason"]
    assert "cannot make network namespaces" in reason and "seccomp filter refuses the unshare" in reason, reason
    assert "./dev lab" in "".join(first[0]["data"]["text/html"])
    # the first cell's own lab.view() is the first use of the lab: it stops there, in one box, and nothing runs after it
    errors = [o for o in code[0]["outputs"] if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "NoPrivileges" and "seccomp" in errors[0]["evalue"], outputs(code[0])[:800]
    assert not any(cell.get("outputs") for cell in code[1:]), "no cell may run after the first one stopped"
    assert "no lab can run here: a seccomp filter refuses" in done.stderr, done.stderr[-800:]
