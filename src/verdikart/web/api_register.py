"""The supplier register's JSON API under `/api/suppliers/` (same bearer tokens and sign-in
sessions as the exchange; documented in /openapi.json). `/api/register/` is the first slice's
prefix, kept as an alias (same routes, left out of the OpenAPI document).

Thin: each route authenticates and calls `RegisterService`, which alone decides what of a
profile the caller may see (details only for the owner and the buyers it shares with). Bad
input answers 4xx through the app's one exception handler (422 invalid, 404 unknown, 403 not
yours); never 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from verdikart.register.service import RegisterService
from verdikart.web.api_exchange import Me, clean_request

routes = APIRouter(tags=["suppliers"], dependencies=[Depends(clean_request)])


def register_service(request: Request) -> RegisterService:
    from verdikart.register.service import RegisterService

    return RegisterService(request.app.state.verdikart.exchange())


Register = Annotated[RegisterService, Depends(register_service)]


class ShareIn(BaseModel):
    buyer: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="The buyer organisation's name.",
    )


@routes.get("/units/{organisation_number}")
def get_unit(organisation_number: str, who: Me, reg: Register) -> dict[str, Any]:
    """One organisation or site as imported from Enhetsregisteret, with its sites."""
    return reg.unit(organisation_number)


@routes.get("/units")
def search_units(
    who: Me,
    reg: Register,
    nace: Annotated[str | None, Query(max_length=10)] = None,
    county: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    municipality: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Units by NACE prefix, county or municipality (deleted units left out)."""
    return reg.search_units(nace=nace, county=county, municipality=municipality, limit=limit)


@routes.put("/profile")
def put_profile(who: Me, reg: Register, payload: Annotated[Any, Body()]) -> dict[str, Any]:
    """Create or replace your organisation's capability profile."""
    return reg.put_profile(who, payload)


@routes.get("/profile")
def my_profile(who: Me, reg: Register) -> dict[str, Any]:
    return reg.my_profile(who)


@routes.get("/profiles")
def search_profiles(
    who: Me,
    reg: Register,
    cpv: Annotated[str | None, Query(max_length=12)] = None,
    nace: Annotated[str | None, Query(max_length=10)] = None,
    hs: Annotated[str | None, Query(max_length=10)] = None,
    material: Annotated[str | None, Query(max_length=60)] = None,
    stage: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Profiles offering a code (public summaries only)."""
    return reg.search_profiles(
        cpv=cpv, nace=nace, hs=hs, material=material, stage=stage, limit=limit
    )


@routes.get("/profiles/{profile_id}")
def get_profile(profile_id: str, who: Me, reg: Register) -> dict[str, Any]:
    """A profile: its public summary; its details only if it is yours or shared with you."""
    return reg.get_profile(who, profile_id)


@routes.post("/profiles/{profile_id}/shares")
def share(profile_id: str, body: ShareIn, who: Me, reg: Register) -> dict[str, Any]:
    """Show your profile's details to a buyer organisation."""
    return reg.share(who, profile_id, body.buyer)


@routes.delete("/profiles/{profile_id}/shares/{buyer}")
def unshare(profile_id: str, buyer: str, who: Me, reg: Register) -> dict[str, Any]:
    return reg.unshare(who, profile_id, buyer)


@routes.get("/profiles/{profile_id}/shares")
def shares(profile_id: str, who: Me, reg: Register) -> list[dict[str, Any]]:
    return reg.shares(who, profile_id)


# --- needs and matchmaking -------------------------------------------------------------------


class RequestIn(BaseModel):
    message: str = Field(default="", max_length=1000, pattern=r"^[^\x00]*$")


@routes.get("/needs")
def list_needs(
    who: Me,
    reg: Register,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Needs, newest first (`mine=true`: your organisation's)."""
    return reg.list_needs(who, mine=mine, limit=limit)


@routes.post("/needs", status_code=201)
def create_need(who: Me, reg: Register, payload: Annotated[Any, Body()]) -> dict[str, Any]:
    """Register a need entered by hand; your organisation is the buyer."""
    return reg.create_need(who, payload)


@routes.post("/needs/eforms", status_code=201)
def import_eforms(
    who: Me,
    reg: Register,
    notice: Annotated[bytes, Body(media_type="application/xml")],
    name: Annotated[str, Query(max_length=200)] = "notice.xml",
) -> list[dict[str, Any]]:
    """Import one eForms notice (the XML as the request body) as your organisation's need."""
    return reg.import_eforms(who, [(name, notice)])


@routes.get("/needs/{need_id}")
def get_need(need_id: str, who: Me, reg: Register) -> dict[str, Any]:
    return reg.get_need(need_id)


@routes.patch("/needs/{need_id}/requirements")
def set_requirements(
    need_id: str, who: Me, reg: Register, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    """Your need's requirements: required_certifications, clearance_level,
    max_lead_time_weeks, region (county number)."""
    return reg.set_requirements(who, need_id, payload)


@routes.get("/needs/{need_id}/matches")
def need_matches(
    need_id: str, who: Me, reg: Register, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    """Suppliers ranked for a need, explained; details-based parts only for suppliers that
    share their details with you."""
    return reg.match_need(who, need_id, limit=limit)


@routes.get("/profile/matches")
def profile_matches(
    who: Me, reg: Register, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    """Needs ranked for your organisation's profile."""
    return reg.match_my_profile(who, limit=limit)


@routes.post("/profiles/{profile_id}/requests", status_code=201)
def request_details(
    profile_id: str, who: Me, reg: Register, body: RequestIn | None = None
) -> dict[str, Any]:
    """Ask the supplier to share its profile's details with you."""
    return reg.request_details(who, profile_id, body.message if body else "")


@routes.get("/profile/requests")
def detail_requests(who: Me, reg: Register) -> list[dict[str, Any]]:
    """Buyers' requests for your profile's details."""
    return reg.detail_requests(who)


router = APIRouter()
router.include_router(routes, prefix="/api/suppliers")
router.include_router(routes, prefix="/api/register", include_in_schema=False)
