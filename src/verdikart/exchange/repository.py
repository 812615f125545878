"""Every read of exchange data goes through here, with the acting principal, and visibility is
decided here and nowhere else.

Rules (issue #4):
- A stream's public summary (public name, material class, kind, quantity band, county, hazardous
  flag, waste code, critical-material flags; see `verdikart.exchange.schemas.StreamSummary`) is
  visible to every authenticated user; the owner organisation's name is not part of it.
- Confidential details are visible to the owner organisation, and to another organisation while
  an accepted, unexpired, unrevoked disclosure agreement exists. Every such read is audited.
- Hub operators see their cluster members' summaries with the member's name; platform admins see
  organisation names on summaries. Neither sees details without an agreement.
- Disclosure requests and audit events are visible only to the two parties involved; anything
  else gets the same `NotFoundError` as an id that does not exist.
- Filters and sorts touch only public summary columns, so no query result depends on hidden data.
- The audit trail never names the other party of an undisclosed stream or need; match reveals
  (`PROBE_ACTIONS`) name neither side to the other (issue #14).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from verdikart.errors import NotFoundError, PermissionDeniedError
from verdikart.exchange.auth import Principal
from verdikart.exchange.models import (
    AuditEvent,
    DisclosureRequest,
    ImportJob,
    Need,
    Organisation,
    SideStream,
    Site,
)

PUBLIC_FILTERS = ("material_class", "kind", "region", "hazardous", "quantity_band")
PUBLIC_SORTS = ("created_at", "material_class", "kind", "region", "name_public")
MAX_LIMIT = 500
# audit actions recording that a match showed one party's undisclosed stream or need to another:
# their actor is never named to the owner, nor the owner to the actor
PROBE_ACTIONS = frozenset({"match_revealed", "need_match_revealed"})
MAX_OFFSET = 1_000_000_000  # pages beyond this are refused (422), far below any 64-bit limit
STREAM_NOT_FOUND = "stream not found"
REQUEST_NOT_FOUND = "disclosure request not found"
NEED_NOT_FOUND = "need not found"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # Columns read back aware UTC (models.UTCDateTime); a naive value is UTC by convention.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def audit(
    session: Session,
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: str | None,
    *,
    owner_org_id: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit event in the caller's transaction (so it commits or rolls back with it)."""
    session.add(
        AuditEvent(
            actor_user_id=principal.user_id if principal else None,
            actor_org_id=principal.org_id if principal else None,
            owner_org_id=owner_org_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    )


# --- streams ---------------------------------------------------------------------------------


def _active_grant_clause(principal: Principal) -> ColumnElement[bool]:
    now = _now()
    return and_(
        DisclosureRequest.requester_org_id == principal.org_id,
        DisclosureRequest.status == "accepted",
        or_(DisclosureRequest.expires_at.is_(None), DisclosureRequest.expires_at > now),
    )


def granted_stream_ids(session: Session, principal: Principal, ids: Sequence[str]) -> set[str]:
    """The ids among `ids` whose details `principal` may read (owner or active agreement)."""
    if not ids:
        return set()
    owned = session.scalars(
        select(SideStream.id).where(
            SideStream.id.in_(ids), SideStream.organisation_id == principal.org_id
        )
    ).all()
    granted = session.scalars(
        select(DisclosureRequest.stream_id).where(
            DisclosureRequest.stream_id.in_(ids), _active_grant_clause(principal)
        )
    ).all()
    return set(owned) | set(granted)


def all_granted_stream_ids(session: Session, principal: Principal) -> set[str]:
    """Every stream id another organisation currently discloses to the caller's organisation."""
    return set(
        session.scalars(
            select(DisclosureRequest.stream_id).where(_active_grant_clause(principal))
        ).all()
    )


def granting_org_ids(session: Session, principal: Principal) -> set[str]:
    """Organisations with a currently accepted (unexpired) disclosure to the caller's org."""
    return set(
        session.scalars(
            select(DisclosureRequest.owner_org_id).where(_active_grant_clause(principal))
        ).all()
    )


def _grant_for(session: Session, principal: Principal, stream: SideStream) -> str | None:
    """'owner', 'disclosed' or None."""
    if stream.organisation_id == principal.org_id:
        return "owner"
    hit = session.scalars(
        select(DisclosureRequest.id).where(
            DisclosureRequest.stream_id == stream.id, _active_grant_clause(principal)
        )
    ).first()
    return "disclosed" if hit else None


def _may_see_org_name(principal: Principal, stream: SideStream, access: str | None) -> bool:
    if access is not None or principal.is_platform_admin:
        return True
    cluster_id = stream.organisation.cluster_id if stream.organisation else None
    return (
        principal.role == "hub"
        and principal.hub_cluster_id is not None
        and principal.hub_cluster_id == cluster_id
    )


def summary_of(stream: SideStream) -> dict[str, Any]:
    """The public tier. Keep in step with `PUBLIC_FILTERS`: nothing confidential goes here."""
    return {
        "id": stream.id,
        "name_public": stream.name_public,
        "material_class": stream.material_class,
        "kind": stream.kind,
        "quantity_band": stream.quantity_band,
        "region": stream.region,
        "hazardous": bool(stream.hazardous),
        "ewc_code": stream.ewc_code,
        "critical_materials": list(stream.critical_materials or []),
        # the analysed components' names, when the owner chose to publish them (issue #14)
        "components": (
            sorted({c.component for c in stream.composition}) if stream.components_public else None
        ),
        "created_at": _aware(stream.created_at),
    }


def site_view(site: Site | None) -> dict[str, Any] | None:
    if site is None:
        return None
    return {
        "name": site.name,
        "municipality": site.municipality,
        "lat": site.lat,
        "lon": site.lon,
        "nace": site.nace,
    }


def details_of(stream: SideStream) -> dict[str, Any]:
    return {
        "name": stream.name,
        "organisation": stream.organisation.name,
        "quantity_t_per_year": stream.quantity_t_per_year,
        "energy_gwh_per_year": stream.energy_gwh_per_year,
        "quantity_uncertainty_pct": stream.quantity_uncertainty_pct,
        "availability": stream.availability,
        "form": stream.form,
        "current_treatment": stream.current_treatment,
        "current_receiver": stream.current_receiver,
        "site": site_view(stream.site),
        "contact": stream.contact,
        "documents": list(stream.documents or []),
        "source": stream.source,
        "composition": [
            {
                "component": c.component,
                "value": c.value,
                "value_min": c.value_min,
                "value_max": c.value_max,
                "unit": c.unit,
                "method": c.method,
                "analysed_on": c.analysed_on,
            }
            for c in stream.composition
        ],
    }


def view_of(
    session: Session, principal: Principal, stream: SideStream, *, audit_reads: bool = True
) -> dict[str, Any]:
    """Summary for everyone; `details` only if authorised, and then the read is audited."""
    access = _grant_for(session, principal, stream)
    out = summary_of(stream)
    out["access"] = access or "summary"
    if _may_see_org_name(principal, stream, access):
        out["organisation"] = stream.organisation.name
    if access is not None:
        out["details"] = details_of(stream)
        if audit_reads:
            audit(
                session,
                principal,
                "read_details",
                "stream",
                stream.id,
                owner_org_id=stream.organisation_id,
                reader_org=principal.org_name,
                reader_user=principal.user_name,
                via=access,
            )
    return out


def load_stream(session: Session, stream_id: str) -> SideStream:
    stream = session.scalars(
        select(SideStream)
        .where(SideStream.id == stream_id)
        .options(
            selectinload(SideStream.composition),
            selectinload(SideStream.site),
            selectinload(SideStream.organisation),
        )
    ).first()
    if stream is None:
        raise NotFoundError(STREAM_NOT_FOUND)
    return stream


def get_stream(session: Session, principal: Principal, stream_id: str) -> dict[str, Any]:
    return view_of(session, principal, load_stream(session, stream_id))


def owned_stream(session: Session, principal: Principal, stream_id: str) -> SideStream:
    """A stream the principal's organisation owns; NotFoundError otherwise (same message)."""
    stream = load_stream(session, stream_id)
    if stream.organisation_id != principal.org_id:
        raise NotFoundError(STREAM_NOT_FOUND)
    return stream


@dataclass(frozen=True)
class StreamQuery:
    """Public-only filters and sort for listing streams."""

    material_class: str | None = None
    kind: str | None = None
    region: str | None = None
    hazardous: bool | None = None
    quantity_band: str | None = None
    mine: bool = False
    cluster: bool = False  # hub operators: only their cluster's members' streams
    sort: str = "created_at"
    descending: bool = True
    limit: int = 50
    offset: int = 0


def _stream_select(principal: Principal, query: StreamQuery) -> Select[Any]:
    stmt = select(SideStream)
    for name in PUBLIC_FILTERS:
        value = getattr(query, name)
        if value is not None:
            stmt = stmt.where(getattr(SideStream, name) == value)
    if query.mine:
        stmt = stmt.where(SideStream.organisation_id == principal.org_id)
    if query.cluster:
        if principal.role != "hub" or principal.hub_cluster_id is None:
            raise PermissionDeniedError("only a hub operator can list its cluster's streams")
        members = select(Organisation.id).where(Organisation.cluster_id == principal.hub_cluster_id)
        stmt = stmt.where(SideStream.organisation_id.in_(members))
    return stmt


def list_streams(session: Session, principal: Principal, query: StreamQuery) -> dict[str, Any]:
    """A page of summaries (never details) plus the total count under the same public filter."""
    if query.sort not in PUBLIC_SORTS:
        raise ValueError(f"sort must be one of {', '.join(PUBLIC_SORTS)}")
    limit = max(1, min(int(query.limit), MAX_LIMIT))
    base = _stream_select(principal, query)
    column = getattr(SideStream, query.sort)
    order = (column.desc(), SideStream.id.desc()) if query.descending else (column, SideStream.id)
    rows = session.scalars(
        base.options(selectinload(SideStream.organisation), selectinload(SideStream.composition))
        .order_by(*order)
        .limit(limit)
        .offset(min(max(0, int(query.offset)), MAX_OFFSET))
    ).all()
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    granted = granted_stream_ids(session, principal, [s.id for s in rows])
    items = []
    for stream in rows:
        item = summary_of(stream)
        access = (
            ("owner" if stream.organisation_id == principal.org_id else "disclosed")
            if stream.id in granted
            else None
        )
        item["access"] = access or "summary"
        if _may_see_org_name(principal, stream, access):
            item["organisation"] = stream.organisation.name
        items.append(item)
    return {"items": items, "total": total, "limit": limit, "offset": query.offset}


# --- disclosure requests ---------------------------------------------------------------------


def effective_status(req: DisclosureRequest) -> str:
    """The stored status, except that an accepted agreement past its `expires_at` reads
    `expired` (issue #14: it used to read `accepted` while granting nothing)."""
    expires = _aware(req.expires_at)
    if req.status == "accepted" and expires is not None and expires <= _now():
        return "expired"
    return req.status


def request_view(req: DisclosureRequest, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": req.id,
        "stream_id": req.stream_id,
        "owner_organisation": names.get(req.owner_org_id),
        "requester_organisation": names.get(req.requester_org_id),
        "status": effective_status(req),
        "message": req.message,
        "created_at": _aware(req.created_at),
        "decided_at": _aware(req.decided_at),
        "expires_at": _aware(req.expires_at),
    }


def org_names(session: Session, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(set(ids)))
    ).all()
    return {r.id: r.name for r in rows}


