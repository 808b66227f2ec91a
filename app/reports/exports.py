"""Rendering and exports of the report-back: sanitized HTML, a standalone page, PDF
(Typst), DOCX (python-docx), JSON, CSV (commitments) and ICS (the agenda schedule).

Every export is made from a published version's Markdown and snapshot, which already obey the
attribution rule (`app.reports.draft.build_snapshot`): nothing here names anyone.
"""

import csv
import html
import io
import json
import re
import tempfile
from datetime import datetime
from typing import Any

import nh3
from docx import Document
from markdown_it import MarkdownIt
from markdown_it.token import Token

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])

STYLE = """
body { font-family: "DejaVu Sans", system-ui, sans-serif; line-height: 1.5; color: #1b1b1b;
  max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.4rem; margin-top: 2rem;
  border-bottom: 1px solid #ccc; } h3 { font-size: 1.15rem; } h4 { font-size: 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #f0f0f0; }
footer { margin-top: 3rem; font-size: 0.85rem; color: #555; }
@media print { body { margin: 0; max-width: none; } }
@page { size: A4; margin: 18mm; }
"""


def render_html(markdown: str) -> str:
    """Markdown to HTML, sanitized: raw HTML in the Markdown is escaped, then the output is
    cleaned by nh3 (no scripts, no event handlers, no javascript: links)."""
    return nh3.clean(_MD.render(markdown))


def standalone_page(markdown: str, title: str, footer: str, language: str = "en") -> str:
    """A complete HTML page with its own style: opens anywhere, prints well."""
    return (
        f'<!doctype html>\n<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<main>\n{render_html(markdown)}</main>\n"
        f"<footer>{html.escape(footer)}</footer>\n</body>\n</html>\n"
    )


# PDF --------------------------------------------------------------------------------------
#
# The Markdown's tokens (the same parse as the HTML export) become Typst markup, and Typst
# typesets it: a tagged PDF (headings, lists, tables with header rows, the language, the title)
# with page numbers, in DejaVu Sans. Typst (compiled, and off the GIL) typesets a report of
# 5,000 points and 200 tallies in about a tenth of the CPU time WeasyPrint took (BENCHMARKS.md,
# "Report-back PDF"). User text is never Typst code: every ASCII punctuation character in it
# is escaped, strings (URLs, code) are Typst string literals, and Typst's root is an empty
# folder, so even code that got through would find no file to read.

_TYPST_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?(?:[-_].*)?")
_LINKABLE = re.compile(r"(?i)(https?|mailto):")

TYPST_STYLE = """\
#set text(font: "DejaVu Sans", size: 10pt)
#set par(leading: 0.6em, spacing: 0.9em)
#show heading: set block(above: 1.3em, below: 0.7em)
#show heading.where(level: 1): set text(size: 17pt)
#show heading.where(level: 2): set text(size: 14pt)
#show heading.where(level: 3): set text(size: 11.5pt)
#show heading.where(level: 4): set text(size: 10.5pt)
#set list(indent: 0.3em, spacing: 0.55em)
#set enum(indent: 0.3em, spacing: 0.55em)
#set table(stroke: 0.5pt + luma(60%), inset: (x: 4pt, y: 3pt), align: left + top,
  fill: (_, y) => if y == 0 { luma(93%) })
#show table: set text(size: 9pt)
#show table.cell.where(y: 0): set text(weight: "bold")
#show quote.where(block: true): it => block(stroke: (left: 2pt + luma(70%)),
  inset: (left: 0.8em, y: 0.2em), it)
"""


def _typ_text(text: str) -> str:
    """User text as Typst markup that shows exactly that text."""
    return _TYPST_PUNCTUATION.sub(r"\\\g<0>", _CONTROL.sub(" ", text))


