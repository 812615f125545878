"""The atlas's supplier-register pages (issue #12), in bokmål and English: search of the
register and the public capability profiles (`/suppliers`), needs (`/suppliers/needs`) with a
need's page and, for the buyer that owns it, its ranked suppliers (`/suppliers/needs/{id}`),
and the offset obligations register (`/suppliers/offsets`).

Sign-in is the exchange pages' (`web/pages.py`: the session cookie; no sign-in redirects to
the sign-in page), as the API (`/api/suppliers/`) requires one for every read. Confidentiality
is the API's by construction: every page calls the very service functions the API routes call
(`RegisterService.search_units`, `.unit`, `.search_profiles`, `.list_needs`, `.get_need`,
`.match_need`, `.get_profile`; `OffsetService.search`) and renders only the fields they
return -- no query of its own. So a search shows public summaries only, a match's score and
explanation use a supplier's confidential fields only when it shares them with the viewer,
and a supplier's details appear only through `get_profile`, which alone decides (and audits).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from verdikart.errors import NotFoundError
from verdikart.register.importer import normalise_nace
from verdikart.register.vocabulary import OFFSET_SECTORS
from verdikart.web.api_exchange import clean_request
from verdikart.web.atlas import BadQueryError, _page, _render
from verdikart.web.pages import _who

if TYPE_CHECKING:
    from verdikart.exchange.auth import Principal
    from verdikart.register.offsets import OffsetService
    from verdikart.register.service import RegisterService

router = APIRouter(
    prefix="/suppliers", include_in_schema=False, dependencies=[Depends(clean_request)]
)
UNIT_LIMIT = 100  # organisations shown per search (the API's default limit)
PROFILE_LIMIT = 100  # profiles shown per search (the API's default limit)
NEED_LIMIT = 100  # needs per list (the API's default limit)
MATCH_LIMIT = 50  # matches on a need's page (the API's default limit)
FIT_LIMIT = 20  # needs ranked for the own profile on the needs page
SCHEMES = ("cpv", "nace", "hs", "material", "stage")
_ID = re.compile(r"[A-Za-z0-9]{1,64}")


def _login() -> Response:
    return RedirectResponse("/exchange/login", status_code=303)


def _reg(request: Request) -> RegisterService:
    from verdikart.web.api_register import register_service

    return register_service(request)


def _offsets(request: Request) -> OffsetService:
    from verdikart.web.api_offsets import offset_service

    return offset_service(request)


def _text_param(name: str, value: str | None, max_len: int) -> str:
    value = (value or "").strip()
    if len(value) > max_len or "\x00" in value:
        raise BadQueryError(f"{name} must be at most {max_len} characters of text")
    return value


def day(value: str | None, lang: str) -> str:
    """An ISO date for people: 01.03.2027 in bokmål, 2027-03-01 in English; '–' when missing."""
    if not value:
        return "–"
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return d.strftime("%d.%m.%Y") if lang == "nb" else d.isoformat()


@router.get("")
def search_page(
    request: Request,
    lang: str | None = None,
    q: str | None = None,
    nace: str | None = None,
    county: str | None = None,
    scheme: str | None = None,
    code: str | None = None,
) -> Response:
    who = _who(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        query = _text_param("q", q, 200)
        nace_v = _text_param("nace", nace, 10)
        county_v = _text_param("county", county, 2)
        if county_v and not re.fullmatch(r"\d{2}", county_v):
            raise BadQueryError(f"county must be 2 digits such as 46, not {county_v!r}")
        scheme_v = (scheme or "").strip() or "cpv"
        if scheme_v not in SCHEMES:
            raise BadQueryError(
                f"scheme must be one of {', '.join(SCHEMES)}, not {scheme_v[:20]!r}"
            )
        code_v = _text_param("code", code, 80)
        reg = _reg(request)
        units: list[dict[str, Any]] | None = None
        if query or nace_v or county_v:
            if re.fullmatch(r"\d{9}", query.replace(" ", "")):
                try:  # the API's GET /units/{orgnr}: 422 for a bad check digit
                    units = [reg.unit(query.replace(" ", ""))]
                except NotFoundError:
                    units = []
                if nace_v or county_v:
                    prefix = normalise_nace(nace_v) if nace_v else ""
                    units = [
                        u
                        for u in units
                        if (not county_v or (u["municipality"] or "").startswith(county_v))
                        and (not nace_v or any(c.startswith(prefix) for c in u["nace"]))
                    ]
            else:
                units = reg.search_units(
                    nace=nace_v or None,
                    county=county_v or None,
                    name=query or None,
                    limit=UNIT_LIMIT,
                )
        profiles: list[dict[str, Any]] | None = None
        if code_v:  # the API's GET /profiles: public summaries only
            profiles = reg.search_profiles(**{scheme_v: code_v}, limit=PROFILE_LIMIT)
        return _render(
            request,
            "atlas_suppliers.html",
            lng,
            who=who,
            section="suppliers",
            units=units,
            unit_limit=UNIT_LIMIT,
            profiles=profiles,
            profile_limit=PROFILE_LIMIT,
            q=query,
            nace=nace_v,
            county=county_v,
            scheme=scheme_v,
            code=code_v,
            schemes=SCHEMES,
        )

    return _page(request, lang, build)


@router.get("/needs")
def needs_page(request: Request, lang: str | None = None) -> Response:
    who = _who(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        reg = _reg(request)
        try:  # the API's GET /profile/matches: needs ranked for the own profile
            fitting: dict[str, Any] | None = reg.match_my_profile(who, limit=FIT_LIMIT)
        except NotFoundError:  # the organisation has no capability profile
            fitting = None
        return _render(
            request,
            "atlas_supplier_needs.html",
            lng,
            who=who,
            section="sup_needs",
            own=reg.list_needs(who, mine=True, limit=NEED_LIMIT),
            needs=reg.list_needs(who, mine=False, limit=NEED_LIMIT),
            fitting=fitting,
            day=lambda v: day(v, lng),
        )

    return _page(request, lang, build)


def _shared_details(
    reg: RegisterService, who: Principal, matches: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The details of the matched suppliers whose match used them, read through the API's
    `get_profile` (which alone decides whether the viewer may see them, and audits the read);
    a profile it answers without details is left out."""
    out: dict[str, dict[str, Any]] = {}
    for m in matches:
        if m.get("access") != "details":
            continue
        profile = reg.get_profile(who, m["profile_id"])
        if profile.get("access") in ("owner", "shared") and profile.get("details"):
            out[m["profile_id"]] = profile["details"]
    return out


