"""Show labkit errors in a notebook as a readable box, not a traceback.

Errors are caught once, at the cell boundary: IPython asks an exception for
``_render_traceback_``, and :class:`~labkit.errors.LabkitError` answers with this box
(what failed, where, what to do next) and a one-line error. The cell still fails, so
"Run all" stops and headless runs report it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # errors.py imports this module lazily, to draw its box
    from .errors import LabkitError

#: JupyterLab's theme variables (``--jp-*``), so the box reads in the light and the dark theme alike;
#: the fallbacks are for a plain HTML page (nbconvert, the classic notebook) that defines none.
ERROR_COLOUR = "var(--jp-error-color1, #b71c1c)"
CHECK_COLOUR = "var(--jp-warn-color1, #8a6d00)"
BACKGROUND = "var(--jp-layout-color2, #fff8f6)"
TEXT = "var(--jp-ui-font-color1, #1a1a1a)"
MUTED = "var(--jp-ui-font-color2, #555)"
FONT = "var(--jp-ui-font-family, sans-serif)"


def render(error: LabkitError) -> str:
    """The HTML box for one error."""
    check = error.box_title is not None
    colour, title = (CHECK_COLOUR, error.box_title) if error.box_title else (ERROR_COLOUR, type(error).__name__)
    where = f'<div style="color:{MUTED}">where: {html.escape(error.where)}</div>' if error.where else ""
    hint = f'<div style="margin-top:4px">→ {"hint" if check else "what to do"}: {html.escape(error.hint)}</div>' if error.hint else ""
    return (f'<div class="labkit-error" style="border-left:4px solid {colour};background:{BACKGROUND};color:{TEXT};'
            f'padding:6px 10px;font-family:{FONT}"><b style="color:{colour}">{html.escape(title)}</b>: '
            f'{html.escape(error.what)}{where}{hint}</div>')


def in_a_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain script, not pytest): where live widgets can show."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
