"""The notebook tier: every lab notebook runs headless, "Run all" twice in one kernel.

Each notebook of the instructor's edition (``notebooks/solutions/NN-*.ipynb``: the exercises
solved, so every check must pass) is executed with nbclient in a fresh kernel (two notebooks at
a time, each in a process of its own: ``tests/shared/run_notebook.py``), with its
cells listed twice: the second pass proves the notebook is idempotent (its first
cell closes the previous lab, its last cell tears the lab down), in the same kernel
as a learner pressing "Run all" twice. Any error, a failing self-check included,
fails the test. A notebook that emits a skip marker (``labkit.notebook.requires``:
a display output of type ``application/vnd.labkit.skip+json``) and otherwise ran to
its end is reported as skipped, with the marker's reasons. Each runs in its own working directory under ``artifacts/notebooks/cwd/``
(so saved captures stay out of the repository); the executed copy goes to
``artifacts/notebooks/`` for reading, and the time of both passes is printed
(``pytest -s``) and kept in ``timings.json``.

The Chinese instructor's edition (``notebooks/zh/solutions/NN-*.ipynb``, test ids ``zh-NN-name``) runs
too, every lab, and its checks must pass as well. Its kernel's environment says ``LABKIT_LANG=en``, as a
learner's JupyterLab would: the notebook's own first cell (``language("zh")``, added by the build) must
make the library speak Chinese. A last cell added to the run reports the language in force, and the
outputs must hold the library's Chinese ("正如文中所说" for each verified sentence of the text) and none
of its English. Its code cells differ from the English ones only in the strings a learner reads and
that first line (``tests/unit/test_notebook_i18n.py``), so it runs once, not twice: the second pass
proves idempotency, which is the same code's. Measured (2026-12-03, notebook time, two at a time): all
13 in Chinese once took 194 s beside the English 329 s (+59 %).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from labkit.notebook import skip_reasons

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "notebooks"
#: seconds for both passes of one notebook; a notebook not listed gets DEFAULT_TIMEOUT
TIMEOUTS = {"06": 600, "11": 600}
DEFAULT_TIMEOUT = 300
CELL_TIMEOUT = 180


#: the languages the instructor's edition is run in besides English: its folder's name under notebooks/
LANGUAGES = ("zh",)
#: printed by the cell added at the end of a translated run: the language labkit speaks in that kernel
LANG_PROBE = "from labkit.i18n import language\nprint('LABKIT-LANG', language())"
#: what the library says in English where a translated notebook must show its own words instead
ENGLISH_ONLY = ("as the text says", "Not yet", "⏭ skipped", "what to do:")


def notebooks() -> list[Path]:
    """The instructor's edition in English, then in every translated language (``notebooks/zh/solutions/``)."""
    found = sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]-*.ipynb"))
    for language in LANGUAGES:
        found += sorted((ROOT / "notebooks" / language / "solutions").glob("[0-9][0-9]-*.ipynb"))
    return found


def language_of(path: Path) -> str:
    """'zh' for ``notebooks/zh/solutions/…``, 'en' for ``notebooks/solutions/…``."""
    return path.parent.parent.name if path.parent.parent.name in LANGUAGES else "en"


def key(path: Path) -> str:
    """The notebook's name in test ids, artifacts and timings: '04-bridge', 'zh-04-bridge'."""
    return path.stem if language_of(path) == "en" else f"{language_of(path)}-{path.stem}"


def shown_text(nb: nbformat.NotebookNode) -> str:
    """Every text and HTML output of an executed notebook, as one string."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts += [str(data.get("text/plain", "")), str(data.get("text/html", ""))]
    return "\n".join(parts)


def twice(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every cell listed a second time (new ids), as "Run all" twice would run it."""
    again = copy.deepcopy(nb)
    for cell in copy.deepcopy(nb.cells):
        cell.id = f"{cell.get('id', 'cell')}-again"[:64]
        again.cells.append(cell)
    return again


def no_namespaces_here() -> str:
    """Why this user cannot make network namespaces at all (root, sudo -n and user namespaces all refused), or ""."""
    from labkit.errors import NoPrivileges
    from labkit.targets.local import choose_mode

    try:
        choose_mode()
    except NoPrivileges as exc:
        return f"the notebooks make network namespaces and this user cannot: {exc.what}"
    return ""