def party_request(session: Session, principal: Principal, request_id: str) -> DisclosureRequest:
    """A request the principal's organisation is a party to; NotFoundError otherwise."""
    req = session.get(DisclosureRequest, request_id)
    if req is None or principal.org_id not in (req.owner_org_id, req.requester_org_id):
        raise NotFoundError(REQUEST_NOT_FOUND)
    return req


def list_requests(
    session: Session, principal: Principal, *, role: str = "any", status: str | None = None
) -> list[dict[str, Any]]:
    stmt = select(DisclosureRequest)
    if role == "owner":
        stmt = stmt.where(DisclosureRequest.owner_org_id == principal.org_id)
    elif role == "requester":
        stmt = stmt.where(DisclosureRequest.requester_org_id == principal.org_id)
    else:
        stmt = stmt.where(
            or_(
                DisclosureRequest.owner_org_id == principal.org_id,
                DisclosureRequest.requester_org_id == principal.org_id,
            )
        )
    if status == "expired":
        stmt = stmt.where(
            DisclosureRequest.status == "accepted", DisclosureRequest.expires_at <= _now()
        )
    elif status == "accepted":
        stmt = stmt.where(
            DisclosureRequest.status == "accepted",
            or_(DisclosureRequest.expires_at.is_(None), DisclosureRequest.expires_at > _now()),
        )
    elif status:
        stmt = stmt.where(DisclosureRequest.status == status)
    reqs = session.scalars(stmt.order_by(DisclosureRequest.created_at.desc())).all()
    names = org_names(session, [r.owner_org_id for r in reqs] + [r.requester_org_id for r in reqs])
    return [request_view(r, names) for r in reqs]


