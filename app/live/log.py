"""The write path's last step: append an event with the convening's next sequence number,
carrying the parts of the room's state it changed, and publish it once committed."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.convenings.models import Convening
from app.db import after_commit
from app.live.models import Event
from app.live.state import build_parts, touched_parts

PUBLISHER = "convene.publisher"


def event_message(event: Event) -> dict[str, Any]:
    """An event as clients receive it."""
    return {
        "type": "event",
        "seq": event.seq,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "data": event.data,
    }


async def append_event(
    session: AsyncSession,
    convening: Convening,
    kind: str,
    data: dict[str, Any] | None = None,
    *,
    actor_seat_id: int | None = None,
    actor_convener_id: int | None = None,
    upsert: dict[str, list[dict[str, Any]]] | None = None,
) -> Event:
    """Append an event in the caller's transaction; it is published after commit.

    The sequence number comes from one atomic `UPDATE ... RETURNING`, which holds the
    convening row's lock on PostgreSQL (and the writer lock on SQLite) until commit, so
    numbers are gap-free and strictly increasing per convening.
    """
    await session.flush()
    result = await session.exec(
        update(Convening)
        .where(Convening.id == convening.id)  # type: ignore[arg-type]
        .values(last_seq=Convening.last_seq + 1)
        .returning(col(Convening.last_seq))
    )
    seq = int(result.scalar_one())
    set_committed_value(convening, "last_seq", seq)
    payload = dict(data or {})
    parts = touched_parts(kind)
    if parts:
        payload["state"] = await build_parts(session, convening, parts)
    if upsert:
        payload["upsert"] = upsert
    event = Event(
        convening_id=convening.id,  # type: ignore[arg-type]
        seq=seq,
        kind=kind,
        data=payload,
        actor_seat_id=actor_seat_id,
        actor_convener_id=actor_convener_id,
    )
    session.add(event)
    await session.flush()
    publisher = session.info.get(PUBLISHER)
    if publisher is not None:
        message = event_message(event)

        async def publish() -> None:
            await publisher.publish(event.convening_id, message)

        after_commit(session, publish)
    return event


async def lock_convening(session: AsyncSession, convening: Convening) -> Convening:
    """Serialize writers on this convening and re-read it.

    PostgreSQL: `SELECT ... FOR UPDATE` on the convening row, held until commit. SQLite:
    every transaction already begins IMMEDIATE (one writer at a time); the row is re-read.
    """
    dialect = session.get_bind().dialect.name
    await session.refresh(convening, with_for_update=dialect == "postgresql")
    return convening
