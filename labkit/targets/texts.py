"""Lists of sentences for the learner, kept translatable.

``"; ".join(parts)`` would glue translatable sentences into one plain English string;
:func:`joined` folds them into nested :func:`~labkit.i18n.tr` sentences instead, so each part
(a kernel's refusal, a setting that differs) is still shown in the learner's language."""

from __future__ import annotations

from collections.abc import Sequence

from ..i18n import tr


def joined(parts: Sequence[str]) -> str:
    """``a; b; c`` as one sentence whose parts stay translatable ('' for no parts)."""
    if not parts:
        return ""
    text = parts[-1]
    for part in reversed(parts[:-1]):
        text = tr("{first}; {rest}", first=part, rest=text)
    return text


def api(function: str, *args: object, **kwargs: object) -> str:
    """A call as the learner types it, e.g. ``api("lab.up", "veth0", ns="h1")`` → ``lab.up('veth0', ns='h1')``:
    a field of a sentence, never translated."""
    return f"{function}({', '.join([*map(repr, args), *(f'{key}={value!r}' for key, value in kwargs.items())])})"
