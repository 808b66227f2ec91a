"""Languages: every string marked for translation (code, templates and browser code) has a
French and a Spanish translation with the same placeholders; pages come in the convening's
language or the one a person chose, with the browser's strings embedded for i18n.js; and the
report-back comes out in the convening's language."""

import json
import re
import string
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi import FastAPI
from sqlmodel import select

from app.i18n import (
    LANGUAGES,
    LOCALE_DIR,
    _,
    js_catalog,
    js_messages,
    ngettext,
    normalize,
    translations,
    use_language,
)
from app.notify.models import OutboxMessage
from app.notify.outbox import render_report
from app.reports.readers import REPORT_EMAIL
from tests.conftest import CONVENING, Browser, SeatBrowser
from tests.reports.report_room import DISSENT_KEPT, make_report_room

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def source_messages() -> dict[tuple[str | tuple[str, ...], str | None], str]:
    """Every message the code, templates and browser code mark, extracted the way
    `make messages` does: {(message, context): where}."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[tuple[str | tuple[str, ...], str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if filename.startswith((".venv", "tests", "bench", "migrations")):
            continue
        found.setdefault((message, context), f"{filename}:{lineno}")
    return found


PERCENT = re.compile(r"%\((\w+)\)[sd]")


def fields(text: str) -> set[str]:
    """The placeholders of a message: {name} (code and JS) and %(name)s (templates)."""
    braces = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return braces | {f"%({name})" for name in PERCENT.findall(text)}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_string_is_translated(language: str) -> None:
    sources = source_messages()
    assert len(sources) >= 50  # the extraction finds the strings (it cannot silently miss)
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    missing, broken = [], []
    for (message, context), where in sources.items():
        msgid = message if isinstance(message, str) else message[0]
        entry = catalog.get(msgid, context=context)
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


def page_messages(html: str) -> dict[str, object]:
    """The browser's translations a page embeds for i18n.js ({} when there are none)."""
    found = re.search(
        r'<script type="application/json" id="convene-i18n">(.*?)</script>', html, re.DOTALL
    )
    return json.loads(found.group(1)) if found else {}


async def invitation_link(convener: httpx.AsyncClient, convening_id: int, name: str) -> str:
    seat = await convener.post(
        f"/api/convenings/{convening_id}/seats", json={"role": "participant", "holder_name": name}
    )
    assert seat.status_code == 201, seat.text
    issued = await convener.post(
        f"/api/convenings/{convening_id}/seats/{seat.json()['id']}/invitation"
    )
    assert issued.status_code == 201, issued.text
    return "/join/" + str(issued.json()["link"]).rsplit("/", 1)[1]


async def test_pages_come_in_the_convenings_language(
    convener: httpx.AsyncClient, seated: SeatBrowser, new_browser: Browser
) -> None:
    made = await convener.post("/api/convenings", json={**CONVENING, "language": "fr"})
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    link = await invitation_link(convener, cid, "Amina Diallo")

    joining = await (await new_browser()).get(link)
    assert joining.status_code == 200, joining.text
    html = joining.text
    assert '<html lang="fr">' in html
    assert "Votre siège à Roundtable on the river basin" in html
    assert "Prendre mon siège" in html and "Règles de base" in html
    assert "samedi 2 mars 2030, 09:00" in html  # the date in words, in French
    assert "Take my seat" not in html
    # The language menu: each language named in itself, marked with its own language.
    assert 'lang="es" hreflang="es"' in html and ">Español</a>" in html
    assert f"/language?lang=en&amp;next={link}" in html

    browser, _seat = await seated(cid)
    room = await browser.get(f"/convenings/{cid}/room")
    assert room.status_code == 200, room.text
    assert '<html lang="fr">' in room.text
    assert "Lever la main" in room.text and "Personne n'a la parole." in room.text
    assert "Raise my hand" not in room.text.split('id="convene-i18n"')[0]
    messages = page_messages(room.text)
    assert messages["Raise my hand"] == "Lever la main"  # for room.js, through i18n.js
    assert messages["{count} seat connected."] == [
        "{count} siège connecté.",
        "{count} sièges connectés.",
    ]
    assert messages["button\x04Dissent"] == "Exprimer un désaccord"


