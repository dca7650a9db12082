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

"Previous lab of this kernel" is kept on the IPython shell object (one per kernel),
not in a module global: ``fresh_lab(home=...)`` takes any object to keep it on.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

#: the MIME type of the machine-readable skip marker a notebook emits
SKIP_MIME = "application/vnd.labkit.skip+json"
_ATTRIBUTE = "labkit_fresh_lab"  # where the current lab is kept on its home (the IPython shell)
_TARGET_HOWTO = {
    "vagrant": "Start JupyterLab with <code>LABKIT_TARGET=vagrant</code> (or run it inside the VM: "
               "<code>vagrant up</code>, then open the printed URL); see <code>vm/README.md</code>.",
}


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
            print(f"(the previous lab could not be closed cleanly: {error})")
        setattr(home, _ATTRIBUTE, None)
    lab = factory(**options)
    if home is not None:
        setattr(home, _ATTRIBUTE, lab)
    return lab


def skip_marker(reason: str, howto: str = "") -> dict[str, Any]:
    """The display bundle of a skip: a visible banner, a text line, and the marker the tests read."""
    banner = ('<div class="labkit-skip" style="border:2px solid #e69500;background:#fff8e1;padding:8px 12px;'
              f'border-radius:6px;margin:4px 0"><b>⏭ skipped: {html.escape(reason)}.</b>'
              + (f"<br>{howto}" if howto else "") + "</div>")
    return {"text/plain": f"⏭ skipped: {reason}", "text/html": banner, SKIP_MIME: {"reason": reason}}


def requires(lab: Any, kinds: Iterable[str] = (), target: str | None = None, why: str = "") -> bool:
    """True when this lab can run the part that follows; otherwise show why and return False.

    ``kinds`` are device kinds the kernel must be able to make (``lab.missing``
    tries each for real); ``target`` is the target the part needs (``"vagrant"``).
    A skipped part shows one orange banner and emits the skip marker (:data:`SKIP_MIME`),
    so a headless run reports it as skipped, with the reason."""
    reasons, howto = [], ""
    if target is not None and getattr(lab.target, "name", None) != target:
        reasons.append(f"{why or 'this part'} needs the {target} target, and this lab runs on {lab.target.name}")
        howto = _TARGET_HOWTO.get(target, "")
    wanted = list(kinds)
    missing = lab.missing(*wanted) if wanted and not reasons else []
    if missing:
        kernel = lab.run("uname", "-r").stdout.strip() or "this kernel"
        reasons.append(f"the kernel {kernel} cannot make {', '.join(missing)}"
                       + (f" ({why})" if why else ""))
        howto = ("The cells of this part do nothing here. Run the notebook on the VM target, whose Debian kernel has "
                 "every module. " + _TARGET_HOWTO["vagrant"])
    if not reasons:
        return True
    _display(skip_marker("; ".join(reasons), howto), raw=True)
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
    colour, background, mark = ("#1b5e20", "#e8f5e9", "✔") if ok else ("#b71c1c", "#ffebee", "✘")
    return {"text/plain": f"{mark} {text}",
            "text/html": f'<div class="labkit-fact" style="color:{colour};background:{background};padding:4px 8px;'
                         f'border-left:4px solid {colour}">{mark} {html.escape(text)}</div>'}


def fact(ok: Any, claim: str, saw: Any = "") -> bool:
    """Check one sentence of the text on the kernel: show it as verified, or raise.

    ``claim`` is what the text says ("no reply: 100% packet loss"); ``saw`` is what
    was looked at (a run result, counts, a string), quoted when the kernel disagrees."""
    if ok:
        _display(_line(True, f"as the text says: {claim}"), raw=True)
        return True
    seen = _described(saw).strip()
    raise KernelDisagrees(f"the kernel did otherwise than this notebook says: {claim!r} is not what happened"
                          + (f"; it showed: {seen[-800:]}" if seen else ""))


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


__all__ = ["SKIP_MIME", "KernelDisagrees", "checks", "fact", "fresh_lab", "requires", "seen", "skip_marker", "skip_reasons"]
