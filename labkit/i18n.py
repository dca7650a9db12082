"""The learner's language: English, or Simplified Chinese (简体中文).

Every sentence labkit shows a learner (an error and its hint, a self-check's verdict, a
skip banner, a pane's caption) is written in English in the code and marked with
:func:`tr`, its fields named, never pasted in with an f-string::

    raise NotFound(tr("there is no device {name!r} in namespace {ns!r}", name=name, ns=ns),
                   hint=tr("create it first"))

:func:`tr` returns a :class:`Text`: a ``str`` holding the English sentence (so code and
logs keep working with it as a string), which also remembers its message id and fields.
It is put into the learner's language when it is *shown*, in the notebook kernel's
process. That matters because many errors are made by the root agent (under ``sudo`` or
in the VM over SSH), which does not know the learner's language: the error crosses the
agent's pipe as message id + fields (:meth:`Text.to_data`) and is translated on arrival's
display. Device names, commands and kernel output are fields: they stay as the kernel
prints them.

The language is, in this order: :func:`use` (the notebook helper
``labkit.notebook.language("zh")``), ``LABKIT_LANG``, the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``, ``LANGUAGE``), English. Translations are a standard gettext
catalogue, ``labkit/locale/zh/LC_MESSAGES/labkit.po``, compiled to the ``.mo`` beside it
(``python -m labkit.i18n_catalog``); a sentence without a translation falls back to English.
"""

from __future__ import annotations

import gettext
import re
from functools import cache
from pathlib import Path
from typing import Any

from .languages import LANGUAGES, normalize

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "labkit"

_chosen: str | None = None


class Text(str):
    """A sentence for the learner: its English as a ``str``, plus what it takes to translate it."""

    msgid: str
    fields: dict[str, Any]

    def __new__(cls, msgid: str, fields: dict[str, Any] | None = None) -> Text:
        fields = dict(fields or {})
        self = super().__new__(cls, msgid.format(**fields) if fields else msgid)
        self.msgid = msgid
        self.fields = fields
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copy/pickle keep the message id
        return (Text, (self.msgid, self.fields))

    def localized(self, lang: str | None = None) -> str:
        """This sentence in ``lang`` (default: the learner's language); English if untranslated."""
        lang = lang or language()
        if lang == LANGUAGES[0]:
            return str.__str__(self)
        pattern = catalogue(lang).gettext(self.msgid)
        if not self.fields:
            return pattern
        try:
            return tidy(pattern.format(**{key: localize(value, lang) if isinstance(value, Text) else value
                                          for key, value in self.fields.items()}), lang)
        except (KeyError, IndexError, ValueError):  # a broken translation must not hide the error itself
            return str.__str__(self)

    def to_data(self) -> dict[str, Any]:
        """Plain data (JSON) that :meth:`from_data` turns back into this Text, on the other side of a pipe."""
        return {"id": self.msgid, "fields": {key: value.to_data() if isinstance(value, Text) else _plain(value)
                                             for key, value in self.fields.items()}}

    @staticmethod
    def from_data(data: dict[str, Any]) -> Text:
        fields = {key: Text.from_data(value) if isinstance(value, dict) and "id" in value else value
                  for key, value in data.get("fields", {}).items()}
        if "sep" in data:
            return Joined(list(fields.values()), data["sep"])
        return Text(data["id"], fields)


def _plain(value: Any) -> Any:
    """A field as JSON can carry it: numbers and strings as they are, anything else as its text."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def tr(msgid: str, /, **fields: Any) -> Text:
    """Mark a sentence for translation; ``{name}`` fields are filled from ``fields``."""
    return Text(msgid, fields)


class Joined(Text):
    """Several sentences shown as one, each translated on its own, with the language's own separator."""

    sep: str

    def __new__(cls, parts: list[Any], sep: str = "; ") -> Joined:
        parts = [part for part in parts if part]
        self = str.__new__(cls, sep.join(str(part) for part in parts))
        self.msgid = sep.join(f"{{p{i}}}" for i in range(len(parts)))  # no catalogue entry: each part is translated
        self.fields = {f"p{i}": part for i, part in enumerate(parts)}
        self.sep = sep
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Joined, (list(self.fields.values()), self.sep))

    def localized(self, lang: str | None = None) -> str:
        lang = lang or language()
        return separator(self.sep, lang).join(localize(part, lang) for part in self.fields.values())

    def to_data(self) -> dict[str, Any]:
        return {**super().to_data(), "sep": self.sep}


#: how a language separates the sentences of a list (Chinese uses full-width punctuation, no space)
SEPARATORS = {"zh": {"; ": "；", ", ": "，", ". ": "。", ": ": "："}}


#: languages written without spaces between words: a space a {field} left between two of their characters goes
CLOSE_SET = {"zh": re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")}


def tidy(text: str, lang: str) -> str:
    """A filled-in translation as the language writes it: "{label} 已被停止" with a Chinese label reads
    "等待收敛已被停止", with no space between the two Chinese words (a space stays next to Latin: "启用 br0")."""
    gap = CLOSE_SET.get(lang)
    return gap.sub("", text) if gap else text


def separator(sep: str, lang: str | None = None) -> str:
    """``sep`` ('; ', ', ', '. ', ': ') as the learner's language writes it between two sentences."""
    return SEPARATORS.get(lang or language(), {}).get(sep, sep)


def joined(parts: list[Any], sep: str = "; ") -> Text:
    """Several sentences as one (``a; b; c``), each still translated when shown: ``sep.join`` would glue
    them into one plain English string."""
    return Joined(parts, sep)


def received(data: dict[str, Any], key: str) -> str:
    """A sentence that crossed the agent's pipe as ``key`` (its English) and ``key + "_text"`` (its message id
    and fields), in the learner's language."""
    wire = data.get(f"{key}_text")
    return localize(Text.from_data(wire)) if isinstance(wire, dict) else str(data.get(key, ""))


def localize(value: object, lang: str | None = None) -> str:
    """Any message (a :class:`Text` or a plain string) as the learner should read it."""
    return value.localized(lang) if isinstance(value, Text) else str(value)


def use(lang: str | None) -> str:
    """Choose the language for this process (None: back to the environment's); returns the language in force."""
    global _chosen
    if lang is not None and normalize(lang) is None:
        raise ValueError(f"labkit does not speak {lang!r}")  # labkit.notebook.language() says it to a learner
    _chosen = normalize(lang)
    return language()


def language() -> str:
    """The learner's language now (see the module docstring for the order it is chosen in)."""
    if _chosen:
        return _chosen
    from .settings import settings

    return settings().lang


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (a null one, i.e. English, when there is none)."""
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)
