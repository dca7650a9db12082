"""Keep the library's translations current: extract, check and compile the gettext catalogue.

A developer's tool (it needs Babel, a JupyterLab dependency, declared in the ``dev`` extra);
the running library only reads the compiled ``.mo`` with the standard library's ``gettext``::

    python -m labkit.i18n_catalog            # extract new sentences into labkit.po, compile the .mo
    python -m labkit.i18n_catalog --check    # exit 1 naming every sentence without a translation,
                                             # with a fuzzy one, or whose {fields} differ

Extraction keeps every translation; a sentence whose English changed keeps its old
Chinese, marked fuzzy (with the previous English) until somebody checks it.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).parent
KEYWORDS = {"tr": None}
#: the catalogue's header dates stay fixed, so that it changes only when a sentence does (git keeps the dates)
EPOCH = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def sentences() -> Catalog:
    """Every sentence marked with ``tr(...)`` in the package, with the places it is used."""
    template = Catalog(project="labkit", charset="utf-8", fuzzy=False)
    found = extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
                             comment_tags=("translators:",), strip_comment_tags=True)
    for filename, _lineno, message, comments, _context in found:
        # files without line numbers: the catalogue changes when a sentence does, not when code moves
        if message in template:
            entry = template[message]
            entry.locations = sorted({*entry.locations, (f"labkit/{filename}", None)})  # type: ignore[arg-type]
        else:
            template.add(message, locations=[(f"labkit/{filename}", None)], auto_comments=comments)  # type: ignore[list-item]
    return template


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project="labkit", charset="utf-8", fuzzy=False, copyright_holder="the labkit authors",
                       header_comment="# labkit's sentences for learners, translated (see labkit/i18n.py and\n"
                                      "# docs/glossary.zh.md). Update: python -m labkit.i18n_catalog\n#")
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def po_text(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=0, include_previous=True, sort_output=True, omit_header=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def fields(text: str) -> set[str]:
    """The ``{name}`` fields of a format string (conversions and specs left out)."""
    return {name.split(".")[0].split("[")[0] for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What keeps the catalogue from being complete: one line per sentence."""
    out = []
    for message in template:
        if not message.id:
            continue
        where = ", ".join(file for file, _line in message.locations[:3])
        entry = catalog.get(message.id)
        if entry is None or not entry.string:
            out.append(f"untranslated ({where}): {message.id!r}")
        elif entry.fuzzy:
            out.append(f"fuzzy, check it and remove the fuzzy flag ({where}): {message.id!r}")
        else:
            try:
                if fields(str(entry.string)) != fields(str(message.id)):
                    out.append(f"fields differ ({where}): {message.id!r} has {sorted(fields(str(message.id)))}, "
                               f"the translation {sorted(fields(str(entry.string)))}")
            except ValueError as exc:
                out.append(f"broken format string in the translation ({where}): {message.id!r}: {exc}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any sentence lacks a translation")
    parser.add_argument("--fill", metavar="JSON", type=Path, nargs="+", default=[],
                        help="first set translations from JSON objects {English sentence: translation} (lang zh)")
    args = parser.parse_args(argv)
    template = sentences()
    status = 0
    for lang in LANGUAGES[1:]:
        catalog = read(lang)
        catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
        for part in [] if args.check else args.fill:
            for english, translated in json.loads(part.read_text()).items():
                if english in catalog:
                    entry = catalog[english]
                    entry.string, entry.previous_id = translated, []
                    entry.flags.discard("fuzzy")
                else:
                    print(f"{lang}: --fill {part.name}: no such sentence in the code: {english!r}", file=sys.stderr)
        catalog.creation_date = catalog.revision_date = EPOCH
        catalog.language_team = catalog.last_translator = "labkit <https://github.com/labkit>"
        issues = problems(catalog, template)
        new_po, new_mo = po_text(catalog), mo_bytes(catalog)
        if args.check:
            stale = [path.relative_to(PACKAGE.parent) for path, data in ((po_path(lang), new_po), (mo_path(lang), new_mo))
                     if not path.exists() or path.read_bytes() != data]
            issues += [f"{path} is not current: run python -m labkit.i18n_catalog" for path in stale]
        else:
            po_path(lang).parent.mkdir(parents=True, exist_ok=True)
            po_path(lang).write_bytes(new_po)
            mo_path(lang).write_bytes(new_mo)
        for line in issues:
            print(f"{lang}: {line}", file=sys.stderr)
        status |= bool(issues)
        print(f"{lang}: {len(template)} sentences, {len(issues)} problems", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
