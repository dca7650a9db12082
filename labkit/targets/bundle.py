"""The agent's code for a remote target: sent once, then kept there, keyed by its content.

The guest needs only ``python3``: labkit's own package and pyroute2 (pure Python) travel
as a zip over the agent's own connection. Starting the agent costs one SSH session and,
most times, no transfer at all:

1. the host starts ``python3 -c BOOTSTRAP ... KEY STORE --lab-id ID --target NAME``, where
   KEY is a hash of every source file in the bundle (:attr:`Bundle.key`) and NAME the
   target's own name (the agent reports it in every snapshot);
2. the bootstrap answers one line: ``labkit-bundle have`` when ``STORE/KEY.zip`` exists, or
   ``labkit-bundle send``; only then does the host build the zip and send its size, a
   newline and its bytes (:func:`offer`), which the bootstrap writes to ``STORE/KEY.zip``
   (renamed into place whole; ``STORE`` is a folder only root can use; the :data:`KEEP`
   most recently used bundles are kept);
3. the bootstrap puts ``STORE/KEY.zip`` first on ``sys.path`` and runs the agent, whose
   JSON lines then flow over the same stdin/stdout. On a VM (``fork_server``) the agent is
   instead forked from a server in the guest that imported it once (:mod:`.agent_fork`); the
   Vagrantfile's trigger stores the bundle and starts that server right after ``vagrant up``
   (:mod:`.vmwarm`), so a learner's first lab sends nothing and imports nothing.

Measured in the VM under emulation (TCG), importing the agent from a zip of sources took
about 10 s, most of it compiling, and ``pyroute2/__init__`` alone 11.7 s of a 14.4 s import
(``python3 -X importtime``). So the zip carries, beside each module, its bytecode (the
host's own ``__pycache__`` entry when up to date, else compiled here), stamped as an
unchecked hash-based pyc (PEP 552: loaded without comparing anything, right for a file
named by its content); a guest whose Python has another magic number skips them and
compiles. pyroute2's ``__init__`` travels rewritten to import lazily (:mod:`.lazyinit`).
A zip is imported in place (zipimport): unpacking its 560 files cost 3.6 s in the guest.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import marshal
import os
import selectors
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import TargetError
from ..i18n import tr
from .lazyinit import lazy_init

AGENT_MODULE = "labkit.targets.agent"
FORMAT = "2"  # part of every key: a change to the bundle's layout makes every stored bundle stale
GUEST_STORE = "/var/cache/labkit/agent"  # where a VM keeps its bundles (root's, mode 0700)
KEEP = 4  # bundles a store keeps (the most recently used); older ones go when a new one arrives
HAVE, SEND = b"labkit-bundle have", b"labkit-bundle send"

#: Runs as ``python3 -c BOOTSTRAP labkit.targets.agent KEY STORE MODE --lab-id ID --target NAME [...]``
#: (the module name and ``--lab-id`` in its command line let ``labkit reset`` there recognise a live
#: lab). It says whether it has the bundle, stores it if sent, then serves: itself (MODE ``here``),
#: or through the guest's warm fork server (MODE ``fork``, :mod:`.agent_fork`).
BOOTSTRAP = r"""
import os, sys
key, store, mode = sys.argv[2], sys.argv[3], sys.argv[4]
home = os.path.join(store, key + ".zip")
os.makedirs(store, mode=0o700, exist_ok=True)
st = os.stat(store)
if st.st_uid != os.geteuid() or st.st_mode & 0o077:
    sys.exit(f"labkit: {store} must be a folder that only its owner (uid {os.geteuid()}) can use")
out = sys.stdout.buffer
if os.path.isfile(home):
    out.write(b"labkit-bundle have\n")
    out.flush()
    os.utime(home)
