"""The agent's bundle for a remote target: keyed by content, bytecode beside each module,
pyroute2's __init__ made lazy, and the target's own name passed to the agent."""

from __future__ import annotations

import ast
import importlib.util
import marshal
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

from labkit.targets.bundle import BOOTSTRAP, Bundle, agent_bundle, bootstrap_argv
from labkit.targets.lazyinit import lazy_init


def _pyroute2_init() -> str:
    spec = importlib.util.find_spec("pyroute2")
    assert spec and spec.origin
    return Path(spec.origin).read_text()


def test_pyroute2s_init_imports_nothing_but_its_logging_at_once() -> None:
    lazy = ast.parse(lazy_init(_pyroute2_init(), "pyroute2", eager=("pyroute2.config",)))
    eager = [n.module for n in lazy.body if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("pyroute2.")]
    assert eager and all(m and m.startswith("pyroute2.config") for m in eager), eager


def test_the_lazy_pyroute2_gives_every_public_name_and_imports_only_what_is_asked(tmp_path: Path) -> None:
    original = ast.parse(_pyroute2_init())
    public = next(n for n in original.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "modules")
    names = sorted(ast.unparse(e) for e in public.value.elts if ast.unparse(e) != "log")  # type: ignore[attr-defined]
    (tmp_path / "b.zip").write_bytes(agent_bundle().zip())
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import pyroute2\n"
            "assert pyroute2.__file__.startswith(sys.argv[1]), pyroute2.__file__\n"
            "early = sorted(m for m in sys.modules if m.startswith(('pyroute2.ndb', 'pyroute2.ipdb', 'pyroute2.iproute')))\n"
            "from pyroute2 import IPRoute\n"
            "after = 'pyroute2.ndb.main' in sys.modules\n"
            "missing = [n for n in sys.argv[2:] if getattr(pyroute2, n, None) is None]\n"
            "print(early, after, missing, IPRoute.__module__)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "b.zip"), *names], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[] False [] pyroute2.iproute.linux", out


def test_every_module_travels_with_its_bytecode_never_checked_against_its_source() -> None:
    archive = zipfile.ZipFile(BytesIO(agent_bundle().zip()))
    names = set(archive.namelist())
    sources = {n for n in names if n.endswith(".py")}
    assert "labkit/targets/agent.py" in sources and "pyroute2/__init__.py" in sources
    assert not any("__pycache__" in n for n in names)
    assert {n[:-3] + ".pyc" for n in sources} <= names, "a module without its bytecode is compiled in the guest"
    pyc = archive.read("labkit/targets/agent.pyc")
    assert pyc[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == 0b01
    assert type(marshal.loads(pyc[16:])).__name__ == "code"


def test_a_bare_python_imports_the_agent_from_the_bytecode_alone(tmp_path: Path) -> None:
    """Every source in the zip replaced by a syntax error: the import works only if nothing is compiled."""
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(BytesIO(agent_bundle().zip())) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, b"this is not python(" if info.filename.endswith(".py") else src.read(info))
    code = "import sys; sys.path.insert(0, sys.argv[1]); import labkit.targets.agent as a; a.Agent; print('ok')"
    out = subprocess.run([sys.executable, "-c", code, str(broken)], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_key_follows_names_and_contents(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    key = Bundle((("p/a.py", a), ("p/b.py", b))).key
    assert Bundle((("p/a.py", a), ("p/b.py", b))).key == key
    assert Bundle((("p/a.py", a), ("p/c.py", b))).key != key
    a.write_text("x = 3\n")
    assert Bundle((("p/a.py", a), ("p/b.py", b))).key != key


def test_the_agent_is_told_the_target_that_started_it() -> None:
    argv = bootstrap_argv("python3", "ab1", "--allow-host", key="k1", store="/s", target="bootstrapped")
    assert argv[argv.index("--target") + 1] == "bootstrapped" and argv[-1] == "--allow-host"
    assert "vagrant" not in BOOTSTRAP, "the bootstrap must not name a target itself"
    assert argv[3:6] == ["labkit.targets.agent", "k1", "/s"]
