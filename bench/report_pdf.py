"""Report-back PDF benchmark: `python -m bench.report_pdf`.

Builds the same record as `bench.report_draft` (5,000 contributions and 200 outcomes by
default, through its `build`), generates the draft's Markdown from it as the app does
(`build_snapshot` + `render_markdown`), then times what `GET .../versions/{n}/export.pdf`
runs in its worker thread (`exports.pdf_bytes`) over a few repeats and prints one JSON line.
The target: under 10 seconds, for the median of the repeats (the machine is shared: one
repeat that waited for a core says more about the neighbours than about the PDF; the
slowest repeat and the CPU time are printed too).
"""

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import metadata
from app.reports import exports
from app.reports.draft import build_snapshot, render_markdown
from bench.report_draft import build

TARGET_SECONDS = 10.0


async def published_markdown(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The record, built in a fresh SQLite database, as a draft's Markdown and its snapshot."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_async_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            convening = await build(session, args)
        async with AsyncSession(engine) as session:
            snapshot = await build_snapshot(session, convening)
        await engine.dispose()
    return render_markdown(snapshot), snapshot


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def run(args: argparse.Namespace) -> dict[str, Any]:
    markdown, snapshot = asyncio.run(published_markdown(args))
    # As the export route words them.
    title = f"Report-back: {snapshot['convening']['title']} (version 1)"
    footer = "Version 1, published 2030-03-03 12:00 UTC."
    language = snapshot["convening"].get("language") or "en"
    timings, cpu = [], []
    pdf = b""
    for _ in range(args.repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        pdf = exports.pdf_bytes(markdown, title, footer, language)
        timings.append(time.perf_counter() - began)
        # CPU time of every thread of the process: steadier than the clock on a busy machine.
        cpu.append(time.process_time() - began_cpu)
    return {
        "bench": "report_pdf",
        "rule": args.rule,
        "contributions": args.contributions,
        "outcomes": args.outcomes,
        "dissents": args.dissents,
        "commitments": args.commitments,
        "repeat": args.repeat,
        "markdown_bytes": len(markdown.encode()),
        "seconds_median": round(statistics.median(timings), 3),
        "seconds_min": round(min(timings), 3),
        "seconds_max": round(max(timings), 3),
        "cpu_seconds_median": round(statistics.median(cpu), 3),
        "target_seconds": TARGET_SECONDS,
        "met": statistics.median(timings) < TARGET_SECONDS,
        "pages": page_count(pdf),
        "pdf_bytes": len(pdf),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The record's size: the same options and defaults as bench.report_draft.
    parser.add_argument("--contributions", type=int, default=5000)
    parser.add_argument("--outcomes", type=int, default=200)
    parser.add_argument("--answers", type=int, default=12, help="answers per check")
    parser.add_argument("--dissents", type=int, default=400)
    parser.add_argument("--commitments", type=int, default=100)
    parser.add_argument("--parking", type=int, default=50)
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--seats", type=int, default=60)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--rule", default="chatham_house")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