def _typ_string(text: str) -> str:
    """A Typst string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t")
    return '"' + _CONTROL.sub(" ", escaped) + '"'


def _typ_inline(token: Token) -> str:
    out: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind == "text":
            out.append(_typ_text(child.content))
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("#linebreak()")
        elif kind in ("strong_open", "em_open", "s_open"):
            out.append({"strong_open": "#strong[", "em_open": "#emph[", "s_open": "#strike["}[kind])
        elif kind in ("strong_close", "em_close", "s_close", "link_close"):
            out.append("]")
        elif kind == "code_inline":
            out.append(f"#raw({_typ_string(child.content)})")
        elif kind == "link_open":
            href = str(child.attrs.get("href") or "")
            out.append(f"#link({_typ_string(href)})[" if _LINKABLE.match(href) else "#[")
        elif kind == "image":  # never fetched: its description stands in its place
            out.append(_typ_text(child.content))
    return "".join(out)


def _typ_table(tokens: list[Token], i: int) -> tuple[str, int]:
    """A Markdown table from tokens[i] (table_open): its header row is a table header (repeated
    on every page the table spans, tagged as header cells). The index after the table."""
    rows: list[list[str]] = []
    head = 0
    while tokens[i].type != "table_close":
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline":
            rows[-1].append(_typ_inline(tokens[i]))
        elif tokens[i].type == "thead_close":
            head = len(rows)
        i += 1
    width = max((len(row) for row in rows), default=0)
    if not width:
        return "", i + 1

    def cells(row: list[str]) -> str:
        return ", ".join(f"[{cell}]" for cell in row + [""] * (width - len(row)))

    parts = [f"table.header({cells(row)})" for row in rows[:head]]
    parts += [cells(row) for row in rows[head:]]
    return f"#table(columns: {width},\n" + ",\n".join(parts) + ")\n", i + 1


def typst_markup(markdown: str) -> str:
    """The Markdown as Typst markup: headings, paragraphs, lists, tables, quotes, code, rules."""
    tokens = _MD.parse(markdown)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1])
            out.append(f"#heading(level: {level})[{_typ_inline(tokens[i + 1])}]\n")
            i += 3
            continue
        if kind == "paragraph_open":
            # A tight list's paragraphs are hidden: no paragraph break inside the item.
            out.append(_typ_inline(tokens[i + 1]) + ("\n" if token.hidden else "\n\n"))
            i += 3
            continue
        if kind == "table_open":
            table, i = _typ_table(tokens, i)
            out.append(table)
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            tight = "true" if i + 2 < len(tokens) and tokens[i + 2].hidden else "false"
            if kind == "bullet_list_open":
                out.append(f"#list(tight: {tight},\n")
            else:
                start = int(str(token.attrs.get("start") or 1))
                out.append(f"#enum(tight: {tight}, start: {start},\n")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            out.append(")\n")
        elif kind == "list_item_open":
            out.append("[")
        elif kind == "list_item_close":
            out.append("],\n")
        elif kind == "blockquote_open":
            out.append("#quote(block: true)[\n")
        elif kind == "blockquote_close":
            out.append("]\n")
        elif kind in ("fence", "code_block"):
            out.append(f"#raw(block: true, {_typ_string(token.content.rstrip(chr(10)))})\n")
        elif kind == "hr":
            out.append("#line(length: 100%, stroke: 0.5pt + luma(60%))\n")
        i += 1
    return "".join(out)


def typst_source(markdown: str, title: str, footer: str, language: str = "en") -> str:
    """The whole Typst document: metadata, page setup (A4, "title ... page n / total" at the
    foot of each page), the style, the report and the footer line."""
    found = _LANGUAGE.fullmatch(language.strip())
    lang = f'lang: "{found.group(1).lower()}"' if found else 'lang: "en"'
    if found and found.group(2):
        lang += f', region: "{found.group(2).upper()}"'
    foot = (
        '#set page(paper: "a4", margin: (x: 18mm, top: 18mm, bottom: 20mm), footer: context'
        f" text(size: 8pt, fill: luma(35%))[{_typ_text(title)} #h(1fr)"
        ' #counter(page).display("1 / 1", both: true)])\n'
    )
    return (
        f"#set document(title: {_typ_string(title)})\n#set text({lang})\n{foot}{TYPST_STYLE}\n"
        f"{typst_markup(markdown)}\n#v(2em)\n#text(size: 8.5pt, fill: luma(30%))"
        f"[{_typ_text(footer)}]\n"
    )


def pdf_bytes(markdown: str, title: str, footer: str, language: str = "en") -> bytes:
    """The report as a tagged PDF (Typst), conforming to PDF/UA-1 when the Markdown allows it
    (an edit that skips a heading level does not: that one is tagged, without the claim).
    CPU-bound: call it in a worker thread."""
    import typst

    source = typst_source(markdown, title, footer, language).encode()
    with tempfile.TemporaryDirectory() as root:

        def typeset(**options: Any) -> bytes:
            # (The stub wants the input and the root of one type: bytes here, a path there.)
            return typst.compile(source, root=root, format="pdf", **options)  # type: ignore[call-overload]

        try:
            return typeset(pdf_standards=["ua-1"])
        except typst.TypstError as error:
            if not str(error).startswith("PDF/UA"):
                raise
            return typeset()


# DOCX -------------------------------------------------------------------------------------


def _inline(paragraph: Any, token: Token | None) -> None:
    """Add an inline token's text to a python-docx paragraph, keeping bold and italics."""
    if token is None or not token.children:
        return
    bold = italic = strike = False
    for child in token.children:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            italic = True
        elif child.type == "em_close":
            italic = False
        elif child.type == "s_open":
            strike = True
        elif child.type == "s_close":
            strike = False
        elif child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            if bold:
                run.bold = True
            if italic:
                run.italic = True
            if strike:
                run.font.strike = True
        elif child.type in ("softbreak", "hardbreak"):
            paragraph.add_run(" ")


