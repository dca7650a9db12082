"""Show labkit errors in a notebook as a readable box, not a traceback.

Errors are caught once, at the cell boundary: IPython asks an exception for
``_render_traceback_``, and :class:`~labkit.errors.LabkitError` answers with this box
(what failed, where, what to do next) and a one-line error. The cell still fails, so
"Run all" stops and headless runs report it.
"""

from __future__ import annotations

import html

from .errors import CheckFailed, LabkitError


def render(error: LabkitError) -> str:
    """The HTML box for one error."""
    check = isinstance(error, CheckFailed)
    colour, title = ("#8a6d00", "Not yet") if check else ("#b71c1c", type(error).__name__)
    where = f'<div style="color:#555">where: {html.escape(error.where)}</div>' if error.where else ""
    hint = f'<div style="margin-top:4px">→ {"hint" if check else "what to do"}: {html.escape(error.hint)}</div>' if error.hint else ""
    return (f'<div class="labkit-error" style="border-left:4px solid {colour};background:#fff8f6;padding:6px 10px;'
            f'font-family:sans-serif"><b style="color:{colour}">{html.escape(title)}</b>: {html.escape(error.what)}{where}{hint}</div>')
