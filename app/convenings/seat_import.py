"""CSV import of a seat list: all rows or none, with each bad row reported by line and reason."""

import csv
import io
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.authz import Access
from app.convenings.models import Seat
from app.convenings.schemas import SeatCreate
from app.convenings.service import add_seats, list_groups

MAX_BYTES = 1_000_000
MAX_ROWS = 2_000

# Header names accepted for each seat field (case and spaces do not matter).
COLUMNS: dict[str, tuple[str, ...]] = {
    "holder_name": ("holder_name", "name", "holder"),
    "role": ("role",),
    "group": ("group", "stakeholder_group"),
    "affiliation": ("affiliation", "organization", "organisation"),
    "email": ("email", "e-mail"),
    "speaks_for": ("speaks_for", "speaks for", "represents"),
    "attendance": ("attendance",),
}
REQUIRED = ("holder_name", "role")


@dataclass
class RowError:
    line: int
    field: str | None
    reason: str


class ImportRejected(Exception):
    """The file was refused; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the seat list")
        self.errors = errors


def _header_map(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    normalized = [h.strip().lower().replace("-", "_") for h in header]
    positions: dict[str, int] = {}
    errors = []
    for field, names in COLUMNS.items():
        for name in names:
            key = name.replace("-", "_")
            if key in normalized:
                positions[field] = normalized.index(key)
                break
    for field in REQUIRED:
        if field not in positions:
            errors.append(RowError(1, field, f"the header has no {field} column"))
    known = {n.replace("-", "_") for names in COLUMNS.values() for n in names}
    for name in normalized:
        if name and name not in known:
            errors.append(RowError(1, name, f"unknown column {name!r}"))
    return positions, errors


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRejected([RowError(0, None, f"the file is larger than {MAX_BYTES} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError(0, None, "the file is not UTF-8 text")]) from exc


async def import_seats(session: AsyncSession, access: Access, data: bytes) -> list[Seat]:
    """Validate every row, then seat them all; raises ImportRejected listing every bad row."""
    convening_id = access.convening.id
    assert convening_id is not None
    reader = csv.reader(io.StringIO(_decode(data)))
    header = next(reader, None)
    if not header:
        raise ImportRejected([RowError(1, None, "the file is empty; the first line is a header")])
    positions, errors = _header_map(header)
    if errors:
        raise ImportRejected(errors)

    groups = {}
    for group in await list_groups(session, convening_id):
        groups[group.name.lower()] = group.id
        if group.preset:
            groups[group.preset] = group.id
    existing = set(
        (await session.exec(select(Seat.email).where(Seat.convening_id == convening_id))).all()
    )
    seen: dict[str, int] = {}
    rows: list[SeatCreate] = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(RowError(line, None, f"more than {MAX_ROWS} rows"))
            break
        if len(record) > len(header):
            errors.append(RowError(line, None, "more cells than the header has columns"))
            continue
        values = {
            field: record[pos].strip() if pos < len(record) else ""
            for field, pos in positions.items()
        }
        group_name = values.pop("group", "")
        fields: dict[str, object] = {k: v for k, v in values.items() if v != ""}
        row_errors = []
        if group_name:
            group_id = groups.get(group_name.lower())
            if group_id is None:
                row_errors.append(
                    RowError(line, "group", f"no stakeholder group named {group_name!r}")
                )
            fields["group_id"] = group_id
        try:
            seat = SeatCreate.model_validate(fields)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else None
                row_errors.append(RowError(line, field, error["msg"]))
        else:
            if seat.email:
                email = seat.email.lower()
                if email in existing:
                    row_errors.append(
                        RowError(line, "email", f"{email} already has a seat in this convening")
                    )
                elif email in seen:
                    row_errors.append(
                        RowError(line, "email", f"{email} is also on line {seen[email]}")
                    )
                seen.setdefault(email, line)
            if not row_errors:
                rows.append(seat)
        errors.extend(row_errors)
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(2, None, "the file has a header but no seats")])
    return await add_seats(session, access, rows)
