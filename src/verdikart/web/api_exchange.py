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
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Body,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from verdikart.exchange.auth import Principal
from verdikart.exchange.repository import StreamQuery
from verdikart.exchange.schemas import NeedCreate, StreamCreate
from verdikart.exchange.service import ExchangeService

router = APIRouter(prefix="/api/exchange", tags=["exchange"])
bearer = HTTPBearer(auto_error=False, description="A token from `verdikart exchange add-user`.")


def service(request: Request) -> ExchangeService:
    svc: ExchangeService = request.app.state.verdikart.exchange()
    return svc


Service = Annotated[ExchangeService, Depends(service)]


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    token = credentials.credentials if credentials else request.cookies.get("verdikart_token")
    return service(request).authenticate(token)


Me = Annotated[Principal, Depends(principal)]


class Created(BaseModel):
    id: str


class AcceptIn(BaseModel):
    expires_at: datetime | None = None


class RequestIn(BaseModel):
    message: str | None = None


@router.get("/me")
def me(who: Me) -> dict[str, Any]:
    """The caller's user, organisation and role."""
    return {
        "user": who.user_name,
        "organisation": who.org_name,
        "role": who.role,
    }


@router.post("/streams", status_code=201, response_model=Created)
def create_stream(payload: StreamCreate, who: Me, svc: Service) -> dict[str, str]:
    """Register a side stream: a public `summary` and confidential `details`."""
    return {"id": svc.create_stream(who, payload)}


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
    offset: Annotated[int, Query(ge=0)] = 0,
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
) -> dict[str, Any]:
    """Ask the owner to disclose the stream's details to the caller's organisation."""
    return svc.request_disclosure(who, stream_id, body.message if body else None)


@router.get("/disclosure-requests")
def list_requests(
    who: Me,
    svc: Service,
    role: Literal["any", "owner", "requester"] = "any",
    status: Literal["pending", "accepted", "rejected", "revoked"] | None = None,
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
def create_need(payload: NeedCreate, who: Me, svc: Service) -> dict[str, str]:
    return {"id": svc.create_need(who, payload)}


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
    with tempfile.NamedTemporaryFile(delete=False, suffix=suffix) as out:
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
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV/XLSX template or Miljødirektoratet layout")],
    layout: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Start an all-or-nothing import; poll `GET /api/exchange/imports/{id}` for its status."""
    from starlette.concurrency import run_in_threadpool

    from verdikart.web import MAX_UPLOAD_BYTES

    credentials = await bearer(request)
    who = await run_in_threadpool(principal, request, credentials)
    svc = service(request)
    path = await save_upload(file, MAX_UPLOAD_BYTES)
    name = upload_name(file.filename)
    job_id = await run_in_threadpool(svc.start_import_job, who, name)
    background.add_task(_run_import, svc, who, job_id, path, layout, name)
    return {"id": job_id, "status": "queued", "status_url": f"/api/exchange/imports/{job_id}"}


def _run_import(
    svc: ExchangeService, who: Principal, job_id: str, path: Path, layout: str | None, name: str
) -> None:
    """The import of upload `name` saved at temp `path`; the temp file is removed after."""
    try:
        svc.run_import_job(who, job_id, path, layout=layout, name=name)
    finally:
        path.unlink(missing_ok=True)


@router.get("/imports/{job_id}")
def import_status(job_id: str, who: Me, svc: Service) -> dict[str, Any]:
    return svc.get_job(who, job_id)


@router.get("/potential")
def potential(
    request: Request, material: str, who: Me, svc: Service, year: int | None = None
) -> dict[str, Any]:
    """Secondary-source potential of a critical material in other organisations' streams vs
    Norway's imports: only the aggregate, rounded to 2 significant figures, and only when at
    least 3 other organisations contribute, the largest at most 50 % and the two largest at most
    85 % of each bound (dominance rule); the caller's own streams are reported apart."""
    with request.app.state.verdikart.reader() as core:
        return core.exchange_potential(who, material, year=year, min_organisations=3)
