"""Show labkit errors in a notebook as a readable box, not a traceback.

Errors are caught once, at the cell boundary: IPython asks an exception for
``_render_traceback_``, and :class:`~labkit.errors.LabkitError` answers with this box
(what failed, where, what to do next) and a one-line error. The cell still fails, so
"Run all" stops and headless runs report it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .i18n import localize, separator, tr

if TYPE_CHECKING:  # errors.py imports this module lazily, to draw its box
    from .errors import LabkitError

#: Colours that read in JupyterLab's light and dark themes alike (tests/browser/test_themes.py measures
#: them: WCAG contrast ≥ 4.5). Text takes the theme's own text colour (``--jp-*``; the fallbacks are for a
#: plain HTML page, nbconvert or GitHub, that defines none); a box is tinted with a *translucent* colour,
#: light on a white page and dark on a dark one, so that text stays readable on it in both. The strong
#: colours (red, orange, green) go to borders and marks only: a theme's red on its own background
#: (#f44336 on #424242 in the dark theme, #d32f2f on #eee in the light one) is too faint for text.
ERROR_COLOUR = "var(--jp-error-color1, #d32f2f)"
CHECK_COLOUR = "var(--jp-warn-color1, #f57c00)"
OK_COLOUR = "var(--jp-success-color1, #388e3c)"
TINT_ERROR = "rgba(244, 67, 54, 0.14)"
TINT_CHECK = "rgba(255, 152, 0, 0.16)"
TINT_OK = "rgba(76, 175, 80, 0.16)"
TEXT = "var(--jp-content-font-color1, #1a1a1a)"
MUTED = "var(--jp-content-font-color1, #333)"
FONT = "var(--jp-ui-font-family, sans-serif)"


def line_box(ok: bool, text_html: str, css_class: str) -> str:
    """One verified (✔, green border) or contradicted (✘, red border) line, readable in both themes."""
    border, tint, mark = (OK_COLOUR, TINT_OK, "✔") if ok else (ERROR_COLOUR, TINT_ERROR, "✘")
    return (f'<div class="{css_class}" style="color:{TEXT};background:{tint};padding:4px 8px;'
            f'border-left:4px solid {border}">{mark} {text_html}</div>')


def render(error: LabkitError) -> str:
    """The HTML box for one error."""
    check = error.box_title is not None
    colour, title = (CHECK_COLOUR, localize(error.box_title)) if error.box_title else (ERROR_COLOUR, type(error).__name__)
    tint = TINT_CHECK if check else TINT_ERROR
    place = localize(tr("where: {where}", where=localize(error.where)))  # not inside the f-string: extraction reads no f-string
    where = f'<div style="color:{MUTED}">{html.escape(place)}</div>' if error.where else ""
    advice = localize(error.hint)
    label = tr("hint: {hint}", hint=advice) if check else tr("what to do: {hint}", hint=advice)
    hint = f'<div style="margin-top:4px">→ {html.escape(localize(label))}</div>' if error.hint else ""
    return (f'<div class="labkit-error" style="border-left:4px solid {colour};background:{tint};color:{TEXT};'
            f'padding:6px 10px;font-family:{FONT}"><b>{"⚠" if check else "✘"} {html.escape(title)}</b>{separator(": ")}'
            f'{html.escape(localize(error.what))}{where}{hint}</div>')


def in_a_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain script, not pytest): where live widgets can show."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
