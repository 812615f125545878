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
    BigInteger,
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


# --- needs and the confidential index of profiles (migration 0005) ---------------------------

NEED_SOURCES = ("manual", "eforms")


class Need(Base):
    """What a public buyer or prime contractor needs: entered by hand or read from an eForms
    notice (`source`, `notice_id`). Needs are visible to everyone signed in (the notices they
    come from are public); the owning organisation is the buyer."""

    __tablename__ = "rg_need"
    __table_args__ = (Index("ix_rg_need_notice", "source", "notice_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_org_id: Mapped[str | None] = mapped_column(
        ForeignKey("ex_organisation.id"), default=None, index=True
    )
    buyer_name: Mapped[str | None] = mapped_column(String(500), default=None)
    title: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text, default="")
    cpv_main: Mapped[str | None] = mapped_column(String(8), default=None)
    nuts: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str | None] = mapped_column(String(2), default=None)
    deadline: Mapped[date | None] = mapped_column(Date, default=None)
    required_certifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    clearance_level: Mapped[str | None] = mapped_column(String(20), default=None)
    max_lead_time_weeks: Mapped[int | None] = mapped_column(Integer, default=None)
    lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(10))
    notice_id: Mapped[str | None] = mapped_column(String(100), default=None)
    notice_type: Mapped[str | None] = mapped_column(String(40), default=None)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("ex_user.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NeedCode(Base):
    """One code a need asks for (CPV main or additional, NACE, HS/CN). `prefix` (the CPV
    division, NACE division or HS chapter: the first two characters) and `prefix_hi` (the next
    division; '99999999999' after 99) bound the range of profile codes compared in matching; `sig_len`
    is the code's significant length (a CPV code without its trailing zeros, at least 2)."""

    __tablename__ = "rg_need_code"

    need_id: Mapped[str] = mapped_column(
        ForeignKey("rg_need.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    main: Mapped[bool] = mapped_column(Boolean, default=False)
    prefix: Mapped[str] = mapped_column(String(2))
    prefix_hi: Mapped[str] = mapped_column(String(12))
    sig_len: Mapped[int] = mapped_column(Integer)


class NeedCertification(Base):
    """A certification the need requires (valid on the need's deadline)."""

    __tablename__ = "rg_need_cert"

    need_id: Mapped[str] = mapped_column(
        ForeignKey("rg_need.id", ondelete="CASCADE"), primary_key=True
    )
    standard: Mapped[str] = mapped_column(String(20), primary_key=True)


class ProfileCertification(Base):
    """Confidential tier, indexed for matching: a certification a profile holds and until when
    (the latest date when the profile lists the standard twice). Written with the profile's
    `details`; read only through `verdikart.register.matching`, which gates it by access."""

    __tablename__ = "rg_profile_cert"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("rg_profile.id", ondelete="CASCADE"), primary_key=True
    )
    standard: Mapped[str] = mapped_column(String(20), primary_key=True)
    valid_until: Mapped[date] = mapped_column(Date)


class ProfilePrivate(Base):
    """Confidential tier, indexed for matching: lead time and security clearance rank
    (1 BEGRENSET .. 4 STRENGT HEMMELIG, NULL unknown). Gated by access like `details`."""

    __tablename__ = "rg_profile_private"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("rg_profile.id", ondelete="CASCADE"), primary_key=True
    )
    lead_time_weeks: Mapped[int | None] = mapped_column(Integer, default=None)
    clearance_rank: Mapped[int | None] = mapped_column(Integer, default=None)


class DetailRequest(Base):
    """A buyer asked a supplier to share its profile's details (answered by `ProfileShare`)."""

    __tablename__ = "rg_detail_request"
    __table_args__ = (UniqueConstraint("profile_id", "requester_org_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    profile_id: Mapped[str] = mapped_column(ForeignKey("rg_profile.id", ondelete="CASCADE"))
    requester_org_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("ex_user.id"))
    message: Mapped[str] = mapped_column(String(1000), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- offset obligations (gjenkjøp; migration 0006) --------------------------------------------

# the sectors: verdikart.register.vocabulary.OFFSET_SECTORS


class OffsetObligation(Base):
    """An offset obligation (gjenkjøpsforpliktelse): a foreign supplier of a Norwegian
    procurement programme commits to buy from Norwegian industry for `value_nok` over a period.
    Public register (everyone signed in reads it); only a platform administrator writes it,
    and every change is audited. `source_url` / `source_text` say where the figures come from."""

    __tablename__ = "rg_offset"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    foreign_supplier: Mapped[str] = mapped_column(String(300), index=True)
    programme: Mapped[str] = mapped_column(String(300))
    value_nok: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    source_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    source_text: Mapped[str | None] = mapped_column(Text, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("ex_user.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OffsetSector(Base):
    """A sector an offset obligation may be fulfilled in (one of `OFFSET_SECTORS`)."""

    __tablename__ = "rg_offset_sector"
    __table_args__ = (Index("ix_rg_offset_sector_sector", "sector"),)

    offset_id: Mapped[str] = mapped_column(
        ForeignKey("rg_offset.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(20), primary_key=True)
