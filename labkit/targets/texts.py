"""A Python call as the learner types it, for a hint (``lab.up('veth0', ns='h1')``).

(Lists of sentences are :func:`labkit.i18n.joined`: ``"; ".join(parts)`` would glue
translatable sentences into one plain English string.)"""

from __future__ import annotations


def api(function: str, *args: object, **kwargs: object) -> str:
    """A call as the learner types it, e.g. ``api("lab.up", "veth0", ns="h1")`` → ``lab.up('veth0', ns='h1')``:
    a field of a sentence, never translated."""
    return f"{function}({', '.join([*map(repr, args), *(f'{key}={value!r}' for key, value in kwargs.items())])})"
