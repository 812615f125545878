"""Needs of buyers (issue #12): what a hand-entered need may hold, the stored form of its codes
for matching, Norwegian security-clearance levels, places of performance (NUTS) as counties,
and the index of a profile's confidential details that matching reads (gated by access).

Clearance levels are the classification levels of the Security Act (sikkerhetsloven § 5-3:
BEGRENSET, KONFIDENSIELT, HEMMELIG, STRENGT HEMMELIG), ranked 1..4; NATO's RESTRICTED,
CONFIDENTIAL, SECRET and TOP SECRET rank the same. NUTS 2021 level 3 codes of Norway (Eurostat,
NUTS 2021 classification, Regulation (EU) 2019/1755) map to the counties they cover where that is
one county today; Viken, Vestfold og Telemark and Troms og Finnmark were split in 2024, so their
NUTS codes give no county.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import delete
from sqlalchemy.orm import Session

from verdikart.errors import DataValidationError
from verdikart.register.models import ProfileCertification, ProfilePrivate
from verdikart.register.schemas import CERTIFICATIONS, ProfileDetails, normalise_code, nul_paths

CLEARANCE_LEVELS = ("BEGRENSET", "KONFIDENSIELT", "HEMMELIG", "STRENGT HEMMELIG")
_RANKS = {
    "BEGRENSET": 1,
    "RESTRICTED": 1,
    "KONFIDENSIELT": 2,
    "CONFIDENTIAL": 2,
    "HEMMELIG": 3,
    "SECRET": 3,
    "STRENGT HEMMELIG": 4,
    "TOP SECRET": 4,
}
# NUTS 2021 level 3 -> county number (fylkesnummer) where the NUTS region is one county today
NUTS_COUNTY = {
    "NO081": "03",  # Oslo
    "NO092": "42",  # Agder
    "NO0A1": "11",  # Rogaland
    "NO0A2": "46",  # Vestland
    "NO0A3": "15",  # Møre og Romsdal
    "NO020": "34",  # Innlandet
    "NO060": "50",  # Trøndelag
    "NO071": "18",  # Nordland
}
COUNTIES = frozenset(
    ("03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56")
)
NEED_SCHEMES = ("cpv", "nace", "hs")


def clearance_rank(value: object) -> int | None:
    """1 (BEGRENSET/RESTRICTED) .. 4 (STRENGT HEMMELIG/TOP SECRET); None when not a level."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.upper().replace("NATO ", "").split())
    return _RANKS.get(text)


def clearance_name(value: str) -> str:
    """The level's Norwegian name (the stored form), or ValueError."""
    rank = clearance_rank(value)
    if rank is None:
        raise ValueError(
            f"a clearance level is one of {', '.join(CLEARANCE_LEVELS)}, got {value!r}"
        )
    return CLEARANCE_LEVELS[rank - 1]


def region_of_nuts(codes: list[str]) -> str | None:
    """The county when every Norwegian NUTS code given lies in the same one county."""
    counties = {NUTS_COUNTY.get(c) for c in codes if c.startswith("NO")}
    return counties.pop() if len(counties) == 1 and None not in counties else None


def code_row(scheme: str, code: str) -> tuple[str, str, str, int]:
    """(code, prefix, prefix_hi, sig_len) of a need code for matching (see `NeedCode`)."""
    value = normalise_code(scheme, code)
    prefix = value[:2]
    hi = f"{int(prefix) + 1:02d}" if prefix != "99" else "99999999999"
    sig = max(2, len(value.rstrip("0"))) if scheme == "cpv" else len(value)
    return value, prefix, hi, sig


class NeedCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheme: str
    code: str = Field(max_length=20)
    main: bool = False

    @field_validator("scheme")
    @classmethod
    def known_scheme(cls, value: str) -> str:
        if value not in NEED_SCHEMES:
            raise ValueError(f"one of {', '.join(NEED_SCHEMES)}, got {value!r}")
        return value

    @field_validator("code")
    @classmethod
    def known_code(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("scheme")
        return normalise_code(scheme, value) if scheme else value


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=40)
    title: str = Field(default="", max_length=1000)
    cpv: list[str] = Field(default_factory=list, max_length=50)
    nuts: list[str] = Field(default_factory=list, max_length=50)
    deadline: date | None = None

    @field_validator("cpv")
    @classmethod
    def cpv_codes(cls, value: list[str]) -> list[str]:
        return [normalise_code("cpv", c) for c in value]


class NeedIn(BaseModel):
    """A need: what (codes), where (NUTS, county), when (deadline), and what a supplier must
    hold (certifications valid on the deadline, clearance, lead time)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def no_nul(cls, data: Any) -> Any:
        if found := nul_paths(data):
            raise ValueError(f"contains a NUL character (\\x00) at {', '.join(found)}")
        return data

    title: str = Field(min_length=1, max_length=1000)
    description: str = Field(default="", max_length=20000)
    buyer_name: str | None = Field(default=None, max_length=500)
    codes: list[NeedCodeIn] = Field(min_length=1, max_length=200)
    lots: list[LotIn] = Field(default_factory=list, max_length=200)
    nuts: list[str] = Field(default_factory=list, max_length=50)
    region: str | None = None
    deadline: date | None = None
    required_certifications: list[str] = Field(default_factory=list, max_length=20)
    clearance_level: str | None = None
    max_lead_time_weeks: int | None = Field(default=None, ge=0, le=520)

    @field_validator("nuts")
    @classmethod
    def nuts_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (2 <= len(code) <= 5 and code[:2].isalpha() and code.isalnum()):
                raise ValueError(f"a NUTS code looks like NO0A2 or FRD22, got {code!r}")
        return [c.upper() for c in value]

    @field_validator("region")
    @classmethod
    def county(cls, value: str | None) -> str | None:
        if value is not None and value not in COUNTIES:
            raise ValueError(
                f"a county number (fylkesnummer), one of {', '.join(sorted(COUNTIES))}"
            )
        return value

    @field_validator("required_certifications")
    @classmethod
    def known_certs(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in CERTIFICATIONS:
                raise ValueError(f"one of {', '.join(CERTIFICATIONS)}, got {item!r}")
        return list(dict.fromkeys(value))

    @field_validator("clearance_level")
    @classmethod
    def known_level(cls, value: str | None) -> str | None:
        return None if value is None else clearance_name(value)


def parse_need(payload: Any, *, source: str = "need") -> tuple[NeedIn, list[tuple[str, bool]]]:
    """A checked need and its codes as (scheme:code, main) with every problem named."""
    try:
        need = payload if isinstance(payload, NeedIn) else NeedIn.model_validate(payload)
    except ValidationError as exc:
        raise DataValidationError(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()],
            source=source,
        ) from exc
    if sum(1 for c in need.codes if c.main) > 1:
        raise DataValidationError(["codes: at most one code is the main code"], source=source)
    if need.region is None and need.nuts:
        need.region = region_of_nuts(need.nuts)
    return need, [(f"{c.scheme}:{c.code}", c.main) for c in need.codes]


def index_details(session: Session, profile_id: str, details: ProfileDetails) -> None:
    """Write the confidential index rows of a profile (certifications, lead time, clearance)
    in the caller's transaction; matching reads them only for viewers with access."""
    session.execute(
        delete(ProfileCertification).where(ProfileCertification.profile_id == profile_id)
    )
    session.execute(delete(ProfilePrivate).where(ProfilePrivate.profile_id == profile_id))
    until: dict[str, date] = {}
    for cert in details.certifications:
        until[cert.standard] = max(cert.valid_until, until.get(cert.standard, cert.valid_until))
    session.add_all(
        ProfileCertification(profile_id=profile_id, standard=s, valid_until=d)
        for s, d in until.items()
    )
    session.add(
        ProfilePrivate(
            profile_id=profile_id,
            lead_time_weeks=details.lead_time_weeks,
            clearance_rank=clearance_rank(details.security_clearance),
        )
    )
