"""The atlas's JSON API (issue 11): each atlas page's tables as JSON under ``/api/``, from the
page's own code (``format=json``), so a number in the API is the number on the page.

The same query parameters as the pages; errors are JSON with the page's status (404 with
suggestions for an unknown material or country, 422 for a malformed parameter), never 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from verdikart.web import atlas

router = APIRouter(prefix="/api", tags=["atlas"])

ListQuery = Annotated[list[str] | None, Query(alias="list")]
TableQuery = Annotated[str | None, Query(description="one table of the page (default: all)")]


@router.get("/overview")
def overview(
    request: Request,
    country: str = "NOR",
    year: str | None = None,
    lang: str | None = None,
    list_: ListQuery = None,
    position: str | None = None,
    sector: str | None = None,
    sort: str = "rank",
    table: TableQuery = None,
) -> Response:
    """The mapping of a country or group for a year (the overview page `/`): vulnerabilities
    and positions by material, with the 65 % flags, HHI and GeoPolRisk."""
    return atlas.overview(
        request, country, year, lang, list_, position, sector, sort, format="json", table=table
    )


@router.get("/materials/{material_id}")
def material(
    request: Request, material_id: str, lang: str | None = None, table: TableQuery = None
) -> Response:
    """A material's tables (the page `/materials/{id}`): lists, value chain, production,
    imports by supplier, GeoPolRisk and EU-method results, Norway's position."""
    return atlas.material_page(request, material_id, lang, format="json", table=table)


@router.get("/countries/{iso3}")
def country(
    request: Request,
    iso3: str,
    lang: str | None = None,
    year: str | None = None,
    table: TableQuery = None,
) -> Response:
    """What a country supplies to Norway and the EU and what it depends on (`/countries/{iso3}`)."""
    return atlas.country_page(request, iso3, lang, year, format="json", table=table)


@router.get("/matrix")
def matrix(
    request: Request,
    lang: str | None = None,
    list_: ListQuery = None,
    critical: str | None = None,
    table: TableQuery = None,
) -> Response:
    """Supply risk against economic importance (the EU method's axes, `/matrix`)."""
    return atlas.matrix_page(request, lang, list_, critical, format="json", table=table)