def _params() -> list:
    found = notebooks()
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no notebooks in notebooks/solutions/"))]
    return [pytest.param(path, id=key(path), marks=pytest.mark.timeout(TIMEOUTS.get(path.name[:2], DEFAULT_TIMEOUT)))
            for path in found]


#: notebooks run at once: they mostly wait (STP timers, DHCP, pings), so two share the machine's two cores
PARALLEL = 2
RUNNER = ROOT / "tests" / "shared" / "run_notebook.py"


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[str, Future]]:
    """Every selected notebook started, PARALLEL at a time, each "Run all" twice in a fresh kernel of its own
    process (``tests/shared/run_notebook.py``); name → Future of (result, executed notebook, seconds)."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_runs_twice" and item.callspec.params["path"]]

    def run(path: Path) -> tuple[dict, nbformat.NotebookNode, float]:
        workdir = ARTIFACTS / "cwd" / key(path)  # what a notebook writes (cap.save) stays out of the repository
        workdir.mkdir(parents=True, exist_ok=True)
        language = language_of(path)
        nb = nbformat.read(path, as_version=4)
        both = workdir / f"run-{path.name}"
        if language != "en":  # a translation runs once (module docstring), and says which language its kernel got
            nb.cells.append(nbformat.v4.new_code_cell(LANG_PROBE, id="labkit-lang-probe"))
        nbformat.write(twice(nb) if language == "en" else nb, both)
        out = workdir / path.name
        env = dict(os.environ, LABKIT_LANG="en")  # the kernel inherits it: a translation must choose its language itself
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(RUNNER), str(both), str(out), "python3", str(CELL_TIMEOUT)],
                              capture_output=True, text=True, timeout=TIMEOUTS.get(path.name[:2], DEFAULT_TIMEOUT) + 60,
                              check=False, env=env)
        elapsed = time.monotonic() - started
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{path.name}: the runner printed no result (exit {done.returncode}):\n{done.stderr[-2000:]}"
        return json.loads(lines[-1]), nbformat.read(out, as_version=4), elapsed

    # the longest first (an English run of a long lab, then its single translated run): the others fill in
    selected.sort(key=lambda path: (path.name[:2] not in TIMEOUTS, language_of(path) != "en"))
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {key(path): pool.submit(run, path) for path in selected}


@pytest.mark.parametrize("path", _params())
def test_notebook_runs_twice(path: Path, runs: dict[str, Future]) -> None:
    reason = no_namespaces_here()
    if reason:
        print(f"SKIP {key(path)}: {reason}")
        pytest.skip(reason)
    name = key(path)
    result, nb, elapsed = runs[name].result(timeout=TIMEOUTS.get(path.name[:2], DEFAULT_TIMEOUT) * 3)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / f"{name}.ipynb")
    timings = ARTIFACTS / "timings.json"
    known = json.loads(timings.read_text()) if timings.exists() else {}
    known[name] = round(elapsed, 1)
    timings.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    passes = "two runs" if language_of(path) == "en" else "one run"
    print(f"{name}: {passes} in {elapsed:.1f} s ({PARALLEL} notebooks at a time)")
    if result["error"]:
        pytest.fail(f"{name} failed:\n{result['error']}", pytrace=False)
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    if language_of(path) != "en":
        said = [out.get("text", "") for out in nb.cells[-1].get("outputs", []) if out.get("name") == "stdout"]
        assert f"LABKIT-LANG {language_of(path)}" in "".join(said), f"{name}: labkit did not speak {language_of(path)}: {said}"
        shown = shown_text(nb)
        english = [phrase for phrase in ENGLISH_ONLY if phrase in shown]
        assert not english, f"{name}: the library spoke English in the {language_of(path)} notebook: {english}"
        facts = sum(cell.source.count("fact(") for cell in nb.cells if cell.cell_type == "code")
        assert facts == 0 or skip_reasons(nb) or "正如文中所说" in shown, \
            f"{name}: {facts} fact() calls, but no verified sentence in Chinese"
    skipped = skip_reasons(nb)
    if skipped:  # it ran to the end, but parts of it did nothing: that is a skip, not a pass
        reason = f"{name} ran, but skipped: " + "; ".join(skipped)
        print(f"SKIP {reason}")
        pytest.skip(reason)
