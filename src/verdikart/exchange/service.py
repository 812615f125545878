"""The materialbørs core API that both the CLI and the web app call.

`ExchangeService` owns one engine and runs each operation in its own transaction, so a
write and its audit event commit together or not at all. Reads go through
`verdikart.exchange.repository`, which enforces visibility. Validation of codes, compositions
and file layouts is delegated to EXCHANGE-LOGIC's modules (wastecodes, composition, reporting);
this module only persists what they accept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verdikart.errors import (
    DataValidationError,
    ExchangeError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
    VerdikartError,
)
from verdikart.exchange import repository as repo
from verdikart.exchange.auth import Principal, authenticate, hash_token, new_token
from verdikart.exchange.db import make_engine, migrate, session_factory, transaction
from verdikart.exchange.models import (
    ROLES,
    Cluster,
    CompositionEntry,
    DisclosureRequest,
    ImportJob,
    Need,
    Organisation,
    SideStream,
    Site,
    User,
    as_utc,
)
from verdikart.exchange.schemas import NeedCreate, StreamCreate

if TYPE_CHECKING:
    from verdikart.exchange.critical import NorwayImports


class ExchangeService:
    """One exchange database; every method takes the acting principal where access matters."""

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: Engine | None = None,
        auto_migrate: bool = True,
    ) -> None:
        if engine is None:
            if url is None:
                from verdikart.config import Settings

                url = Settings().database_url
            engine = make_engine(url)
        self.engine = engine
        self.sessions = session_factory(engine)
        if auto_migrate:
            migrate(engine)

    def close(self) -> None:
        self.engine.dispose()

    def _tx(self, *, write: bool = True) -> AbstractContextManager[Session]:
        return transaction(self.sessions, write=write)

    # --- organisations and users ---------------------------------------------------------

    def add_user(
        self,
        org: str,
        name: str,
        *,
        role: str = "member",
        cluster: str | None = None,
    ) -> dict[str, Any]:
        """Create a user (and the organisation / cluster when new); return its token once."""
        if role not in ROLES:
            raise ExchangeError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not org.strip() or not name.strip():
            raise ExchangeError("organisation and user name must not be empty")
        token = new_token()
        with self._tx() as session:
            cluster_row = _get_or_create_cluster(session, cluster) if cluster else None
            organisation = session.scalars(
                select(Organisation).where(Organisation.name == org.strip())
            ).first()
            if organisation is None:
                organisation = Organisation(name=org.strip())
                session.add(organisation)
            if cluster_row is not None and role != "hub":
                organisation.cluster = cluster_row
            session.flush()
            if role == "hub" and cluster_row is None:
                raise ExchangeError("a hub operator needs --cluster")
            user = User(
                organisation_id=organisation.id,
                name=name.strip(),
                role=role,
                hub_cluster_id=cluster_row.id if role == "hub" and cluster_row else None,
                token_hash=hash_token(token),
            )
            session.add(user)
            session.flush()
            repo.audit(
                session,
                None,
                "add_user",
                "user",
                user.id,
                owner_org_id=organisation.id,
                name=user.name,
                role=role,
            )
            return {
                "user_id": user.id,
                "organisation_id": organisation.id,
                "organisation": organisation.name,
                "name": user.name,
                "role": role,
                "cluster": cluster_row.name if cluster_row else None,
                "token": token,
            }

    def authenticate(self, token: str | None) -> Principal:
        with self._tx(write=False) as session:
            return authenticate(session, token)

    # --- streams -------------------------------------------------------------------------

    def create_stream(self, principal: Principal, payload: Mapping[str, Any] | StreamCreate) -> str:
        data = parse_stream(payload)
        with self._tx() as session:
            stream = _stream_row(session, principal.org_id, data)
            session.add(stream)
            session.flush()
            repo.audit(
                session,
                principal,
                "create_stream",
                "stream",
                stream.id,
                owner_org_id=principal.org_id,
            )
            return stream.id

    def create_streams(
        self,
        principal: Principal,
        records: Iterable[StreamCreate | Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> list[str]:
        """All-or-nothing: every record is persisted, or none (one transaction)."""
        with self._tx() as session:
            ids = []
            for record in records:
                stream = _stream_row(session, principal.org_id, parse_stream(record))
                if source and not stream.source:
                    stream.source = source
                session.add(stream)
                session.flush()
                ids.append(stream.id)
            repo.audit(
                session,
                principal,
                "import_streams",
                "stream",
                None,
                owner_org_id=principal.org_id,
                count=len(ids),
                source=source,
            )
            return ids

    def get_stream(self, principal: Principal, stream_id: str) -> dict[str, Any]:
        with self._tx() as session:
            return repo.get_stream(session, principal, stream_id)

    def list_streams(self, principal: Principal, query: repo.StreamQuery) -> dict[str, Any]:
        with self._tx(write=False) as session:
            return repo.list_streams(session, principal, query)

    def delete_stream(self, principal: Principal, stream_id: str) -> None:
        with self._tx() as session:
            stream = repo.owned_stream(session, principal, stream_id)
            session.execute(
                delete(DisclosureRequest).where(DisclosureRequest.stream_id == stream.id)
            )
            session.delete(stream)
            repo.audit(
                session,
                principal,
                "delete_stream",
                "stream",
                stream_id,
                owner_org_id=principal.org_id,
            )

    # --- disclosure ----------------------------------------------------------------------

    def request_disclosure(
        self, principal: Principal, stream_id: str, message: str | None = None
    ) -> dict[str, Any]:
        with self._tx() as session:
            stream = repo.load_stream(session, stream_id)
            if stream.organisation_id == principal.org_id:
                raise ExchangeError("your organisation owns this stream already")
            req = DisclosureRequest(
                stream_id=stream.id,
                owner_org_id=stream.organisation_id,
                requester_org_id=principal.org_id,
                requested_by=principal.user_id,
                message=(message or None),
            )
            session.add(req)
            session.flush()
            repo.audit(
                session,
                principal,
                "request_disclosure",
                "disclosure",
                req.id,
                owner_org_id=stream.organisation_id,
                stream_id=stream.id,
            )
            names = repo.org_names(session, [req.owner_org_id, req.requester_org_id])
            view = repo.request_view(req, names)
            # The requester may not learn the owner's name before the owner accepts.
            view["owner_organisation"] = None
            return view

    def _decide(
        self,
        principal: Principal,
        request_id: str,
        action: str,
        *,
        allowed_from: tuple[str, ...],
        new_status: str,
        expires_at: datetime | None = None,
    ) -> dict[str, Any]:
        with self._tx() as session:
            req = repo.party_request(session, principal, request_id)
            if req.owner_org_id != principal.org_id:
                raise PermissionDeniedError(
                    f"only the stream's owner organisation can {action} this request"
                )
            if principal.role not in ("member", "admin", "platform"):
                raise PermissionDeniedError(f"role {principal.role!r} cannot {action} requests")
            if req.status not in allowed_from:
                raise ExchangeError(
                    f"cannot {action} a request that is {req.status} "
                    f"(allowed from: {', '.join(allowed_from)})"
                )
            if expires_at is not None:
                # one instant, in UTC (naive = UTC), whatever offset the caller wrote it with
                expires_at = as_utc(expires_at)
                if expires_at <= datetime.now(UTC):
                    raise ExchangeError("expires_at must be in the future")
            req.status = new_status
            req.decided_at = datetime.now(UTC)
            if new_status == "accepted":
                req.expires_at = expires_at
            repo.audit(
                session,
                principal,
                f"{action}_disclosure",
                "disclosure",
                req.id,
                owner_org_id=req.owner_org_id,
                stream_id=req.stream_id,
                requester_org_id=req.requester_org_id,
                expires_at=expires_at.isoformat() if expires_at else None,
            )
            session.flush()
            names = repo.org_names(session, [req.owner_org_id, req.requester_org_id])
            return repo.request_view(req, names)

    def accept(
        self, principal: Principal, request_id: str, *, expires_at: datetime | None = None
    ) -> dict[str, Any]:
        return self._decide(
            principal,
            request_id,
            "accept",
            allowed_from=("pending", "revoked", "rejected"),
            new_status="accepted",
            expires_at=expires_at,
        )

    def reject(self, principal: Principal, request_id: str) -> dict[str, Any]:
        return self._decide(
            principal, request_id, "reject", allowed_from=("pending",), new_status="rejected"
        )

    def revoke(self, principal: Principal, request_id: str) -> dict[str, Any]:
        return self._decide(
            principal, request_id, "revoke", allowed_from=("accepted",), new_status="revoked"
        )

    def get_request(self, principal: Principal, request_id: str) -> dict[str, Any]:
        with self._tx(write=False) as session:
            req = repo.party_request(session, principal, request_id)
            names = repo.org_names(session, [req.owner_org_id, req.requester_org_id])
            view = repo.request_view(req, names)
            if req.owner_org_id != principal.org_id and req.status != "accepted":
                view["owner_organisation"] = None
            return view

    def list_requests(
        self, principal: Principal, *, role: str = "any", status: str | None = None
    ) -> list[dict[str, Any]]:
        with self._tx(write=False) as session:
            views = repo.list_requests(session, principal, role=role, status=status)
        for view in views:
            if view["owner_organisation"] != principal.org_name and view["status"] != "accepted":
                view["owner_organisation"] = None
        return views

    def audit_trail(self, principal: Principal, *, limit: int = 1000) -> list[dict[str, Any]]:
        with self._tx(write=False) as session:
            return repo.audit_trail(session, principal, limit=limit)

    # --- needs ---------------------------------------------------------------------------

    def create_need(self, principal: Principal, payload: Mapping[str, Any] | NeedCreate) -> str:
        data = parse_need(payload)
        with self._tx() as session:
            need = Need(organisation_id=principal.org_id)
            _apply_need(session, need, principal.org_id, data)
            session.add(need)
            session.flush()
            repo.audit(
                session, principal, "create_need", "need", need.id, owner_org_id=principal.org_id
            )
            return need.id

    def update_need(
        self, principal: Principal, need_id: str, payload: Mapping[str, Any] | NeedCreate
    ) -> dict[str, Any]:
        data = parse_need(payload)
        with self._tx() as session:
            need = repo.owned_need(session, principal, need_id)
            _apply_need(session, need, principal.org_id, data)
            repo.audit(
                session, principal, "update_need", "need", need.id, owner_org_id=principal.org_id
            )
            session.flush()
            return repo.need_view(need, full=True)

    def get_need(self, principal: Principal, need_id: str) -> dict[str, Any]:
        with self._tx(write=False) as session:
            return repo.need_view(repo.owned_need(session, principal, need_id), full=True)

    def delete_need(self, principal: Principal, need_id: str) -> None:
        with self._tx() as session:
            need = repo.owned_need(session, principal, need_id)
            session.delete(need)
            repo.audit(
                session, principal, "delete_need", "need", need_id, owner_org_id=principal.org_id
            )

    def list_needs(self, principal: Principal, *, mine: bool = True) -> list[dict[str, Any]]:
        with self._tx(write=False) as session:
            return repo.list_needs(session, principal, mine=mine)

    # --- import --------------------------------------------------------------------------

    def import_file(
        self,
        principal: Principal,
        path: Path,
        *,
        layout: str | None = None,
        name: str | None = None,
    ) -> list[str]:
        """Parse and validate the whole file (EXCHANGE-LOGIC's readers), then persist every
        stream in one transaction: all rows or none.

        `name`: what the file is called to its owner (an upload's own file name, while `path`
        is the server's temp file); errors and the streams' `source` then say `name`, never
        the server path. Without it (the CLI: the user's own file) they say `path`."""
        path = Path(path)
        shown = name or str(path)
        try:
            records = read_records(path, layout=layout)
        except SourceError as exc:
            if name is None:
                raise
            raise SourceError(name, exc.problem, line=exc.line, field=exc.field) from None
        except DataValidationError as exc:
            raise DataValidationError(exc.problems, source=shown) from None
        if not records:
            raise DataValidationError(["the file contains no side streams"], source=shown)
        return self.create_streams(principal, records, source=name or path.name)

    def start_import_job(self, principal: Principal, filename: str) -> str:
        with self._tx() as session:
            job = ImportJob(organisation_id=principal.org_id, filename=filename)
            session.add(job)
            session.flush()
            return job.id

    def run_import_job(
        self,
        principal: Principal,
        job_id: str,
        path: Path,
        *,
        layout: str | None = None,
        name: str | None = None,
    ) -> None:
        """Run an import of the uploaded file `name` (saved at the server's temp `path`) and
        record its outcome on the job (for the web's status page). Problems name the file as
        `name`; the temp path is never shown to the uploader."""
        path = Path(path)
        name = name or "upload"
        self._set_job(job_id, status="running")
        try:
            ids = self.import_file(principal, path, layout=layout, name=name)
        except DataValidationError as exc:
            self._fail_job(job_id, exc.problems, path, name)
        except VerdikartError as exc:  # SourceError (bad header, ...), ExchangeError, ...
            self._fail_job(job_id, [str(exc)], path, name)
        except Exception as exc:  # noqa: BLE001 -- a job must never stay "running" forever
            self._fail_job(job_id, [f"import failed: {type(exc).__name__}: {exc}"], path, name)
        else:
            self._set_job(job_id, status="done", rows=len(ids))

    def _fail_job(self, job_id: str, problems: list[str], path: Path, name: str) -> None:
        """End a job `failed`; any mention of the temp file (a library's message may quote
        it) is replaced by the uploaded file's name."""
        shown = [p.replace(str(path), name).replace(path.name, name) for p in problems]
        self._set_job(job_id, status="failed", problems=shown)

    def _set_job(self, job_id: str, **values: Any) -> None:
        with self._tx() as session:
            job = session.get(ImportJob, job_id)
            if job is None:
                return
            for key, value in values.items():
                setattr(job, key, value)
            if values.get("status") in ("done", "failed"):
                job.finished_at = datetime.now(UTC)

    def get_job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        with self._tx(write=False) as session:
            job = repo.own_job(session, principal, job_id)
            return {
                "id": job.id,
                "filename": job.filename,
                "status": job.status,
                "rows": job.rows,
                "problems": list(job.problems or []),
                "created_at": job.created_at,
                "finished_at": job.finished_at,
            }

    # --- matching ------------------------------------------------------------------------

    def match_need(
        self, principal: Principal, need_id: str, *, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Streams ranked for one of the caller's needs (`linking.match_need`); the reveals'
        audit events commit with the match in one transaction."""
        from verdikart.exchange import linking

        with self._tx() as session:
            return linking.match_need(session, principal, need_id, limit=limit)

    def match_stream(
        self, principal: Principal, stream_id: str, *, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Needs ranked for one of the caller's streams (`linking.match_stream`), in one
        transaction with its audit events."""
        from verdikart.exchange import linking

        with self._tx() as session:
            return linking.match_stream(session, principal, stream_id, limit=limit)

    # --- secondary-supply potential ------------------------------------------------------

    def potential(
        self,
        principal: Principal | None,
        material: str,
        *,
        imports: NorwayImports,
        year: int | None = None,
        min_organisations: int = 1,
    ) -> dict[str, Any]:
        """Secondary supply of `material` in the registered streams vs Norway's imports
        (`linking.potential`: disclosure rules with a principal, exact without one).

        `imports`: Norway's imports by (material id, year; None = the latest year with a
        quantity), supplied by the application core from the analytic engine; the exchange
        never reads the analytic store. The streams are read in one transaction; with a
        principal, the query is written to the audit trails in a second one.
        """
        from verdikart.exchange import linking
        from verdikart.reference.materials import get_material

        norway = imports(get_material(material).id, year)
        with self._tx(write=False) as session:
            streams, composition = linking.potential_relations(session)
        result, used = linking.potential(
            norway,
            streams,
            composition,
            principal=principal,
            min_organisations=min_organisations,
        )
        if principal is not None:
            with self._tx() as session:
                linking.record_potential_query(
                    session, principal, used, norway.material, released=result["released"]
                )
        return result


def _get_or_create_cluster(session: Session, name: str) -> Cluster:
    cluster = session.scalars(select(Cluster).where(Cluster.name == name.strip())).first()
    if cluster is None:
        cluster = Cluster(name=name.strip())
        session.add(cluster)
        session.flush()
    return cluster


LAYOUTS = ("template", "miljodir")


def detect_layout(path: Path) -> str:
    """'miljodir' for a semicolon file with an Avfallskode column, else 'template'."""
    if path.suffix.lower() == ".xlsx":
        return "template"
    head = path.read_bytes()[:4096].decode("utf-8", errors="replace")
    first = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    return "miljodir" if "Avfallskode" in first and ";" in first else "template"


def read_records(path: Path, *, layout: str | None = None) -> list[StreamCreate]:
    from verdikart.exchange import reporting

    layout = layout or detect_layout(path)
    if layout not in LAYOUTS:
        raise ExchangeError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if layout == "miljodir":
        return reporting.read_miljodir(path)
    return reporting.read_template(path)


def parse_stream(payload: Mapping[str, Any] | StreamCreate) -> StreamCreate:
    if isinstance(payload, StreamCreate):
        return payload
    return _parse(StreamCreate, payload, "stream")


def parse_need(payload: Mapping[str, Any] | NeedCreate) -> NeedCreate:
    if isinstance(payload, NeedCreate):
        return payload
    return _parse(NeedCreate, payload, "need")


def _parse(model: Any, payload: Any, what: str) -> Any:
    if not isinstance(payload, Mapping):
        raise DataValidationError([f"a {what} must be a JSON object"], source=what)
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        raise DataValidationError(problems_of(exc), source=what) from None


def problems_of(exc: ValidationError) -> list[str]:
    """Pydantic errors as 'field.path: message' lines (without echoing submitted values)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "(payload)"
        out.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return out


def _site(session: Session, org_id: str, site: Any) -> Site | None:
    """The organisation's site of that name, created when new (safe against a concurrent
    writer creating the same site: the insert runs in a savepoint and is re-read on conflict)."""
    if site is None:
        return None
    query = select(Site).where(Site.organisation_id == org_id, Site.name == site.name)
    row = session.scalars(query).first()
    if row is None:
        try:
            with session.begin_nested():
                row = Site(organisation_id=org_id, name=site.name)
                session.add(row)
        except IntegrityError:
            row = session.scalars(query).one()
    for key in ("municipality", "lat", "lon", "nace"):
        value = getattr(site, key)
        if value is not None:
            setattr(row, key, value)
    session.flush()
    return row


def _stream_row(session: Session, org_id: str, data: StreamCreate) -> SideStream:
    s, d = data.summary, data.details
    now = datetime.now(UTC)
    return SideStream(
        organisation_id=org_id,
        created_at=now,
        updated_at=now,
        name_public=s.name_public,
        material_class=s.material_class,
        kind=s.kind,
        quantity_band=s.quantity_band,
        region=s.region,
        hazardous=s.hazardous,
        ewc_code=s.ewc_code,
        critical_materials=list(s.critical_materials),
        name=d.name,
        site=_site(session, org_id, d.site),
        form=d.form,
        quantity_t_per_year=d.quantity_t_per_year,
        energy_gwh_per_year=d.energy_gwh_per_year,
        quantity_uncertainty_pct=d.quantity_uncertainty_pct,
        availability=d.availability,
        current_treatment=d.current_treatment,
        current_receiver=d.current_receiver,
        contact=d.contact.model_dump(exclude_none=True) if d.contact else None,
        documents=[doc.model_dump(exclude_none=True) for doc in d.documents],
        composition=[
            CompositionEntry(
                position=i,
                component=c.component,
                value=c.value,
                value_min=c.value_min,
                value_max=c.value_max,
                unit=c.unit,
                method=c.method,
                analysed_on=c.analysed_on,
            )
            for i, c in enumerate(d.composition)
        ],
    )


def _apply_need(session: Session, need: Need, org_id: str, data: NeedCreate) -> None:
    need.name = data.name
    need.material_class = data.material_class
    need.also_classes = list(data.also_classes)
    need.limits = [limit.model_dump() for limit in data.limits]
    need.quantity_t_per_year_min = data.quantity_t_per_year_min
    need.quantity_t_per_year_max = data.quantity_t_per_year_max
    need.max_distance_km = data.max_distance_km
    need.region = data.region
    need.accepts_hazardous = data.accepts_hazardous
    need.site = _site(session, org_id, data.site)


__all__ = ["ExchangeService", "NotFoundError", "PermissionDeniedError"]