async def test_a_person_chooses_their_language(
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    seated: SeatBrowser,
    new_browser: Browser,
) -> None:
    cid = convening["id"]  # an English convening
    link = await invitation_link(convener, cid, "Lucía Pérez")
    visitor = await new_browser()
    chosen = await visitor.get("/language", params={"lang": "es", "next": link})
    assert chosen.status_code == 303 and chosen.headers["location"] == link
    joining = await visitor.get(link)
    assert '<html lang="es">' in joining.text
    assert "Ocupar mi puesto" in joining.text and "Su puesto en" in joining.text
    assert "sábado 2 de marzo de 2030, 09:00" in joining.text

    browser, _seat = await seated(cid)
    english = await browser.get(f"/convenings/{cid}/room")
    assert '<html lang="en">' in english.text and "Raise my hand" in english.text
    assert page_messages(english.text) == {}  # nothing to translate in English
    await browser.get("/language", params={"lang": "es", "next": f"/convenings/{cid}/room"})
    room = await browser.get(f"/convenings/{cid}/room")
    assert '<html lang="es">' in room.text
    assert "Levantar la mano" in room.text and "Nadie tiene la palabra." in room.text
    assert page_messages(room.text)["You have the floor."] == "Usted tiene la palabra."
    assert (await browser.get("/language", params={"lang": "de"})).status_code == 422
    refused = await convener.patch(f"/api/convenings/{cid}", json={"language": "pt-BR"})
    assert refused.status_code == 422


def test_the_browser_strings_are_all_extracted() -> None:
    """Every `t("...")` in the JS files reaches the catalogs (Babel's JS extractor misses a
    call it cannot parse, such as one with an object inside a template string's `${...}`)."""
    extracted = {message for message, _context in js_messages()}
    calls = re.compile(
        r'\b(?:t|tn)\(\s*"((?:[^"\\]|\\.)*)"|\btp\(\s*"[^"]*",\s*"((?:[^"\\]|\\.)*)"'
    )
    missed = []
    for path in sorted((ROOT / "frontend" / "static" / "js").glob("*.js")):
        for found in calls.finditer(path.read_text()):
            message = found.group(1) or found.group(2)
            if message not in extracted:
                missed.append(f"{path.name}: {message!r}")
    assert not missed, "not extracted:\n" + "\n".join(missed)
    assert "Raise my hand" in js_catalog("fr") and js_catalog("en") == {}


