"""What a supplier may write into its capability profile, checked: capability codes by scheme
(CPV, NACE, HS/CN, the project's materials and value-chain stages), and the confidential
details (certifications with validity dates, capacity, lead time, references, security
clearance, NCAGE code). Bad input raises a `DataValidationError` naming each field.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from verdikart.errors import DataValidationError
from verdikart.register.importer import orgnr_problem

CERTIFICATIONS = ("ISO 9001", "ISO 14001", "ISO 45001", "AQAP 2110", "EN 9100", "NORSOK")
Scheme = Literal["cpv", "nace", "hs", "material", "stage"]


def chain_codes() -> tuple[frozenset[str], dict[str, str]]:
    """(material ids, {'chain/stage': material}) from the value-chain files."""
    from verdikart.chains.model import load_chains

    materials: set[str] = set()
    stages: dict[str, str] = {}
    for chain in load_chains().values():
        materials.update(chain.materials)
        for stage in chain.stages:
            materials.add(stage.material)
            stages[f"{chain.id}/{stage.id}"] = stage.material
    return frozenset(materials), stages


def normalise_code(scheme: str, code: str) -> str:
    """The stored form of a capability code, or ValueError saying what is wrong.

    CPV: 8 digits (a check digit '-N' is accepted and dropped); NACE: 'NN' or 'NN.N'..'NN.NNN'
    (SN2007/SN2025 layout); HS/CN: 4, 6 or 8 digits; material: an id of the value-chain files;
    stage: 'chain/stage' as in those files."""
    value = code.strip()
    if scheme == "cpv":
        if not re.fullmatch(r"\d{8}(-\d)?", value):
            raise ValueError(f"a CPV code is 8 digits (e.g. 44316000-8), got {code!r}")
        return value[:8]
    if scheme == "nace":
        digits = value.replace(".", "")
        if not re.fullmatch(r"\d{2,5}", digits):
            raise ValueError(f"a NACE code looks like 24.420 or 24, got {code!r}")
        return digits if len(digits) == 2 else f"{digits[:2]}.{digits[2:]}"
    if scheme == "hs":
        digits = value.replace(".", "").replace(" ", "")
        if not re.fullmatch(r"\d{4}|\d{6}|\d{8}", digits):
            raise ValueError(f"an HS/CN code has 4, 6 or 8 digits, got {code!r}")
        return digits
    materials, stages = chain_codes()
    if scheme == "material":
        if value not in materials:
            raise ValueError(f"unknown material {code!r}; known: {', '.join(sorted(materials))}")
        return value
    if value not in stages:
        raise ValueError(
            f"unknown value-chain stage {code!r} (write chain/stage, e.g. silicon/silicon-metal)"
        )
    return value


def cpv_prefix(code: str) -> str:
    """The CPV hierarchy is coded by trailing zeros (44000000 division, 44300000 group...): the
    prefix that selects a code and everything under it."""
    digits = normalise_code("cpv", code)
    return digits.rstrip("0").ljust(2, "0")


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheme: Scheme
    code: str = Field(max_length=80)


class Certification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    standard: str
    valid_until: date
    issuer: str | None = Field(default=None, max_length=200)

    @field_validator("standard")
    @classmethod
    def known_standard(cls, value: str) -> str:
        if value not in CERTIFICATIONS:
            raise ValueError(f"one of {', '.join(CERTIFICATIONS)}, got {value!r}")
        return value

    @field_validator("valid_until")
    @classmethod
    def not_expired(cls, value: date) -> date:
        if value < date.today():
            raise ValueError(f"expired on {value.isoformat()}")
        return value


class ProfileDetails(BaseModel):
    """The confidential tier: shown only to the owner and buyers it shares with."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(default="", max_length=5000)
    certifications: list[Certification] = Field(default_factory=list, max_length=50)
    capacity: str | None = Field(default=None, max_length=500)
    lead_time_weeks: int | None = Field(default=None, ge=0, le=520)
    references: list[str] = Field(default_factory=list, max_length=50)
    security_clearance: str | None = Field(default=None, max_length=50)
    ncage: str | None = Field(default=None, pattern=r"^[A-Z0-9]{5}$")


def nul_paths(value: Any, path: str = "") -> list[str]:
    """Where a NUL character (\\x00) sits in a JSON-like value: PostgreSQL cannot store one, and
    no real text holds one."""
    if isinstance(value, str):
        return [path or "value"] if "\x00" in value else []
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    found: list[str] = []
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            found.append(where)
        found += nul_paths(item, where)
    return found


class ProfileIn(BaseModel):
    """A supplier's profile: public `summary` and `codes`, confidential `details`."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def no_nul(cls, data: Any) -> Any:
        if found := nul_paths(data):
            raise ValueError(f"contains a NUL character (\\x00) at {', '.join(found)}")
        return data

    organisation_number: str | None = None
    summary: str = Field(min_length=1, max_length=2000)
    codes: list[CodeIn] = Field(default_factory=list, max_length=200)
    details: ProfileDetails = Field(default_factory=ProfileDetails)

    @field_validator("organisation_number")
    @classmethod
    def valid_orgnr(cls, value: str | None) -> str | None:
        if value is not None and (problem := orgnr_problem(value)):
            raise ValueError(problem)
        return value


def parse_profile(payload: Any) -> tuple[ProfileIn, list[tuple[str, str]]]:
    """A checked profile and its normalised (scheme, code) pairs; every problem named."""
    try:
        profile = payload if isinstance(payload, ProfileIn) else ProfileIn.model_validate(payload)
    except ValidationError as exc:
        raise DataValidationError(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()],
            source="profile",
        ) from exc
    problems: list[str] = []
    codes: list[tuple[str, str]] = []
    for i, item in enumerate(profile.codes):
        try:
            pair = (item.scheme, normalise_code(item.scheme, item.code))
        except ValueError as exc:
            problems.append(f"codes.{i}.code: {exc}")
            continue
        if pair not in codes:
            codes.append(pair)
    if problems:
        raise DataValidationError(problems, source="profile")
    return profile, codes