else:
    out.write(b"labkit-bundle send\n")
    out.flush()
    size = int(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read(size)
    if len(data) != size:
        sys.exit("labkit: the agent's bundle was cut short")
    part = f"{home}.part{os.getpid()}"
    with open(part, "wb") as fh:
        fh.write(data)
    os.replace(part, home)
    kept = sorted((os.stat(os.path.join(store, n)).st_mtime, n) for n in os.listdir(store) if n.endswith(".zip"))
    for _, old in kept[:-KEEP]:
        os.unlink(os.path.join(store, old))
sys.path.insert(0, home)
from labkit.targets.agent_fork import run
from labkit.targets.process_exit import exit_now
exit_now(run(home, key, sys.argv[5:], fork=mode == "fork"))
""".replace("KEEP", str(KEEP))


@dataclass(frozen=True)
class Bundle:
    """The files the agent needs on a bare ``python3``: ``(name in the bundle, path here)``."""

    files: tuple[tuple[str, Path], ...]

    @property
    def key(self) -> str:
        """A hash of every file's name and content (not the bytecode: a guest keeps its own)."""
        h = hashlib.sha256(FORMAT.encode())
        for name, path in self.files:
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()[:24]

    def zip(self) -> bytes:
        """The zip that is sent: each module's source and, beside it, its bytecode (see the module
        docstring); pyroute2's ``__init__`` made lazy."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name, path in self.files:
                source = path.read_bytes()
                code = None
                if name == "pyroute2/__init__.py":
                    source = lazy_init(source.decode(), "pyroute2", eager=("pyroute2.config",)).encode()
                else:
                    code = _host_code(path, source)
                if code is None:
                    code = marshal.dumps(compile(source, name, "exec", dont_inherit=True))
                archive.writestr(name, source)
                archive.writestr(name[:-3] + ".pyc", _unchecked_pyc(source, code))
        return buffer.getvalue()


def _host_code(path: Path, source: bytes) -> bytes | None:
    """The marshalled code of ``path`` from this interpreter's ``__pycache__``, if it is up to date."""
    try:
        cached = Path(importlib.util.cache_from_source(str(path))).read_bytes()
        stat = path.stat()
    except (OSError, NotImplementedError):
        return None
    magic, flags = cached[:4], int.from_bytes(cached[4:8], "little")
    mtime, size = int.from_bytes(cached[8:12], "little"), int.from_bytes(cached[12:16], "little")
    if (magic != importlib.util.MAGIC_NUMBER or flags != 0 or mtime != int(stat.st_mtime) & 0xFFFFFFFF
            or size != len(source) & 0xFFFFFFFF):
        return None
    return cached[16:]


def _unchecked_pyc(source: bytes, code: bytes) -> bytes:
    """A hash-based pyc that is never checked against its source (PEP 552, flags 0b01)."""
    return importlib.util.MAGIC_NUMBER + (0b01).to_bytes(4, "little") + importlib.util.source_hash(source) + code


def _package(root: Path, name: str) -> list[tuple[str, Path]]:
    return [(str(p.relative_to(root)), p) for p in sorted((root / name).rglob("*.py")) if "__pycache__" not in p.parts]


def agent_bundle() -> Bundle:
    """labkit + pyroute2, from where this process imports them (found, not imported: that takes time)."""
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.origin is None:
        raise TargetError(tr("pyroute2 is not installed here, so the agent's bundle cannot carry it"),
                          hint=tr("install labkit's dependencies (./dev test, or pip install pyroute2)"))
    labkit_root = Path(__file__).resolve().parents[2]
    pyroute2_root = Path(spec.origin).resolve().parents[1]
    return Bundle(tuple(_package(labkit_root, "labkit") + _package(pyroute2_root, "pyroute2")))


def agent_zip() -> bytes:
    """The zip of :func:`agent_bundle` (a few hundred KiB of source, plus bytecode)."""
    return agent_bundle().zip()


def bootstrap_argv(python: str, lab_id: str, *extra: str, key: str, store: str, target: str,
                   fork_server: bool = False) -> list[str]:
    """The command line that starts the agent ``--target target`` from the bundle ``key`` in ``store``;
    with ``fork_server`` (a disposable VM) forked from the machine's warm server (:mod:`.agent_fork`),
    which is started for the next lab when there is none yet."""
    mode = "fork" if fork_server else "here"
    return [python, "-c", BOOTSTRAP, AGENT_MODULE, key, store, mode, "--lab-id", lab_id, "--target", target, *extra]


@dataclass(frozen=True)
class Offered:
    """How the bundle's offer went: sent or already there, and the seconds each part took."""

    sent: bool
    answer: float  # from the start to the bootstrap's answer (connection, interpreter start)
    send: float  # building and sending the zip (0 when the target had it)
    size: int  # bytes sent


def offer(proc: subprocess.Popen[bytes], bundle: Bundle, timeout: float) -> Offered:
    """Read the bootstrap's answer (within ``timeout`` s) and send the bundle if it asks for it.

    Raises :class:`TargetError` when the other end ends or says something else first (ssh
    could not connect, no python3, ...)."""
    assert proc.stdin is not None and proc.stdout is not None
    started = time.perf_counter()
    line = _read_line(proc, time.monotonic() + timeout)
    answered = time.perf_counter()
    if line == HAVE:
        return Offered(False, answered - started, 0.0, 0)
    if line != SEND:
        raise TargetError(tr("the agent's bootstrap did not answer as expected (it said {said})", said=repr(line[:80])),
                          hint=tr("see the agent's stderr below"))
    data = bundle.zip()
    proc.stdin.write(f"{len(data)}\n".encode() + data)
    proc.stdin.flush()
    return Offered(True, answered - started, time.perf_counter() - answered, len(data))


def _read_line(proc: subprocess.Popen[bytes], deadline: float) -> bytes:
    """One line from ``proc``'s stdout, read from the file descriptor itself (nothing is left in
    a Python buffer for the reader thread that takes over), or what came before EOF."""
    assert proc.stdout is not None
    fd, line = proc.stdout.fileno(), b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise TargetError(tr("the agent's bootstrap did not answer within the deadline (it said {said})", said=repr(line)),
                                  hint=tr("is the target very slow or stuck? see the agent's stderr below"))
            chunk = os.read(fd, 1)
            if not chunk:
                return line
            line += chunk
    return line.rstrip(b"\n")

