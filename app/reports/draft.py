"""The report-back draft: a snapshot of the record for the OUTSIDE audience, and its Markdown.

`build_snapshot` reads the record once and applies the attribution rule through
`app.attribution.person()` (via `record_parts(..., Audience.outside)`): nothing in a snapshot
names a person the rule does not let the outside audience see. `render_markdown` only formats
a snapshot; it never sees a seat, so it cannot name anyone the snapshot does not.
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.models import AgendaItem
from app.attribution import Audience, Kind, load_people, person
from app.commitments.lights import traffic_light
from app.convenings.models import Attendance, AttributionRule, Convening, Role
from app.db import utcnow
from app.i18n import N_, _, ngettext, use_language
from app.live.state import airtime
from app.record.models import Answer
from app.record.views import record_parts

# Words defined here are marked with N_ and translated where they are used, in the convening's
# language (`render_markdown` sets it).
LEVEL_WORDS = {
    "consensus": N_("Consensus"),
    "consensus_with_reservations": N_("Consensus with reservations"),
    "no_consensus": N_("No consensus"),
    "majority_decision": N_("Decision by majority (no consensus)"),
}
ANSWER_WORDS = {
    Answer.endorse: N_("Endorse"),
    Answer.agree: N_("Agree"),
    Answer.agree_with_reservations: N_("Agree with reservations"),
    Answer.stand_aside: N_("Stand aside"),
    Answer.disagree: N_("Disagree"),
    Answer.block: N_("Block"),
}
RULE_WORDS = {
    AttributionRule.attributed: N_(
        "This convening was held on the record: statements are attributed to the people who "
        "made them."
    ),
    AttributionRule.chatham_house: N_(
        "This convening was held under the Chatham House Rule: what was said may be used, but "
        "no statement is attributed to a person or their organization; speakers are described "
        "by stakeholder group only."
    ),
    AttributionRule.anonymous: N_(
        "This convening was held anonymously: no statement, answer or dissent is linked to anyone."
    ),
}
KIND_WORDS = {
    "statement": N_("statement"),
    "question": N_("question"),
    "proposal": N_("proposal"),
    "clarification": N_("clarification"),
}
LIGHT_WORDS = {"green": N_("green"), "yellow": N_("yellow"), "red": N_("red")}


def _word(table: dict[Any, str], key: Any) -> str:
    """A table's word for `key`, translated; the key itself when the table has none."""
    return _(table[key]) if key in table else str(key)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# The snapshot -----------------------------------------------------------------------------


async def build_snapshot(
    session: AsyncSession,
    convening: Convening,
    now: datetime | None = None,
    *,
    with_participants: bool = False,
) -> dict[str, Any]:
    """The record as the outside audience may see it, the agenda schedule and participation;
    with `with_participants`, also the list of those at the table "for identification only"
    (kept apart from the record, which it is never joined to)."""
    assert convening.id is not None
    now = now or utcnow()
    people = await load_people(session, convening.id, convening.attribution)
    record = await record_parts(session, convening.id, people, Audience.outside)
    for commitment in record["commitments"]:
        since = datetime.fromisoformat(commitment["since"])
        commitment["light"] = traffic_light(since, now, convening.reporting_period_days).value
    items = (
        await session.exec(
            select(AgendaItem)
            .where(AgendaItem.convening_id == convening.id)
            .order_by(col(AgendaItem.position), col(AgendaItem.id))
        )
    ).all()
    agenda = []
    start = convening.starts_at
    for item in items:
        end = start + timedelta(minutes=item.timebox_minutes) if start is not None else None
        agenda.append(
            {
                "id": item.id,
                "position": item.position,
                "kind": item.kind,
                "title": item.title,
                "description": item.description,
                "questions": list(item.questions),
                "timebox_minutes": item.timebox_minutes,
                "status": item.status,
                "scheduled_start": _iso(start),
                "scheduled_end": _iso(end),
            }
        )
        start = end
    return {
        "convening": {
            "id": convening.id,
            "title": convening.title,
            "purpose": convening.purpose,
            "purpose_type": convening.purpose_type,
            "attribution": convening.attribution,
            "language": convening.language,
            "time_zone": convening.time_zone,
            "starts_at": _iso(convening.starts_at),
            "ends_at": _iso(convening.ends_at),
            "reporting_period_days": convening.reporting_period_days,
        },
        "generated_at": now.isoformat(),
        "agenda": agenda,
        "record": record,
        "participation": await _participation(session, convening, people),
        **({"participant_list": participant_list(people)} if with_participants else {}),
    }