# --- needs -----------------------------------------------------------------------------------


def need_view(need: Need, *, full: bool) -> dict[str, Any]:
    """A need in full (its own organisation) or as a public summary (class and county only)."""
    out: dict[str, Any] = {
        "id": need.id,
        "material_class": need.material_class,
        "region": need.region,
    }
    if full:
        out.update(
            {
                "name": need.name,
                "organisation": need.organisation.name,
                "also_classes": list(need.also_classes or []),
                "limits": list(need.limits or []),
                "quantity_t_per_year_min": need.quantity_t_per_year_min,
                "quantity_t_per_year_max": need.quantity_t_per_year_max,
                "max_distance_km": need.max_distance_km,
                "accepts_hazardous": need.accepts_hazardous,
                "site": site_view(need.site),
                "created_at": _aware(need.created_at),
            }
        )
    return out


def owned_need(session: Session, principal: Principal, need_id: str) -> Need:
    need = session.get(Need, need_id)
    if need is None or need.organisation_id != principal.org_id:
        raise NotFoundError(NEED_NOT_FOUND)
    return need


def list_needs(session: Session, principal: Principal, *, mine: bool = True) -> list[dict]:
    """Own needs in full; with mine=False, others' needs as public summaries only."""
    stmt = select(Need).options(selectinload(Need.organisation), selectinload(Need.site))
    stmt = stmt.where(
        Need.organisation_id == principal.org_id
        if mine
        else Need.organisation_id != principal.org_id
    )
    needs = session.scalars(stmt.order_by(Need.created_at.desc())).all()
    return [need_view(n, full=mine) for n in needs]


