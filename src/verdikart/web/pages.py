"""HTML pages of the exchange (`/exchange/`): list summaries, register a stream, view a stream
and request disclosure, answer requests, import a file with a live status, read the audit trail.

Sign-in is the same bearer token as the API, kept in an HttpOnly, SameSite=Strict cookie.
Cross-site form posts -- the sign-in form included (login CSRF) -- are refused with 403 before
they reach these handlers (`verdikart.web.SameOriginPosts`). Every page calls
`ExchangeService`, so visibility rules are the API's rules.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from verdikart.errors import DataValidationError, VerdikartError
from verdikart.exchange.auth import AuthenticationError, Principal
from verdikart.exchange.repository import MAX_OFFSET, StreamQuery
from verdikart.web.api_exchange import clean_request
from verdikart.web.state import templates_dir

if TYPE_CHECKING:
    from verdikart.exchange.service import ExchangeService

router = APIRouter(
    prefix="/exchange", include_in_schema=False, dependencies=[Depends(clean_request)]
)
COOKIE = "verdikart_token"
_COMPONENT_LINE = re.compile(
    r"^\s*(?P<component>\S+)\s+(?P<low>[\d.]+)(?:\s*[-–]\s*(?P<high>[\d.]+))?\s*(?P<unit>\S+)\s*$"
)


@functools.cache
def _templates() -> Jinja2Templates:
    # one Jinja environment (and template cache) for the process, not one per page render
    return Jinja2Templates(directory=str(templates_dir()))


def _svc(request: Request) -> ExchangeService:
    service: ExchangeService = request.app.state.verdikart.exchange()
    return service


def _who(request: Request) -> Principal | None:
    try:
        return _svc(request).session_principal(request.cookies.get(COOKIE))
    except AuthenticationError:
        return None


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return _templates().TemplateResponse(
        request, name, {"who": context.pop("who", None), **context}, status_code=status
    )


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/exchange/login", status_code=303)


ERROR_TITLES = {
    400: "Request refused",
    403: "Not allowed",
    404: "Not found",
    422: "Invalid input",
    503: "Temporarily unavailable",
}


def error_page(request: Request, exc: VerdikartError) -> Response:
    """The HTML answer to a VerdikartError (called by the app's one exception handler): the
    error page with the class's `http_status`; a missing or unknown sign-in goes to the
    sign-in page instead."""
    if isinstance(exc, AuthenticationError):
        return _login_redirect()
    try:
        who = _who(request)
    except Exception:  # noqa: BLE001 -- the error page must render even when the database is down
        who = None
    problems = exc.problems if isinstance(exc, DataValidationError) else []
    return _page(
        request,
        "error.html",
        status=exc.http_status,
        who=who,
        title=ERROR_TITLES.get(exc.http_status, "Not available"),
        error=str(exc).split("\n", 1)[0] if problems else str(exc),
        problems=problems,
    )


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()]) -> Response:
    from verdikart.exchange.auth import SESSION_HOURS

    try:
        session = _svc(request).login(token.strip())
    except AuthenticationError:
        return _page(request, "login.html", status=401, error="Unknown token.")
    response = RedirectResponse("/exchange/", status_code=303)
    # the cookie holds a session of its own, never the API token: signing out ends it
    response.set_cookie(
        COOKIE, session, httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Sign out: the session ends on the server (a copy of the cookie no longer works), and
    the browser forgets it. A POST (the header's button), so no link or image on another page
    can sign the user out."""
    _svc(request).logout(request.cookies.get(COOKIE))
    response = RedirectResponse("/exchange/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def listing(
    request: Request,
    material_class: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    mine: bool = False,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    query = StreamQuery(
        material_class=material_class or None,
        kind=kind or None,
        region=region or None,
        mine=mine,
        limit=50,
        offset=max(0, offset),
    )
    page = _svc(request).list_streams(who, query)
    return _page(request, "list.html", who=who, page=page, query=query, **_vocab())


def _vocab() -> dict[str, Any]:
    from verdikart.exchange.models import KINDS, TREATMENTS
    from verdikart.exchange.schemas import COUNTIES, MATERIAL_CLASSES

    return {
        "classes": list(MATERIAL_CLASSES),
        "counties": list(COUNTIES),
        "kinds": list(KINDS),
        "treatments": list(TREATMENTS),
    }


@router.get("/streams/new")
def new_stream_form(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    return _page(request, "new_stream.html", who=who, form={}, **_vocab())


def parse_composition(text: str) -> list[dict[str, Any]]:
    """Form lines like 'P2O5 12 wt%' or 'Cl 0.01-0.05 wt%' into composition entries."""
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _COMPONENT_LINE.match(line)
        if match is None:
            problems.append(
                f"composition line {number}: write 'component value unit' "
                f"or 'component min-max unit', e.g. 'P2O5 12 wt%'"
            )
            continue
        entry: dict[str, Any] = {"component": match["component"], "unit": match["unit"]}
        try:
            if match["high"]:
                entry["value_min"], entry["value_max"] = float(match["low"]), float(match["high"])
            else:
                entry["value"] = float(match["low"])
        except ValueError:  # '1.2.3' matches the pattern's [\d.]+ but is no number
            problems.append(f"composition line {number}: {line.strip()!r} has no valid number")
            continue
        entries.append(entry)
    if problems:
        raise DataValidationError(problems, source="form")
    return entries


@router.post("/streams/new")
async def new_stream(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    # database work runs off the event loop (this handler is async to read the form)
    who = await run_in_threadpool(_who, request)
    if who is None:
        return _login_redirect()
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    try:
        payload = _stream_payload(form)
        stream_id = await run_in_threadpool(_svc(request).create_stream, who, payload)
    except DataValidationError as exc:
        return _page(
            request,
            "new_stream.html",
            status=422,
            who=who,
            form=form,
            problems=exc.problems,
            **_vocab(),
        )
    return RedirectResponse(f"/exchange/streams/{stream_id}", status_code=303)


def _stream_payload(form: dict[str, str]) -> dict[str, Any]:
    def number(key: str) -> float | None:
        value = form.get(key, "")
        try:
            return float(value.replace(",", ".")) if value else None
        except ValueError:
            raise DataValidationError(
                [f"{key}: {value!r} is not a number"], source="form"
            ) from None

    energy = form.get("kind") == "surplus-energy"
    quantity = number("quantity")
    site: dict[str, Any] = {"name": form.get("site_name") or "unnamed site"}
    for key in ("municipality", "nace"):
        if form.get(key):
            site[key] = form[key]
    if form.get("lat") or form.get("lon"):
        site["lat"], site["lon"] = number("lat"), number("lon")
    details: dict[str, Any] = {
        "name": form.get("name") or form.get("name_public") or "",
        "current_treatment": form.get("current_treatment") or "other",
        "site": site,
        "composition": parse_composition(form.get("composition", "")),
        ("energy_gwh_per_year" if energy else "quantity_t_per_year"): quantity,
    }
    if form.get("form"):
        details["form"] = form["form"]
    return {
        "summary": {
            "name_public": form.get("name_public", ""),
            "material_class": form.get("material_class", ""),
            "kind": form.get("kind", ""),
            "region": form.get("region", ""),
            "hazardous": form.get("hazardous") == "on",
            "components_public": form.get("components_public") == "on",
            "ewc_code": form.get("ewc_code") or None,
        },
        "details": details,
    }


@router.get("/streams/{stream_id}")
def stream_page(request: Request, stream_id: str) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    svc = _svc(request)
    stream = svc.get_stream(who, stream_id)  # NotFoundError: the error page, 404
    mine = svc.list_requests(who, role="requester")
    requests = [r for r in mine if r["stream_id"] == stream_id]
    return _page(request, "stream.html", who=who, stream=stream, requests=requests)


@router.post("/streams/{stream_id}/request")
def request_page(
    request: Request, stream_id: str, message: Annotated[str, Form()] = ""
) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    _svc(request).request_disclosure(who, stream_id, message or None)
    return RedirectResponse(f"/exchange/streams/{stream_id}", status_code=303)


@router.get("/requests")
def requests_page(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    svc = _svc(request)
    return _page(
        request,
        "requests.html",
        who=who,
        incoming=svc.list_requests(who, role="owner"),
        outgoing=svc.list_requests(who, role="requester"),
    )


@router.post("/requests/{request_id}/{action}")
def decide_page(request: Request, request_id: str, action: str) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    svc = _svc(request)
    actions = {"accept": svc.accept, "reject": svc.reject, "revoke": svc.revoke}
    if action not in actions:
        return _page(request, "error.html", status=404, who=who, error="unknown action")
    actions[action](who, request_id)
    return RedirectResponse("/exchange/requests", status_code=303)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    return _page(request, "audit.html", who=who, events=_svc(request).audit_trail(who, limit=500))


@router.get("/import")
def import_form(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    return _page(request, "import.html", who=who)


@router.post("/import")
async def import_upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    layout: Annotated[str, Form()] = "",
) -> Response:
    from starlette.concurrency import run_in_threadpool

    from verdikart.web import MAX_UPLOAD_BYTES
    from verdikart.web.api_exchange import check_layout, save_upload, start_job, upload_name

    who = await run_in_threadpool(_who, request)
    if who is None:
        return _login_redirect()
    check_layout(layout)
    svc = _svc(request)
    path = await save_upload(file, MAX_UPLOAD_BYTES)
    name = upload_name(file.filename)  # as the API: never a client-side path
    job_id = await run_in_threadpool(start_job, svc, who, name, path)
    # Runs off the request path (the service's import thread); the status page polls the job.
    svc.submit_import(who, job_id, path, layout=layout or None, name=name)
    return RedirectResponse(f"/exchange/imports/{job_id}", status_code=303)


@router.get("/imports/{job_id}")
def import_status_page(request: Request, job_id: str) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect()
    job = _svc(request).get_job(who, job_id)
    return _page(request, "import_status.html", who=who, job=job)