def docx_bytes(markdown: str, title: str) -> bytes:
    """The Markdown as a Word document: headings, paragraphs, lists and tables."""
    document = Document()
    document.core_properties.title = title
    style_ids = {name: document.styles[name].style_id for name in ("List Bullet", "List Number")}
    tokens = _MD.parse(markdown)
    i = 0
    list_styles: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            level = min(int(token.tag[1]), 9)
            heading = document.add_heading("", level=0 if level == 1 else level - 1)
            _inline(heading, tokens[i + 1])
            i += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            list_styles.append("List Bullet" if token.type == "bullet_list_open" else "List Number")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_styles.pop()
        elif token.type == "paragraph_open":
            paragraph = document.add_paragraph()
            if list_styles:
                # By style id: resolving a style by name on every paragraph is slow.
                paragraph._p.style = style_ids[list_styles[-1]]
            _inline(paragraph, tokens[i + 1])
            i += 3
            continue
        elif token.type == "table_open":
            rows: list[list[Token]] = []
            j = i + 1
            while tokens[j].type != "table_close":
                if tokens[j].type == "tr_open":
                    rows.append([])
                elif tokens[j].type == "inline":
                    rows[-1].append(tokens[j])
                j += 1
            width = max((len(r) for r in rows), default=0)
            if rows and width:
                table = document.add_table(rows=len(rows), cols=width)
                table.style = "Table Grid"
                # Row by row (`table.cell(r, c)` walks the whole table on every call).
                for r, (row_cells, row) in enumerate(zip(table.rows, rows, strict=False)):
                    for cell_obj, cell in zip(row_cells.cells, row, strict=False):
                        target = cell_obj.paragraphs[0]
                        _inline(target, cell)
                        if r == 0:
                            for run in target.runs:
                                run.bold = True
            i = j + 1
            continue
        elif token.type == "hr":
            document.add_paragraph("—")
        elif token.type in ("fence", "code_block"):
            document.add_paragraph(token.content)
        i += 1
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# JSON, CSV --------------------------------------------------------------------------------


def json_bytes(version: dict[str, Any], snapshot: dict[str, Any], markdown: str) -> bytes:
    """The record as the outside audience sees it (attribution applied) and the Markdown."""
    body = {
        "version": version,
        "convening": snapshot.get("convening"),
        "agenda": snapshot.get("agenda"),
        "record": snapshot.get("record"),
        "participation": snapshot.get("participation"),
        "markdown": markdown,
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode()


CSV_COLUMNS = (
    "id",
    "agenda_item",
    "what",
    "by",
    "owner",
    "due_date",
    "indicator",
    "resources",
    "light",
    "last_report_status",
    "last_report_at",
)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def table_csv(heads: list[str], rows: list[list[str]]) -> bytes:
    """A table as CSV (UTF-8 with BOM), every cell guarded against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(heads)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()


def csv_bytes(snapshot: dict[str, Any]) -> bytes:
    """The commitments, one a row (UTF-8 with BOM, so spreadsheets read it right)."""
    titles = {item["id"]: item["title"] for item in snapshot.get("agenda", [])}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in snapshot["record"]["commitments"]:
        last = c.get("last_report") or {}
        writer.writerow(
            [
                _cell(v)
                for v in (
                    c["id"],
                    titles.get(c.get("item_id"), ""),
                    c["what"],
                    c["organization"],
                    c.get("owner") or "",
                    c["due_date"],
                    c["indicator"],
                    c.get("resources") or "",
                    c.get("light", ""),
                    last.get("status", ""),
                    last.get("at", ""),
                )
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


# ICS --------------------------------------------------------------------------------------


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 line folding: at most 75 octets a line, continuation lines start with a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for ch in line:
        encoded = ch.encode()
        limit = 75 if not parts else 74
        if len(current) + len(encoded) > limit:
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _ics_time(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%Y%m%dT%H%M%SZ")


def ics_bytes(snapshot: dict[str, Any], stamp: datetime, host: str) -> bytes:
    """The agenda schedule: one VEVENT per item from the convening's start, consecutive
    timeboxes, in UTC."""
    convening = snapshot["convening"]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Convene//Report-back//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(convening['title'])}",
    ]
    dtstamp = stamp.strftime("%Y%m%dT%H%M%SZ")
    for item in snapshot.get("agenda", []):
        if not item.get("scheduled_start"):
            continue
        description = "\n".join(item.get("questions") or [])
        lines += [
            "BEGIN:VEVENT",
            f"UID:convene-{convening['id']}-item-{item['id']}@{host}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART:{_ics_time(item['scheduled_start'])}",
            f"DTEND:{_ics_time(item['scheduled_end'])}",
            f"SUMMARY:{_ics_text(item['title'])}",
        ]
        if description:
            lines.append(f"DESCRIPTION:{_ics_text(description)}")
        lines += [f"CATEGORIES:{_ics_text(item['kind'])}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
