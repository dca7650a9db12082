"""Where labkit's notebooks are, in a checkout and in a system install: one place for every user of it.

In a checkout (``git clone``, ``./dev lab``) the notebooks sit beside the package: ``notebooks/``
(the learner's edition), ``notebooks/solutions/``, ``notebooks/src/`` (the sources, solutions
included), ``notebooks/checkpoints/``, and JupyterLab serves a working copy in ``work/``.
A system install (``scripts/install-system.sh`` → ``/opt/labkit``) ships only what a learner
may see: the learner's edition and the reference checkpoints, read-only under
``<venv>/share/labkit/notebooks``; each user's working copy is ``~/labkit``.

Each translation of the labs is a folder of its own beside them, named by its language:
``notebooks/zh/`` (the learner's edition in Simplified Chinese; ``notebooks/zh/solutions/`` is the
instructor's and never ships). Wherever the English notebooks go, their translations go as
``<there>/zh/``, so a working copy holds ``zh/`` too and every link between the indexes still works.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .languages import LANGUAGES as SPOKEN
from .settings import settings

PACKAGE = Path(__file__).resolve().parent
#: the languages the labs are translated into, each a folder beside the English notebooks (English is the folder itself)
LANGUAGES = SPOKEN[1:]


def translations(notebooks: Path) -> dict[str, Path]:
    """The translated learner's editions found beside the English ones: ``{'zh': notebooks/zh}``."""
    return {lang: notebooks / lang for lang in LANGUAGES if (notebooks / lang).is_dir()}


def _checkout(package: Path) -> Path | None:
    root = package.parent
    return root if (root / "notebooks").is_dir() and (root / "pyproject.toml").is_file() else None


def notebooks_dir(package: Path | None = None, prefix: str | None = None) -> Path:
    """The pristine lab notebooks (the learner's edition) and what ships beside them
    (``LABKIT_NOTEBOOKS`` names another folder: a container image or Binder says where it put them)."""
    named = settings().notebooks
    if named and package is None:
        return Path(named)
    root = _checkout(package or PACKAGE)
    if root is not None:
        return root / "notebooks"
    return Path(prefix or sys.prefix) / "share" / "labkit" / "notebooks"


def default_places(package: Path | None = None, prefix: str | None = None, home: Path | None = None) -> tuple[Path, Path]:
    """Where ``labkit lab`` finds the notebooks and keeps the user's working copy, by default:
    ``notebooks/`` and ``work/`` in a checkout; the install's notebooks and ``~/labkit`` in a system install."""
    root = _checkout(package or PACKAGE)
    if root is not None:
        return root / "notebooks", root / "work"
    return notebooks_dir(package or PACKAGE, prefix), (home or Path.home()) / "labkit"


def checkpoints_dir() -> Path:
    """The reference checkpoints shipped with the notebooks (``<notebooks>/checkpoints/<notebook>/<name>.json``)."""
    return notebooks_dir() / "checkpoints"


def notebook_texts() -> dict[str, str]:
    """Each lab's code by its name ('04-bridge' → text): the sources in a checkout, else the shipped notebooks'
    code cells (what doctor and the start check read to know which device kinds each lab makes)."""
    where = notebooks_dir()
    sources = sorted((where / "src").glob("[0-9][0-9]-*.py"))
    if sources:
        return {p.stem: p.read_text(encoding="utf-8") for p in sources}
    import json

    texts = {}
    for path in sorted(where.glob("[0-9][0-9]-*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        texts[path.stem] = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    return texts
