"""The materialbørs core API that both the CLI and the web app call.

`ExchangeService` owns one engine and runs each operation in its own transaction, so a
write and its audit event commit together or not at all. Reads go through
`verdikart.exchange.repository`, which enforces visibility. Validation of codes, compositions
and file layouts is delegated to EXCHANGE-LOGIC's modules (wastecodes, composition, reporting);
this module only persists what they accept.

It also owns what keeps the exchange running under retries, crashes and hostile files
(issue #14): idempotency keys on the create operations (`_once`: the outcome is stored in the
create's own transaction), accounts (deactivation, token rotation and revocation, sign-in
sessions), and import jobs run off the request path (`submit_import`), their files read in a
child process bounded in time (`read_records_bounded`), cancelled at `close()` and ended
`failed` at start-up after a crash (`recover_interrupted_jobs`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
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
from verdikart.exchange.auth import (
    REVOKED_PREFIX,
    AuthenticationError,
    Principal,
    authenticate,
    hash_token,
    new_token,
    revoked_hash,
    session_principal,
    start_session,
)
from verdikart.exchange.db import make_engine, migrate, session_factory, transaction
from verdikart.exchange.models import (
    ROLES,
    Cluster,
    CompositionEntry,
    DisclosureRequest,
    IdempotencyRecord,
    ImportJob,
    Need,
    Organisation,
    SideStream,
    Site,
    User,
    WebSession,
)
from verdikart.exchange.schemas import (
    NeedCreate,
    RequestIn,
    StreamCreate,
    agreement_expiry,
)

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
        # import jobs (see `submit_import`): at most MAX_PARALLEL_IMPORTS at once, each file
        # read in a child process that is killed after `import_time_limit_s` or at close()
        self.import_time_limit_s = IMPORT_TIME_LIMIT_S
        self._import_slots = threading.BoundedSemaphore(MAX_PARALLEL_IMPORTS)
        self._imports_lock = threading.Lock()
        self._readers: dict[str, Any] = {}  # job id -> running child process
        self._closing = threading.Event()

    def close(self) -> None:
        """Stop: running imports are cancelled (their readers killed, jobs ended `failed`,
        uploads deleted), then the connections closed. Takes well under a second."""
        self._closing.set()
        with self._imports_lock:
            readers = dict(self._readers)
        for job_id, proc in readers.items():
            proc.kill()
            self._end_interrupted(job_id, SHUTDOWN_PROBLEM)
        self.engine.dispose()

    # --- idempotency ---------------------------------------------------------------------

    def _once(
        self,
        principal: Principal,
        key: str | None,
        endpoint: str,
        request: Any,
        work: Callable[[Session], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run `work` in one transaction; with an idempotency `key`, at most once per (user,
        key): the outcome is stored in the same transaction, and a retry with the same key
        and the same request gets the stored outcome instead of a second object. The same
        key with another request (or endpoint) is refused (422). Two concurrent first
        attempts: one commits, the other hits the unique (user, key) constraint, rolls back
        everything it did and returns the winner's outcome."""
        if key is None:
            with self._tx() as session:
                return work(session)
        key = check_idempotency_key(key)
        digest = hashlib.sha256(
            json.dumps([endpoint, request], sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()
        for attempt in range(2):
            try:
                with self._tx() as session:
                    record = session.scalars(
                        select(IdempotencyRecord).where(
                            IdempotencyRecord.user_id == principal.user_id,
                            IdempotencyRecord.key == key,
                        )
                    ).first()
                    if record is not None:
                        if record.endpoint != endpoint or record.request_hash != digest:
                            raise DataValidationError(
                                [
                                    "Idempotency-Key: already used for a different request; "
                                    "use a new key for each new request"
                                ],
                                source="request",
                            )
                        return dict(record.response)
                    out = work(session)
                    session.add(
                        IdempotencyRecord(
                            user_id=principal.user_id,
                            key=key,
                            endpoint=endpoint,
                            request_hash=digest,
                            response=json.loads(json.dumps(out, default=_json_default)),
                        )
                    )
                    session.flush()
                    return out
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

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

    # --- accounts and sign-in sessions ---------------------------------------------------

    def login(self, token: str) -> str:
        """Start a sign-in session for the owner of `token`; returns the cookie value."""
        with self._tx() as session:
            who = authenticate(session, token)
            user = session.get(User, who.user_id)
            assert user is not None  # authenticate found it in this transaction
            return start_session(session, user)

    def session_principal(self, value: str | None) -> Principal:
        """The principal of the sign-in cookie `value`: a live session; for scripts that put
        the API token itself in the cookie (as before issue #14), that token."""
        with self._tx(write=False) as session:
            try:
                return session_principal(session, value)
            except AuthenticationError:
                return authenticate(session, value)

    def logout(self, value: str | None) -> None:
        """End the sign-in session `value` on the server (nothing when there is none)."""
        if not value or len(value) > 200:
            return
        with self._tx() as session:
            session.execute(delete(WebSession).where(WebSession.id == hash_token(value)))

    def _account(self, session: Session, principal: Principal, user_id: str) -> User:
        """A user the principal may manage: itself, its organisation's users (role admin) or
        anyone (platform); NotFoundError otherwise (the same as an unknown id)."""
        user = session.get(User, user_id)
        allowed = user is not None and (
            principal.is_platform_admin
            or user.id == principal.user_id
            or (principal.role == "admin" and user.organisation_id == principal.org_id)
        )
        if not allowed or user is None:
            raise NotFoundError("user not found")
        return user

    def list_users(self, principal: Principal) -> list[dict[str, Any]]:
        """The users the caller may manage (see `_account`), without tokens."""
        with self._tx(write=False) as session:
            stmt = select(User).order_by(User.created_at, User.id)
            if not principal.is_platform_admin:
                stmt = stmt.where(
                    User.organisation_id == principal.org_id
                    if principal.role == "admin"
                    else User.id == principal.user_id
                )
            return [
                {
                    "id": u.id,
                    "name": u.name,
                    "organisation": u.organisation.name,
                    "role": u.role,
                    "active": u.active,
                    "token_revoked": u.token_hash.startswith(REVOKED_PREFIX),
                }
                for u in session.scalars(stmt)
            ]

    def rotate_token(self, principal: Principal, user_id: str | None = None) -> dict[str, Any]:
        """A new token for the user (default: the caller); the old one and every sign-in
        session of the user stop working at once. The new token is shown once."""
        token = new_token()
        with self._tx() as session:
            user = self._account(session, principal, user_id or principal.user_id)
            user.token_hash = hash_token(token)
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            repo.audit(
                session, principal, "rotate_token", "user", user.id,
                owner_org_id=user.organisation_id,
            )  # fmt: skip
            return {"user_id": user.id, "token": token}

    def revoke_token(self, principal: Principal, user_id: str) -> None:
        """The user's token stops working (and its sign-in sessions end) until rotated."""
        with self._tx() as session:
            user = self._account(session, principal, user_id)
            user.token_hash = revoked_hash()
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            repo.audit(
                session, principal, "revoke_token", "user", user.id,
                owner_org_id=user.organisation_id,
            )  # fmt: skip

    def set_active(self, principal: Principal, user_id: str, *, active: bool) -> None:
        """Deactivate (or reactivate) a user: a deactivated user's token and sessions are
        refused; the user's rows and audit history stay. Organisation admins and platform
        admins only (a member cannot reactivate itself)."""
        with self._tx() as session:
            user = self._account(session, principal, user_id)
            if principal.role not in ("admin", "platform"):
                raise PermissionDeniedError("only an organisation admin can (de)activate users")
            user.active = active
            if not active:
                session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            repo.audit(
                session, principal, "activate_user" if active else "deactivate_user", "user",
                user.id, owner_org_id=user.organisation_id,
            )  # fmt: skip

    # --- streams -------------------------------------------------------------------------

    def create_stream(
        self,
        principal: Principal,
        payload: Mapping[str, Any] | StreamCreate,
        *,
        idempotency_key: str | None = None,
    ) -> str:
        data = parse_stream(payload)

        def work(session: Session) -> dict[str, Any]:
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
            return {"id": stream.id}

        request = data.model_dump(mode="json")
        return str(self._once(principal, idempotency_key, "create_stream", request, work)["id"])

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
        self,
        principal: Principal,
        stream_id: str,
        message: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        try:
            message = RequestIn(message=message).message
        except ValidationError as exc:
            raise DataValidationError(problems_of(exc), source="request") from None

        def work(session: Session) -> dict[str, Any]:
            return self._request_disclosure(session, principal, stream_id, message)

        request = {"stream_id": stream_id, "message": message}
        return self._once(principal, idempotency_key, "request_disclosure", request, work)

    def _request_disclosure(
        self, session: Session, principal: Principal, stream_id: str, message: str | None
    ) -> dict[str, Any]:
        # runs in `_once`'s transaction
        # one request at a time per stream: the row lock orders concurrent requests on
        # PostgreSQL (SQLite's write transactions are serial already)
        session.execute(select(SideStream.id).where(SideStream.id == stream_id).with_for_update())
        stream = repo.load_stream(session, stream_id)
        if stream.organisation_id == principal.org_id:
            raise ExchangeError("your organisation owns this stream already")
        for other in session.scalars(
            select(DisclosureRequest).where(
                DisclosureRequest.stream_id == stream.id,
                DisclosureRequest.requester_org_id == principal.org_id,
                DisclosureRequest.status.in_(("pending", "accepted")),
            )
        ):
            status = repo.effective_status(other)
            if status in ("pending", "accepted"):
                raise ExchangeError(
                    f"your organisation's request {other.id} for this stream is "
                    f"{status} already (no duplicate requests)"
                )
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
            status = repo.effective_status(req)
            if status not in allowed_from:
                raise ExchangeError(
                    f"cannot {action} a request that is {status} "
                    f"(allowed from: {', '.join(allowed_from)})"
                )
            if expires_at is not None:
                # one instant, in UTC (naive = UTC), whatever offset the caller wrote it with,
                # inside the agreement window (schemas.MAX_AGREEMENT_DAYS)
                try:
                    expires_at = agreement_expiry(expires_at)
                except ValueError as exc:
                    raise ExchangeError(str(exc)) from None
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
            allowed_from=("pending", "revoked", "rejected", "expired"),
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
            if req.owner_org_id != principal.org_id and view["status"] != "accepted":
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

    def create_need(
        self,
        principal: Principal,
        payload: Mapping[str, Any] | NeedCreate,
        *,
        idempotency_key: str | None = None,
    ) -> str:
        data = parse_need(payload)

        def work(session: Session) -> dict[str, Any]:
            need = Need(organisation_id=principal.org_id)
            _apply_need(session, need, principal.org_id, data)
            session.add(need)
            session.flush()
            repo.audit(
                session, principal, "create_need", "need", need.id, owner_org_id=principal.org_id
            )
            return {"id": need.id}

        request = data.model_dump(mode="json")
        return str(self._once(principal, idempotency_key, "create_need", request, work)["id"])

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
        job_id: str | None = None,
    ) -> list[str]:
        """Parse and validate the whole file (EXCHANGE-LOGIC's readers, in a child process
        bounded in time: `read_records_bounded`), then persist every stream in one
        transaction: all rows or none.

        `name`: what the file is called to its owner (an upload's own file name, while `path`
        is the server's temp file); errors and the streams' `source` then say `name`, never
        the server path. Without it (the CLI: the user's own file) they say `path`."""
        path = Path(path)
        shown = name or str(path)
        try:
            records = self._read_bounded(path, layout, job_id)
        except SourceError as exc:
            if name is None:
                raise
            raise SourceError(name, exc.problem, line=exc.line, field=exc.field) from None
        except DataValidationError as exc:
            raise DataValidationError(exc.problems, source=shown) from None
        if not records:
            raise DataValidationError(["the file contains no side streams"], source=shown)
        return self.create_streams(principal, records, source=name or path.name)

    def start_import_job(
        self, principal: Principal, filename: str, temp_path: Path | None = None
    ) -> str:
        """A queued job for the upload `filename`; `temp_path`: the server's copy, recorded so
        that start-up can delete it if the server stops before the job ends."""
        with self._tx() as session:
            job = ImportJob(
                organisation_id=principal.org_id,
                filename=filename,
                temp_path=str(temp_path) if temp_path else None,
            )
            session.add(job)
            session.flush()
            return job.id

    def submit_import(
        self,
        principal: Principal,
        job_id: str,
        path: Path,
        *,
        layout: str | None = None,
        name: str | None = None,
    ) -> None:
        """Run the job off the request path: in a thread of the service's own (not a request's
        background task, which a graceful shutdown would wait for), reading the file in a child
        process (`read_records_bounded`: killed after `import_time_limit_s`, or at close()).
        The upload at `path` is deleted when the job ends, whatever the outcome."""

        def run() -> None:
            try:
                with self._import_slots:
                    if not self._closing.is_set():
                        self.run_import_job(principal, job_id, path, layout=layout, name=name)
            finally:
                Path(path).unlink(missing_ok=True)

        threading.Thread(target=run, name=f"import-{job_id[:8]}", daemon=True).start()

    def recover_interrupted_jobs(self) -> int:
        """At start-up (`verdikart serve`, before workers start): jobs a crash or kill left
        `queued` or `running` end `failed`, their uploads are deleted; idempotency records
        older than IDEMPOTENCY_DAYS and ended sign-in sessions are pruned. Returns the number
        of jobs ended."""
        with self._tx(write=False) as session:
            stale = session.scalars(
                select(ImportJob.id).where(ImportJob.status.in_(("queued", "running")))
            ).all()
        for job_id in stale:
            self._end_interrupted(job_id, RESTART_PROBLEM)
        now = datetime.now(UTC)
        with self._tx() as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.created_at < now - timedelta(days=IDEMPOTENCY_DAYS)
                )
            )
            session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        return len(stale)

    def _end_interrupted(self, job_id: str, problem: str) -> None:
        """End an unfinished job `failed` with `problem` and delete its upload."""
        with self._tx() as session:
            job = session.get(ImportJob, job_id)
            if job is None or job.status not in ("queued", "running"):
                return
            if job.temp_path:
                _delete_upload(Path(job.temp_path))
            job.status, job.problems = "failed", [problem]
            job.temp_path, job.finished_at = None, datetime.now(UTC)

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
            ids = self.import_file(principal, path, layout=layout, name=name, job_id=job_id)
        except DataValidationError as exc:
            self._fail_job(job_id, exc.problems, path, name)
        except VerdikartError as exc:  # SourceError (bad header, ...), ExchangeError, ...
            self._fail_job(job_id, [str(exc)], path, name)
        except Exception as exc:  # noqa: BLE001 -- a job must never stay "running" forever
            self._fail_job(job_id, [f"import failed: {type(exc).__name__}: {exc}"], path, name)
        else:
            self._set_job(job_id, status="done", rows=len(ids), temp_path=None)

    def _read_bounded(self, path: Path, layout: str | None, job_id: str | None) -> Any:
        """`read_records_bounded`, with the child registered under `job_id` so close() can
        kill it."""

        def started(proc: Any) -> None:
            if job_id is not None:
                with self._imports_lock:
                    self._readers[job_id] = proc
            if self._closing.is_set():
                proc.kill()

        try:
            return read_records_bounded(
                path, layout=layout, time_limit_s=self.import_time_limit_s, started=started
            )
        finally:
            if job_id is not None:
                with self._imports_lock:
                    self._readers.pop(job_id, None)

    def _fail_job(self, job_id: str, problems: list[str], path: Path, name: str) -> None:
        """End a job `failed`; any mention of the temp file (a library's message may quote
        it) is replaced by the uploaded file's name, a NUL character by `\\x00`."""
        shown = [
            # a NUL quoted from the file (a column name) is shown, not stored as one
            p.replace(str(path), name).replace(path.name, name).replace("\x00", "\\x00")
            for p in problems
        ]
        self._set_job(job_id, status="failed", problems=shown, temp_path=None)

    def _set_job(self, job_id: str, **values: Any) -> None:
        if self._closing.is_set() and values.get("status") != "running":
            return  # close() ended the job already (its reader was killed)
        with self._tx() as session:
            job = session.get(ImportJob, job_id)
            if job is None or job.status in ("done", "failed"):
                return  # ended already (by close() or start-up recovery)
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


