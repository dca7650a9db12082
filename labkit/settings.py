"""Every ``LABKIT_*`` setting, read once from the environment into one typed object.

========================  ==========================================================  =============
variable                  meaning                                                     default
========================  ==========================================================  =============
``LABKIT_TARGET``         where labs run: ``local`` (namespaces here) or ``vagrant``   ``local``
``LABKIT_MODE``           local privilege mode: ``root``, ``sudo`` or ``rootless``     best that works
``LABKIT_VAGRANT_DIR``    the folder of the Vagrantfile for the ``vagrant`` target     ``.``
``LABKIT_VM_PREFIX``      a command put before every vagrant/ssh command               (none)
``LABKIT_VM_PROVIDER``    vagrant's ``--provider``                                     vagrant's choice
``LABKIT_VM_TESTS``       ``1``: the test suite boots a real VM (and fails, not        ``0``
                          skips, when a tool for it is missing)
``LABKIT_NOTEBOOKS``      where the lab notebooks were put (a container image,         beside the package
                          Binder; see :mod:`labkit.places`)
``LABKIT_LANG``           the learner's language: ``en`` or ``zh`` (简体中文); see     the locale's, else
                          :mod:`labkit.i18n`                                          ``en``
========================  ==========================================================  =============

Code reads :func:`settings` (or is given a :class:`Settings`), never ``os.environ``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from .languages import LANGUAGES, normalize


@dataclass(frozen=True)
class Settings:
    """labkit's settings (see the module docstring for each one)."""

    target: str = "local"
    mode: str | None = None
    vagrant_dir: str = "."
    vm_prefix: tuple[str, ...] = field(default_factory=tuple)
    vm_provider: str | None = None
    vm_tests: bool = False
    notebooks: str | None = None
    lang: str = "en"

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return Settings(
            target=env.get("LABKIT_TARGET", "local") or "local",
            mode=env.get("LABKIT_MODE") or None,
            vagrant_dir=env.get("LABKIT_VAGRANT_DIR", ".") or ".",
            vm_prefix=tuple(shlex.split(env.get("LABKIT_VM_PREFIX", ""))),
            vm_provider=env.get("LABKIT_VM_PROVIDER") or None,
            vm_tests=env.get("LABKIT_VM_TESTS", "0") == "1",
            notebooks=env.get("LABKIT_NOTEBOOKS") or None,
            lang=learner_language(env),
        )


def learner_language(env: Mapping[str, str]) -> str:
    """``LABKIT_LANG`` if labkit speaks it, else the first locale variable that names a language it speaks, else English."""
    for name in ("LABKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return normalize(env[name]) or LANGUAGES[0]
    for name in env.get("LANGUAGE", "").split(":"):
        if normalize(name):
            return normalize(name) or LANGUAGES[0]
    return LANGUAGES[0]


def settings() -> Settings:
    """The settings of this process, as the environment says now."""
    return Settings.from_env()
