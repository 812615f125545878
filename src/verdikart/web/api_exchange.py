"""The exchange's JSON API under `/api/exchange/` (bearer tokens; documented in /openapi.json).

Thin: every route authenticates, calls `ExchangeService`, and returns what it gives back. Errors
map to status codes by their class (`http_status` in `verdikart.errors`: 400 refused, 401 no or
unknown token, 403 not allowed, 404, 422 invalid input, 503 unavailable) in the app's one
exception handler (`verdikart.web.error_response`); 413 for bodies over the limit. An id the
caller may not know about gets the same 404 as one that does not exist.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from verdikart.errors import DataValidationError
from verdikart.exchange.auth import Principal
from verdikart.exchange.repository import MAX_OFFSET, StreamQuery
from verdikart.exchange.schemas import AcceptIn, NeedCreate, RequestIn, StreamCreate
from verdikart.exchange.service import ExchangeService


def clean_request(request: Request) -> None:
    """Refuse (422) a NUL character in the path or the query string before any route runs:
    PostgreSQL cannot compare text holding one, and no id, filter or name contains it."""
    query = request.query_params.multi_items()
    if "\x00" in request.scope.get("path", "") or any("\x00" in k + v for k, v in query):
        raise DataValidationError(
            ["path or query: contains a NUL character (\\x00)"], source="request"
        )


router = APIRouter(prefix="/api/exchange", tags=["exchange"], dependencies=[Depends(clean_request)])
bearer = HTTPBearer(auto_error=False, description="A token from `verdikart exchange add-user`.")


def service(request: Request) -> ExchangeService:
    svc: ExchangeService = request.app.state.verdikart.exchange()
    return svc


Service = Annotated[ExchangeService, Depends(service)]


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials:
        return service(request).authenticate(credentials.credentials)
    return service(request).session_principal(request.cookies.get("verdikart_token"))


Me = Annotated[Principal, Depends(principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Optional, e.g. a UUID: a retry with the same key (same user, same request) gets "
            "the first attempt's answer instead of creating a duplicate; kept 7 days"
        ),
    ),
]


class Created(BaseModel):
    id: str


@router.get("/me")
def me(who: Me) -> dict[str, Any]:
    """The caller's user, organisation and role."""
    return {
        "user": who.user_name,
        "organisation": who.org_name,
        "role": who.role,
    }


@router.get("/users")
def list_users(who: Me, svc: Service) -> list[dict[str, Any]]:
    """The users the caller may manage: itself; an organisation admin its organisation's
    users; a platform admin everyone (never tokens)."""
    return svc.list_users(who)


@router.post("/me/token")
def rotate_own_token(who: Me, svc: Service) -> dict[str, Any]:
    """A new token for the caller, shown once; the old token and the caller's sign-in sessions
    stop working at once."""
    return svc.rotate_token(who)


@router.post("/users/{user_id}/token")
def rotate_token(user_id: str, who: Me, svc: Service) -> dict[str, Any]:
    """A new token for a user the caller manages (shown once); the old one stops working."""
    return svc.rotate_token(who, user_id)


@router.post("/users/{user_id}/revoke-token", status_code=204)
def revoke_token(user_id: str, who: Me, svc: Service) -> Response:
    """The user's token stops working (and its sign-in sessions end) until a new one is made."""
    svc.revoke_token(who, user_id)
    return Response(status_code=204)


@router.post("/users/{user_id}/deactivate", status_code=204)
def deactivate_user(user_id: str, who: Me, svc: Service) -> Response:
    """Organisation or platform admins: the user's token and sessions are refused from now."""
    svc.set_active(who, user_id, active=False)
    return Response(status_code=204)


@router.post("/users/{user_id}/activate", status_code=204)
def activate_user(user_id: str, who: Me, svc: Service) -> Response:
    svc.set_active(who, user_id, active=True)
    return Response(status_code=204)


@router.post("/streams", status_code=201, response_model=Created)
def create_stream(
    payload: StreamCreate, who: Me, svc: Service, key: IdempotencyKey = None
) -> dict[str, str]:
    """Register a side stream: a public `summary` and confidential `details`."""
    return {"id": svc.create_stream(who, payload, idempotency_key=key)}


