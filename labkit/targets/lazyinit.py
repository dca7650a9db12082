"""A package's ``__init__`` rewritten to import its public names on first use (pure).

pyroute2's ``__init__`` imports every one of its families (NDB, IPDB, conntrack, nftables,
nl80211, plan9, ...) so that ``from pyroute2 import IPRoute`` works; the agent needs one
of them. Under the VM's emulated CPU (TCG) that costs seconds: in the guest, importing
the agent took 14.4 s, 11.7 s of them in ``pyroute2/__init__`` (``python3 -X importtime``).
The agent's bundle therefore carries pyroute2's own ``__init__`` rewritten by
:func:`lazy_init`: each ``from pyroute2.x import Name`` becomes an entry of a table that a
module ``__getattr__`` (PEP 562) imports when ``Name`` is first asked for. Everything else
in the file (version, logging set-up) stays as it was, and so does every other pyroute2 file.
"""

from __future__ import annotations

import ast

_GETATTR = '''
import importlib as _importlib

_LAZY = {table!r}
__all__ = sorted(_LAZY)


def __getattr__(name):
    """The public name ``name``, imported from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {{name!r}}")
    try:
        value = getattr(_importlib.import_module(module), name)
    except AttributeError:  # `from package.x import y` where y is a module of x
        value = _importlib.import_module(f"{{module}}.{{name}}")
    globals()[name] = value
    return value
'''


def _assigned(node: ast.stmt) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        targets = [sub.target] if isinstance(sub, (ast.AugAssign, ast.AnnAssign)) else getattr(sub, "targets", [])
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def lazy_init(source: str, package: str, eager: tuple[str, ...] = ()) -> str:
    """``source`` (a package's ``__init__.py``) with its ``from <package>.<module> import ...``
    statements made lazy, except modules under ``eager`` (e.g. ``pyroute2.config``, whose
    import sets up logging). Statements that use a lazy name at import time (a list of all
    the classes, ``__all__`` built from it) are dropped; ``__all__`` lists the lazy names."""
    tree = ast.parse(source)
    table: dict[str, str] = {}
    kept: list[ast.stmt] = []
    for node in tree.body:
        if (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                and node.module.startswith(package + ".")
                and not any(node.module == e or node.module.startswith(e + ".") for e in eager)):
            for alias in node.names:
                table[alias.asname or alias.name] = node.module
            continue
        kept.append(node)
    lazy = set(table)
    body = []
    for node in kept:
        if {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & lazy or "__all__" in _assigned(node):
            lazy |= _assigned(node)  # a name made from lazy ones is gone too
            continue
        body.append(node)
    tree.body = body
    return f"# made lazy by labkit.targets.lazyinit from {package}'s own __init__.py\n" + ast.unparse(tree) + "\n" + \
        _GETATTR.format(table=dict(sorted(table.items())), package=package)
