"""Validation at the edge: the exchange's pydantic schemas give clear, field-naming errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from verdikart.exchange.schemas import NeedCreate, StreamCreate, quantity_band

BASE: dict[str, Any] = {
    "summary": {
        "name_public": "Fosfatholdig slam",
        "material_class": "phosphate",
        "kind": "by-product",
        "region": "Telemark",
        "hazardous": False,
    },
    "details": {
        "name": "Slam fra nitrofosfatprosess",
        "quantity_t_per_year": 8000,
        "current_treatment": "landfill",
        "site": {"name": "Herøya", "municipality": "Porsgrunn", "lat": 59.114, "lon": 9.641},
        "composition": [
            {"component": "P2O5", "value_min": 18, "value_max": 22, "unit": "wt%"},
            {"component": "Cd", "value": 1.5, "unit": "mg/kg"},
        ],
    },
}


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


def _errors(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        StreamCreate.model_validate(data)
    return str(info.value)


def test_valid_stream_derives_public_fields() -> None:
    stream = StreamCreate.model_validate(BASE)
    assert stream.summary.quantity_band == "1–10 kt"
    assert stream.summary.critical_materials == ["phosphate-rock", "phosphorus"]
    assert stream.details.composition[0].fraction_min == pytest.approx(0.18)
    assert stream.details.composition[1].fraction_max == pytest.approx(1.5e-6)


@pytest.mark.parametrize(
    ("tonnes", "band"),
    [(0, "<1 kt"), (999.9, "<1 kt"), (1000, "1–10 kt"), (99_999, "10–100 kt"), (1e5, "≥100 kt")],
)
def test_quantity_bands(tonnes: float, band: str) -> None:
    assert quantity_band(quantity_t=tonnes) == band


def test_energy_band() -> None:
    assert quantity_band(energy_gwh=0.5) == "<1 GWh"
    assert quantity_band(energy_gwh=120) == "≥100 GWh"


@pytest.mark.parametrize(
    ("path", "value", "field", "fragment"),
    [
        ("details.quantity_t_per_year", -5, "details.quantity_t_per_year", "greater than or equal"),
        ("details.composition.1", {"component": "Cd", "value": -1, "unit": "mg/kg"},
         "details.composition.1", "value -1.0 is negative"),
        ("details.composition.0", {"component": "P2O5", "value_min": 22, "value_max": 18,
                                   "unit": "wt%"},
         "details.composition.0", "value_min 22.0 > value_max 18.0"),
        ("details.composition.1", {"component": "Xq", "value": 1, "unit": "mg/kg"},
         "details.composition.1.component", "unknown component 'Xq'"),
        ("details.composition.1", {"component": "Cd", "value": 1, "unit": "furlongs"},
         "details.composition.1.unit", "unknown unit 'furlongs'"),
        ("summary.ewc_code", "10 01 98", "summary.ewc_code", "not on the European List of Waste"),
        ("summary.region", "Viken", "summary.region", "dissolved on 1 January 2024"),
        ("summary.region", "Atlantis", "summary.region", "unknown county"),
        ("summary.material_class", "unobtainium", "summary.material_class",
         "unknown material class"),
        ("details.site.lat", 95, "details.site.lat", "less than or equal to 90"),
    ],
)  # fmt: skip
def test_field_errors(path: str, value: Any, field: str, fragment: str) -> None:
    message = _errors(_with(path, value))
    assert field in message
    assert fragment in message


def test_sum_over_100_uses_range_minima() -> None:
    data = copy.deepcopy(BASE)
    data["details"]["composition"] = [
        {"component": "SiO2", "value_min": 60, "value_max": 70, "unit": "wt%"},
        {"component": "CaO", "value_min": 41, "value_max": 45, "unit": "wt%"},
    ]
    message = _errors(data)
    assert "details" in message and "at least 101.00 wt%" in message
    # maxima may add up to more than 100 %: only the minima are summed
    data["details"]["composition"][1]["value_min"] = 35
    StreamCreate.model_validate(data)
    # aggregates (LOI, TOC) overlap other components and are not summed
    data["details"]["composition"].append({"component": "LOI", "value": 20, "unit": "wt%"})
    StreamCreate.model_validate(data)


def test_duplicate_component() -> None:
    data = copy.deepcopy(BASE)
    data["details"]["composition"].append({"component": "Cd", "value": 2, "unit": "ppm"})
    assert "component Cd is listed twice" in _errors(data)


def test_hazardous_flag_must_match_waste_code() -> None:
    data = copy.deepcopy(BASE)
    data["summary"].update(kind="waste", ewc_code="10 03 19*", hazardous=False)
    message = _errors(data)
    assert "hazardous: stream says not hazardous but waste code 10 03 19* is a hazardous" in message
    data["summary"]["hazardous"] = True
    assert StreamCreate.model_validate(data).summary.ewc_code == "100319"


def test_waste_needs_a_code() -> None:
    data = _with("summary.kind", "waste")
    assert "ewc_code: a waste stream needs its List of Waste code" in _errors(data)


def test_surplus_energy_needs_energy() -> None:
    data = _with("summary.kind", "surplus-energy")
    data["summary"]["material_class"] = "surplus-heat"
    assert "details.energy_gwh_per_year: a surplus-energy stream needs it" in _errors(data)


def test_supplied_derived_values_must_agree() -> None:
    data = _with("summary.quantity_band", "≥100 kt")
    assert "summary.quantity_band: '≥100 kt' does not match" in _errors(data)


def test_need_parses_limit_strings() -> None:
    need = NeedCreate(
        material_class="phosphate",
        limits=["P >= 10 wt%", "Cd < 20 mg/kg", "TOC lowest possible"],
        site={"name": "Herøya", "lat": 59.114, "lon": 9.641},
    )
    assert [(lim.component, lim.op, lim.value, lim.unit) for lim in need.limits] == [
        ("P", ">=", 10.0, "wt%"),
        ("Cd", "<", 20.0, "mg/kg"),
        ("TOC", "lowest", None, None),
    ]
    assert [lim.hard for lim in need.limits] == [True, True, False]
    assert need.limits[1].fraction == pytest.approx(2e-5)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"limits": ["P => ten"]}, "limits[0]: cannot read limit 'P => ten'"),
        ({"limits": ["Cl < 0.1"]}, "has no unit"),
        ({"limits": ["Zz < 1 %"]}, "unknown component 'Zz'"),
        ({"quantity_t_per_year_min": 10, "quantity_t_per_year_max": 5}, "min 10.0 > "),
        ({"limits": [{"component": "P", "op": ">=", "value": 150, "unit": "wt%"}]}, "over 100 %"),
    ],
)
def test_need_errors(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        NeedCreate(material_class="phosphate", site={"name": "X"}, **kwargs)
    assert fragment in str(info.value)
