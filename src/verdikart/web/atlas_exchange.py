"""The atlas's exchange pages (issue 11): the materialbørs's needs (`/exchange/needs`), the
matches of the signed-in organisation's needs and side streams (`/exchange/matches`) and the
secondary-supply potential against Norway's imports (`/exchange/potential`), in bokmål and
English.

Sign-in is the exchange pages' (`web/pages.py`: the session cookie; no sign-in redirects to
the sign-in page). Confidentiality is the API's by construction: every page calls the very
service functions the API routes call (`ExchangeService.list_needs`, `.match_need`,
`.match_stream`, `.list_streams`; the core's `exchange_potential` with the API's
`min_organisations=3`) and renders only the fields they return -- no query of its own. So a
match with another organisation's stream shows its public summary only, another
organisation's need only its material class and county, and the potential only the released
aggregate; the reveals are written to the owners' audit trails as for the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from verdikart.errors import UnknownCodeError
from verdikart.web.api_exchange import clean_request
from verdikart.web.atlas import BadQueryError, _core, _page, _render, _year
from verdikart.web.pages import _svc, _who

if TYPE_CHECKING:
    from verdikart.exchange.auth import Principal

router = APIRouter(
    prefix="/exchange", include_in_schema=False, dependencies=[Depends(clean_request)]
)
MAX_MATCHED = 3  # needs and streams matched without a chosen one (each; a match takes seconds)
MATCH_LIMIT = 20  # matches per need or stream (the API's default limit)
CHART_W, CHART_LABEL, ROW_H = 760, 260, 26


def _signed_in(request: Request) -> Principal | None:
    return _who(request)


def _login() -> Response:
    return RedirectResponse("/exchange/login", status_code=303)


def _id(name: str, value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 64 or not value.isalnum():
        raise BadQueryError(f"{name} must be an id (letters and digits), not {value[:64]!r}")
    return value


@router.get("/needs")
def needs_page(request: Request, lang: str | None = None) -> Response:
    who = _signed_in(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        svc = _svc(request)
        return _render(
            request,
            "atlas_needs.html",
            lng,
            who=who,
            section="needs",
            own=svc.list_needs(who, mine=True),
            others=svc.list_needs(who, mine=False),
        )

    return _page(request, lang, build)


@router.get("/matches")
def matches_page(
    request: Request, lang: str | None = None, need: str | None = None, stream: str | None = None
) -> Response:
    who = _signed_in(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        from verdikart.exchange.repository import StreamQuery

        need_id, stream_id = _id("need", need), _id("stream", stream)
        svc = _svc(request)
        own_needs = svc.list_needs(who, mine=True)
        own_streams = svc.list_streams(who, StreamQuery(mine=True, limit=500))["items"]
        if need_id or stream_id:
            # a chosen one: the service's 404 for an id that is not the caller's own
            needs = [n for n in own_needs if n["id"] == need_id] if need_id else []
            streams = [s for s in own_streams if s["id"] == stream_id] if stream_id else []
            if need_id and not needs:
                svc.get_need(who, need_id)  # NotFoundError, as the API's
            if stream_id and not streams:
                svc.match_stream(who, stream_id, limit=1)  # NotFoundError, as the API's
        else:
            needs, streams = own_needs[:MAX_MATCHED], own_streams[:MAX_MATCHED]
        by_need = [(n, svc.match_need(who, n["id"], limit=MATCH_LIMIT)) for n in needs]
        by_stream = [(s, svc.match_stream(who, s["id"], limit=MATCH_LIMIT)) for s in streams]
        return _render(
            request,
            "atlas_matches.html",
            lng,
            who=who,
            section="matches",
            by_need=by_need,
            by_stream=by_stream,
            own_needs=own_needs,
            own_streams=own_streams,
            chosen_need=need_id or "",
            chosen_stream=stream_id or "",
            more=not (need_id or stream_id)
            and (len(own_needs) > MAX_MATCHED or len(own_streams) > MAX_MATCHED),
        )

    return _page(request, lang, build)


def withheld_key(note: str | None) -> str | None:
    """The catalogue key of the core's reason for withholding the aggregate (None: no note,
    or one the catalogue does not know -- then the page shows the core's text)."""
    if not note:
        return None
    if note.startswith("withheld: fewer than"):
        return "withheld_few"
    if note.startswith("withheld: one or two"):
        return "withheld_dominance"
    return None


def potential_chart(result: dict[str, Any]) -> dict[str, Any] | None:
    """Bars on one scale: Norway's imports on the basis, the released range of other
    organisations' streams and the own streams' range (None without imports)."""
    imports = result.get("imports_basis_t")
    if not imports:
        return None
    own = result.get("own") or {}
    values = [
        imports,
        result.get("secondary_t_max") or 0.0,
        own.get("secondary_t_max") or 0.0,
    ]
    top = max(values)
    span = CHART_W - CHART_LABEL - 20

    def w(v: float | None) -> float:
        return round((v or 0.0) / top * span, 1) if top > 0 else 0.0

    return {
        "w": CHART_W,
        "h": 3 * ROW_H + 10,
        "x0": CHART_LABEL,
        "imports": w(imports),
        "others": (w(result.get("secondary_t_min")), w(result.get("secondary_t_max"))),
        "own": (w(own.get("secondary_t_min")), w(own.get("secondary_t_max"))),
    }


@router.get("/potential")
def potential_page(
    request: Request, lang: str | None = None, material: str | None = None, year: str | None = None
) -> Response:
    who = _signed_in(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        from verdikart.exchange.critical import MATERIAL_BASIS

        supported = list(MATERIAL_BASIS)
        chosen = (material or "").strip() or supported[0]
        if chosen not in supported:
            raise BadQueryError(
                f"material must be one of {', '.join(supported)}, not {chosen[:60]!r}"
            )
        yr = _year(year)
        try:
            with _core(request) as core:
                # the API's call (web/api_exchange.py `potential`): the same disclosure rules
                result = core.exchange_potential(who, chosen, year=yr, min_organisations=3)
        except UnknownCodeError as exc:  # a year without import data: the query's fault
            raise BadQueryError(str(exc)) from exc
        return _render(
            request,
            "atlas_potential.html",
            lng,
            who=who,
            section="potential",
            result=result,
            supported=supported,
            chosen=chosen,
            year="" if yr is None else str(yr),
            chart=potential_chart(result),
            note=withheld_key(result.get("note")),
        )

    return _page(request, lang, build)
