"""The web app: `create_app(settings)` builds one FastAPI application carrying the exchange's JSON
API (`/api/exchange/`), its HTML pages (`/exchange/`) and, later, the atlas's pages and `/api/`
routes. Nothing is opened at import time; the exchange database is opened on first use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from verdikart.config import Settings
    from verdikart.errors import VerdikartError
    from verdikart.exchange.service import ExchangeService

MAX_BODY_BYTES = 1_000_000  # JSON bodies; uploads have their own limit (MAX_UPLOAD_BYTES)
MAX_UPLOAD_BYTES = 5_000_000
# the routes that take a file upload (method, exact path): only these get MAX_UPLOAD_BYTES
UPLOAD_ROUTES = frozenset({("POST", "/api/exchange/imports"), ("POST", "/exchange/import")})


def body_limit(scope: Scope) -> int:
    """The body limit of a request: MAX_UPLOAD_BYTES on the upload routes (exact method and
    path), MAX_BODY_BYTES everywhere else."""
    route = (scope.get("method", ""), scope.get("path", ""))
    return MAX_UPLOAD_BYTES if route in UPLOAD_ROUTES else MAX_BODY_BYTES


class BodyLimit:
    """ASGI middleware: 413 for bodies over the limit (`body_limit`), by Content-Length or
    while streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.exceptions import HTTPException
        from starlette.responses import JSONResponse

        limit = body_limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            response = JSONResponse(
                {"detail": f"request body too large: {int(declared)} bytes, limit {limit} bytes"},
                status_code=413,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body too large: over {limit} bytes")
            return message

        await self.app(scope, limited, send)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _host_port(netloc: str, scheme: str = "") -> str:
    """'host:port' in lower case, the scheme's default port dropped (example.org:443 for https
    and example.org are the same origin host)."""
    host, _, port = netloc.strip().lower().rpartition(":")
    if not host or "]" in port:  # no port (or an IPv6 literal without one)
        return netloc.strip().lower()
    if port == _DEFAULT_PORTS.get(scheme) or (not scheme and port in _DEFAULT_PORTS.values()):
        return host
    return f"{host}:{port}"


def cross_site_reason(headers: dict[bytes, bytes]) -> str | None:
    """Why a state-changing request without a bearer token looks cross-site, or None.

    `Sec-Fetch-Site: cross-site`, or an `Origin` whose host:port differs from the request's
    `Host` (`Origin: null`, sent by sandboxed or privacy-stripped contexts, counts as foreign).
    No Origin at all (curl, scripts, older browsers on a same-origin form) is accepted.
    """
    from urllib.parse import urlsplit

    if headers.get(b"sec-fetch-site", b"").lower() == b"cross-site":
        return "Sec-Fetch-Site: cross-site"
    origin = headers.get(b"origin")
    if origin is None:
        return None
    parts = urlsplit(origin.decode("latin-1"))
    host = headers.get(b"host", b"").decode("latin-1")
    if not parts.netloc or _host_port(parts.netloc, parts.scheme) != _host_port(host):
        return "Origin does not match Host"
    return None


class SameOriginPosts:
    """ASGI middleware against cross-site request forgery, including login CSRF: a POST / PUT /
    PATCH / DELETE that is not authenticated by a valid bearer token (the HTML forms, and API
    calls authenticated by the sign-in cookie, with or without a made-up `Authorization`
    header) gets 403 when it comes from another site (`cross_site_reason`). Calls with a valid
    bearer token are not affected: a foreign page cannot set that header without a CORS
    preflight, which this app never grants, and does not know the token. The SameSite=Strict
    cookie alone does not cover the login form (which needs no cookie) nor a sibling subdomain
    (same site, other origin)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        reason = cross_site_reason(headers)
        # only a VALID bearer token exempts the request: a browser resends Basic credentials
        # (a proxy's) by itself, as it does cookies, and anyone can add a made-up
        # "Authorization: Bearer x" to a cookie-authenticated request -- those are checked
        # like forms
        if reason is not None and await _valid_bearer(scope, headers):
            reason = None
        if reason is None:
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        response = JSONResponse(
            {"detail": f"cross-site form post refused ({reason})"}, status_code=403
        )
        await response(scope, receive, send)


async def _valid_bearer(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """True when the request carries an `Authorization: Bearer` token of an active user (the
    lookup runs in the thread pool: it reads the exchange database)."""
    from starlette.concurrency import run_in_threadpool

    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    app = scope.get("app")
    if scheme.lower() != "bearer" or not token.strip() or app is None:
        return False

    def check() -> bool:
        from verdikart.exchange.auth import AuthenticationError

        try:
            app.state.verdikart.exchange().authenticate(token.strip())
        except AuthenticationError:
            return False
        return True

    return await run_in_threadpool(check)


# Every response (issue #14): no framing by other sites (clickjacking), no content sniffing, no
# referrer to other sites (`same-origin`: with `no-referrer` browsers send `Origin: null` on
# the forms, which `SameOriginPosts` refuses), and scripts, styles and forms from this origin
# only. Every path gets the CSP: /docs is the atlas's own server-rendered page (no CDN script,
# no inline code) and the CDN-loading Swagger UI / ReDoc are switched off.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NO_CSP_PATHS: tuple[str, ...] = ()


class SecurityHeaders:
    """ASGI middleware: adds :data:`SECURITY_HEADERS` and the Content-Security-Policy to every
    HTTP response (the ones a handler set itself are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        if not str(scope.get("path", "")).startswith(NO_CSP_PATHS):
            extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


API_PREFIX = "/api/"


def error_response(request: Request, exc: VerdikartError) -> Response:
    """The answer to any VerdikartError, with the status its class declares (`http_status`).

    API routes (`/api/...`) get JSON `{"detail": message}` (plus `problems` for a
    DataValidationError; `WWW-Authenticate: Bearer` with a 401); HTML pages get the error page
    with the same status (a page that needs a sign-in redirects to it).
    """
    from starlette.responses import JSONResponse

    from verdikart.errors import DataValidationError
    from verdikart.exchange.auth import AuthenticationError

    if not request.url.path.startswith(API_PREFIX):
        from verdikart.web.pages import error_page

        return error_page(request, exc)
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, DataValidationError):
        body = {
            "detail": f"{len(exc.problems)} problem(s) in {exc.source or 'input'}",
            "problems": exc.problems,
        }
    response = JSONResponse(body, status_code=exc.http_status)
    if isinstance(exc, AuthenticationError):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def create_app(
    settings: Settings | None = None, *, service: ExchangeService | None = None
) -> FastAPI:
    """The ASGI app. `service` (an ExchangeService) may be injected, e.g. by tests."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.staticfiles import StaticFiles

    from verdikart import __version__
    from verdikart.config import Settings
    from verdikart.errors import VerdikartError
    from verdikart.web import api_exchange, atlas, pages
    from verdikart.web.state import AppState, static_dir

    settings = settings or Settings()
    state = AppState(settings=settings, service=service)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        # the default Swagger UI and ReDoc load their scripts from a CDN (blank offline): /docs
        # is the atlas's own server-rendered page over app.openapi() (web/atlas.py)
        docs_url=None,
        redoc_url=None,
        title="verdikart",
        version=__version__,
        description="Critical raw-material value chains and the materialbørs (side-stream exchange).",
    )
    app.state.verdikart = state

    app.add_middleware(BodyLimit)
    app.add_middleware(SameOriginPosts)  # runs before any body is read
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every answer has them

    # ONE handler for every error raised on purpose (subclasses included): the status is the
    # class's `http_status`, never 500. A plain function: Starlette runs it in the thread pool,
    # so the error page may read the sign-in from the database.
    def _verdikart_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, VerdikartError):  # registered for VerdikartError only
            raise exc
        return error_response(request, exc)

    app.add_exception_handler(VerdikartError, _verdikart_error)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "(body)"
            problems.append(f"{where}: {str(err.get('msg', '')).removeprefix('Value error, ')}")
        return JSONResponse(
            {"detail": f"{len(problems)} problem(s) in request", "problems": problems},
            status_code=422,
        )

    app.include_router(api_exchange.router)
    from verdikart.web import api_register  # the supplier register's API (issue #12)

    app.include_router(api_register.router)
    from verdikart.web import api_offsets  # the offset obligations register (issue #12)

    app.include_router(api_offsets.router)
    app.include_router(pages.router)
    app.include_router(atlas.router)  # `/` is the atlas's overview
    from verdikart.web import api_atlas  # the atlas pages' tables as JSON under /api/

    app.include_router(api_atlas.router)
    # /scenarios, /watch and the exchange's needs, matches and potential pages (issue 11)
    from verdikart.web import atlas_exchange, atlas_scenarios

    app.include_router(atlas_scenarios.router)
    app.include_router(atlas_exchange.router)
    from verdikart.web import atlas_suppliers  # the supplier register's pages (issue #12)

    app.include_router(atlas_suppliers.router)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    return app