def participant_list(people: Any) -> list[dict[str, Any]]:
    """Everyone at the table (present, any role): name, affiliation, stakeholder group and role,
    by group then name. Never under the anonymous rule: there, not even this list exists."""
    if people.rule == AttributionRule.anonymous:
        return []
    rows = []
    for seat in people.seats.values():
        if seat.attendance != Attendance.present:
            continue
        group = people.groups.get(seat.group_id) if seat.group_id else None
        rows.append(
            {
                "name": seat.holder_name,
                "affiliation": seat.affiliation,
                "group": group.name if group else "",
                "role": seat.role,
            }
        )
    return sorted(rows, key=lambda r: (r["group"], r["name"].lower()))


async def _participation(
    session: AsyncSession, convening: Convening, people: Any
) -> dict[str, Any]:
    """Groups at the table, absent seats (named only where the rule allows), airtime by group."""
    assert convening.id is not None
    _seats, per_group, _total = await airtime(session, convening.id)
    seats = sorted(
        (s for s in people.seats.values() if s.role == Role.participant),
        key=lambda s: (s.position, s.id or 0),
    )
    groups = sorted(people.groups.values(), key=lambda g: (g.position, g.id or 0))
    present: Counter[int | None] = Counter()
    absent: Counter[int | None] = Counter()
    seated: Counter[int | None] = Counter()
    absent_named: list[dict[str, Any]] = []
    for seat in seats:
        seated[seat.group_id] += 1
        if seat.attendance == Attendance.present:
            present[seat.group_id] += 1
            continue
        absent[seat.group_id] += 1
        by = person(people, seat.id, seat.group_id, Audience.outside, Kind.statement)
        if by is not None and "name" in by:
            absent_named.append(
                {
                    "name": by["name"],
                    "affiliation": by.get("affiliation") or "",
                    "group": by.get("group"),
                    "attendance": seat.attendance,
                }
            )
    total_airtime = sum(per_group.values())
    rows = []
    keys: list[tuple[int | None, str]] = [(g.id, g.name) for g in groups]
    if seated.get(None) or per_group.get(None):
        keys.append((None, N_("No group")))
    for group_id, name in keys:
        seconds = per_group.get(group_id, 0.0)
        rows.append(
            {
                "group_id": group_id,
                "group": name,
                "seats": seated.get(group_id, 0),
                "present": present.get(group_id, 0),
                "absent": absent.get(group_id, 0),
                "airtime_seconds": round(seconds, 1),
                "airtime_share": round(seconds / total_airtime, 3) if total_airtime else 0.0,
            }
        )
    return {
        "groups": rows,
        "at_the_table": [r["group"] for r in rows if r["present"]],
        "not_at_the_table": [r["group"] for r in rows if not r["present"]],
        "absent_seats": absent_named if convening.attribution == AttributionRule.attributed else [],
        "absent_total": sum(absent.values()),
        "airtime_total_seconds": round(total_airtime, 1),
    }


# The Markdown -----------------------------------------------------------------------------

_SPECIAL = set("\\`*_[]<>|#~&!")


def esc(text: object) -> str:
    """User text as one line of literal Markdown (special characters escaped)."""
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in flat)


def _who(by: dict[str, Any] | None) -> str:
    if by is None:
        return _("A participant")
    if "name" in by:
        return f"{by['name']} ({by['affiliation']})" if by.get("affiliation") else by["name"]
    if by.get("group"):
        return _("A participant from {group}").format(group=by["group"])
    return _("A participant")


