"""The audit trail: the convening's event log as its convener reads and exports it.

Who did what and when, filterable by kind, seat and agenda item. The actor and every seat an
event names go through the attribution rule: the room's view for reading in the console,
the outside view for the exported file. The state snapshots events carry for live clients
are left out (they are derived, and they name people).
"""

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.attribution import Audience, Kind, People, load_people, person
from app.convenings.models import Convening
from app.live.models import Event

ANSWER_KINDS = ("record.check_answered", "record.dissent_logged", "record.dissent_withdrawn")
# Events that record a statement made by a seat (its `by` may differ from the actor).
STATEMENT_KINDS = ("record.contribution_added", "record.parked", "record.commitment_made")


def _actor(event: Event, people: People, audience: Audience, conveners: dict[int, str]) -> Any:
    if event.actor_convener_id is not None and event.actor_seat_id is None:
        return {"convener": conveners.get(event.actor_convener_id, "the convener")}
    if event.actor_seat_id is None:
        return None
    kind = Kind.answer if event.kind in ANSWER_KINDS else Kind.statement
    return person(people, event.actor_seat_id, None, audience, kind)


def _data(event: Event, people: People, audience: Audience) -> dict[str, Any]:
    data = {k: v for k, v in event.data.items() if k not in ("state", "upsert")}
    if "seat_id" in data:
        seat_id = data.pop("seat_id")
        data["seat"] = person(people, int(seat_id), None, audience, Kind.statement)  # type: ignore[call-overload]
    return data


async def audit_log(
    session: AsyncSession,
    convening: Convening,
    audience: Audience,
    *,
    kind: str | None = None,
    seat_id: int | None = None,
    item_id: int | None = None,
) -> list[dict[str, Any]]:
    """The event log, filtered, with attribution applied for the audience."""
    query = select(Event).where(Event.convening_id == convening.id).order_by(col(Event.seq))
    if kind:
        query = query.where(col(Event.kind).startswith(kind))
    events = (await session.exec(query)).all()
    if item_id is not None:
        events = [e for e in events if item_id in _items(e)]
    people = await load_people(session, convening.id, convening.attribution)  # type: ignore[arg-type]
    conveners = {
        c.id: c.name
        for c in (
            await session.exec(select(Convener).where(Convener.id == convening.owner_id))
        ).all()
    }
    shown = [
        (
            e,
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "kind": e.kind,
                "actor": _actor(e, people, audience, conveners),  # type: ignore[arg-type]
                "data": _data(e, people, audience),
            },
        )
        for e in events
    ]
    if seat_id is not None:
        shown = [(e, row) for e, row in shown if seat_id in _seats(e, row, audience)]
    return [row for _, row in shown]


def _records(event: Event) -> list[dict[str, Any]]:
    """The records an event upserted into the room's state (as the room saw them)."""
    upsert: dict[str, list[dict[str, Any]]] = event.data.get("upsert") or {}  # type: ignore[assignment]
    return [record for records in upsert.values() for record in records]


def _items(event: Event) -> set[Any]:
    """The agenda items an event is about: named in its data, or those of its records."""
    items = {event.data.get("item_id")} if "item_id" in event.data else set()
    items.update(record.get("item_id") for record in _records(event))
    items.discard(None)
    return items


def _seats(event: Event, row: dict[str, Any], audience: Audience) -> set[Any]:
    """The seats an event shows, once the attribution rule is applied: the actor, the seat in
    its data, and the person behind a statement it records (a captured contribution is the
    seat's own). A seat the rule hides is never matched, so the filter reveals nothing the
    rows themselves do not show."""
    people = [row["actor"], row["data"].get("seat")]
    if event.kind in STATEMENT_KINDS and audience == Audience.room:  # records: the room's view
        people += [r.get("by") or r.get("raised_by") for r in _records(event)]
    return {p.get("seat_id") for p in people if isinstance(p, dict)} - {None}