IDEMPOTENCY_KEY_MAX = 200
IDEMPOTENCY_DAYS = 7  # a key's stored outcome is kept this long (pruned at start-up)


def check_idempotency_key(key: str) -> str:
    """An `Idempotency-Key` value: 1-200 visible ASCII characters (a UUID is typical)."""
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not all(33 <= ord(ch) < 127 for ch in key):
        raise DataValidationError(
            [f"Idempotency-Key: 1-{IDEMPOTENCY_KEY_MAX} visible ASCII characters, e.g. a UUID"],
            source="request",
        )
    return key


def _json_default(value: Any) -> Any:
    """Datetimes and dates in stored idempotent outcomes: ISO 8601, as the API writes them."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an idempotency record")


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


IMPORT_TIME_LIMIT_S = 120.0  # reading and validating one file, in its child process
MAX_PARALLEL_IMPORTS = 2  # per server process: the rest queue
UPLOAD_PREFIX = "verdikart-upload-"  # the temp copies of uploads (`web.api_exchange.save_upload`)
SHUTDOWN_PROBLEM = (
    "the server was stopped during the import; nothing was saved -- upload the file again"
)
RESTART_PROBLEM = (
    "the server stopped (restart or crash) before the import ended; nothing was saved -- "
    "upload the file again"
)


def _delete_upload(path: Path) -> None:
    """Delete an upload's temp copy -- only a file named like one (the path is the server's
    own record, but a job row must never be a way to delete anything else)."""
    if path.name.startswith(UPLOAD_PREFIX):
        path.unlink(missing_ok=True)


def _read_in_child(path: str, layout: str | None, conn: Any) -> None:
    """The child process of `read_records_bounded`: read the file, send back the records or
    the error as plain data (the error classes' constructors take other arguments than
    `args`, so they are rebuilt in the parent)."""
    try:
        out: tuple[Any, ...] = ("ok", read_records(Path(path), layout=layout))
    except SourceError as exc:
        out = ("source", exc.problem, exc.line, exc.field)
    except DataValidationError as exc:
        out = ("data", exc.problems)
    except VerdikartError as exc:
        out = ("error", str(exc))
    except Exception as exc:  # noqa: BLE001 -- reported on the job, never a stuck import
        out = ("error", f"import failed: {type(exc).__name__}: {exc}")
    conn.send(out)
    conn.close()


def read_records_bounded(
    path: Path,
    *,
    layout: str | None = None,
    time_limit_s: float = IMPORT_TIME_LIMIT_S,
    started: Callable[[Any], None] | None = None,
) -> list[StreamCreate]:
    """`read_records` in a child process, killed after `time_limit_s` (SourceError then).

    A hostile file (a stray cell at XFD1048576, a zip bomb) must not hold the server: the
    reader's rows and columns are bounded (`reporting.MAX_ROWS`, `MAX_COLUMNS`), and the
    work runs in its own process -- not a thread of the server, whose CPU-bound parsing
    slowed every other request 25x through the interpreter lock -- that can be killed.
    `started(process)` is called once the child runs (ExchangeService registers it to kill
    it at shutdown); a killed child reads as a stopped import."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a threaded server
    receive, send = context.Pipe(duplex=False)
    proc = context.Process(
        target=_read_in_child, args=(str(path), layout, send), name="verdikart-import", daemon=True
    )
    proc.start()
    send.close()
    try:
        if started is not None:
            started(proc)
        try:
            ready = receive.poll(time_limit_s)
            out = receive.recv() if ready else None
        except (EOFError, OSError):
            raise ExchangeError(SHUTDOWN_PROBLEM) from None
        if out is None:
            raise SourceError(
                path,
                f"reading the file took longer than {time_limit_s:g} s and was stopped; "
                "split it into smaller files",
            )
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    kind, *rest = out
    if kind == "ok":
        return list(rest[0])
    if kind == "source":
        problem, line, field = rest
        raise SourceError(path, problem, line=line, field=field)
    if kind == "data":
        raise DataValidationError(rest[0], source=str(path))
    raise ExchangeError(rest[0])


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
        components_public=s.components_public,
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
