"""Languages: every string marked for translation has a French and a Spanish translation with
the same placeholders, and the report-back comes out in the convening's language."""

import re
import string
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.i18n import LANGUAGES, LOCALE_DIR, _, ngettext, normalize, translations, use_language
from tests.conftest import SeatBrowser
from tests.reports.report_room import DISSENT_KEPT, make_report_room

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def source_messages() -> dict[str | tuple[str, ...], str]:
    """Every message the code and templates mark, extracted the way `make messages` does."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if filename.startswith((".venv", "tests", "bench", "migrations")):
            continue
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_string_is_translated(language: str) -> None:
    sources = source_messages()
    assert len(sources) >= 50  # the extraction finds the strings (it cannot silently miss)
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    missing, broken = [], []
    for message, where in sources.items():
        msgid = message if isinstance(message, str) else message[0]
        entry = catalog.get(msgid)
        strings = (
            []
            if entry is None
            else [entry.string]
            if isinstance(entry.string, str)
            else entry.string
        )
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(f"{where}: {msgid!r}")
            continue
        wanted = fields(msgid)
        for translated in strings:
            if fields(translated) != wanted:
                broken.append(f"{where}: {msgid!r} → {translated!r}")
    assert not missing, f"{len(missing)} strings lack a {language} translation:\n" + "\n".join(
        missing
    )
    assert not broken, "translations with other placeholders:\n" + "\n".join(broken)


def test_language_choice() -> None:
    assert normalize("fr-CA") == "fr" and normalize("ES") == "es"
    assert normalize("de") == "en" and normalize(None) == "en"
    with use_language("fr"):
        assert _("Key points") == "Points clés"
        assert ngettext(
            "{count} seat was absent; the table above counts it by group.",
            "{count} seats were absent; the table above counts them by group.",
            3,
        ).startswith("{count} sièges")
        with use_language("es"):
            assert _("Key points") == "Puntos clave"
        assert _("Key points") == "Points clés"
    assert _("Key points") == "Key points"
    assert translations("en").gettext("Key points") == "Key points"


@pytest.mark.parametrize(
    ("language", "headings"),
    [
        ("fr", ("# Compte rendu", "### Points clés", "## Points en attente", "## Participation")),
        ("es", ("# Informe de retorno", "### Puntos clave", "## Temas aparcados")),
    ],
)
async def test_the_report_back_comes_out_in_the_convenings_language(
    convener: httpx.AsyncClient, seated: SeatBrowser, language: str, headings: tuple[str, ...]
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    changed = await room.convener.patch(room.url(""), json={"language": language})
    assert changed.status_code == 200, changed.text
    draft = await room["rap"].post(room.url("/report/draft/generate"))
    assert draft.status_code == 200, draft.text
    markdown = draft.json()["markdown"]
    for heading in headings:
        assert re.search(rf"^{re.escape(heading)}", markdown, re.MULTILINE), (heading, markdown)
    assert "Key points" not in markdown and "Parking lot" not in markdown
    assert DISSENT_KEPT in markdown  # what people wrote stays as they wrote it
