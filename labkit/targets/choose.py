"""Choosing the target of a new lab from the settings."""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..settings import Settings
from .base import Target


def target_from_settings(config: Settings, lab_id: str | None, mode: str | None) -> Target:
    """The local sandbox, or the Vagrant VM when ``LABKIT_TARGET=vagrant``."""
    if config.target == "vagrant":
        from .vagrant import VagrantTarget

        return VagrantTarget(config.vagrant_dir, lab_id=lab_id)
    if config.target != "local":
        raise InvalidInput(tr("LABKIT_TARGET={target!r} is not a target", target=config.target), hint=tr("use 'local' or 'vagrant'"))
    from .local import LocalTarget

    return LocalTarget(lab_id=lab_id, mode=mode)
