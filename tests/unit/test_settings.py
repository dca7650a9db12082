"""Every LABKIT_* variable is read in one place, and the table in settings.py lists each one."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import settings as settings_module
from labkit.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_settings_read_the_environment_once_typed() -> None:
    got = Settings.from_env({"LABKIT_TARGET": "vagrant", "LABKIT_MODE": "rootless", "LABKIT_VM_PREFIX": "vm/sandbox.sh run",
                             "LABKIT_VM_TESTS": "1"})
    assert (got.target, got.mode, got.vm_prefix, got.vm_tests) == ("vagrant", "rootless", ("vm/sandbox.sh", "run"), True)
    assert Settings.from_env({}) == Settings()


def test_no_module_but_settings_reads_labkit_variables() -> None:
    readers = [str(p.relative_to(ROOT)) for p in (ROOT / "labkit").rglob("*.py")
               if p.name != "settings.py" and re.search(r"environ(\.get)?\(?\[?[\"']LABKIT_", p.read_text())]
    assert readers == [], f"LABKIT_* read outside labkit/settings.py: {readers}"


def test_every_setting_is_documented() -> None:
    doc = settings_module.__doc__ or ""
    names = set(re.findall(r"LABKIT_[A-Z_]+", Path(settings_module.__file__).read_text().split('"""', 2)[2]))
    assert names and all(f"``{name}``" in doc for name in names), names - set(re.findall(r"``(LABKIT_[A-Z_]+)``", doc))


def test_the_readme_has_the_one_table_of_settings() -> None:
    import re
    from pathlib import Path

    import labkit.settings as module

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    documented = set(re.findall(r"``(LABKIT_[A-Z_]+)``", module.__doc__ or ""))
    assert documented, "the settings module documents no variable"
    missing = sorted(name for name in documented if f"| `{name}` |" not in readme)
    assert not missing, f"README's settings table lacks {missing}"
