"""The materialbørs's relational model (SQLAlchemy 2): organisations, sites, users and their
sign-in sessions, side streams, composition, needs, disclosure agreements, import jobs,
idempotency records and the audit log.

Two tiers live side by side on `SideStream`: the public summary columns (`name_public`,
`material_class`, `kind`, `quantity_band`, `region`, `hazardous`, `ewc_code`,
`critical_materials`) and the confidential ones (exact quantity, composition, site, contact,
documents). Nothing here decides who may read what; that is
`verdikart.exchange.repository`'s job. Ids are opaque random strings (uuid4 hex) so they cannot
be guessed or enumerated.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

ROLES = ("member", "admin", "hub", "platform")
KINDS = ("by-product", "waste", "surplus-energy")
TREATMENTS = ("material-recovery", "energy-recovery", "landfill", "other")
REQUEST_STATES = ("pending", "accepted", "rejected", "revoked")


def new_id() -> str:
    """An opaque, unguessable id (122 random bits)."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored as UTC on every database.

    SQLite has no time zone type: SQLAlchemy writes an aware datetime's *wall time* and drops
    its offset, so 14:44+01:00 would be stored and compared as 14:44 UTC (an hour late). Every
    value is therefore converted to UTC on the way in (a naive one is taken as UTC already) and
    read back as aware UTC. On PostgreSQL (timestamptz) this changes nothing. Comparisons in SQL
    (`expires_at > :now`) bind through the same conversion.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Cluster(Base):
    """An industrial cluster or park acting as a hub (Eyde, Herøya, Mo Industripark, NCCE)."""

    __tablename__ = "ex_cluster"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Organisation(Base):
    __tablename__ = "ex_organisation"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("ex_cluster.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cluster: Mapped[Cluster | None] = relationship()


class Site(Base):
    """A plant or location of an organisation: confidential detail of a stream."""

    __tablename__ = "ex_site"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(100), default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    nace: Mapped[str | None] = mapped_column(String(10), default=None)


class User(Base):
    """A person acting for an organisation. Only the sha256 of the bearer token is stored."""

    __tablename__ = "ex_user"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="member")
    hub_cluster_id: Mapped[str | None] = mapped_column(ForeignKey("ex_cluster.id"), default=None)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # a deactivated user's token and sign-in sessions are refused (the rows stay for the audit)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation: Mapped[Organisation] = relationship()


class WebSession(Base):
    """A sign-in on the pages: the cookie holds a random session token (only its sha256 is
    stored), never the user's API token; signing out deletes the row, so the cookie is dead
    on the server whatever the browser keeps."""

    __tablename__ = "ex_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[str] = mapped_column(ForeignKey("ex_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """The outcome of a create request sent with an `Idempotency-Key` header: a retry with the
    same key (same user) gets the stored answer instead of creating a duplicate. Written in
    the create's own transaction, so the object and its record commit together or not at all."""

    __tablename__ = "ex_idempotency"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("ex_user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SideStream(Base):
    __tablename__ = "ex_stream"
    __table_args__ = (
        Index("ix_ex_stream_owner_created", "organisation_id", "created_at"),
        Index("ix_ex_stream_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # --- public summary ------------------------------------------------------------------
    name_public: Mapped[str] = mapped_column(String(200))
    material_class: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    quantity_band: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(40))
    hazardous: Mapped[bool] = mapped_column(Boolean, default=False)
    ewc_code: Mapped[str | None] = mapped_column(String(6), default=None)
    critical_materials: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # the owner's choice: list the analysed components (names only) in the public summary;
    # when False, others' need matching does not look at the composition at all (issue #14)
    components_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # --- confidential details ------------------------------------------------------------
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("ex_site.id"), default=None)
    form: Mapped[str | None] = mapped_column(String(20), default=None)
    quantity_t_per_year: Mapped[float | None] = mapped_column(Float, default=None)
    energy_gwh_per_year: Mapped[float | None] = mapped_column(Float, default=None)
    quantity_uncertainty_pct: Mapped[float | None] = mapped_column(Float, default=None)
    availability: Mapped[str | None] = mapped_column(String(200), default=None)
    current_treatment: Mapped[str | None] = mapped_column(String(30), default=None)
    current_receiver: Mapped[str | None] = mapped_column(String(200), default=None)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(String(300), default=None)

    site: Mapped[Site | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    composition: Mapped[list[CompositionEntry]] = relationship(
        cascade="all, delete-orphan", order_by="CompositionEntry.position"
    )


class CompositionEntry(Base):
    """One analysed component of a stream: a value or a range, with unit, method and date."""

    __tablename__ = "ex_composition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(
        ForeignKey("ex_stream.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    component: Mapped[str] = mapped_column(String(50))
    value: Mapped[float | None] = mapped_column(Float, default=None)
    value_min: Mapped[float | None] = mapped_column(Float, default=None)
    value_max: Mapped[float | None] = mapped_column(Float, default=None)
    unit: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(200), default=None)
    analysed_on: Mapped[date | None] = mapped_column(Date, default=None)


class Need(Base):
    """What a site could take: material class, specification limits, quantity, max distance."""

    __tablename__ = "ex_need"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    material_class: Mapped[str] = mapped_column(String(40), index=True)
    also_classes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    limits: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quantity_t_per_year_min: Mapped[float | None] = mapped_column(Float, default=None)
    quantity_t_per_year_max: Mapped[float | None] = mapped_column(Float, default=None)
    max_distance_km: Mapped[float | None] = mapped_column(Float, default=None)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("ex_site.id"), default=None)
    region: Mapped[str | None] = mapped_column(String(40), default=None)
    accepts_hazardous: Mapped[bool] = mapped_column(Boolean, default=False)

    site: Mapped[Site | None] = relationship()
    organisation: Mapped[Organisation] = relationship()


class DisclosureRequest(Base):
    """B asks A to see a stream's details; A accepts (optionally until a date) or revokes."""

    __tablename__ = "ex_disclosure"
    __table_args__ = (Index("ix_ex_disclosure_lookup", "stream_id", "requester_org_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    stream_id: Mapped[str] = mapped_column(ForeignKey("ex_stream.id", ondelete="CASCADE"))
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    requester_org_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("ex_user.id"))
    message: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEvent(Base):
    """Append-only: who did or read what, on whose data."""

    __tablename__ = "ex_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[str | None] = mapped_column(String(32), default=None)
    actor_org_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    owner_org_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ImportJob(Base):
    """A file import's status, shown while the work runs (web) and afterwards."""

    __tablename__ = "ex_import_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("ex_organisation.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    rows: Mapped[int | None] = mapped_column(Integer, default=None)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # the server's temp copy of the upload while the job is queued or running (never shown):
    # start-up deletes it for a job a crash left unfinished
    temp_path: Mapped[str | None] = mapped_column(String(500), default=None)


# The supplier register's tables share this metadata (migration 0004), so the migrations and the
# models-match-migrations check see them; imported last because they build on the classes above.
from verdikart.register import models as _register_models  # noqa: E402, F401
