"""Prepare live rooms for the benchmark in the database DATABASE_URL names.

    python -m bench.setup_room --sizes 100,1000,5000 --out rooms.json

For each size N: a convening with two agenda items, a facilitator seat and N participant
seats, taken live with its first item open, and one seat credential per seat (the token a
browser holds in its seat cookie after redeeming an invitation). Everything goes through
the app's services, except the credentials: redeeming an invitation appends an
`invitation.redeemed` event that carries the whole `seats` part of the room, so redeeming N
invitations costs O(N²) and stores O(N²) bytes of events (minutes at N = 5,000). The
credentials are written the way `invitations.redeem` writes them, without that event.

Participants are imported as already *present*: a seat's first websocket connection
otherwise marks it present, and that appends a `seat.attendance_changed` event carrying the
whole `seats` part to every client (see BENCHMARKS.md).

The output file holds, per room, the convening id, the cookie name, the facilitator's
cookie and one cookie per participant seat.
"""

import argparse
import asyncio
import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from app.accounts.service import create_convener
from app.agenda.models import ItemKind
from app.agenda.schemas import ItemCreate
from app.agenda.service import add_item, start_item
from app.authz import Access, Actor, seat_cookie_name
from app.config import get_settings
from app.convenings.invitations import PURPOSE
from app.convenings.models import (
    Attendance,
    AttributionRule,
    Convening,
    ConveningStatus,
    Invitation,
    PurposeType,
    Role,
    Seat,
    SeatCredential,
)
from app.convenings.schemas import ConveningCreate, GroupCreate, GroupPreset, SeatCreate
from app.convenings.service import (
    add_group,
    add_seat,
    add_seats,
    create_convening,
    transition,
)
from app.db import commit, make_engine, make_sessionmaker, utcnow
from app.live.state import room_state
from app.security import derive_token, new_nonce, new_token, token_hash

PASSWORD = "benchmark-convener-password"
PRESETS = (GroupPreset.government, GroupPreset.private_sector, GroupPreset.civil_society)


async def _credentials(session: Any, seats: list[Seat], secret: str) -> list[str]:
    """One redeemed invitation and one credential per seat; returns the cookie tokens."""
    now = utcnow()
    invitations = []
    for seat in seats:
        nonce = new_nonce()
        invitations.append(
            Invitation(
                seat_id=seat.id,  # type: ignore[arg-type]
                nonce=nonce,
                token_hash=token_hash(derive_token(secret, PURPOSE, nonce)),
                expires_at=now + timedelta(days=30),
                redeemed_at=now,
            )
        )
    session.add_all(invitations)
    await session.flush()
    cookies = [new_token() for _ in seats]
    session.add_all(
        SeatCredential(
            seat_id=seat.id,  # type: ignore[arg-type]
            invitation_id=invitation.id,  # type: ignore[arg-type]
            token_hash=token_hash(cookie),
        )
        for seat, invitation, cookie in zip(seats, invitations, cookies, strict=True)
    )
    for seat in seats:
        seat.ground_rules_accepted_at = now
        session.add(seat)
    await session.flush()
    return cookies


async def _room(session: Any, owner: Any, size: int, secret: str) -> dict[str, Any]:
    """A live convening with `size` present participants and its first item open."""
    convening = await create_convening(
        session,
        owner,
        ConveningCreate(
            title=f"Benchmark roundtable with {size} seats",
            purpose="Measure how fast the live room reaches every seat.",
            purpose_type=PurposeType.consensus_building,
            attribution=AttributionRule.chatham_house,
        ),
    )
    access = Access(convening, Actor.convener, owner, None)
    groups = [await add_group(session, access, GroupCreate(preset=p)) for p in PRESETS]
    items = [
        await add_item(
            session,
            access,
            ItemCreate(kind=ItemKind.discussion, title=title, questions=["Who needs what?"]),
        )
        for title in ("Allocating water in the dry season", "Monitoring withdrawals")
    ]
    facilitator = await add_seat(
        session,
        access,
        SeatCreate(role=Role.facilitator, holder_name="Bench Facilitator"),
    )
    participants = await add_seats(
        session,
        access,
        [
            SeatCreate(
                role=Role.participant,
                holder_name=f"Participant {n:05d}",
                affiliation=f"Organization {n % 97}",
                group_id=groups[n % len(groups)].id,
                attendance=Attendance.present,
            )
            for n in range(size)
        ],
    )
    cookies = await _credentials(session, [facilitator, *participants], secret)
    await transition(session, access, ConveningStatus.scheduled)
    await transition(session, access, ConveningStatus.live)
    await start_item(session, access, items[0].id)  # type: ignore[arg-type]
    state = await room_state(session, convening)
    return {
        "size": size,
        "convening_id": convening.id,
        "cookie_name": seat_cookie_name(convening.id),  # type: ignore[arg-type]
        "facilitator": cookies[0],
        "participants": cookies[1:],
        "snapshot_bytes": len(json.dumps(state, separators=(",", ":"))),
        "seats_part_bytes": len(json.dumps(state["seats"], separators=(",", ":"))),
    }


async def setup(sizes: list[int], unique_ids: bool) -> dict[str, Any]:
    """Create the convener and one room per size; returns what the benchmark needs."""
    settings = get_settings()
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            if unique_ids and engine.dialect.name == "postgresql":
                # Redis pub/sub channels are shared by every database number on the server:
                # a far-off convening id keeps this run's channel apart from anyone else's.
                start = random.randrange(10**8, 10**9)
                await session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('convening', 'id'), {start})")
                )
            owner = await create_convener(
                session,
                email=f"bench-{new_nonce()[:8]}@bench.convene.example",
                name="Bench Convener",
                password=PASSWORD,
            )
            rooms = [await _room(session, owner, size, settings.secret_key) for size in sizes]
            await commit(session)
            for room in rooms:
                last = await session.scalar(
                    select(Convening.last_seq).where(Convening.id == room["convening_id"])
                )
                room["last_seq"] = last
            return {"rooms": rooms}
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", required=True, help="comma-separated seat counts")
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON")
    parser.add_argument(
        "--unique-ids",
        action="store_true",
        help="on PostgreSQL, start convening ids at a random number",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = asyncio.run(setup(sizes, args.unique_ids))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