@router.get("/needs/{need_id}")
def need_page(request: Request, need_id: str, lang: str | None = None) -> Response:
    who = _who(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        if not _ID.fullmatch(need_id):
            raise BadQueryError(f"a need id is letters and digits, not {need_id[:64]!r}")
        reg = _reg(request)
        need = reg.get_need(need_id)  # the API's GET /needs/{id}: 404 for an unknown id
        mine = reg.is_buyer(who, need_id)
        result: dict[str, Any] | None = None
        details: dict[str, dict[str, Any]] = {}
        if mine:  # the API's GET /needs/{id}/matches, as this viewer may see them
            result = reg.match_need(who, need_id, limit=MATCH_LIMIT)
            details = _shared_details(reg, who, result["matches"])
        return _render(
            request,
            "atlas_supplier_need.html",
            lng,
            who=who,
            section="sup_needs",
            need=need,
            mine=mine,
            result=result,
            details=details,
            day=lambda v: day(v, lng),
        )

    return _page(request, lang, build)


@router.get("/profiles/{profile_id}")
def profile_page(request: Request, profile_id: str, lang: str | None = None) -> Response:
    who = _who(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        if not _ID.fullmatch(profile_id):
            raise BadQueryError(f"a profile id is letters and digits, not {profile_id[:64]!r}")
        # the API's GET /profiles/{id}: details only for the owner and buyers shared with
        profile = _reg(request).get_profile(who, profile_id)
        return _render(
            request,
            "atlas_supplier_profile.html",
            lng,
            who=who,
            section="suppliers",
            profile=profile,
            details=profile.get("details")
            if profile.get("access") in ("owner", "shared")
            else None,
            day=lambda v: day(v, lng),
        )

    return _page(request, lang, build)


@router.get("/offsets")
def offsets_page(
    request: Request,
    lang: str | None = None,
    sector: str | None = None,
    supplier: str | None = None,
    active_on: str | None = None,
) -> Response:
    who = _who(request)
    if who is None:
        return _login()

    def build(lng: str) -> Response:
        sector_v = (sector or "").strip()
        if sector_v and sector_v not in OFFSET_SECTORS:
            raise BadQueryError(
                f"sector must be one of {', '.join(OFFSET_SECTORS)}, not {sector_v[:30]!r}"
            )
        supplier_v = _text_param("supplier", supplier, 300)
        on_v = (active_on or "").strip()
        on: date | None = None
        if on_v:
            try:
                on = date.fromisoformat(on_v)
            except ValueError:
                raise BadQueryError(
                    f"active_on must be a date YYYY-MM-DD, not {on_v[:30]!r}"
                ) from None
        rows = _offsets(request).search(
            sector=sector_v or None, supplier=supplier_v or None, active_on=on
        )
        return _render(
            request,
            "atlas_supplier_offsets.html",
            lng,
            who=who,
            section="sup_offsets",
            rows=rows,
            sector=sector_v,
            supplier=supplier_v,
            active_on=on_v,
            sectors=OFFSET_SECTORS,
            day=lambda v: day(v, lng),
        )

    return _page(request, lang, build)