def _minutes(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _tally_table(tally: dict[str, Any]) -> list[str]:
    answers = list(Answer)
    head = (
        "| " + " | ".join([_("Stakeholder group"), *(_(ANSWER_WORDS[a]) for a in answers)]) + " |"
    )
    lines = [head, "|---" * (len(answers) + 1) + "|"]
    for row in tally.get("by_group") or []:
        counts = row.get("counts") or {}
        cells = " | ".join(str(counts.get(a.value, 0)) for a in answers)
        group = esc(row.get("group")) if row.get("group") else _("No group")
        lines.append(f"| {group} | {cells} |")
    overall = tally.get("overall") or {}
    cells = " | ".join(f"**{overall.get(a.value, 0)}**" for a in answers)
    lines.append("| **" + _("All") + f"** | {cells} |")
    return lines


def _dissent_lines(
    dissents: list[dict[str, Any]], targets: dict[tuple[str, int], str]
) -> list[str]:
    lines = []
    for d in dissents:
        on = targets.get((d["target"], d["target_id"]), _("the agenda item"))
        text = _("{who} dissented on {target}: {reason}").format(
            who=_who(d["by"]), target=on, reason=esc(d["reason"])
        )
        if d["withdrawn"] is not None:
            reason = (d["withdrawn"].get("reason") or "").strip().rstrip(".")
            because = f" ({esc(reason)})" if reason else ""
            withdrawn = _("**Withdrawn** on {date}").format(date=d["withdrawn"]["at"][:10])
            lines.append(f"- {withdrawn}{because}. {text}")
        else:
            lines.append(f"- {text}")
    return lines


def _commitment_table(commitments: list[dict[str, Any]]) -> list[str]:
    heads = (_("Commitment"), _("By"), _("Owner"), _("Due"), _("Indicator"), _("Light"))
    lines = ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|---|"]
    for c in commitments:
        owner = esc(c["owner"]) if c.get("owner") else _("(not named under the rule)")
        lines.append(
            f"| {esc(c['what'])} | {esc(c['organization'])} | {owner} | {c['due_date']} "
            f"| {esc(c['indicator'])} | {_word(LIGHT_WORDS, c['light'])} |"
        )
    return lines


def render_markdown(snapshot: dict[str, Any]) -> str:
    """The draft's Markdown, from a snapshot (every dissent, every commitment), in the
    convening's language."""
    with use_language(snapshot["convening"].get("language")):
        return _render_markdown(snapshot)


def _render_markdown(snapshot: dict[str, Any]) -> str:
    convening = snapshot["convening"]
    record = snapshot["record"]
    agenda = snapshot["agenda"]
    item_ids = {item["id"] for item in agenda}

    checks = {c["id"]: c for c in record["checks"]}
    outcomes = {o["id"]: o for o in record["outcomes"]}
    contributions = {c["id"]: c for c in record["contributions"]}
    # What a dissent is about, in words, and which item it belongs to.
    targets: dict[tuple[str, int], str] = {}
    for o in outcomes.values():
        targets[("outcome", o["id"])] = _("the outcome “{text}”").format(text=esc(o["statement"]))
    for c in checks.values():
        targets[("proposal", c["id"])] = _("the proposal “{text}”").format(text=esc(c["proposal"]))
    for c in contributions.values():
        targets[("contribution", c["id"])] = _("the point “{text}”").format(text=esc(c["text"]))
    for item in agenda:
        targets[("item", item["id"])] = _("the agenda item")

    def dissent_item(d: dict[str, Any]) -> int | None:
        if d.get("item_id") is not None:
            return int(d["item_id"])
        source = {"outcome": outcomes, "proposal": checks, "contribution": contributions}.get(
            d["target"]
        )
        if source is None:
            return int(d["target_id"]) if d["target"] == "item" else None
        found = source.get(d["target_id"])
        return found.get("item_id") if found else None

    by_item: dict[str, dict[int | None, list[dict[str, Any]]]] = {
        part: defaultdict(list) for part in ("contributions", "outcomes", "commitments", "dissents")
    }
    for part in ("contributions", "outcomes", "commitments"):
        for row in record[part]:
            key = row.get("item_id")
            by_item[part][key if key in item_ids else None].append(row)
    for d in record["dissents"]:
        key = dissent_item(d)
        by_item["dissents"][key if key in item_ids else None].append(d)

    out: list[str] = [_("# Report-back: {title}").format(title=esc(convening["title"])), ""]
    if convening.get("purpose"):
        out += [f"*{esc(convening['purpose'])}*", ""]
    when = convening.get("starts_at")
    if when:
        out += [
            _("Held on {date} ({time_zone}).").format(
                date=when[:10], time_zone=esc(convening["time_zone"])
            ),
            "",
        ]
    out += [_word(RULE_WORDS, convening["attribution"]), ""]

    for numbered, item in enumerate(agenda, start=1):
        iid = item["id"]
        out += [f"## {numbered}. {esc(item['title'])}", ""]
        if item.get("description"):
            out += [esc(item["description"]), ""]
        if item["questions"]:
            out += ["**" + _("Facilitation questions") + "**", ""]
            out += [f"- {esc(q)}" for q in item["questions"]]
            out.append("")
        points = by_item["contributions"][iid]
        out += ["### " + _("Key points"), ""]
        if points:
            out += [
                f"- {_who(c['by'])} ({_word(KIND_WORDS, c['kind'])}): {esc(c['text'])}"
                for c in points
            ]
        else:
            out.append(_("No points were recorded."))
        out.append("")
        item_outcomes = by_item["outcomes"][iid]
        if item_outcomes:
            out += ["### " + _("Outcomes"), ""]
            for o in item_outcomes:
                level = _word(LEVEL_WORDS, o["level"])
                answers = (o.get("tally") or {}).get("answers", 0)
                out += [
                    f"#### {esc(o['statement'])}",
                    "",
                    _("Consensus level: **{level}** ({count} answers).").format(
                        level=level, count=answers
                    ),
                    "",
                    *_tally_table(o.get("tally") or {}),
                    "",
                ]
        dissents = by_item["dissents"][iid]
        if dissents:
            out += ["### " + _("Dissent"), "", *_dissent_lines(dissents, targets), ""]
        commitments = by_item["commitments"][iid]
        if commitments:
            out += ["### " + _("Commitments"), "", *_commitment_table(commitments), ""]

    if by_item["dissents"][None]:
        others = _dissent_lines(by_item["dissents"][None], targets)
        out += ["## " + _("Other dissent"), "", *others, ""]
    if by_item["commitments"][None]:
        others = _commitment_table(by_item["commitments"][None])
        out += ["## " + _("Other commitments"), "", *others, ""]
    if by_item["contributions"][None] or by_item["outcomes"][None]:
        out += ["## " + _("Other points"), ""]
        out += [f"- {_who(c['by'])}: {esc(c['text'])}" for c in by_item["contributions"][None]]
        out += [
            "- "
            + _("Outcome ({level}): {text}").format(
                level=_word(LEVEL_WORDS, o["level"]), text=esc(o["statement"])
            )
            for o in by_item["outcomes"][None]
        ]
        out.append("")

    parking = record["parking"]
    out += ["## " + _("Parking lot"), ""]
    still_open = [p for p in parking if p["status"] != "resolved"]
    resolved = [p for p in parking if p["status"] == "resolved"]
    if not parking:
        out += [_("Nothing was parked."), ""]
    if still_open:
        out += ["### " + _("Still open"), ""]
        out += [
            f"- {esc(p['text'])}"
            + (
                " (" + _("raised by {who}").format(who=_who(p["raised_by"])) + ")"
                if p["raised_by"]
                else ""
            )
            for p in still_open
        ]
        out.append("")
    if resolved:
        out += ["### " + _("Resolved"), ""]
        out += [
            f"- {esc(p['text'])}: " + (esc(p["resolution"]) or _("resolved in the room"))
            for p in resolved
        ]
        out.append("")

    part = snapshot["participation"]
    out += ["## " + _("Participation"), ""]
    if part["at_the_table"]:
        groups = ", ".join(esc(g) for g in part["at_the_table"])
        out += [_("At the table: {groups}.").format(groups=groups), ""]
    if part["not_at_the_table"]:
        groups = ", ".join(esc(g) for g in part["not_at_the_table"])
        out += [_("Not at the table (no one present): {groups}.").format(groups=groups), ""]
    heads = (
        _("Stakeholder group"),
        _("Seats"),
        _("Present"),
        _("Absent"),
        _("Airtime (min:s)"),
        _("Share of airtime"),
    )
    out += ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|---|"]
    for row in part["groups"]:
        out.append(
            f"| {esc(_(row['group']) if row['group_id'] is None else row['group'])} "
            f"| {row['seats']} | {row['present']} | {row['absent']} "
            f"| {_minutes(row['airtime_seconds'])} | {round(row['airtime_share'] * 100)}% |"
        )
    out.append("")
    if part["absent_seats"]:
        out += ["### " + _("Absent seats"), ""]
        for seat in part["absent_seats"]:
            org = f", {esc(seat['affiliation'])}" if seat["affiliation"] else ""
            group = f" ({esc(seat['group'])})" if seat.get("group") else ""
            out.append(f"- {esc(seat['name'])}{org}{group}")
        out.append("")
    elif part["absent_total"]:
        out += [
            ngettext(
                "{count} seat was absent; the table above counts it by group.",
                "{count} seats were absent; the table above counts them by group.",
                part["absent_total"],
            ).format(count=part["absent_total"]),
            "",
        ]
    return "\n".join(out).rstrip() + "\n"
