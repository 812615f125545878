"""The offset obligations register (gjenkjøp, issue #12): which foreign suppliers of Norwegian
procurement programmes owe purchases from Norwegian industry, how much, over which period and
in which sectors, with the source of each figure.

No public register of these obligations exists; this one is kept by hand. Everyone signed in
reads it; only a platform administrator (role `platform`) creates, changes or deletes an
entry, and every change is written to the exchange's audit log in the same transaction
(`offset.create`, `offset.update` with the old and new value of each changed field,
`offset.delete` with the entry as it was). Bad input raises a `DataValidationError` naming
each field (CLI exit 2, API 422): value below 0, a period ending before it starts, a sector
outside `OFFSET_SECTORS`, no source.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from verdikart.errors import DataValidationError, NotFoundError, PermissionDeniedError
from verdikart.exchange.db import transaction
from verdikart.exchange.repository import audit
from verdikart.register.models import OffsetObligation, OffsetSector
from verdikart.register.schemas import nul_paths
from verdikart.register.vocabulary import OFFSET_SECTORS

if TYPE_CHECKING:
    from verdikart.exchange.auth import Principal
    from verdikart.exchange.service import ExchangeService

Sector = Literal["defence", "offshore-wind", "maritime", "energy", "process-industry"]
FIELDS = (
    "foreign_supplier",
    "programme",
    "value_nok",
    "period_start",
    "period_end",
    "sectors",
    "source_url",
    "source_text",
    "notes",
)
MAX_VALUE_NOK = 10**15  # a bound far above any programme (the defence budget is ~1e11 NOK)
MAX_RESULTS = 1000


class OffsetIn(BaseModel):
    """One offset obligation as entered (a JSON file, the API's body or CLI options)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    foreign_supplier: str = Field(min_length=1, max_length=300)
    programme: str = Field(min_length=1, max_length=300)
    value_nok: int = Field(ge=0, le=MAX_VALUE_NOK, description="Obligation value in NOK.")
    period_start: date
    period_end: date
    sectors: list[Sector] = Field(min_length=1, max_length=len(OFFSET_SECTORS))
    source_url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://\S+$")
    source_text: str | None = Field(default=None, max_length=5000)
    notes: str = Field(default="", max_length=5000)

    @field_validator("value_nok", mode="before")
    @classmethod
    def whole_kroner(cls, value: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"a whole number of NOK, got {value!r}")
        return value

    @field_validator("sectors")
    @classmethod
    def no_repeats(cls, value: list[str]) -> list[str]:
        return [s for s in OFFSET_SECTORS if s in value]  # each once, in the canonical order


def _cross_problems(start: Any, end: Any, url: Any, text: Any) -> list[str]:
    """The rules between fields: the period's order, and that a source is given."""
    problems: list[str] = []
    try:
        first, last = date.fromisoformat(str(start)), date.fromisoformat(str(end))
    except ValueError:
        pass  # a bad date is named by the field check
    else:
        if last < first:
            problems.append(
                f"period_end: {last.isoformat()} is before period_start {first.isoformat()}"
            )
    if not (isinstance(url, str) and url.strip()) and not (isinstance(text, str) and text.strip()):
        problems.append("source_url: give the source (source_url or source_text)")
    return problems


def parse_offset(payload: Any) -> OffsetIn:
    """A checked offset obligation; every problem named by its field."""
    if found := nul_paths(payload):
        raise DataValidationError(
            [f"{where}: contains a NUL character (\\x00)" for where in found], source="offset"
        )
    try:
        offset = OffsetIn.model_validate(payload)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        if isinstance(payload, dict):
            get = payload.get
            problems += _cross_problems(
                get("period_start"), get("period_end"), get("source_url"), get("source_text")
            )
        raise DataValidationError(problems, source="offset") from exc
    problems = _cross_problems(
        offset.period_start, offset.period_end, offset.source_url, offset.source_text
    )
    if problems:
        raise DataValidationError(problems, source="offset")
    return offset


def _out(row: OffsetObligation, sectors: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "foreign_supplier": row.foreign_supplier,
        "programme": row.programme,
        "value_nok": row.value_nok,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "sectors": [s for s in OFFSET_SECTORS if s in sectors],
        "source_url": row.source_url,
        "source_text": row.source_text,
        "notes": row.notes,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _sectors_of(session: Session, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(OffsetSector.offset_id, OffsetSector.sector).where(
                OffsetSector.offset_id.in_(ids)
            )
        )
        for offset_id, sector in rows:
            out[offset_id].append(sector)
    return out


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


class OffsetService:
    """The offset obligations register over one exchange service (its users and audit log)."""

    def __init__(self, exchange: ExchangeService) -> None:
        self.exchange = exchange

    def _tx(self, *, write: bool = True) -> AbstractContextManager[Session]:
        return transaction(self.exchange.sessions, write=write)

    @staticmethod
    def _require_admin(principal: Principal) -> None:
        if not principal.is_platform_admin:
            raise PermissionDeniedError(
                "only a platform administrator may change the offset obligations register"
            )

    def _get(self, session: Session, offset_id: str) -> OffsetObligation:
        row = session.get(OffsetObligation, offset_id) if len(offset_id) <= 32 else None
        if row is None:
            raise NotFoundError(f"no offset obligation {offset_id!r}")
        return row

    def search(
        self,
        *,
        sector: str | None = None,
        supplier: str | None = None,
        active_on: date | None = None,
        limit: int = MAX_RESULTS,
    ) -> list[dict[str, Any]]:
        """Obligations, largest value first; optionally only those open to `sector`, of a
        foreign supplier whose name contains `supplier`, or running on `active_on`."""
        if sector is not None and sector not in OFFSET_SECTORS:
            raise DataValidationError(
                [f"sector: one of {', '.join(OFFSET_SECTORS)}, got {sector!r}"], source="offset"
            )
        if supplier is not None and "\x00" in supplier:
            raise DataValidationError(["supplier: contains a NUL character"], source="offset")
        stmt = select(OffsetObligation)
        if sector is not None:
            stmt = stmt.where(
                OffsetObligation.id.in_(
                    select(OffsetSector.offset_id).where(OffsetSector.sector == sector)
                )
            )
        if supplier:
            stmt = stmt.where(
                func.lower(OffsetObligation.foreign_supplier).contains(
                    supplier.lower(), autoescape=True
                )
            )
        if active_on is not None:
            stmt = stmt.where(
                OffsetObligation.period_start <= active_on, OffsetObligation.period_end >= active_on
            )
        stmt = stmt.order_by(
            OffsetObligation.value_nok.desc(),
            OffsetObligation.foreign_supplier,
            OffsetObligation.id,
        ).limit(max(1, min(limit, MAX_RESULTS)))
        with self._tx(write=False) as session:
            rows = list(session.scalars(stmt))
            sectors = _sectors_of(session, [r.id for r in rows])
            return [_out(r, sectors[r.id]) for r in rows]

    def get(self, offset_id: str) -> dict[str, Any]:
        with self._tx(write=False) as session:
            row = self._get(session, offset_id)
            return _out(row, _sectors_of(session, [row.id])[row.id])

    def create(self, principal: Principal, payload: Any) -> dict[str, Any]:
        """A new obligation (platform administrators only), audited as `offset.create`."""
        self._require_admin(principal)
        data = parse_offset(payload)
        with self._tx() as session:
            now = datetime.now(UTC)
            row = OffsetObligation(
                **{k: getattr(data, k) for k in FIELDS if k != "sectors"},
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            session.add_all(OffsetSector(offset_id=row.id, sector=s) for s in data.sectors)
            audit(
                session,
                principal,
                "offset.create",
                "offset",
                row.id,
                foreign_supplier=data.foreign_supplier,
                programme=data.programme,
                value_nok=data.value_nok,
            )
            return _out(row, list(data.sectors))

    def update(self, principal: Principal, offset_id: str, changes: Any) -> dict[str, Any]:
        """Change some fields of an obligation (the others stay); the whole entry is checked
        again. Audited as `offset.update` with the old and new value of each changed field."""
        self._require_admin(principal)
        if not isinstance(changes, dict):
            raise DataValidationError(["(body): a JSON object of the fields to change"])
        with self._tx() as session:
            row = self._get(session, offset_id)
            old = _out(row, _sectors_of(session, [row.id])[row.id])
            merged = {k: old[k] for k in FIELDS} | changes
            data = parse_offset(merged)
            new = data.model_dump()
            changed = {
                k: [old[k], _jsonable(new[k])] for k in FIELDS if _jsonable(new[k]) != old[k]
            }
            for key in FIELDS:
                if key != "sectors":
                    setattr(row, key, new[key])
            if "sectors" in changed:
                session.execute(delete(OffsetSector).where(OffsetSector.offset_id == row.id))
                session.add_all(OffsetSector(offset_id=row.id, sector=s) for s in data.sectors)
            if changed:
                row.updated_at = datetime.now(UTC)
                audit(session, principal, "offset.update", "offset", row.id, changed=changed)
            session.flush()
            return _out(row, list(data.sectors))

    def delete(self, principal: Principal, offset_id: str) -> dict[str, Any]:
        """Remove an obligation; the audit event `offset.delete` keeps the entry as it was."""
        self._require_admin(principal)
        with self._tx() as session:
            row = self._get(session, offset_id)
            old = _out(row, _sectors_of(session, [row.id])[row.id])
            session.execute(delete(OffsetSector).where(OffsetSector.offset_id == row.id))
            session.delete(row)
            audit(
                session,
                principal,
                "offset.delete",
                "offset",
                offset_id,
                entry={k: old[k] for k in FIELDS},
            )
            return old


__all__ = ["OFFSET_SECTORS", "OffsetIn", "OffsetService", "parse_offset"]
