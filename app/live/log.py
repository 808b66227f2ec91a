"""The write path's last step: append an event with the convening's next sequence number."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel.ext.asyncio.session import AsyncSession

from app.convenings.models import Convening
from app.live.models import Event


async def append_event(
    session: AsyncSession,
    convening: Convening,
    kind: str,
    data: dict[str, Any] | None = None,
    *,
    actor_seat_id: int | None = None,
    actor_convener_id: int | None = None,
) -> Event:
    """Append an event in the caller's transaction.

    The sequence number comes from one atomic `UPDATE ... RETURNING`, which holds the
    convening row's lock on PostgreSQL (and the writer lock on SQLite) until commit, so
    numbers are gap-free and strictly increasing per convening.
    """
    result = await session.exec(
        update(Convening)
        .where(Convening.id == convening.id)  # type: ignore[arg-type]
        .values(last_seq=Convening.last_seq + 1)
        .returning(Convening.last_seq)  # type: ignore[arg-type]
    )
    seq = int(result.scalar_one())
    set_committed_value(convening, "last_seq", seq)
    event = Event(
        convening_id=convening.id,  # type: ignore[arg-type]
        seq=seq,
        kind=kind,
        data=data or {},
        actor_seat_id=actor_seat_id,
        actor_convener_id=actor_convener_id,
    )
    session.add(event)
    await session.flush()
    return event
