"""The demo roundtable that `make run` loads: realistic enough to try every feature."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.accounts.service import create_convener, normalize_email
from app.agenda.models import ItemKind
from app.agenda.schemas import ItemCreate
from app.agenda.service import add_item
from app.authz import Access, Actor
from app.config import Settings
from app.convenings import invitations
from app.convenings.models import (
    Attendance,
    AttributionRule,
    Convening,
    ConveningStatus,
    PurposeType,
    Role,
    Seat,
)
from app.convenings.schemas import (
    ConveningCreate,
    GroupCreate,
    GroupPreset,
    InvitationState,
    SeatCreate,
)
from app.convenings.service import add_group, add_seat, create_convening, transition
from app.db import utcnow

DEMO_EMAIL = "convener@demo.convene.example"
DEMO_PASSWORD = "demo-convener-password"
DEMO_TITLE = "Water for the Upper Basin: a multistakeholder roundtable"
ZONE = "Africa/Nairobi"

GROUPS = [
    (GroupPreset.government, 4),
    (GroupPreset.private_sector, 3),
    (GroupPreset.civil_society, 4),
    (GroupPreset.international_organization, 2),
    (GroupPreset.academia, 2),
    (GroupPreset.local_grassroots, 4),
]

# (role, group, name, affiliation, speaks for, attendance)
SEATS: list[tuple[Role, GroupPreset | None, str, str, str, Attendance]] = [
    (Role.facilitator, None, "Amina Diallo", "Independent facilitator", "", Attendance.confirmed),
    (Role.rapporteur, None, "Tomás Herrera", "Basin Secretariat", "", Attendance.confirmed),
    (
        Role.participant,
        GroupPreset.government,
        "Grace Wanjiru",
        "Ministry of Water and Sanitation",
        "the Ministry",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.government,
        "Daniel Otieno",
        "County Government of Upper Basin",
        "the county executive",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.government,
        "Fatuma Hassan",
        "National Environment Authority",
        "the Authority",
        Attendance.invited,
    ),
    (
        Role.participant,
        GroupPreset.private_sector,
        "Peter Mwangi",
        "Highland Tea Growers Association",
        "42 estates",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.private_sector,
        "Sofia Lindqvist",
        "Nordic Hydro Partners",
        "the company",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.private_sector,
        "Rajesh Patel",
        "Basin Bottlers Ltd",
        "the company",
        Attendance.invited,
    ),
    (
        Role.participant,
        GroupPreset.civil_society,
        "Esther Achieng",
        "Water Rights Coalition",
        "31 member organizations",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.civil_society,
        "Joseph Kamau",
        "Consumers' Federation",
        "urban water users",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.civil_society,
        "Mariam Yusuf",
        "Women in Water Network",
        "women-led water committees",
        Attendance.absent,
    ),
    (
        Role.participant,
        GroupPreset.civil_society,
        "Luis Ortega",
        "Transparency for Resources",
        "the organization",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.international_organization,
        "Claire Dubois",
        "UN Environment Programme",
        "the regional office",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.academia,
        "Prof. Samuel Njoroge",
        "University of the Highlands",
        "the hydrology department",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.academia,
        "Dr. Aiko Tanaka",
        "Institute for Water Policy",
        "herself",
        Attendance.invited,
    ),
    (
        Role.participant,
        GroupPreset.local_grassroots,
        "Kipchoge Langat",
        "Upper Basin Herders' Union",
        "pastoralist families of the upper valley",
        Attendance.confirmed,
    ),
    (
        Role.participant,
        GroupPreset.local_grassroots,
        "Naliaka Wafula",
        "Lower River Farmers' Cooperative",
        "1,200 smallholder farmers",
        Attendance.absent,
    ),
    (
        Role.observer,
        GroupPreset.international_organization,
        "Henrik Johansson",
        "Development Finance Agency",
        "",
        Attendance.confirmed,
    ),
    (
        Role.observer,
        None,
        "Ana Beatriz Costa",
        "Global Water Partnership",
        "",
        Attendance.confirmed,
    ),
    (
        Role.observer,
        GroupPreset.government,
        "Ibrahim Bello",
        "Parliamentary Committee on Environment",
        "",
        Attendance.invited,
    ),
]

AGENDA = [
    (
        ItemKind.opening,
        "Opening, introductions and ground rules",
        15,
        ["What does each of us need from today to call it a success?"],
    ),
    (
        ItemKind.presentation,
        "The state of the basin: flows, withdrawals and the 2025 drought",
        30,
        ["What in the data surprises you?", "Whose water use is missing from these figures?"],
    ),
    (
        ItemKind.discussion,
        "Allocating water in the dry season",
        60,
        [
            "Who should give up what when the river runs low?",
            "How do we protect the herders and smallholders downstream?",
            "What would make an allocation rule legitimate to those not in this room?",
        ],
    ),
    (
        ItemKind.decision,
        "Principles for a shared monitoring system",
        45,
        [
            "Can we agree that all withdrawals above 100 m³ a day are metered and published?",
            "Who runs the system, and who checks it?",
        ],
    ),
    (
        ItemKind.report_back,
        "Report-back from the community hearings in the lower valley",
        30,
        ["What did the communities ask of this roundtable?"],
    ),
    (
        ItemKind.closing,
        "Commitments and next steps",
        30,
        [
            "What will your organization commit to before the next sitting?",
            "How will we report back to those who could not come?",
        ],
    ),
]


def _tomorrow_at(hour: int) -> datetime:
    zone = ZoneInfo(ZONE)
    day = (utcnow().astimezone(zone) + timedelta(days=1)).date()
    return datetime.combine(day, time(hour), tzinfo=zone)


async def _build(session: AsyncSession, convener: Convener) -> Convening:
    convening = await create_convening(
        session,
        convener,
        ConveningCreate(
            title=DEMO_TITLE,
            purpose=(
                "Agree on how the upper basin's water is shared in dry seasons and how its use "
                "is monitored, with those who depend on it at the table."
            ),
            purpose_type=PurposeType.consensus_building,
            attribution=AttributionRule.chatham_house,
            language="en",
            time_zone=ZONE,
            starts_at=_tomorrow_at(9),
            ends_at=_tomorrow_at(13),
            ground_rules=(
                "Participants speak as individuals, drawing on their experience.\n"
                "Raise your hand to speak; points of order go first.\n"
                "Disagreement is welcome and will be recorded, not smoothed over."
            ),
        ),
    )
    access = Access(convening, Actor.convener, convener, None)
    group_ids: dict[GroupPreset | None, int | None] = {}
    for preset, target in GROUPS:
        group = await add_group(session, access, GroupCreate(preset=preset, target_seats=target))
        group_ids[preset] = group.id
    for role, seat_preset, name, affiliation, speaks_for, attendance in SEATS:
        slug = name.lower().replace("prof. ", "").replace("dr. ", "").replace(" ", ".")
        await add_seat(
            session,
            access,
            SeatCreate(
                role=role,
                group_id=group_ids[seat_preset] if seat_preset else None,
                holder_name=name,
                affiliation=affiliation,
                email=f"{slug.encode('ascii', 'ignore').decode()}@demo.convene.example",
                speaks_for=speaks_for,
                attendance=attendance,
            ),
        )
    for kind, title, minutes, questions in AGENDA:
        await add_item(
            session,
            access,
            ItemCreate(kind=kind, title=title, timebox_minutes=minutes, questions=questions),
        )
    await transition(session, access, ConveningStatus.scheduled)
    return convening


async def load_demo(session: AsyncSession, settings: Settings) -> str:
    """Create the demo convener and roundtable unless they exist; return what to open."""
    convener = (
        await session.exec(select(Convener).where(Convener.email == normalize_email(DEMO_EMAIL)))
    ).first()
    if convener is None:
        convener = await create_convener(
            session, email=DEMO_EMAIL, name="Demo Convener", password=DEMO_PASSWORD
        )
    convening = (
        await session.exec(
            select(Convening).where(
                Convening.owner_id == convener.id, Convening.title == DEMO_TITLE
            )
        )
    ).first()
    if convening is None:
        convening = await _build(session, convener)
    access = Access(convening, Actor.convener, convener, None)

    seats = (
        await session.exec(
            select(Seat).where(Seat.convening_id == convening.id).order_by(col(Seat.position))
        )
    ).all()
    chosen = [s for s in seats if s.role == Role.facilitator][:1] + [
        s for s in seats if s.role == Role.participant and s.attendance == Attendance.confirmed
    ][:2]
    base = settings.base_url.rstrip("/")
    lines = [
        "",
        "Convene is ready with the demo roundtable:",
        f"  {convening.title}",
        "",
        f"  Convener console   {base}/console/convenings/{convening.id}",
        f"    sign in at {base}/sign-in as {DEMO_EMAIL} / {DEMO_PASSWORD}",
        f"  Facilitator console {base}/convenings/{convening.id}/facilitate",
        f"  Room display       {base}/convenings/{convening.id}/display",
        "    (the console and display open for the convener once signed in, or for a seat;",
        "     open the convening and start an item from the facilitator console to go live)",
        f"  Report-back        {base}/convenings/{convening.id}/report/manage",
        "    (after closing: publish a version; the absent seats become readers, and their",
        "     own links to read and answer it are listed there and sent by email)",
        "",
        "  Seat links (each binds the first browser that opens it; open them in separate",
        "  browser profiles or private windows):",
    ]
    for seat in chosen:
        current = await invitations.current_invitation(session, seat.id)  # type: ignore[arg-type]
        label = f"    {seat.holder_name} ({seat.role}):"
        if invitations.invitation_state(current, utcnow()) == InvitationState.redeemed:
            lines.append(f"{label} already taken in a browser (reissue it from the console)")
            continue
        invitation = await invitations.ensure_invitation(
            session,
            access,
            seat.id,  # type: ignore[arg-type]
            settings,
        )
        lines.append(f"{label} {invitations.invitation_link(settings, invitation)}")
    lines.append("")
    return "\n".join(lines)
