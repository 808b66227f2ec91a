"""Languages: English, French and Spanish, from Babel catalogs in `app/locale`.

The source strings are English. `gettext` (imported as `_`) translates into the language of
the current context, set with `use_language()` (a context variable, so concurrent requests
never see each other's language). Strings defined at import time are marked with `N_` and
translated where they are used. The catalogs are the `.po` files themselves: they are
compiled in memory on first use, so no build step is needed.

`babel.cfg` tells `pybabel extract` where the strings are; `make messages` refreshes the
template and the catalogs, and `tests/test_i18n.py` fails on any string without a French or
Spanish translation.

The browser's strings live in the same catalogs: frontend/static/js/*.js write them as
`t("...", {name})`, `tn("one ...", "{count} ...", count, {count})` and `tp(context, "...")`
(see frontend/static/js/i18n.js), `pybabel extract` finds them through babel.cfg, and each
page embeds `js_catalog(lang)`, the translations of just those strings, in a JSON data block
(nothing for English). `js_catalog` extracts the strings from the JS files on first use
(cached), so there is no generated list to keep in step. Write the message as a plain string
literal, outside template strings' `${...}` when it takes values (the extractor misses those;
tests/test_i18n.py checks that every `t("...")` is found).
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español"}

_current: ContextVar[str] = ContextVar("convene_language", default=DEFAULT)


def normalize(language: str | None) -> str:
    """A supported language code for a requested one ("fr-CA" → "fr"); English otherwise."""
    code = (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGUAGES else DEFAULT


JS_DIR = LOCALE_DIR.parent.parent / "frontend" / "static" / "js"
JS_KEYWORDS: dict[str, Any] = {"t": None, "tn": (1, 2), "tp": ((1, "c"), 2)}


@cache
def po_catalog(language: str) -> Catalog | None:
    """The .po catalog of a language (cached); None for English, the source language."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not po.exists():
        return None
    with po.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of a language, compiled in memory from its .po file (cached)."""
    catalog = po_catalog(language)
    if catalog is None:
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def js_messages() -> tuple[tuple[str, str | None], ...]:
    """The messages the browser code marks with `t()`, `tn()` and `tp()`: (msgid, context)
    pairs, in file order."""
    found: dict[tuple[str, str | None], None] = {}
    for path in sorted(JS_DIR.glob("*.js")):
        for _lineno, message, _comments, context in extract_from_file(
            "javascript",
            str(path),
            keywords=JS_KEYWORDS,
            options={"parse_template_string": True},  # t() inside `${...}` too
        ):
            found.setdefault((message if isinstance(message, str) else message[0], context))
    return tuple(found)


@cache
def js_catalog(language: str) -> dict[str, str | list[str]]:
    """The browser's translations into `language`: {msgid: translation} for the strings of
    the JS files (plural forms as a list; "context\x04msgid" for a message with a context),
    leaving out the untranslated ones; empty for English."""
    catalog = po_catalog(normalize(language))
    if catalog is None:
        return {}
    result: dict[str, str | list[str]] = {}
    for msgid, context in js_messages():
        entry = catalog.get(msgid, context=context)
        if entry is None or entry.fuzzy or not entry.string:
            continue
        key = f"{context}\x04{msgid}" if context else msgid
        if isinstance(entry.string, str):
            result[key] = entry.string
        elif all(entry.string):
            result[key] = list(entry.string)
    return result


def current() -> str:
    return _current.get()


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Translate into `language` inside the block."""
    code = normalize(language)
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def set_language(language: str | None) -> str:
    """Translate into `language` for the rest of the current context (one request)."""
    code = normalize(language)
    _current.set(code)
    return code


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a string for extraction; it is translated where it is used, with `_()`."""
    return message


_ = gettext
