"""Chemical composition: the component table, unit normalisation, spec-limit parsing, evaluation.

This module owns
* the table of known components: every element by symbol (standard atomic weights, IUPAC 2021,
  abridged to 4-5 significant figures; radioactive elements without a standard weight use the
  mass number of their longest-lived isotope) plus the compounds, oxides, ions and aggregate
  parameters (TOC, LOI, ...) used in process-industry analyses;
* molar masses computed from formulas, and the mass fraction of an element in a compound, so an
  oxide can be converted to its element (P2O5 -> P: 2 x 30.974 / 141.94 = 0.4364);
* unit normalisation to a plain weight fraction (wt%, %, mg/kg, ppm, g/t, ...);
* the specification-limit parser ("Cl < 0.1 %", "P >= 10 wt%", "TOC lowest possible");
* evaluation of a composition against limits, returning pass / fail / unknown with the numbers.

Everything here is pure and small; the set-based version of the evaluation used for matching
many streams against many needs is in ``verdikart.exchange.matching`` (it uses the same tables
via :func:`component_element_table`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

# Standard atomic weights (IUPAC 2021 abridged values; mass number of the most stable isotope
# in brackets for elements without a standard atomic weight).
ATOMIC_WEIGHTS: dict[str, float] = {
    "H": 1.008, "He": 4.0026, "Li": 6.94, "Be": 9.0122, "B": 10.81, "C": 12.011, "N": 14.007,
    "O": 15.999, "F": 18.998, "Ne": 20.180, "Na": 22.990, "Mg": 24.305, "Al": 26.982,
    "Si": 28.085, "P": 30.974, "S": 32.06, "Cl": 35.45, "Ar": 39.95, "K": 39.098, "Ca": 40.078,
    "Sc": 44.956, "Ti": 47.867, "V": 50.942, "Cr": 51.996, "Mn": 54.938, "Fe": 55.845,
    "Co": 58.933, "Ni": 58.693, "Cu": 63.546, "Zn": 65.38, "Ga": 69.723, "Ge": 72.630,
    "As": 74.922, "Se": 78.971, "Br": 79.904, "Kr": 83.798, "Rb": 85.468, "Sr": 87.62,
    "Y": 88.906, "Zr": 91.224, "Nb": 92.906, "Mo": 95.95, "Tc": 98.0, "Ru": 101.07,
    "Rh": 102.91, "Pd": 106.42, "Ag": 107.87, "Cd": 112.41, "In": 114.82, "Sn": 118.71,
    "Sb": 121.76, "Te": 127.60, "I": 126.90, "Xe": 131.29, "Cs": 132.91, "Ba": 137.33,
    "La": 138.91, "Ce": 140.12, "Pr": 140.91, "Nd": 144.24, "Pm": 145.0, "Sm": 150.36,
    "Eu": 151.96, "Gd": 157.25, "Tb": 158.93, "Dy": 162.50, "Ho": 164.93, "Er": 167.26,
    "Tm": 168.93, "Yb": 173.05, "Lu": 174.97, "Hf": 178.49, "Ta": 180.95, "W": 183.84,
    "Re": 186.21, "Os": 190.23, "Ir": 192.22, "Pt": 195.08, "Au": 196.97, "Hg": 200.59,
    "Tl": 204.38, "Pb": 207.2, "Bi": 208.98, "Po": 209.0, "At": 210.0, "Rn": 222.0,
    "Fr": 223.0, "Ra": 226.0, "Ac": 227.0, "Th": 232.04, "Pa": 231.04, "U": 238.03,
    "Np": 237.0, "Pu": 244.0, "Am": 243.0, "Cm": 247.0, "Bk": 247.0, "Cf": 251.0,
    "Es": 252.0, "Fm": 257.0, "Md": 258.0, "No": 259.0, "Lr": 266.0, "Rf": 267.0,
    "Db": 268.0, "Sg": 269.0, "Bh": 270.0, "Hs": 269.0, "Mt": 278.0, "Ds": 281.0,
    "Rg": 282.0, "Cn": 285.0, "Nh": 286.0, "Fl": 289.0, "Mc": 290.0, "Lv": 293.0,
    "Ts": 294.0, "Og": 294.0,
}  # fmt: skip

# Compounds, oxides and ions commonly reported in analyses of slags, dusts, ashes, sludges,
# salts and process liquors. Key element = the element a limit on the compound is "about"
# (the basis for oxide <-> element conversion); default is the first element that is not O/H.
_COMPOUNDS: dict[str, str | None] = {
    # oxides (XRF conventions)
    "SiO2": None, "Al2O3": None, "CaO": None, "MgO": None, "Fe2O3": None, "FeO": None,
    "Fe3O4": None, "MnO": None, "MnO2": None, "Mn3O4": None, "P2O5": None, "K2O": None,
    "Na2O": None, "TiO2": None, "Cr2O3": None, "SO3": None, "SO2": None, "BaO": None,
    "SrO": None, "ZnO": None, "PbO": None, "CuO": None, "NiO": None, "CoO": None, "V2O5": None,
    "ZrO2": None, "B2O3": None, "Li2O": None, "MoO3": None, "WO3": None, "Nb2O5": None,
    "Ta2O5": None, "CeO2": None, "La2O3": None, "Nd2O3": None, "Pr6O11": None, "Y2O3": None,
    "Ga2O3": None, "GeO2": None, "As2O3": None, "Sb2O3": None, "SnO2": None, "HfO2": None,
    "Sc2O3": None, "U3O8": None, "ThO2": None, "CdO": None, "Bi2O3": None, "CO2": None,
    "CO": None, "H2O": "H", "NO2": None, "NOx": None,
    # salts and minerals
    "FeSO4": "Fe", "FeCl3": "Fe", "FeCl2": "Fe", "NaCl": "Cl", "KCl": "K", "CaCl2": "Cl",
    "MgCl2": "Mg", "CaF2": "F", "AlF3": "F", "Na3AlF6": "F", "NaF": "F", "CaSO4": "S",
    "CaSO4·2H2O": "S", "CaCO3": "Ca", "MgCO3": "Mg", "Na2CO3": "Na", "K2CO3": "K",
    "Na2SO4": "S", "K2SO4": "K", "MgSO4": "Mg", "ZnSO4": "Zn", "CuSO4": "Cu", "NiSO4": "Ni",
    "CoSO4": "Co", "MnSO4": "Mn", "Al2(SO4)3": "Al", "H2SO4": "S", "HCl": "Cl", "HF": "F",
    "HNO3": "N", "H3PO4": "P", "NaOH": "Na", "KOH": "K", "Ca(OH)2": "Ca", "NH3": "N",
    "NH4NO3": "N", "Ca(NO3)2": "N", "KNO3": "K", "Ca3(PO4)2": "P", "Ca5(PO4)3F": "P",
    "Ca5(PO4)3OH": "P", "CaHPO4": "P", "Ca(H2PO4)2": "P", "FePO4": "P", "AlPO4": "P",
    "MgNH4PO4·6H2O": "P", "SiC": "Si", "FeSi": "Si", "Al2SiO5": "Al", "Ca2SiO4": "Si",
    "CaSiO3": "Si", "MnS": "Mn", "FeS": "Fe", "FeS2": "S", "ZnS": "Zn", "PbS": "Pb",
    "Cu2S": "Cu", "NiS": "Ni", "MoS2": "Mo", "Ni3S2": "Ni", "CH4": "C", "H2S": "S",
    "Li2CO3": "Li", "LiOH": "Li", "Mg(OH)2": "Mg", "Al(OH)3": "Al", "Fe(OH)3": "Fe",
    # ions (water and leachate analyses)
    "SO4": "S", "NO3": "N", "NO2-": "N", "NH4": "N", "PO4": "P", "CO3": "C", "HCO3": "C",
    "OH": "O", "CN": "C", "SiO4": "Si",
}  # fmt: skip

# Aggregate parameters: reported as a mass fraction but not a single chemical species, so they
# are never converted and never count towards the 100 wt% sum (they overlap other components).
AGGREGATES: dict[str, str] = {
    "TOC": "total organic carbon",
    "TIC": "total inorganic carbon",
    "TC": "total carbon",
    "DOC": "dissolved organic carbon",
    "LOI": "loss on ignition",
    "REE": "rare-earth elements, total (as elements)",
    "REO": "rare-earth oxides, total",
    "PGM": "platinum-group metals, total",
    "PAH16": "sum of 16 EPA polycyclic aromatic hydrocarbons",
    "PCB7": "sum of 7 indicator PCBs",
    "THC": "total hydrocarbons (oil index)",
    "moisture": "free water (mass loss at 105 °C)",
    "ash": "ash content (residue on ignition)",
    "dry-matter": "dry matter (solids at 105 °C)",
}

# Accepted spellings -> canonical component (lower-case keys).
_ALIASES: dict[str, str] = {
    "chloride": "Cl", "klorid": "Cl", "fluoride": "F", "fluorid": "F", "sulphate": "SO4",
    "sulfate": "SO4", "sulfat": "SO4", "nitrate": "NO3", "nitrat": "NO3", "ammonium": "NH4",
    "phosphate": "PO4", "fosfat": "PO4", "phosphorus": "P", "fosfor": "P", "loi": "LOI",
    "glødetap": "LOI", "toc": "TOC", "tic": "TIC", "tc": "TC", "doc": "DOC", "ree": "REE",
    "reo": "REO", "pgm": "PGM", "thc": "THC", "moisture": "moisture", "fuktighet": "moisture",
    "water": "moisture", "vanninnhold": "moisture", "ash": "ash", "aske": "ash",
    "dry matter": "dry-matter", "dry-matter": "dry-matter", "tørrstoff": "dry-matter",
    "pah16": "PAH16", "pcb7": "PCB7", "gypsum": "CaSO4·2H2O", "gips": "CaSO4·2H2O",
    "caso4.2h2o": "CaSO4·2H2O", "mgnh4po4.6h2o": "MgNH4PO4·6H2O", "struvite": "MgNH4PO4·6H2O",
    "struvitt": "MgNH4PO4·6H2O", "fluorspar": "CaF2", "flusspat": "CaF2", "cryolite": "Na3AlF6",
}  # fmt: skip

REE_ELEMENTS = (
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu",
)  # fmt: skip

# Unit -> factor to a weight fraction (kg per kg). ppm here always means mass ppm (mg/kg).
UNIT_FACTORS: dict[str, float] = {
    "wt%": 1e-2,
    "%": 1e-2,
    "g/kg": 1e-3,
    "mg/kg": 1e-6,
    "ppm": 1e-6,
    "g/t": 1e-6,
    "µg/g": 1e-6,
    "µg/kg": 1e-9,
    "ppb": 1e-9,
    "fraction": 1.0,
}
_UNIT_ALIASES = {"vekt%": "wt%", "weight%": "wt%", "w%": "wt%", "wt %": "wt%", "% w/w": "wt%",
                 "mg/kg ts": "mg/kg", "mg/kg tv": "mg/kg", "g/tonne": "g/t", "g/tonn": "g/t",
                 "ug/g": "µg/g", "ug/kg": "µg/kg", "ppmw": "ppm", "mg/kg dw": "mg/kg"}  # fmt: skip

ComponentKind = Literal["element", "compound", "aggregate"]


@dataclass(frozen=True)
class Component:
    """One known component: canonical id, kind, molar mass (None for aggregates), key element."""

    id: str
    kind: ComponentKind
    molar_mass: float | None
    key_element: str | None
    description: str = ""


_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)|(\()|(\))(\d*)|([·.*])(\d*)")


def parse_formula(formula: str) -> dict[str, float]:
    """Element counts of a formula like ``Ca5(PO4)3F`` or ``CaSO4·2H2O`` (hydrate dot allowed).

    Raises ValueError for anything that is not a well-formed formula of known elements.
    """
    text = formula.strip().rstrip("-+")
    if not text:
        raise ValueError("empty formula")
    stack: list[dict[str, float]] = [{}]
    hydrate_mult: float | None = None
    pos = 0
    parts = re.split(r"[·.*]", text)
    if len(parts) > 2:
        raise ValueError(f"{formula!r}: at most one hydrate dot")
    total: dict[str, float] = {}
    for index, part in enumerate(parts):
        mult = 1.0
        if index == 1:
            lead = re.match(r"\d+", part)
            if lead:
                hydrate_mult = float(lead.group())
                part = part[lead.end() :]
            mult = hydrate_mult or 1.0
        stack = [{}]
        pos = 0
        while pos < len(part):
            match = _TOKEN.match(part, pos)
            if match is None or match.end() == pos:
                raise ValueError(f"{formula!r}: cannot read formula at {part[pos:]!r}")
            symbol, count, open_paren, close_paren, close_count = match.group(1, 2, 3, 4, 5)
            if symbol:
                if symbol not in ATOMIC_WEIGHTS:
                    raise ValueError(f"{formula!r}: unknown element {symbol!r}")
                n = float(count) if count else 1.0
                stack[-1][symbol] = stack[-1].get(symbol, 0.0) + n
            elif open_paren:
                stack.append({})
            elif close_paren:
                if len(stack) == 1:
                    raise ValueError(f"{formula!r}: unbalanced ')'")
                group = stack.pop()
                n = float(close_count) if close_count else 1.0
                for el, c in group.items():
                    stack[-1][el] = stack[-1].get(el, 0.0) + c * n
            else:
                raise ValueError(f"{formula!r}: unexpected {match.group()!r}")
            pos = match.end()
        if len(stack) != 1:
            raise ValueError(f"{formula!r}: unbalanced '('")
        for el, c in stack[0].items():
            total[el] = total.get(el, 0.0) + c * mult
    return total


def molar_mass(formula: str) -> float:
    """Molar mass in g/mol from the standard atomic weights."""
    return sum(ATOMIC_WEIGHTS[el] * n for el, n in parse_formula(formula).items())


def _default_key(counts: dict[str, float]) -> str:
    for el in counts:
        if el not in ("O", "H"):
            return el
    return next(iter(counts))


@cache
def components() -> dict[str, Component]:
    """The table of known components keyed by canonical id (built once, read-only after)."""
    table: dict[str, Component] = {}
    for symbol, weight in ATOMIC_WEIGHTS.items():
        table[symbol] = Component(symbol, "element", weight, symbol)
    for formula, key in _COMPOUNDS.items():
        if formula == "NOx":  # reported as NO2-equivalent by convention
            table[formula] = Component(formula, "compound", molar_mass("NO2"), "N", "as NO2")
            continue
        counts = parse_formula(formula)
        table[formula] = Component(
            formula, "compound", molar_mass(formula), key or _default_key(counts)
        )
    for name, description in AGGREGATES.items():
        table[name] = Component(name, "aggregate", None, None, description)
    return table


def canonical_component(text: str) -> str:
    """Canonical id of a component name/formula; raises ValueError listing hints when unknown.

    Element symbols and formulas are case-sensitive (``Co`` cobalt vs ``CO`` carbon monoxide);
    names and aggregate parameters are matched case-insensitively.
    """
    raw = text.strip()
    table = components()
    if raw in table:
        return raw
    lowered = raw.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    for key in table:
        if table[key].kind == "aggregate" and key.lower() == lowered:
            return key
    if lowered in ("ree2o3", "tree", "sum ree"):
        return "REE"
    raise ValueError(
        f"unknown component {raw!r}: use an element symbol (e.g. P, Cd), a listed compound "
        f"(e.g. P2O5, Fe2O3, CaF2, SO4) or an aggregate parameter ({', '.join(AGGREGATES)})"
    )


def element_fraction(component: str, element: str) -> float | None:
    """Mass fraction of ``element`` in ``component`` (1.0 for the element itself).

    None when the component does not contain the element or is an aggregate.
    Example: element_fraction('P2O5', 'P') = 2*30.974/141.94 = 0.4364.
    """
    comp = components()[canonical_component(component)]
    if comp.kind == "aggregate" or comp.molar_mass is None:
        return None
    if comp.kind == "element":
        return 1.0 if comp.id == element else None
    formula = "NO2" if comp.id == "NOx" else comp.id
    counts = parse_formula(formula)
    if element not in counts:
        return None
    return counts[element] * ATOMIC_WEIGHTS[element] / comp.molar_mass


def canonical_unit(text: str) -> str:
    """Canonical unit string; raises ValueError naming the accepted units."""
    raw = text.strip()
    if raw in UNIT_FACTORS:
        return raw
    lowered = raw.lower().replace("μ", "µ")
    if lowered in UNIT_FACTORS:
        return lowered
    if lowered in _UNIT_ALIASES:
        return _UNIT_ALIASES[lowered]
    raise ValueError(f"unknown unit {raw!r}: use one of {', '.join(UNIT_FACTORS)}")


def to_fraction(value: float, unit: str) -> float:
    """A value in ``unit`` as a weight fraction (20 wt% -> 0.2; 150 mg/kg -> 0.00015)."""
    return value * UNIT_FACTORS[canonical_unit(unit)]


# ---------------------------------------------------------------------------------------------
# Specification limits

_OPS = {"<": "<", "<=": "<=", "≤": "<=", "=<": "<=", ">": ">", ">=": ">=", "≥": ">=", "=>": ">=",
        "max": "<=", "maks": "<=", "min": ">=", "maximum": "<=", "minimum": ">="}  # fmt: skip
_LIMIT = re.compile(
    r"^\s*(?P<comp>[^\s<>=≤≥]+?)\s*(?P<op><=|>=|=<|=>|≤|≥|<|>|\bmaks\b|\bmax(?:imum)?\b|\bmin(?:imum)?\b)\s*"
    r"(?P<value>\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?)\s*(?P<unit>\S.*?)?\s*$",
    re.IGNORECASE,
)
_PREFERENCE = re.compile(
    r"^\s*(?P<comp>\S+?)\s*(?::\s*)?(?P<dir>lowest|as low as|lavest|minimal|highest|as high as|høyest)"
    r"(?:\s+(?:possible|as possible|mulig))?\s*$",
    re.IGNORECASE,
)


def parse_limit(text: str) -> dict[str, object]:
    """Parse one specification limit into {component, op, value, unit}.

    Accepted forms: "Cl < 0.1 %", "P ≥ 10 %", "P >= 10 wt%", "Fe2O3 <= 5%", "Cd < 20 mg/kg",
    "Cl max 0,1 %" (Norwegian decimal comma), "TOC lowest possible" / "TOC lavest mulig"
    (a soft preference: op 'lowest', no value), "Cu highest possible" (op 'highest').
    Raises ValueError saying what is wrong with the text.
    """
    pref = _PREFERENCE.match(text)
    if pref:
        direction = pref.group("dir").lower()
        op = "highest" if direction in ("highest", "as high as", "høyest") else "lowest"
        return {"component": canonical_component(pref.group("comp")), "op": op, "value": None,
                "unit": None}  # fmt: skip
    match = _LIMIT.match(text)
    if match is None:
        raise ValueError(
            f"cannot read limit {text!r}: write '<component> <op> <value> <unit>', e.g. "
            "'Cl < 0.1 %', 'P >= 10 wt%', 'Cd < 20 mg/kg', or 'TOC lowest possible'"
        )
    if not match.group("unit"):
        raise ValueError(f"limit {text!r} has no unit (e.g. wt%, mg/kg)")
    return {
        "component": canonical_component(match.group("comp")),
        "op": _OPS[match.group("op").lower()],
        "value": float(match.group("value").replace(",", ".")),
        "unit": canonical_unit(match.group("unit")),
    }


# ---------------------------------------------------------------------------------------------
# Evaluation of a composition against limits

Status = Literal["pass", "fail", "unknown", "preference"]
_EPS = 1e-9  # relative slack so that a converted 8.7300000001 % still meets "P >= 8.73 %"


@dataclass(frozen=True)
class Limit:
    """A limit in normalised form: component, op, value as a weight fraction (None = preference)."""

    component: str
    op: str
    fraction: float | None

    @property
    def hard(self) -> bool:
        return self.op not in ("lowest", "highest")


@dataclass(frozen=True)
class LimitResult:
    """The outcome of one limit for one composition, with the numbers used."""

    component: str
    op: str
    limit_fraction: float | None
    status: Status
    hard: bool
    value_min: float | None  # the stream's content on the limit's basis, weight fraction
    value_max: float | None
    source: str | None  # how the value was obtained, e.g. "P2O5 × 0.4364"
    reason: str


def key_element(component: str) -> str | None:
    """The element a limit on ``component`` is about (P for P2O5, F for CaF2); None for aggregates."""
    return components()[canonical_component(component)].key_element


def resolve_content(
    composition: dict[str, tuple[float, float]], component: str
) -> tuple[float, float, str] | None:
    """Content of ``component`` in a composition {component: (min, max) fractions}, or None.

    Order: the component itself if reported; else its key element, reported directly or summed
    over every reported compound containing it, converted to the component's basis
    (value_X = value_E / fraction of E in X). Aggregates (TOC, LOI, ...) are only used directly.
    """
    target = canonical_component(component)
    if target in composition:
        low, high = composition[target]
        return low, high, target
    comp = components()[target]
    if comp.kind == "aggregate" or comp.key_element is None:
        return None
    element = comp.key_element
    f_target = element_fraction(target, element)
    if not f_target:
        return None
    if element in composition:
        low, high = composition[element]
        sources = [element]
    else:
        low = high = 0.0
        sources = []
        for name, (lo, hi) in sorted(composition.items()):
            if components()[name].kind == "aggregate":
                continue
            f = element_fraction(name, element)
            if f:
                low += lo * f
                high += hi * f
                sources.append(f"{name} × {f:.4f}")
        if not sources:
            return None
    note = " + ".join(sources) + (f" ÷ {f_target:.4f}" if target != element else "")
    return low / f_target, high / f_target, note


def judge(op: str, limit: float | None, low: float, high: float) -> tuple[Status, str]:
    """Status of a content range [low, high] against one limit (same rules as the SQL matcher)."""
    if limit is None:
        return "preference", "soft preference, ranks candidates"
    slack = _EPS * max(limit, 1e-12)
    if op in ("<", "<="):
        ok = high < limit - slack if op == "<" else high <= limit + slack
        bad = low >= limit - slack if op == "<" else low > limit + slack
    else:
        ok = low > limit + slack if op == ">" else low >= limit - slack
        bad = high <= limit + slack if op == ">" else high < limit - slack
    if ok:
        return "pass", "within the limit"
    if bad:
        return "fail", "outside the limit"
    return "unknown", "the analysed range straddles the limit"


def evaluate(composition: dict[str, tuple[float, float]], limits: list[Limit]) -> list[LimitResult]:
    """Per-limit pass / fail / unknown for one composition {component: (min, max) fractions}."""
    results = []
    for limit in limits:
        found = resolve_content(composition, limit.component)
        if found is None:
            status: Status = "unknown" if limit.hard else "preference"
            results.append(
                LimitResult(
                    limit.component,
                    limit.op,
                    limit.fraction,
                    status,
                    limit.hard,
                    None,
                    None,
                    None,
                    "not analysed",
                )  # fmt: skip
            )
            continue
        low, high, source = found
        status, reason = judge(limit.op, limit.fraction, low, high)
        results.append(
            LimitResult(
                limit.component,
                limit.op,
                limit.fraction,
                status,
                limit.hard,
                low,
                high,
                source,
                reason,
            )  # fmt: skip
        )
    return results


def component_element_table() -> list[tuple[str, str, float]]:
    """(component, element, mass fraction of element) for every non-aggregate component.

    The set-based matcher joins compositions with this table to convert oxides and compounds.
    """
    rows = []
    for comp in components().values():
        if comp.kind == "aggregate":
            continue
        formula = "NO2" if comp.id == "NOx" else comp.id
        for element in parse_formula(formula):
            fraction = element_fraction(comp.id, element)
            if fraction:
                rows.append((comp.id, element, fraction))
    return rows