async def test_every_page_renders_in_french_and_spanish(
    convener: httpx.AsyncClient, convening: dict[str, Any], new_browser: Browser
) -> None:
    cid = convening["id"]
    pages = [
        "/console",
        f"/console/convenings/{cid}",
        f"/convenings/{cid}/room",
        f"/convenings/{cid}/facilitate",
        f"/convenings/{cid}/display",
        f"/convenings/{cid}/desk",
        f"/convenings/{cid}/commitments",
        "/join/not-a-token",
    ]
    for language, word in (("fr", "Langue"), ("es", "Idioma")):
        await convener.get("/language", params={"lang": language})
        for path in pages:
            page = await convener.get(path)
            assert page.status_code in (200, 404), (path, page.text)
            assert f'<html lang="{language}"' in page.text, path
        assert word in (await convener.get("/console")).text
    visitor = await new_browser()
    sign_in = await visitor.get("/sign-in", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es"' in sign_in.text and "Iniciar sesión" in sign_in.text
    missing = await visitor.get("/join/not-a-token", headers={"Accept-Language": "fr"})
    assert "Ce lien d&#39;invitation n&#39;est pas valable." in missing.text


def path_of_link(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


async def test_the_reader_page_comes_in_the_convenings_language(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, new_browser: Browser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    changed = await room.convener.patch(room.url(""), json={"language": "fr"})
    assert changed.status_code == 200, changed.text
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    published = await convener.post(room.url("/report/versions"))
    assert published.status_code == 201, published.text
    rows = (await convener.get(room.url("/report/readers"))).json()
    reader = next(r for r in rows if r["name"] == "Chen Wei")  # the absent seat

    browser = await new_browser()
    opened = await browser.get(path_of_link(reader["link"]))
    assert opened.status_code == 303, opened.text
    page = await browser.get(f"/convenings/{room.cid}/report")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert '<html lang="fr">' in html
    assert "Compte rendu : Roundtable on the river basin" in html
    assert "Accusé de lecture" in html
    assert '<button type="submit">Confirmer la lecture</button>' in html
    assert "Je ne suis pas d&#39;accord" in html and "Répondre à une section" in html
    assert "signée uniquement de votre groupe de parties prenantes" in html
    assert "Télécharger la version 1" in html and ">Document Word (DOCX)</a>" in html
    assert "Version 1, publiée le " in html and "Vous n'avez pas encore répondu." in html
    visible = html.split('id="convene-i18n"')[0]
    for english in ("Acknowledge<", "Read receipt", "I disagree", "Download version", "Your view"):
        assert english not in visible, english
    messages = page_messages(html)  # for report-read.js and report-common.js (i18n.js)
    assert messages["Answer sent. It is listed under “Your answers”."].startswith("Réponse envoyée")
    assert messages["The convener replied"] and messages["version {number}"] == "version {number}"

    # The convener's own choice of language wins over the convening's.
    await convener.get("/language", params={"lang": "es"})
    manage = await convener.get(f"/convenings/{room.cid}/report/manage")
    assert '<html lang="es">' in manage.text and "Publicación y alcance" in manage.text
    assert "Personas lectoras" in manage.text and '"absent_seat": "Puesto ausente"' in manage.text
    editor = await convener.get(f"/convenings/{room.cid}/report/edit")
    assert "Borrador del informe de retorno" in editor.text and "Vista previa" in editor.text
    missing = await convener.get(f"/convenings/{room.cid}/report", params={"version": 7})
    assert missing.status_code == 404 and "No existe la versión 7" in missing.text
    switched = await convener.put(room.url("/report/public-link"), json={"on": True})
    assert switched.status_code == 200, switched.text
    public = await (await new_browser()).get(path_of_link(switched.json()["link"]))
    assert '<html lang="fr">' in public.text and "par le lien public de la réunion" in public.text

    # The export's title and footer, and the reader's email, in the convening's language.
    export = await convener.get(room.url("/report/versions/1/export.html"))
    assert export.status_code == 200
    assert "Compte rendu : Roundtable on the river basin (version 1)" in export.text
    assert "Version 1, publiée le " in export.text
    async with app.state.sessionmaker() as session:
        message = (
            await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.kind == REPORT_EMAIL, OutboxMessage.to_address == reader["email"]
                )
            )
        ).one()
        email = await render_report(session, message, app.state.settings)
    assert email["Subject"] == "Compte rendu : Roundtable on the river basin"
    body = email.get_content()
    assert body.startswith("Bonjour Chen Wei,") and "(version 1)" in body
    assert "Lisez-le avec votre lien personnel" in body and reader["link"] in body


async def test_what_the_server_writes_comes_in_the_convenings_language(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    """Preset group names, group labels under the Chatham House Rule and refusals."""
    from tests.conftest import CONVENING

    made = await convener.post("/api/convenings", json={**CONVENING, "language": "es"})
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    group = await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "civil_society"})
    assert group.status_code == 201, group.text
    assert group.json()["name"] == "Sociedad civil"
    browser, _seat = await seated(cid, "participant", group_id=group.json()["id"])
    refused = await browser.post(f"/api/convenings/{cid}/open")
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == "El rol «participación» no permite dirigir los turnos de palabra."
    )
