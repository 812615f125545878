"""Pydantic v2 schemas: the exchange's API boundary, validated at the edge.

A side stream has a public :class:`StreamSummary` (what anyone may see: public name, material
class, kind, a quantity *band*, county, hazardous flag, waste code, critical-material flags) and
confidential :class:`StreamDetails` (exact quantities, site and coordinates, contact, documents,
chemical composition), following the Prosess21 circular-economy report's rule that only
non-sensitive summaries are published and details are shared between supplier and customer.
The data model follows SINTEF's Grenland side-stream mapping: a side stream is a by-product or a
waste (plus surplus energy); waste is ordinary or hazardous; treatment is material recovery,
energy recovery or other (mostly landfill).

Derived fields (``quantity_band``, ``critical_materials``, and ``hazardous`` when a waste code is
given) are computed by :class:`StreamCreate`; a value supplied by the caller must agree with the
derived one. Error messages name the field (pydantic's ``loc``) and the problem.

Composition sum rule: the *minimum* of each range (or the single value) is summed over all
components except aggregate parameters (TOC, LOI, REE, moisture, ...), and the sum may not exceed
100 wt% plus a 0.5 wt% rounding tolerance. Using minima means a stream is only refused when its
analysis is impossible for certain; ranges whose maxima add up to more than 100 % are normal.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from verdikart.errors import UnknownCodeError
from verdikart.exchange import composition as compmod
from verdikart.exchange import wastecodes
from verdikart.exchange.critical import critical_flags

Kind = Literal["by-product", "waste", "surplus-energy"]
Treatment = Literal["material-recovery", "energy-recovery", "landfill", "other"]
Unit = Literal["wt%", "%", "g/kg", "mg/kg", "ppm", "g/t", "µg/g", "µg/kg", "ppb", "fraction"]
LimitOp = Literal["<", "<=", ">", ">=", "lowest", "highest"]
Form = Literal[
    "solid", "lump", "granulate", "powder", "dust", "slurry", "sludge", "liquid", "solution",
    "gas", "heat", "steam", "other",
]  # fmt: skip

# Norwegian counties (fylker) from 1 January 2024, plus Svalbard (not a county, but has sites).
COUNTIES: tuple[str, ...] = (
    "Agder", "Akershus", "Buskerud", "Finnmark", "Innlandet", "Møre og Romsdal", "Nordland",
    "Oslo", "Rogaland", "Telemark", "Troms", "Trøndelag", "Vestfold", "Vestland", "Østfold",
    "Svalbard",
)  # fmt: skip
_FORMER_COUNTIES = {
    "viken": "Akershus, Buskerud or Østfold",
    "vestfold og telemark": "Vestfold or Telemark",
    "troms og finnmark": "Troms or Finnmark",
}

# Controlled vocabulary of material classes: matching pairs needs and streams by class.
MATERIAL_CLASSES: dict[str, str] = {
    "slag": "slag (metallurgical, incineration)",
    "dust": "filter dust, flue dust, fume",
    "microsilica": "silica fume / microsilica",
    "fly-ash": "fly ash",
    "bottom-ash": "bottom ash",
    "sludge": "sludge, filter cake",
    "spent-acid": "spent or by-product acid",
    "alkaline-solution": "spent caustic, alkaline liquor",
    "salt": "salts and salt solutions",
    "nitrogen-solution": "ammonium nitrate / nitrogen-bearing solutions",
    "gypsum": "gypsum (FGD, phosphogypsum, ...)",
    "phosphate": "phosphate-bearing residue",
    "metal-scrap": "metal scrap, off-spec metal",
    "dross": "dross, skimmings",
    "spent-pot-lining": "spent pot lining",
    "refractory": "refractory, linings",
    "spent-catalyst": "spent catalyst",
    "carbon": "carbon residues, coke fines, electrode waste",
    "biomass": "wood, biomass, organic residue",
    "plastic": "plastic",
    "solvent": "solvents, oils",
    "process-water": "process water",
    "co2": "CO2-rich off-gas",
    "off-gas": "other off-gas (CO, H2, ...)",
    "surplus-heat": "surplus heat",
    "other": "other",
}

MASS_BANDS_T: tuple[tuple[float, str], ...] = (
    (1_000.0, "<1 kt"),
    (10_000.0, "1–10 kt"),
    (100_000.0, "10–100 kt"),
)
MASS_TOP_BAND = "≥100 kt"
ENERGY_BANDS_GWH: tuple[tuple[float, str], ...] = (
    (1.0, "<1 GWh"),
    (10.0, "1–10 GWh"),
    (100.0, "10–100 GWh"),
)
ENERGY_TOP_BAND = "≥100 GWh"
SUM_TOLERANCE_FRACTION = 0.005


def quantity_band(quantity_t: float | None = None, energy_gwh: float | None = None) -> str:
    """Public band for an exact yearly quantity (tonnes) or energy (GWh): '1–10 kt', '<1 GWh'."""
    if quantity_t is not None:
        bands, top, value = MASS_BANDS_T, MASS_TOP_BAND, quantity_t
    elif energy_gwh is not None:
        bands, top, value = ENERGY_BANDS_GWH, ENERGY_TOP_BAND, energy_gwh
    else:
        raise ValueError("a quantity in t/yr or an energy in GWh/yr is needed for the band")
    for upper, label in bands:
        if value < upper:
            return label
    return top


def _check_material_class(value: str) -> str:
    if value not in MATERIAL_CLASSES:
        raise ValueError(
            f"unknown material class {value!r}; use one of {', '.join(MATERIAL_CLASSES)}"
        )
    return value


def _check_county(value: str) -> str:
    for county in COUNTIES:
        if county.lower() == value.strip().lower():
            return county
    former = _FORMER_COUNTIES.get(value.strip().lower())
    if former:
        raise ValueError(f"{value!r} was dissolved on 1 January 2024; use {former}")
    raise ValueError(f"unknown county (fylke) {value!r}; use one of {', '.join(COUNTIES)}")


# Upper bounds of the numbers a record may carry: far above any real plant, well inside what
# every database and the sums over all streams can hold (issue #14: one member's 1e400 t/yr
# must not blank a figure shared by everyone).
MAX_QUANTITY_T = 1e9  # t/yr: a billion tonnes a year, more than Norway's whole economy moves
MAX_ENERGY_GWH = 1e6  # GWh/yr: ten times Norway's yearly electricity production
MAX_DISTANCE_KM = 20_040.0  # half the Earth's circumference: no two sites are farther apart


def no_nul(value: object, where: str = "") -> None:
    """Refuse a NUL character anywhere in `value` (strings, and strings inside lists and dicts,
    keys included): PostgreSQL cannot store it in text, and no real name or value holds one."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'text'}: contains a NUL character (\\x00)")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_nul(key, where)
            no_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            no_nul(item, f"{where}.{index}" if where else str(index))


