"""The conventions every lab notebook follows, in one place.

A lab notebook is run by a learner cell by cell, by "Run all" (twice in a row, to
start over), and headless by the notebook tier. These helpers keep the notebooks
short and make each of those runs say the same thing::

    from labkit.notebook import checks, fact, fresh_lab, requires

    lab = fresh_lab(uplink=False)            # closes this kernel's previous lab first
    if requires(lab, kinds=["vlan"]):        # False, with a banner and a skip marker, on a kernel without VLANs
        ...
    fact(not result.ok, "no reply", saw=result)        # a sentence of the text, checked on the kernel
    fact(set(seen(cap, "veth1")) == {"echo-request"}, "only requests on veth1", saw=seen(cap, "veth1"))
    checks(lab.check.reachable("h1", "h2"), lab.check.is_up("h1/eth0"))   # the exercise's green lines

A **skip marker** is a display output of type :data:`SKIP_MIME` (``{"reason": ...}``),
next to the banner's HTML and a text/plain line. The notebook tier turns it into
``pytest.skip(reason)`` once the notebook ran to its end, so a part that could not
run shows as skipped, not passed.

A **fact** is what the text tells the learner the kernel does ("no reply", "the
replies come back on lo", "the kernel refuses MTU 1500"). :func:`fact` shows it
checked, or raises :class:`KernelDisagrees` (an ``AssertionError``) saying what the
kernel did instead: then the notebook is wrong about this kernel, not the learner.
Exercise checks are ``lab.check.*``: they raise ``CheckFailed`` with a hint.

An **exercise** has a cell the learner writes. In the learner's edition of a notebook
(``notebooks/*.ipynb``) it holds the placeholder :data:`PLACEHOLDER`, a line ``...``;
:func:`fresh_lab` teaches this kernel that a cell whose own line is ``...`` stops with
:class:`~labkit.errors.NotDone` ("not done yet: write your commands in place of ``...``")
instead of doing nothing, so the check after it is never mistaken for a wrong answer.
The instructor's edition (``notebooks/solutions/``) has the solution there.

"Previous lab of this kernel" is kept on the IPython shell object (one per kernel),
not in a module global: ``fresh_lab(home=...)`` takes any object to keep it on.
"""

from __future__ import annotations

import ast
import html
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from .checkpoints.notebook import checkpoint
from .errors import LabkitError
from .i18n import joined, localize, tr, use
from .ipython import in_a_notebook

#: the MIME type of the machine-readable skip marker a notebook emits
SKIP_MIME = "application/vnd.labkit.skip+json"
#: what the learner's edition holds where an exercise's solution is (notebooks/build.py writes it)
PLACEHOLDER = "...  # your command here"
_ATTRIBUTE = "labkit_fresh_lab"  # where the current lab is kept on its home (the IPython shell)
NO_NAMESPACES_HOWTO = tr(
    "Every step of these labs changes network namespaces, so this notebook stops at its first use of the lab, with this reason. "
    "They run as they are on a Linux machine where user namespaces are allowed (<code>./dev lab</code>), on a "
    "JupyterHub set up as in <code>deploy/jupyterhub</code>, or in the VM (<code>vagrant up</code>); "
    "<code>labkit doctor</code> says what this server lacks.")
_TARGET_HOWTO = {
    "vagrant": tr("Start JupyterLab with <code>LABKIT_TARGET=vagrant</code> (or run it inside the VM: "
                  "<code>vagrant up</code>, then open the printed URL); see <code>vm/README.md</code>."),
}


def language(lang: str | None) -> str:
    """Choose the language labkit speaks in this notebook: ``"zh"`` (简体中文) or ``"en"``; ``None``
    goes back to ``LABKIT_LANG`` or the locale. The Chinese notebooks (``notebooks/zh``) call it first."""
    from .errors import InvalidInput
    from .languages import LANGUAGES, normalize, page_language

    if lang is not None and normalize(lang) is None:
        raise InvalidInput(tr("labkit does not speak {lang!r}", lang=lang),
                           hint=tr("choose one of: {choices}", choices=", ".join(repr(code) for code in LANGUAGES)))
    chosen = use(lang)
    if in_a_notebook():
        from IPython.display import HTML

        _display(HTML(page_language(chosen)))
    return chosen


class KernelDisagrees(AssertionError):
    """The kernel did otherwise than the notebook's text says it does."""


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return None
    return get_ipython()


def _display(obj: Any, raw: bool = False) -> None:
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover
        print(obj)
        return
    display(obj, raw=raw)