# --- audit and jobs --------------------------------------------------------------------------


def audit_trail(session: Session, principal: Principal, *, limit: int = 1000) -> list[dict]:
    """Events on the caller's organisation's data, and the caller's organisation's own actions."""
    stmt = (
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.owner_org_id == principal.org_id,
                and_(
                    AuditEvent.actor_org_id == principal.org_id,
                    # one potential query leaves an event per contributing organisation: in
                    # the querier's trail their number would tell how many contributed
                    AuditEvent.action != "potential_query",
                ),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(max(1, min(limit, 100_000)))
    )
    events = session.scalars(stmt).all()
    names = org_names(
        session,
        [e.actor_org_id for e in events if e.actor_org_id]
        + [e.owner_org_id for e in events if e.owner_org_id],
    )
    # Another organisation's name is shown only when the caller may know it: its own; the actor
    # on the caller's own data (owners see who read, requested or queried their streams); the
    # owner of a stream the caller holds an accepted, unexpired disclosure of now -- next to
    # that stream only. Never the owner of an undisclosed stream, and never the other party of
    # a match reveal (issue #14): the prober of a `match_revealed` owns the need, the prober
    # of a `need_match_revealed` owns the stream, and naming it next to the need or stream id
    # would tell who owns an undisclosed need or stream.
    granted = all_granted_stream_ids(session, principal)

    def stream_of(event: AuditEvent) -> str | None:
        if event.object_type == "stream":
            return event.object_id
        value = (event.detail or {}).get("stream_id")
        return value if isinstance(value, str) else None

    def name(org_id: str | None, event: AuditEvent) -> str | None:
        if not org_id:
            return None
        if principal.is_platform_admin or org_id == principal.org_id:
            return names.get(org_id)
        if event.action in PROBE_ACTIONS:
            return None
        if org_id == event.actor_org_id and event.owner_org_id == principal.org_id:
            return names.get(org_id)
        if org_id == event.owner_org_id and stream_of(event) in granted:
            return names.get(org_id)
        return None

    def detail(event: AuditEvent) -> dict[str, Any]:
        out = dict(event.detail or {})
        if event.action in PROBE_ACTIONS and not principal.is_platform_admin:
            out.pop("requester_org", None)  # written by versions before issue #14
        return out

    return [
        {
            "id": e.id,
            "at": _aware(e.at),
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "actor_organisation": name(e.actor_org_id, e),
            "owner_organisation": name(e.owner_org_id, e),
            "detail": detail(e),
        }
        for e in events
    ]


def own_job(session: Session, principal: Principal, job_id: str) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None or job.organisation_id != principal.org_id:
        raise NotFoundError("import job not found")
    return job


__all__ = [
    "MAX_LIMIT",
    "MAX_OFFSET",
    "StreamQuery",
    "all_granted_stream_ids",
    "audit",
    "audit_trail",
    "get_stream",
    "granted_stream_ids",
    "granting_org_ids",
    "list_needs",
    "list_requests",
    "list_streams",
    "owned_need",
    "owned_stream",
    "party_request",
]