class _Model(BaseModel):
    """Every exchange schema: unknown fields refused, text stripped, only finite numbers
    (JSON's NaN / Infinity / 1e400 are refused), no NUL characters in any text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        no_nul(data)
        return data


class Site(_Model):
    """A plant or receiving site. Coordinates are WGS84 decimal degrees."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    municipality: str | None = Field(default=None, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    nace: str | None = Field(
        default=None,
        pattern=r"^\d{2}(\.\d{1,3})?$",
        description="NACE Rev. 2 / SN2007 code, e.g. '20.15' or '24.450'",
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> Site:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


def check_url(value: str) -> str:
    """A document address: http(s) with a host (`https://example.org/report.pdf`), nothing else
    -- no `//evil.example` (a scheme-relative link to any host), `javascript:` or `data:`."""
    from urllib.parse import urlsplit

    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("url: no spaces or control characters allowed")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"url: {value[:80]!r} is not a valid web address") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError("url: use an http:// or https:// address with a host name")
    return value


class Contact(_Model):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)


class Document(_Model):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    url: str | None = Field(default=None, max_length=2000)

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        return None if value in (None, "") else check_url(value)


class CompositionEntry(_Model):
    """One analysed component: a single value or a (min, max) range, in a mass unit."""

    component: str
    value: float | None = None
    value_min: float | None = None
    value_max: float | None = None
    unit: Unit
    method: str | None = Field(default=None, max_length=200)
    analysed_on: dt.date | None = None

    @field_validator("component")
    @classmethod
    def _known_component(cls, value: str) -> str:
        return compmod.canonical_component(value)

    @field_validator("unit", mode="before")
    @classmethod
    def _unit_alias(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return compmod.canonical_unit(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _value_or_range(self) -> CompositionEntry:
        has_range = self.value_min is not None or self.value_max is not None
        if self.value is None and not has_range:
            raise ValueError(f"{self.component}: give value, or value_min and value_max")
        if self.value is not None and has_range:
            raise ValueError(f"{self.component}: give either value or a range, not both")
        if has_range and (self.value_min is None or self.value_max is None):
            raise ValueError(
                f"{self.component}: a range needs both value_min and value_max "
                "(below a detection limit: value_min=0, value_max=the limit)"
            )
        for name in ("value", "value_min", "value_max"):
            number = getattr(self, name)
            if number is not None and number < 0:
                raise ValueError(f"{self.component}: {name} {number} is negative")
        if has_range and self.value_min > self.value_max:  # type: ignore[operator]
            raise ValueError(
                f"{self.component}: value_min {self.value_min} > value_max {self.value_max}"
            )
        if self.fraction_max > 1.0 + 1e-12:
            raise ValueError(f"{self.component}: {self.fraction_max * 100:g} wt% is over 100 %")
        return self

    @property
    def fraction_min(self) -> float:
        """Lower end as a weight fraction (the value itself for a single value)."""
        low = self.value if self.value is not None else self.value_min
        return compmod.to_fraction(float(low or 0.0), self.unit)

    @property
    def fraction_max(self) -> float:
        """Upper end as a weight fraction."""
        high = self.value if self.value is not None else self.value_max
        return compmod.to_fraction(float(high or 0.0), self.unit)


class StreamSummary(_Model):
    """What anyone may see about a side stream."""

    name_public: Annotated[str, Field(min_length=1, max_length=200)]
    material_class: str
    kind: Kind
    quantity_band: str | None = None  # derived from details by StreamCreate
    region: str
    hazardous: bool
    ewc_code: str | None = None
    critical_materials: list[str] = Field(default_factory=list)  # derived by StreamCreate
    components_public: bool = Field(
        default=True,
        description=(
            "list the analysed components (names only, never values) in the public summary. "
            "false: the analysis stays wholly confidential, and other organisations' need "
            "matching does not look at it (every limit reads 'not determinable')"
        ),
    )

    @field_validator("material_class")
    @classmethod
    def _material_class(cls, value: str) -> str:
        return _check_material_class(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_county(value)

    @field_validator("ewc_code")
    @classmethod
    def _known_code(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return wastecodes.lookup(value).code
        except UnknownCodeError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _hazard_consistent(self) -> StreamSummary:
        if self.ewc_code is not None:
            entry = wastecodes.lookup(self.ewc_code)
            if entry.hazardous != self.hazardous:
                said = "hazardous" if self.hazardous else "not hazardous"
                actual = "a hazardous (*) entry" if entry.hazardous else "a non-hazardous entry"
                raise ValueError(
                    f"hazardous: stream says {said} but waste code {entry.display} is {actual}"
                )
        if self.kind == "waste" and self.ewc_code is None:
            raise ValueError("ewc_code: a waste stream needs its List of Waste code")
        return self


class StreamDetails(_Model):
    """Confidential details, shared only with authorised counterparts."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    quantity_t_per_year: float | None = Field(default=None, ge=0, le=MAX_QUANTITY_T)
    energy_gwh_per_year: float | None = Field(default=None, ge=0, le=MAX_ENERGY_GWH)
    quantity_uncertainty_pct: float | None = Field(default=None, ge=0, le=100)
    availability: str | None = Field(default=None, max_length=200)
    form: Form | None = None
    current_treatment: Treatment
    current_receiver: str | None = Field(
        default=None, max_length=200, description="who receives the stream today (mottaker)"
    )
    site: Site
    contact: Contact | None = None
    documents: list[Document] = Field(default_factory=list)
    composition: list[CompositionEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _composition_consistent(self) -> StreamDetails:
        if self.quantity_t_per_year is None and self.energy_gwh_per_year is None:
            raise ValueError("give quantity_t_per_year (materials) or energy_gwh_per_year (energy)")
        seen: set[str] = set()
        for entry in self.composition:
            if entry.component in seen:
                raise ValueError(f"composition: component {entry.component} is listed twice")
            seen.add(entry.component)
        total = sum(
            e.fraction_min
            for e in self.composition
            if compmod.components()[e.component].kind != "aggregate"
        )
        if total > 1.0 + SUM_TOLERANCE_FRACTION:
            raise ValueError(
                f"composition: the components add up to at least {total * 100:.2f} wt% "
                "(sum of range minima, aggregates such as TOC/LOI excluded), over 100 wt%"
            )
        return self


class StreamCreate(_Model):
    """A new side stream: summary + details, with derived summary fields filled in."""

    summary: StreamSummary
    details: StreamDetails

    @model_validator(mode="after")
    def _derive(self) -> StreamCreate:
        s, d = self.summary, self.details
        if s.kind == "surplus-energy":
            if d.energy_gwh_per_year is None:
                raise ValueError("details.energy_gwh_per_year: a surplus-energy stream needs it")
            band = quantity_band(energy_gwh=d.energy_gwh_per_year)
        else:
            if d.quantity_t_per_year is None:
                raise ValueError(f"details.quantity_t_per_year: a {s.kind} stream needs it")
            band = quantity_band(quantity_t=d.quantity_t_per_year)
        if s.quantity_band is not None and s.quantity_band != band:
            raise ValueError(
                f"summary.quantity_band: {s.quantity_band!r} does not match the exact quantity "
                f"(band {band!r})"
            )
        flags = critical_flags((e.component, e.fraction_max) for e in d.composition)
        if s.critical_materials and sorted(s.critical_materials) != flags:
            raise ValueError(
                f"summary.critical_materials: {s.critical_materials} does not match the "
                f"composition (derived {flags})"
            )
        # derived values are written with object.__setattr__ to avoid re-running validation
        object.__setattr__(s, "quantity_band", band)
        object.__setattr__(s, "critical_materials", flags)
        return self


class SpecLimit(_Model):
    """A structured specification limit; value is in ``unit`` (None for a soft preference)."""

    component: str
    op: LimitOp
    value: float | None = None
    unit: Unit | None = None

    @field_validator("component")
    @classmethod
    def _known_component(cls, value: str) -> str:
        return compmod.canonical_component(value)

    @field_validator("unit", mode="before")
    @classmethod
    def _unit_alias(cls, value: object) -> object:
        if isinstance(value, str):
            return compmod.canonical_unit(value)
        return value

    @model_validator(mode="after")
    def _value_for_hard(self) -> SpecLimit:
        if self.op in ("lowest", "highest"):
            if self.value is not None:
                raise ValueError(
                    f"{self.component}: a '{self.op} possible' preference has no value"
                )
            return self
        if self.value is None or self.unit is None:
            raise ValueError(f"{self.component} {self.op}: a limit needs a value and a unit")
        if self.value < 0:
            raise ValueError(f"{self.component} {self.op} {self.value}: negative limit")
        if compmod.to_fraction(self.value, self.unit) > 1.0 + 1e-12:
            raise ValueError(f"{self.component} {self.op} {self.value} {self.unit}: over 100 %")
        return self

    @property
    def hard(self) -> bool:
        """Hard limits exclude a stream that fails; 'lowest/highest possible' only rank."""
        return self.op not in ("lowest", "highest")

    @property
    def fraction(self) -> float | None:
        if self.value is None or self.unit is None:
            return None
        return compmod.to_fraction(self.value, self.unit)

    def text(self) -> str:
        """Readable form: 'Cl < 0.1 wt%' / 'TOC lowest possible'."""
        if not self.hard:
            return f"{self.component} {self.op} possible"
        op = {"<=": "≤", ">=": "≥"}.get(self.op, self.op)
        return f"{self.component} {op} {self.value:g} {self.unit}"


class NeedCreate(_Model):
    """A need: which material, to what specification, how much, how far, hazardous or not."""

    name: str | None = Field(default=None, max_length=200)
    material_class: str
    also_classes: list[str] = Field(
        default_factory=list, description="further material classes that are acceptable"
    )
    limits: list[SpecLimit] = Field(default_factory=list)
    quantity_t_per_year_min: float | None = Field(default=None, ge=0, le=MAX_QUANTITY_T)
    quantity_t_per_year_max: float | None = Field(default=None, ge=0, le=MAX_QUANTITY_T)
    max_distance_km: float | None = Field(default=None, gt=0, le=MAX_DISTANCE_KM)
    site: Site
    region: str | None = None
    accepts_hazardous: bool = False

    @field_validator("material_class")
    @classmethod
    def _material_class(cls, value: str) -> str:
        return _check_material_class(value)

    @field_validator("also_classes")
    @classmethod
    def _classes(cls, value: list[str]) -> list[str]:
        return [_check_material_class(v) for v in value]

    @field_validator("region")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return None if value is None else _check_county(value)

    @field_validator("limits", mode="before")
    @classmethod
    def _parse_strings(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        out: list[object] = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                try:
                    item = compmod.parse_limit(item)
                except ValueError as exc:
                    raise ValueError(f"limits[{index}]: {exc}") from None
            out.append(item)
        return out

    @model_validator(mode="after")
    def _quantities(self) -> NeedCreate:
        lo, hi = self.quantity_t_per_year_min, self.quantity_t_per_year_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"quantity_t_per_year_min {lo} > quantity_t_per_year_max {hi}")
        return self


MAX_AGREEMENT_DAYS = 5 * 366  # a disclosure agreement may run at most about five years


def agreement_expiry(value: dt.datetime, *, now: dt.datetime | None = None) -> dt.datetime:
    """`value` as one UTC instant, checked to lie in the future and at most
    :data:`MAX_AGREEMENT_DAYS` ahead (a naive value is UTC). ValueError says what is wrong;
    an instant outside the calendar once converted to UTC (year 1 at +14:00, year 9999 at
    -14:00) is refused like any other out-of-window value."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        instant = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        instant = None
    latest = now + dt.timedelta(days=MAX_AGREEMENT_DAYS)
    if instant is None or instant > latest:
        raise ValueError(
            f"expires_at must be at most {MAX_AGREEMENT_DAYS} days (about five years) ahead, "
            f"i.e. before {latest:%Y-%m-%d}; agree on a new period when it ends"
        )
    if instant <= now:
        raise ValueError("expires_at must be in the future")
    return instant


class AcceptIn(_Model):
    """The owner's acceptance of a disclosure request: optionally until `expires_at`."""

    expires_at: dt.datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _window(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else agreement_expiry(value)


class RequestIn(_Model):
    """A disclosure request's optional message to the stream's owner."""

    message: str | None = Field(default=None, max_length=2000)


def component_pattern() -> re.Pattern[str]:
    """Regex for template column headers 'comp:<component>_<unit>' (used by reporting)."""
    return re.compile(r"^comp:(?P<component>[^_]+)_(?P<unit>.+)$")