def fresh_lab(*, home: Any = None, factory: Callable[..., Any] | None = None, **options: Any) -> Any:
    """A new :class:`~labkit.Lab`, after closing the one this kernel made last.

    Every notebook starts with ``lab = fresh_lab(...)``, so "Run all" a second time
    starts from nothing instead of leaving the first lab's namespaces behind.
    ``options`` go to ``Lab(...)`` (``uplink=False``, ``target=...``). ``home`` is
    where the lab is remembered (default: the IPython shell of this kernel; outside
    IPython nothing is remembered); ``factory`` makes the lab (default: ``Lab``)."""
    if factory is None:
        from .lab import Lab

        factory = Lab
    if home is None:
        home = _shell()
    previous = getattr(home, _ATTRIBUTE, None) if home is not None else None
    if previous is not None:
        try:
            previous.close()
        except Exception as error:  # a lab whose agent died is gone anyway: say so, do not stop the notebook
            print(localize(tr("(the previous lab could not be closed cleanly: {error})", error=error)))
        setattr(home, _ATTRIBUTE, None)
    try:
        lab = factory(**options)
    except LabkitError:
        reason = _no_namespaces_here()
        if not reason:
            raise
        _display(skip_marker(tr("this server cannot make network namespaces: {reason}", reason=reason), NO_NAMESPACES_HOWTO), raw=True)
        return NoLab(reason)
    if home is not None:
        setattr(home, _ATTRIBUTE, lab)
        watch_placeholders(home)
    return lab


