"""The rootless tier: every lab notebook, run end to end by a learner who is not root and has no sudo.

One throwaway user (``useradd``, no groups, a login's PATH) gets a working copy of the
notebooks from the system install (``scripts/install-system.sh`` → /opt/labkit), then runs
the instructor's edition of each (every exercise answered, so every check decides) with that
install's nbclient and its kernel spec ``labkit``: what a learner on a shared machine has. labkit then chooses the rootless mode by itself (a user
namespace of the learner's own). Each notebook runs once (the notebook tier runs them
twice as root); three at a time, to keep the tier near a minute and a half. A notebook
that fails fails its test with the cell's error; one that emits skip markers is
reported as skipped with their reasons (the VM-only labs 11 and 12 say so in their
first cells). The executed copies go to ``artifacts/rootless/``. The user and every
process of it are removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from machine import ROOT, SYSTEM_PYTHON, Learner, install_system, learners

from labkit.notebook import skip_reasons

pytestmark = pytest.mark.rootless

ARTIFACTS = ROOT / "artifacts" / "rootless"
RUNNER = Path(__file__).with_name("run_notebook.py")
PARALLEL = 3
NOTEBOOK_TIMEOUT = 300


def notebook_names() -> list[str]:
    return sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(scope="module")
def learner() -> Iterator[Learner]:
    if os.geteuid() != 0:
        pytest.skip("this tier makes a throwaway user (useradd) and installs into /opt/labkit: run it as root")
    install_system()
    with learners(1, prefix="lkr") as (made,):
        yield made


@pytest.fixture(scope="module")
def runs(learner: Learner, request: pytest.FixtureRequest) -> Iterator[dict[str, Future]]:
    """The selected notebooks started as the learner, PARALLEL at a time; name → Future of (result, executed notebook)."""
    selected = [item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_runs_for_a_learner_without_root"]
    copied = learner.run(SYSTEM_PYTHON, "-c", "from labkit.cli import working_copy; from labkit.places import default_places; "
                         "nb, work = default_places(); print(work, len(working_copy(nb, work)))")
    assert copied.returncode == 0, f"the learner cannot make a working copy from the system install: {copied.stderr}"
    work = Path(copied.stdout.split()[0])
    assert work == learner.home / "labkit", copied.stdout
    assert sorted(p.name for p in work.glob("[0-9][0-9]-*.ipynb")) == notebook_names(), "the working copy lacks notebooks"
    assert sorted(p.name for p in (work / "zh").glob("[0-9][0-9]-*.ipynb")) == notebook_names(), \
        "the working copy lacks the Chinese notebooks (zh/): does install-system.sh ship notebooks/zh/?"
    assert not (work / "zh" / "solutions").exists(), "the system install shipped the Chinese solutions"
    # The working copy is the learner's edition (exercises to do); what runs here is the instructor's edition
    # of the same notebooks, so that every exercise is answered and every check decides (handed to the learner
    # for this test only: a shared machine's install never ships the solutions).
    solved = learner.home / "solved"
    solved.mkdir(mode=0o700)
    for name in notebook_names():
        shutil.copyfile(ROOT / "notebooks" / "solutions" / name, solved / name)
    runner = solved / RUNNER.name  # the learner cannot enter a checkout in a mode-0700 folder (a CI's mktemp -d)
    shutil.copyfile(RUNNER, runner)
    for path in (solved, *solved.iterdir()):
        os.chown(path, learner.uid, -1)

    def run(name: str) -> tuple[dict, nbformat.NotebookNode]:
        out = solved / f"executed-{name}"
        done = learner.run(SYSTEM_PYTHON, str(runner), str(solved / name), str(out), timeout=NOTEBOOK_TIMEOUT)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{name}: the runner printed no result (exit {done.returncode}):\n{done.stderr[-2000:]}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, ARTIFACTS / name)
        return json.loads(lines[-1]), nbformat.read(out, as_version=4)

    selected.sort(key=lambda name: not name.startswith("06"))  # the longest (STP timers) first: the others fill in
    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {name: pool.submit(run, name) for name in selected}
    print(f"\nrootless tier: {len(selected)} notebook(s) in {time.monotonic() - started:.1f} s, {PARALLEL} at a time")


def test_the_learner_is_not_root_and_has_no_sudo(learner: Learner) -> None:
    ident = learner.run("id", "-u")
    assert ident.stdout.strip() == str(learner.uid) != "0"
    sudo = learner.run("sudo", "-n", "true")
    assert sudo.returncode != 0, "the throwaway learner can use sudo: this tier would not prove the rootless path"
    mode = learner.run(SYSTEM_PYTHON, "-c", "from labkit.targets.local import choose_mode; print(choose_mode())")
    assert mode.stdout.strip() == "rootless", mode.stdout + mode.stderr


@pytest.mark.timeout(NOTEBOOK_TIMEOUT * 3)
@pytest.mark.parametrize("name", notebook_names())
def test_notebook_runs_for_a_learner_without_root(name: str, runs: dict[str, Future]) -> None:
    result, nb = runs[name].result(timeout=NOTEBOOK_TIMEOUT * 3)
    print(f"{name}: {result['seconds']} s as a non-root learner")
    if result["error"]:
        pytest.fail(f"{name} failed for a non-root learner:\n{result['error']}", pytrace=False)
    skipped = skip_reasons(nb)
    if skipped:
        pytest.skip(f"{name} ran to its end as a non-root learner, but skipped: " + "; ".join(skipped))


def test_tun_works_for_the_learner_and_a_forbidden_tun_file_says_why(learner: Learner) -> None:
    """As the learner: /dev/net/tun opens; a tun file this user may not open (mode 000) gives NoPrivileges with the fix."""
    probe = ("import json, os\n"
             "from labkit.targets.tunfile import tun_problem\n"
             "path = os.path.expanduser('~/forbidden-tun'); open(path, 'w').close(); os.chmod(path, 0)\n"
             "real, shut = tun_problem(), tun_problem(path)\n"
             "print(json.dumps({'real': str(real) if real else None, 'type': type(shut).__name__, 'message': str(shut)}))")
    done = learner.run(SYSTEM_PYTHON, "-c", probe)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["real"] is None, f"/dev/net/tun does not open for a non-root learner here: {found['real']}"
    assert found["type"] == "NoPrivileges" and "cannot be opened by this user" in found["message"], found
    assert "chmod 0666" in found["message"], found
