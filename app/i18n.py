"""Languages: English, French and Spanish, from Babel catalogs in `app/locale`.

The source strings are English. `gettext` (imported as `_`) translates into the language of
the current context, set with `use_language()` (a context variable, so concurrent requests
never see each other's language). Strings defined at import time are marked with `N_` and
translated where they are used. The catalogs are the `.po` files themselves: they are
compiled in memory on first use, so no build step is needed.

`babel.cfg` tells `pybabel extract` where the strings are; `make messages` refreshes the
template and the catalogs, and `tests/test_i18n.py` fails on any string without a French or
Spanish translation.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

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


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of a language, compiled in memory from its .po file (cached)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


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
