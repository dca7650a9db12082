"""The agent's code for a remote target, as one zip sent over the SSH connection.

The guest needs only ``python3``: labkit's own package and pyroute2 (pure Python)
travel in a zip that the bootstrap below writes to a temporary file and puts on
``sys.path``. The same stdin then carries the JSON-lines conversation, so starting
the agent costs one SSH session, not a provisioning step.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

AGENT_MODULE = "labkit.targets.agent"

#: Runs in the guest as ``python3 -c BOOTSTRAP labkit.targets.agent --lab-id ID [--allow-host]`` (the
#: module name and ``--lab-id`` in its command line let ``labkit reset`` there recognise a live lab):
#: read the zip's size, the zip, then serve.
BOOTSTRAP = (
    "import os,sys,tempfile\n"
    "n=int(sys.stdin.buffer.readline())\n"
    "data=sys.stdin.buffer.read(n)\n"
    "fd,path=tempfile.mkstemp(prefix='labkit-agent-',suffix='.zip')\n"
    "os.write(fd,data);os.close(fd)\n"
    "sys.path.insert(0,path)\n"
    "from labkit.targets.agent import main\n"
    "try:\n"
    "    code=main(['--lab-id',sys.argv[3],'--target','vagrant']+sys.argv[4:])\n"
    "finally:\n"
    "    os.unlink(path)\n"
    "sys.stdout.flush();sys.stderr.flush();os._exit(code)\n"  # see labkit.targets.agent._exit
)


def bootstrap_argv(python: str, lab_id: str, *extra: str) -> list[str]:
    """The command line that starts the agent from a zip sent on stdin."""
    return [python, "-c", BOOTSTRAP, AGENT_MODULE, "--lab-id", lab_id, *extra]


def _add_package(archive: zipfile.ZipFile, root: Path, name: str) -> None:
    base = root / name
    for path in sorted(base.rglob("*.py")):
        if "__pycache__" not in path.parts:
            archive.write(path, str(path.relative_to(root)))


def agent_zip() -> bytes:
    """labkit + pyroute2 source as a zip (a few hundred KiB)."""
    import pyroute2

    labkit_root = Path(__file__).resolve().parents[2]
    pyroute2_root = Path(os.path.dirname(os.path.dirname(os.path.abspath(pyroute2.__file__))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_package(archive, labkit_root, "labkit")
        _add_package(archive, pyroute2_root, "pyroute2")
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]