@router.get("/streams")
def list_streams(
    who: Me,
    svc: Service,
    material_class: str | None = None,
    kind: Literal["by-product", "waste", "surplus-energy"] | None = None,
    region: str | None = None,
    hazardous: bool | None = None,
    quantity_band: str | None = None,
    mine: bool = False,
    cluster: bool = False,
    sort: Literal["created_at", "material_class", "kind", "region", "name_public"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Public summaries only; filters and sorts touch only public fields. `cluster=true`
    (hub operators): only the streams of the hub's cluster members."""
    query = StreamQuery(
        material_class=material_class.lower() if material_class else None,
        kind=kind,
        region=region,
        hazardous=hazardous,
        quantity_band=quantity_band,
        mine=mine,
        cluster=cluster,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return svc.list_streams(who, query)


@router.get("/streams/{stream_id}")
def get_stream(stream_id: str, who: Me, svc: Service) -> dict[str, Any]:
    """Summary, plus `details` when the caller's organisation owns it or was granted access."""
    return svc.get_stream(who, stream_id)


@router.delete("/streams/{stream_id}", status_code=204)
def delete_stream(stream_id: str, who: Me, svc: Service) -> Response:
    svc.delete_stream(who, stream_id)
    return Response(status_code=204)


@router.get("/streams/{stream_id}/matches")
def stream_matches(
    stream_id: str, who: Me, svc: Service, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[dict[str, Any]]:
    """Needs (of any organisation) that this own stream could serve; others' needs as summaries."""
    return svc.match_stream(who, stream_id, limit=limit)


@router.post("/streams/{stream_id}/disclosure-requests", status_code=201)
def request_disclosure(
    stream_id: str,
    who: Me,
    svc: Service,
    body: Annotated[RequestIn | None, Body()] = None,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Ask the owner to disclose the stream's details to the caller's organisation."""
    message = body.message if body else None
    return svc.request_disclosure(who, stream_id, message, idempotency_key=key)


@router.get("/disclosure-requests")
def list_requests(
    who: Me,
    svc: Service,
    role: Literal["any", "owner", "requester"] = "any",
    status: Literal["pending", "accepted", "expired", "rejected", "revoked"] | None = None,
) -> list[dict[str, Any]]:
    return svc.list_requests(who, role=role, status=status)


@router.get("/disclosure-requests/{request_id}")
def get_request(request_id: str, who: Me, svc: Service) -> dict[str, Any]:
    return svc.get_request(who, request_id)


@router.post("/disclosure-requests/{request_id}/accept")
def accept(
    request_id: str,
    who: Me,
    svc: Service,
    body: Annotated[AcceptIn | None, Body()] = None,
) -> dict[str, Any]:
    """Owner only: grant access to the details, optionally until `expires_at`."""
    return svc.accept(who, request_id, expires_at=body.expires_at if body else None)


@router.post("/disclosure-requests/{request_id}/reject")
def reject(request_id: str, who: Me, svc: Service) -> dict[str, Any]:
    return svc.reject(who, request_id)


@router.post("/disclosure-requests/{request_id}/revoke")
def revoke(request_id: str, who: Me, svc: Service) -> dict[str, Any]:
    """Owner only: end an accepted agreement; details are hidden again at once."""
    return svc.revoke(who, request_id)


@router.get("/audit")
def audit(
    who: Me, svc: Service, limit: Annotated[int, Query(ge=1, le=100_000)] = 1000
) -> list[dict[str, Any]]:
    """The caller's organisation's audit trail (reads of its data and its own actions)."""
    return svc.audit_trail(who, limit=limit)


# --- needs -----------------------------------------------------------------------------------


@router.post("/needs", status_code=201, response_model=Created)
def create_need(
    payload: NeedCreate, who: Me, svc: Service, key: IdempotencyKey = None
) -> dict[str, str]:
    return {"id": svc.create_need(who, payload, idempotency_key=key)}


@router.get("/needs")
def list_needs(who: Me, svc: Service, mine: bool = True) -> list[dict[str, Any]]:
    """Own needs in full; `mine=false`: other organisations' needs as summaries."""
    return svc.list_needs(who, mine=mine)


@router.get("/needs/{need_id}")
def get_need(need_id: str, who: Me, svc: Service) -> dict[str, Any]:
    return svc.get_need(who, need_id)


@router.put("/needs/{need_id}")
def update_need(need_id: str, payload: NeedCreate, who: Me, svc: Service) -> dict[str, Any]:
    return svc.update_need(who, need_id, payload)


@router.delete("/needs/{need_id}", status_code=204)
def delete_need(need_id: str, who: Me, svc: Service) -> Response:
    svc.delete_need(who, need_id)
    return Response(status_code=204)


@router.get("/needs/{need_id}/matches")
def need_matches(
    need_id: str, who: Me, svc: Service, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[dict[str, Any]]:
    """Streams ranked for an own need; streams not disclosed to the caller show only their
    summary and the fact that they match."""
    return svc.match_need(who, need_id, limit=limit)


# --- import and potential ---------------------------------------------------------------------


def check_layout(layout: str | None) -> None:
    """422 for a layout other than the known ones (before the upload is saved or a job made)."""
    from verdikart.exchange.service import LAYOUTS

    if layout not in (None, "", *LAYOUTS):
        raise DataValidationError(
            [f"layout: use one of {', '.join(LAYOUTS)} (or leave it empty to detect it)"],
            source="request",
        )


def upload_name(filename: str | None) -> str:
    """An upload's own file name, safe to store and show: the last component of a client-side
    path (`/` or `\\`), without control characters, at most 200 characters; 'upload' when
    nothing is left."""
    base = re.split(r"[/\\]", filename or "")[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[-200:] if cleaned not in ("", ".", "..") else "upload"


async def save_upload(upload: UploadFile, limit: int) -> Path:
    """Copy an upload to a temporary file, refusing (413) once it passes `limit` bytes."""
    suffix = Path(upload.filename or "upload").suffix.lower()[:8]
    total = 0
    from verdikart.exchange.service import UPLOAD_PREFIX

    with tempfile.NamedTemporaryFile(delete=False, prefix=UPLOAD_PREFIX, suffix=suffix) as out:
        while chunk := await upload.read(1 << 16):
            total += len(chunk)
            if total > limit:
                out.close()
                Path(out.name).unlink(missing_ok=True)
                raise HTTPException(413, f"upload too large: more than {limit} bytes")
            out.write(chunk)
    return Path(out.name)


@router.post("/imports", status_code=202)
async def start_import(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV/XLSX template or Miljødirektoratet layout")],
    layout: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Start an all-or-nothing import; poll `GET /api/exchange/imports/{id}` for its status."""
    from starlette.concurrency import run_in_threadpool

    from verdikart.web import MAX_UPLOAD_BYTES

    credentials = await bearer(request)
    who = await run_in_threadpool(principal, request, credentials)
    check_layout(layout)
    svc = service(request)
    path = await save_upload(file, MAX_UPLOAD_BYTES)
    name = upload_name(file.filename)
    job_id = await run_in_threadpool(start_job, svc, who, name, path)
    svc.submit_import(who, job_id, path, layout=layout or None, name=name)
    return {"id": job_id, "status": "queued", "status_url": f"/api/exchange/imports/{job_id}"}


def start_job(svc: ExchangeService, who: Principal, name: str, path: Path) -> str:
    """A queued job for the saved upload; the upload is deleted if no job could be made."""
    try:
        return svc.start_import_job(who, name, temp_path=path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@router.get("/imports/{job_id}")
def import_status(job_id: str, who: Me, svc: Service) -> dict[str, Any]:
    return svc.get_job(who, job_id)


@router.get("/potential")
def potential(
    request: Request,
    material: Annotated[str, Query(max_length=100)],
    who: Me,
    svc: Service,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
) -> dict[str, Any]:
    """Secondary-source potential of a critical material in other organisations' streams vs
    Norway's imports: only the aggregate, rounded to 2 significant figures, and only when at
    least 3 other organisations contribute, the largest at most 50 % and the two largest at most
    85 % of each bound (dominance rule); the caller's own streams are reported apart."""
    with request.app.state.verdikart.reader() as core:
        return core.exchange_potential(who, material, year=year, min_organisations=3)
