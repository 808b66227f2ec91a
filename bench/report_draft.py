"""Report-back draft generation benchmark: `python -m bench.report_draft`.

Builds a convening's record directly in a fresh SQLite database through the models (5,000
contributions and 200 outcomes by default, with their checks and answers, dissents, some
withdrawn, commitments with progress reports, parking, airtime), then times generating the
draft (`build_snapshot` + `render_markdown`, what `POST .../report/draft/generate` runs) and
prints one JSON line. The target: under a second.
"""

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.agenda.models import AgendaItem
from app.attribution import People
from app.commitments.models import Commitment, ProgressReport
from app.convenings.models import Convening, Seat, StakeholderGroup
from app.floor.models import FloorEntry
from app.models import metadata
from app.record.models import (
    Answer,
    CheckResponse,
    ConsensusCheck,
    Contribution,
    Dissent,
    DissentWithdrawal,
    Outcome,
    ParkingLotItem,
)
from app.record.rules import consensus_level
from app.record.views import tally
from app.reports.draft import build_snapshot, render_markdown

GROUPS = (
    "Government",
    "Private sector",
    "Civil society",
    "International organization",
    "Academia",
    "Local/grassroots",
    "Indigenous peoples",
    "Youth",
)


async def build(session: AsyncSession, args: argparse.Namespace) -> Convening:
    """The record, written through the models."""
    rng = random.Random(5)
    start = datetime(2030, 3, 2, 6, 0, tzinfo=UTC)
    convener = Convener(email="bench@example.org", name="Bench", password_hash="x")
    session.add(convener)
    await session.flush()
    convening = Convening(
        owner_id=convener.id,  # type: ignore[arg-type]
        title="Benchmark roundtable",
        purpose_type="consensus_building",
        attribution=args.rule,
        starts_at=start,
        status="closed",
    )
    session.add(convening)
    await session.flush()
    cid: int = convening.id  # type: ignore[assignment]
    groups = [
        StakeholderGroup(convening_id=cid, name=name, position=n) for n, name in enumerate(GROUPS)
    ]
    session.add_all(groups)
    await session.flush()
    seats = [
        Seat(
            convening_id=cid,
            group_id=groups[n % len(groups)].id,
            role="participant",
            holder_name=f"Person {n}",
            affiliation=f"Organization {n}",
            email=f"person{n}@example.org",
            attendance="present" if n % 5 else "absent",
            position=n,
        )
        for n in range(args.seats)
    ]
    session.add_all(seats)
    items = [
        AgendaItem(
            convening_id=cid,
            position=n,
            kind="discussion",
            title=f"Item {n + 1}",
            questions=[f"Question {q + 1} of item {n + 1}?" for q in range(3)],
            status="done",
        )
        for n in range(args.items)
    ]
    session.add_all(items)
    await session.flush()
    session.add_all(
        Contribution(
            convening_id=cid,
            item_id=items[n % len(items)].id,  # type: ignore[arg-type]
            seat_id=seats[n % len(seats)].id,  # type: ignore[arg-type]
            group_id=seats[n % len(seats)].group_id,
            kind="statement",
            text=f"Point {n}: " + "the dry season needs a fair share for everyone. " * 3,
        )
        for n in range(args.contributions)
    )
    checks = [
        ConsensusCheck(
            convening_id=cid,
            item_id=items[n % len(items)].id,  # type: ignore[arg-type]
            proposal=f"Proposal {n}: meter withdrawals above {n} m3 a day.",
            status="closed",
            closed_at=start,
        )
        for n in range(args.outcomes)
    ]
    session.add_all(checks)
    await session.flush()
    answers = list(Answer)
    people = People(args.rule, {s.id: s for s in seats}, {g.id: g for g in groups})  # type: ignore[misc]
    for n, check in enumerate(checks):
        responses = [
            CheckResponse(
                check_id=check.id,  # type: ignore[arg-type]
                voter_key=f"{n}-{s.id}",
                seat_id=s.id,
                group_id=s.group_id,
                answer=rng.choice(answers),
                reason="A reason.",
                answered_at=start,
            )
            for s in seats[: args.answers]
        ]
        session.add_all(responses)
        counted = tally(responses, people)
        session.add(
            Outcome(
                convening_id=cid,
                check_id=check.id,  # type: ignore[arg-type]
                item_id=check.item_id,
                statement=check.proposal,
                level=consensus_level(counted["overall"]),
                tally=counted,
            )
        )
    await session.flush()
    dissents = [
        Dissent(
            convening_id=cid,
            target="item",
            target_id=items[n % len(items)].id,  # type: ignore[arg-type]
            item_id=items[n % len(items)].id,
            reason=f"Dissent {n}: the cost falls on small farms.",
            nonce=f"n{n}",
            author_key=f"k{n}",
            seat_id=seats[n % len(seats)].id,
            group_id=seats[n % len(seats)].group_id,
        )
        for n in range(args.dissents)
    ]
    session.add_all(dissents)
    await session.flush()
    session.add_all(
        DissentWithdrawal(dissent_id=d.id, reason="Agreed after all.")  # type: ignore[arg-type]
        for d in dissents[::4]
    )
    commitments = [
        Commitment(
            convening_id=cid,
            item_id=items[n % len(items)].id,
            seat_id=seats[n % len(seats)].id,  # type: ignore[arg-type]
            organization=f"Organization {n}",
            what=f"Commitment {n}: publish every permit.",
            owner=f"Unit {n}",
            due_date=date(2030, 12, 31),
            indicator="Share of permits online",
            report_nonce=f"r{n}",
            report_token_hash=f"h{n}",
        )
        for n in range(args.commitments)
    ]
    session.add_all(commitments)
    await session.flush()
    session.add_all(
        ProgressReport(commitment_id=c.id, status="on_track", text="On track.")  # type: ignore[arg-type]
        for c in commitments[::2]
    )
    session.add_all(
        ParkingLotItem(convening_id=cid, item_id=items[n % len(items)].id, text=f"Parked {n}")
        for n in range(args.parking)
    )
    session.add_all(
        FloorEntry(
            convening_id=cid,
            seat_id=seats[n % len(seats)].id,  # type: ignore[arg-type]
            kind="hand",
            status="done",
            called_at=start + timedelta(minutes=n),
            seconds=rng.uniform(20, 180),
        )
        for n in range(args.turns)
    )
    await session.commit()
    return convening


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_async_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            convening = await build(session, args)
        timings = []
        markdown = ""
        for _ in range(args.repeat):
            # A fresh session each time: nothing is served from the identity map.
            async with AsyncSession(engine) as session:
                began = time.perf_counter()
                snapshot = await build_snapshot(session, convening)
                markdown = render_markdown(snapshot)
                timings.append(time.perf_counter() - began)
        await engine.dispose()
    return {
        "bench": "report_draft",
        "rule": args.rule,
        "contributions": args.contributions,
        "outcomes": args.outcomes,
        "dissents": args.dissents,
        "commitments": args.commitments,
        "repeat": args.repeat,
        "seconds_median": round(statistics.median(timings), 4),
        "seconds_max": round(max(timings), 4),
        "markdown_bytes": len(markdown.encode()),
        "under_one_second": max(timings) < 1.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result))
    return 0 if result["under_one_second"] else 1


if __name__ == "__main__":
    sys.exit(main())
