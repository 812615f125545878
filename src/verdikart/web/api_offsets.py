"""The offset obligations register's JSON API under `/api/suppliers/offsets` (issue #12; the
same bearer tokens and sign-in sessions as the exchange).

Thin: each route authenticates and calls `OffsetService`. Everyone signed in reads; creating,
changing and deleting need a platform administrator (403 otherwise), and each change is
audited. Bad input answers 422 naming each field, an unknown id 404; never 500.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from verdikart.register.offsets import OffsetService
from verdikart.web.api_exchange import Me, clean_request

router = APIRouter(
    prefix="/api/suppliers/offsets", tags=["suppliers"], dependencies=[Depends(clean_request)]
)


def offset_service(request: Request) -> OffsetService:
    return OffsetService(request.app.state.verdikart.exchange())


Offsets = Annotated[OffsetService, Depends(offset_service)]


@router.get("")
def list_offsets(
    who: Me,
    offsets: Offsets,
    sector: Annotated[str | None, Query(max_length=30)] = None,
    supplier: Annotated[str | None, Query(max_length=300)] = None,
    active_on: Annotated[date | None, Query(description="Only those running on this date.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[dict[str, Any]]:
    """Offset obligations, largest value first (filters: sector, supplier name, date)."""
    return offsets.search(sector=sector, supplier=supplier, active_on=active_on, limit=limit)


@router.get("/{offset_id}")
def get_offset(offset_id: str, who: Me, offsets: Offsets) -> dict[str, Any]:
    """One offset obligation with its source."""
    return offsets.get(offset_id)


@router.post("", status_code=201)
def create_offset(who: Me, offsets: Offsets, payload: Annotated[Any, Body()]) -> dict[str, Any]:
    """Add an offset obligation (platform administrators)."""
    return offsets.create(who, payload)


@router.patch("/{offset_id}")
def update_offset(
    offset_id: str, who: Me, offsets: Offsets, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    """Change some fields of an offset obligation (platform administrators)."""
    return offsets.update(who, offset_id, payload)


@router.delete("/{offset_id}")
def delete_offset(offset_id: str, who: Me, offsets: Offsets) -> dict[str, Any]:
    """Delete an offset obligation (platform administrators; the audit log keeps it)."""
    return offsets.delete(who, offset_id)
