"""The register's tables, on the exchange's SQLAlchemy `Base` (same database, same migrations).

`RegisterUnit` is one row per Enhetsregisteret unit or sub-unit, keyed by organisation number
(re-imports update it); `RegisterNace` lists its industry codes per standard (SN2007, SN2025)
so a NACE prefix search is an indexed query. `CapabilityProfile` belongs to an exchange
organisation: `summary` and the `ProfileCode` rows are public, `details` is the confidential
tier, readable only by the owner and the organisations in `ProfileShare` (enforced in
`verdikart.register.service`, never here).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from verdikart.exchange.models import Base, UTCDateTime, new_id, utcnow

UNIT_KINDS = ("unit", "sub-unit")
NACE_STANDARDS = ("SN2007", "SN2025")
CODE_SCHEMES = ("cpv", "nace", "hs", "material", "stage")


class RegisterUnit(Base):
    """An organisation (enhet) or a site (underenhet) as Enhetsregisteret publishes it."""

    __tablename__ = "rg_unit"

    organisation_number: Mapped[str] = mapped_column(String(9), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(500))
    organisational_form: Mapped[str | None] = mapped_column(String(10), default=None)
    # fewer than 5 employees is not published: NULL means unknown, never zero
    employees: Mapped[int | None] = mapped_column(Integer, default=None)
    municipality: Mapped[str | None] = mapped_column(String(4), default=None, index=True)
    parent_number: Mapped[str | None] = mapped_column(String(9), default=None, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_date: Mapped[date | None] = mapped_column(Date, default=None)
    bankrupt: Mapped[bool] = mapped_column(Boolean, default=False)
    under_liquidation: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegisterNace(Base):
    """One industry code of a unit, in the standard the file carried it in."""

    __tablename__ = "rg_unit_nace"
    __table_args__ = (Index("ix_rg_unit_nace_code", "code"),)

    organisation_number: Mapped[str] = mapped_column(
        ForeignKey("rg_unit.organisation_number", ondelete="CASCADE"), primary_key=True
    )
    standard: Mapped[str] = mapped_column(String(6), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10))


class CapabilityProfile(Base):
    """What an organisation can deliver: public summary + codes, confidential `details`."""

    __tablename__ = "rg_profile"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), unique=True)
    organisation_number: Mapped[str | None] = mapped_column(String(9), default=None, index=True)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProfileCode(Base):
    """One public capability code of a profile (scheme cpv|nace|hs|material|stage)."""

    __tablename__ = "rg_profile_code"
    __table_args__ = (Index("ix_rg_profile_code_lookup", "scheme", "code"),)

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("rg_profile.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[str] = mapped_column(String(80), primary_key=True)


class ProfileShare(Base):
    """The supplier chose to show its profile's details to this buyer (until revoked)."""

    __tablename__ = "rg_profile_share"
    __table_args__ = (UniqueConstraint("profile_id", "buyer_org_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    profile_id: Mapped[str] = mapped_column(ForeignKey("rg_profile.id", ondelete="CASCADE"))
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    granted_by: Mapped[str] = mapped_column(ForeignKey("ex_user.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