class PlaceholderGuard(ast.NodeTransformer):
    """Turns a cell's own line ``...`` (the learner's edition's placeholder) into ``raise NotDone``.

    Only a statement that is nothing but ``...`` at the cell's top level: ``x = ...``, or
    ``...`` inside a function, keep their Python meaning."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for index, statement in enumerate(node.body):
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
                    and statement.value.value is Ellipsis:
                raising = ast.parse("raise __import__('labkit.notebook', fromlist=['not_done']).not_done()").body[0]
                node.body[index] = ast.fix_missing_locations(ast.copy_location(raising, statement))
        return node


def watch_placeholders(shell: Any) -> bool:
    """Install :class:`PlaceholderGuard` on an IPython shell (once); False where ``shell`` has no AST hooks."""
    transformers = getattr(shell, "ast_transformers", None)
    if not isinstance(transformers, list):
        return False
    if not any(isinstance(t, PlaceholderGuard) for t in transformers):
        transformers.append(PlaceholderGuard())
    return True


def not_done() -> NoReturn:
    """What a placeholder ``...`` raises: the exercise was not tried yet (not a wrong answer)."""
    from .errors import NotDone

    raise NotDone(tr("this exercise's cell still holds its placeholder `...`: nothing was tried yet"),
                  hint=tr("Write your commands in place of the `...` line (the text above says what to do), "
                          "run this cell, then run the check after it"))

def _no_namespaces_here() -> str:
    """Why no lab can run on this server at all ('' when that is not the reason a lab failed)."""
    import os

    if os.geteuid() == 0:
        return ""
    from .targets.userns import why_not

    return why_not()


class NoLab:
    """What ``fresh_lab()`` gives where no network namespace can be made (public Binder, a container
    under Docker's default seccomp profile): the first cell has said why; every later use of the lab
    stops its cell with that reason, in one box, instead of a traceback from deep inside."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def close(self) -> None:
        """Nothing was made, so nothing to remove (the notebook's last cell still runs)."""

    def __getattr__(self, name: str) -> Any:
        from .errors import NoPrivileges

        raise NoPrivileges(tr("lab.{name}: no lab runs on this server, since {reason}", name=name, reason=self.reason),
                           hint=tr("the orange box at the top of this notebook says where the labs run"))

    def __repr__(self) -> str:
        return f"NoLab({self.reason!r})"


def skip_marker(reason: str, howto: str = "") -> dict[str, Any]:
    """The display bundle of a skip: a visible banner, a text line, and the marker the tests read
    (all in the learner's language; ``howto`` is HTML)."""
    reason, howto = localize(reason), localize(howto)
    title = localize(tr("⏭ skipped: {reason}.", reason=html.escape(reason)))
    banner = ('<div class="labkit-skip" style="border:2px solid #e69500;background:rgba(255,152,0,0.16);'
              'color:var(--jp-content-font-color1,#1a1a1a);padding:8px 12px;'
              f'border-radius:6px;margin:4px 0"><b>{title}</b>'
              + (f"<br>{howto}" if howto else "") + "</div>")
    return {"text/plain": localize(tr("⏭ skipped: {reason}", reason=reason)), "text/html": banner, SKIP_MIME: {"reason": reason}}


def requires(lab: Any, kinds: Iterable[str] = (), target: str | None = None, why: str = "") -> bool:
    """True when this lab can run the part that follows; otherwise show why and return False.

    ``kinds`` are device kinds the kernel must be able to make (``lab.missing``
    tries each for real); ``target`` is the target the part needs (``"vagrant"``).
    A skipped part shows one orange banner and emits the skip marker (:data:`SKIP_MIME`),
    so a headless run reports it as skipped, with the reason."""
    reasons: list[Any] = []
    howto: Any = ""
    if target is not None and getattr(lab.target, "name", None) != target:
        reasons.append(tr("{part} needs the {target} target, and this lab runs on {here}", part=why or tr("this part"),
                          target=target, here=lab.target.name))
        howto = _TARGET_HOWTO.get(target, "")
    wanted = list(kinds)
    missing = lab.missing(*wanted) if wanted and not reasons else []
    if missing:
        kernel = lab.run("uname", "-r").stdout.strip() or tr("this kernel")
        reasons.append(tr("the kernel {kernel} cannot make {kinds} ({why})", kernel=kernel, kinds=", ".join(missing), why=why) if why
                       else tr("the kernel {kernel} cannot make {kinds}", kernel=kernel, kinds=", ".join(missing)))
        howto = tr("The cells of this part do nothing here. Run the notebook on the VM target, whose Debian kernel has "
                   "every module. {vagrant}", vagrant=_TARGET_HOWTO["vagrant"])
    if not reasons:
        return True
    _display(skip_marker(joined(reasons), howto), raw=True)
    return False


def skip_reasons(nb: Any) -> list[str]:
    """The reasons of every skip marker in an executed notebook (an nbformat node or its dict), each once, in order."""
    found: list[str] = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            reason = out.get("data", {}).get(SKIP_MIME, {}).get("reason")
            if reason and reason not in found:
                found.append(str(reason))
    return found


def _line(ok: bool, text: str) -> dict[str, str]:
    from .ipython import line_box

    return {"text/plain": f"{'✔' if ok else '✘'} {text}", "text/html": line_box(ok, html.escape(text), "labkit-fact")}


def fact(ok: Any, claim: str, saw: Any = "") -> bool:
    """Check one sentence of the text on the kernel: show it as verified, or raise.

    ``claim`` is what the text says ("no reply: 100% packet loss"); ``saw`` is what
    was looked at (a run result, counts, a string), quoted when the kernel disagrees."""
    if ok:
        _display(_line(True, localize(tr("as the text says: {claim}", claim=claim))), raw=True)
        return True
    seen = _described(saw).strip()
    raise KernelDisagrees(localize(tr("the kernel did otherwise than this notebook says: {claim!r} is not what happened; it showed: {seen}",
                                      claim=claim, seen=seen[-800:]) if seen else
                                   tr("the kernel did otherwise than this notebook says: {claim!r} is not what happened", claim=claim)))


def _described(saw: Any) -> str:
    """What a fact looked at, for its failure message: a run result with its whole output, not its repr."""
    if isinstance(saw, (list, tuple)):
        return "\n".join(_described(item) for item in saw)
    if isinstance(saw, dict):
        return ", ".join(f"{key}: {_described(value)}" for key, value in saw.items())
    if hasattr(saw, "stdout") and hasattr(saw, "returncode"):
        return f"{saw!r}\n{saw.stdout}{saw.stderr}"
    return str(saw)


def seen(capture: Any, dev: str) -> list[str]:
    """What a capture holds on ``dev``, one word per frame, to check a sentence of the text against:
    ``arp-request``, ``arp-reply``, ``echo-request``, ``echo-reply``, ``icmp-3`` (another ICMP type), or ``other``."""
    from scapy.layers.inet import ICMP
    from scapy.layers.l2 import ARP

    words = []
    for packet in capture.packets(dev):
        if packet.haslayer(ARP):
            words.append("arp-request" if packet[ARP].op == 1 else "arp-reply")
        elif packet.haslayer(ICMP):
            kind = int(packet[ICMP].type)
            words.append({8: "echo-request", 0: "echo-reply"}.get(kind, f"icmp-{kind}"))
        else:
            words.append("other")
    return words


def checks(*results: Any) -> None:
    """Show the results of ``lab.check.*`` calls, one green line each.

    A failing check has already raised ``CheckFailed`` (with its hint) before this runs."""
    for result in results:
        _display(result)


def restore(notebook: str, name: str, *, home: Any = None, **options: Any) -> Any:
    """Jump to the reference checkpoint ``name`` of ``notebook`` (``restore("04-bridge", "step-5")``):
    this kernel's previous lab is closed, and a new one is rebuilt by replaying the checkpoint's
    steps and checked against its recorded state (see :mod:`labkit.checkpoints`)."""
    from .checkpoints.notebook import load_reference, restored
    from .lab import Lab

    point = load_reference(notebook, name)
    lab = fresh_lab(home=home, factory=lambda **more: Lab.restore(point, **more), **options)
    _display(restored(notebook, name, point), raw=True)
    _display(lab.view(title=localize(tr("Restored: {notebook} at checkpoint {name}", notebook=notebook, name=name))))
    return lab


__all__ = ["PLACEHOLDER", "SKIP_MIME", "KernelDisagrees", "NoLab", "PlaceholderGuard", "checkpoint", "checks", "fact",
           "fresh_lab", "language", "not_done", "requires", "restore", "seen", "skip_marker", "skip_reasons", "watch_placeholders"]
