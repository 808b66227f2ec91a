"""The report-back as PDF, read the way a person reads it: every page renders (pdftoppm) and
shows something, and its text (pdftotext) holds every outcome and every dissent of the
record, every heading of the HTML export, and no one's name under the Chatham House Rule.
User text in the draft is shown as written, never run as Typst code, and any draft typesets."""

import html
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reports import exports
from app.reports.draft import esc
from tests.commitments.record_room import answer, table_check
from tests.conftest import SeatBrowser
from tests.reports.report_room import ReportRoom, assert_names_nobody, flat, make_report_room

pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils is not installed (`make test` installs it)",
)

SECOND_OUTCOME = "Fund a shared meter pool for small farms."
SECOND_DISSENT = "A pool leaves the upkeep to no one."
# Text that is markup or code in Typst; the rapporteur writes it into the draft.
HOSTILE = (
    '#read("/etc/passwd")',
    "#set text(fill: red) and #{1/0}",
    "$x^2$ <label> @ref // a comment? /* or this */",
    "] closing [ back\\slash\\ `ticks` ~tilde~ a -- b --- c ...",
    "_under_ *star* = eq + plus - minus / slash: 1. one",
    "\\u{41} 'single' \"double\" https://example.org/path",
)


@contextmanager
def pdf_file(pdf: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(pdf)
        yield path


def poppler(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def pdf_info(pdf: bytes) -> dict[str, str]:
    with pdf_file(pdf) as path:
        lines = poppler("pdfinfo", str(path)).splitlines()
    return {key.strip(): value.strip() for key, _, value in (ln.partition(":") for ln in lines)}


def pdf_text(pdf: bytes) -> str:
    with pdf_file(pdf) as path:
        return poppler("pdftotext", "-enc", "UTF-8", str(path), "-")


def page_images(pdf: bytes) -> list[tuple[int, int, bytes]]:
    """Every page rendered by pdftoppm in shades of grey (PGM): width, height, pixels."""
    with pdf_file(pdf) as path:
        poppler("pdftoppm", "-gray", "-r", "40", str(path), str(path.parent / "page"))
        pages = []
        for image in sorted(path.parent.glob("page*.pgm")):
            data = image.read_bytes()
            header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
            assert header, image.name
            width, height = int(header[1]), int(header[2])
            pixels = data[header.end() :]
            assert len(pixels) == width * height, image.name
            pages.append((width, height, pixels))
        return pages


def ink(pixels: bytes) -> float:
    """The share of a page's pixels that are dark."""
    return sum(1 for value in pixels if value < 128) / len(pixels)


async def publish(
    made: ReportRoom, convener: httpx.AsyncClient, markdown: str | None = None
) -> int:
    room = made.room
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    if markdown is not None:
        saved = await room["rap"].put(room.url("/report/draft"), json={"markdown": markdown})
        assert saved.status_code == 200, saved.text
    published = await convener.post(room.url("/report/versions"))
    assert published.status_code == 201, published.text
    return int(published.json()["number"])


async def test_the_pdf_shows_every_outcome_and_dissent_on_pages_that_render(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    check = await table_check(room, SECOND_OUTCOME)
    await answer(room, "a", check, "agree")
    await answer(room, "b", check, "stand_aside", "Not my sector.")
    closed = await room["fac"].post(room.url(f"/checks/{check}/close"), json={})
    assert closed.status_code == 200, closed.text
    dissent = await room["c"].post(
        room.url("/dissents"),
        json={"target": "outcome", "target_id": closed.json()["id"], "reason": SECOND_DISSENT},
    )
    assert dissent.status_code == 201, dissent.text
    number = await publish(made, convener)

    response = await room["obs"].get(room.url(f"/report/versions/{number}/export.pdf"))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")

    # Accessible: tagged, titled, declared PDF/UA-1.
    info = pdf_info(pdf)
    title = (await convener.get(room.url())).json()["title"]
    assert info["Title"] == f"Report-back: {title} (version {number})"
    assert info["Tagged"] == "yes"
    assert b"pdfuaid:part" in pdf

    # Every page renders, as many as the document has, and none is blank.
    pages = page_images(pdf)
    assert len(pages) == int(info["Pages"]) >= 1
    for n, (width, height, pixels) in enumerate(pages, start=1):
        assert width > 100 and height > width, n
        assert ink(pixels) > 0.002, f"page {n} is blank"

    # The text: every outcome and every dissent of the record, and the page numbers.
    text = flat(pdf_text(pdf))
    record = json.loads(
        (await convener.get(room.url(f"/report/versions/{number}/export.json"))).content
    )["record"]
    statements = [o["statement"] for o in record["outcomes"]]
    reasons = [d["reason"] for d in record["dissents"]]
    assert SECOND_OUTCOME in statements and SECOND_DISSENT in reasons and len(reasons) == 4
    for needle in (*statements, *reasons):
        assert needle in text, needle
    total = len(pages)
    assert re.search(rf"\b1 ?/ ?{total}\b", text) and re.search(rf"\b{total} ?/ ?{total}\b", text)
    assert_names_nobody(text, "the PDF")

    # The same content as the HTML export: every heading of it is in the PDF.
    page = (await convener.get(room.url(f"/report/versions/{number}/export.html"))).text
    headings = [
        flat(html.unescape(re.sub(r"<[^>]+>", "", h)))
        for h in re.findall(r"<h[1-6]>(.*?)</h[1-6]>", page, re.S)
    ]
    assert len(headings) > 10
    for heading in headings:
        assert heading in text, heading


async def test_draft_text_is_printed_as_written_never_run(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    markdown = (await room["rap"].post(room.url("/report/draft/generate"))).json()["markdown"]
    edited = (
        markdown
        + "\n## The rapporteur's notes\n\n"
        + "\n\n".join(f"- {esc(line)}" for line in HOSTILE)
        + '\n\n```\n#read("/etc/hostname")\n```\n'
        # A skipped heading level: no PDF/UA claim then, still a tagged PDF.
        + "\n###### A note deep down\n"
    )
    number = await publish(made, convener, edited)

    response = await room["obs"].get(room.url(f"/report/versions/{number}/export.pdf"))
    assert response.status_code == 200, response.text[:300]
    pdf = response.content
    assert pdf_info(pdf)["Tagged"] == "yes"
    assert b"pdfuaid:part" not in pdf
    text = flat(pdf_text(pdf))
    for line in HOSTILE:
        assert flat(line) in text, line
    assert '#read("/etc/hostname")' in text and "A note deep down" in text
    assert "root:" not in text
    for _, _, pixels in page_images(pdf):
        assert ink(pixels) > 0.002


# Pieces of Markdown, and characters that mean something to Typst, Markdown or PDF text.
PIECES = st.sampled_from(
    [*"ab 1\n#*_`$<>@[]=-+/~'\"{}()\\:;,.!?%&^|\t\r\x00\x0bé😀ع"]
    + ["\n- ", "\n1. ", "\n> ", "\n```\n", "\n| a | b |\n|---|---|\n| ", "\n# ", "\n###### "]
    + ["[x](https://example.org)", "![i](x.png)", "**", "~~", "  \n", "\n---\n", "&amp;", "<b>"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=50).map("".join), st.text(max_size=20), st.text(max_size=8))
def test_any_draft_typesets(markdown: str, title: str, language: str) -> None:
    assert exports.pdf_bytes(markdown, title, title, language).startswith(b"%PDF")
