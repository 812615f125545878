"""Set-based matching of side streams to needs: ranking, exclusions, explanations, redaction."""

from __future__ import annotations

import math
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pytest

from verdikart.engine import DuckDBEngine
from verdikart.errors import ExchangeError
from verdikart.exchange import composition as comp
from verdikart.exchange.matching import (
    distance_band,
    haversine_km,
    needs_relations,
    rank_matches,
    redact_match,
    redact_matches,
    streams_relations,
)
from verdikart.exchange.schemas import NeedCreate, StreamCreate

HEROYA = (59.114, 9.641)
MO_I_RANA = (66.313, 14.142)


def test_haversine_porsgrunn_kvinesdal() -> None:
    # Porsgrunn 59.1405 N 9.6561 E -> Kvinesdal 58.3167 N 6.9667 E; cross-check with the
    # spherical law of cosines on the same sphere (R = 6371.0088 km): 180.23 km
    p1, l1, p2, l2 = map(math.radians, (59.1405, 9.6561, 58.3167, 6.9667))
    cosines = 6371.0088 * math.acos(
        math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1)
    )
    assert haversine_km(59.1405, 9.6561, 58.3167, 6.9667) == pytest.approx(cosines, abs=1e-6)
    assert haversine_km(59.1405, 9.6561, 58.3167, 6.9667) == pytest.approx(180.23, abs=0.01)
    assert haversine_km(60.0, 10.0, 60.0, 10.0) == 0.0


@pytest.mark.parametrize(
    ("km", "band"),
    [(None, "unknown"), (3.5, "<25 km"), (25, "25–50 km"), (180, "100–250 km"), (900, "≥500 km")],
)
def test_distance_band(km: float | None, band: str) -> None:
    assert distance_band(km) == band


def _stream(
    name: str,
    cls: str,
    composition: list[dict[str, Any]],
    *,
    where: tuple[float, float] = HEROYA,
    tonnes: float = 8000,
    hazardous: bool = False,
    ewc: str | None = None,
) -> StreamCreate:
    return StreamCreate.model_validate(
        {
            "summary": {
                "name_public": name,
                "material_class": cls,
                "kind": "waste" if ewc else "by-product",
                "region": "Telemark",
                "hazardous": hazardous,
                "ewc_code": ewc,
            },
            "details": {
                "name": name,
                "quantity_t_per_year": tonnes,
                "current_treatment": "landfill",
                "site": {"name": name, "lat": where[0], "lon": where[1]},
                "composition": composition,
            },
        }
    )


def _c(component: str, value: float, unit: str = "wt%") -> dict[str, Any]:
    return {"component": component, "value": value, "unit": unit}


STREAMS = [
    ("ash", _stream("P-rich ash", "fly-ash",
                    [_c("P2O5", 25), _c("Cd", 2, "mg/kg"), _c("Cl", 0.05)],
                    where=(59.14, 9.66))),
    ("sludge", _stream("P sludge", "sludge",
                       [_c("P", 12), _c("Cd", 5, "mg/kg"), _c("Cl", 0.5)], where=(59.05, 9.70))),
    ("haz", _stream("P residue, hazardous", "phosphate", [_c("P", 15)], hazardous=True,
                    ewc="06 05 02*")),
    ("low", _stream("Low-P residue", "phosphate", [_c("P2O5", 10)])),
    ("far", _stream("Far away", "phosphate", [_c("P2O5", 30)], where=MO_I_RANA)),
    ("slag", _stream("Slag", "slag", [_c("P2O5", 25)])),
    ("blank", _stream("Not analysed", "phosphate", [], tonnes=2000)),
]  # fmt: skip

PHOSPHATE_NEED = {
    "name": "Recycled phosphate for fertiliser",
    "material_class": "phosphate",
    "also_classes": ["fly-ash", "sludge"],
    "limits": ["P >= 8 wt%", "Cd < 20 mg/kg", "Cl lowest possible"],
    "quantity_t_per_year_min": 5000,
    "max_distance_km": 300,
    "site": {"name": "Herøya", "lat": HEROYA[0], "lon": HEROYA[1]},
}


def _run(needs: list[tuple[str, NeedCreate]], **kwargs: Any) -> list[dict[str, Any]]:
    streams, composition = streams_relations(STREAMS)
    need_table, limits = needs_relations(needs)
    return rank_matches(streams, composition, need_table, limits, **kwargs).to_pylist()


def test_phosphate_need_finds_p_bearing_streams_and_skips_hazardous() -> None:
    rows = _run([("p", NeedCreate(**PHOSPHATE_NEED))])
    assert [r["stream_id"] for r in rows] == ["ash", "sludge", "blank"]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    ash, sludge, blank = rows
    # ash: P from P2O5 (25 % x 0.4364 = 10.91 % P), Cd and Cl analysed directly
    p_limit = next(x for x in ash["limits"] if x["component"] == "P")
    assert p_limit["status"] == "pass"
    assert p_limit["value_min"] == pytest.approx(0.25 * comp.element_fraction("P2O5", "P"))
    assert p_limit["source"] == "P2O5 × 0.4364"
    assert ash["composition_score"] == 1.0 and ash["quantity_fit"] == 1.0
    assert ash["distance_km"] == pytest.approx(haversine_km(*HEROYA, 59.14, 9.66))
    # lower chloride wins the soft preference
    assert ash["preference_score"] == 1.0 and sludge["preference_score"] == 0.0
    # not analysed: both hard limits unknown -> partial composition score, still a candidate
    assert blank["composition_score"] == 0.5 and blank["n_unknown"] == 2
    assert blank["quantity_fit"] == pytest.approx(2000 / 5000)
    assert "2 limit(s) not determinable from the analysis" in blank["reasons"]
    assert "stream covers 40 % of the minimum quantity" in blank["reasons"]
    assert all(r["matches"] and not r["excluded"] for r in rows)


def test_failed_limit_ranked_last_with_reason_and_hazardous_when_accepted() -> None:
    need = NeedCreate(**{**PHOSPHATE_NEED, "accepts_hazardous": True})
    rows = _run([("p", need)], include_excluded=True)
    ids = [r["stream_id"] for r in rows]
    assert "haz" in ids and "far" not in ids and "slag" not in ids
    assert ids[-1] == "low"
    low = rows[-1]
    assert low["excluded"] and not low["matches"] and low["n_fail"] == 1
    assert low["reasons"][0] == "P >= 8 wt%: fails with 4.364 wt% (P2O5 × 0.4364)"


def test_top_k_and_needs_for_a_stream() -> None:
    silica = NeedCreate(material_class="microsilica", limits=["SiO2 >= 85 %"], site={"name": "X"})
    needs = [("p", NeedCreate(**PHOSPHATE_NEED)), ("si", silica)]
    assert [r["stream_id"] for r in _run(needs, k=1)] == ["ash"]
    per_stream = _run(needs, per="stream")
    assert {(r["stream_id"], r["need_id"]) for r in per_stream} == {
        ("ash", "p"), ("sludge", "p"), ("blank", "p"),
    }  # fmt: skip


def test_sql_statuses_agree_with_python_evaluation() -> None:
    rows = _run([("p", NeedCreate(**{**PHOSPHATE_NEED, "accepts_hazardous": True}))],
                include_excluded=True)  # fmt: skip
    records = dict(STREAMS)
    for row in rows:
        details = records[row["stream_id"]].details
        composition = {e.component: (e.fraction_min, e.fraction_max) for e in details.composition}
        expected = comp.evaluate(
            composition,
            [comp.Limit(x["component"], x["op"], x["limit_value"]) for x in row["limits"]],
        )
        for got, want in zip(row["limits"], expected, strict=True):
            assert got["status"] == want.status, (row["stream_id"], got)
            if want.value_min is not None:
                assert got["value_min"] == pytest.approx(want.value_min)


def test_accepts_duckdb_relations_and_checks_columns() -> None:
    streams, composition = streams_relations(STREAMS)
    needs, limits = needs_relations([("p", NeedCreate(**PHOSPHATE_NEED))])
    con = duckdb.connect()
    rel = con.from_arrow(streams)
    rows = rank_matches(rel, composition, needs, limits, engine=DuckDBEngine(con))
    assert rows.num_rows == 3
    with pytest.raises(ExchangeError, match="streams: missing column"):
        rank_matches(streams.drop_columns(["lat"]), composition, needs, limits)
    bad = pa.table({"need_id": ["p"], "component": ["P"], "op": ["~"], "value": [0.1]})
    with pytest.raises(ExchangeError, match="unknown op"):
        rank_matches(streams, composition, needs, bad)


def test_redaction_hides_values_quantities_and_exact_distance() -> None:
    table = rank_matches(
        *streams_relations(STREAMS), *needs_relations([("p", NeedCreate(**PHOSPHATE_NEED))])
    )
    public = redact_matches(table, authorised=False)
    assert set(public.column_names) == {
        "need_id", "stream_id", "rank", "matches", "distance_band", "name_public",
        "material_class", "kind", "quantity_band", "region", "hazardous", "ewc_code",
        "critical_materials",
    }  # fmt: skip
    for hidden in ("score", "limits", "distance_km", "quantity_t_per_year", "reasons"):
        assert hidden not in public.column_names
    assert public.column("distance_band").to_pylist()[0] == "<25 km"
    assert redact_matches(table, authorised=True) is table
    one = table.to_pylist()[0]
    shown = redact_match(one, authorised=False)
    assert "limits" not in shown and "distance_km" not in shown
    assert shown["quantity_band"] == "1–10 kt" and shown["matches"] is True
    assert redact_match(one, authorised=True) == one


@pytest.mark.parametrize("per", ["need", "stream"])
@pytest.mark.parametrize("include_excluded", [False, True])
@pytest.mark.parametrize("coarse", [False, True])
def test_hard_count_strategies_give_identical_results(
    per: Literal["need", "stream"], include_excluded: bool, coarse: bool
) -> None:
    # needs sharing a limit set (one signature), differing only in hazard acceptance or
    # classes (separate signatures), soft-only and limit-free needs, a duplicated limit
    base = NeedCreate(**PHOSPHATE_NEED)
    needs = [
        ("p1", base),
        ("p2", NeedCreate(**{**PHOSPHATE_NEED, "site": {"name": "Rana", "lat": 66.3, "lon": 14.1}})),
        ("p3", NeedCreate(**{**PHOSPHATE_NEED, "accepts_hazardous": True})),
        ("p4", NeedCreate(**{**PHOSPHATE_NEED, "also_classes": ["slag"]})),
        ("p5", NeedCreate(**{**PHOSPHATE_NEED, "limits": ["Cl lowest possible"]})),
        ("p6", NeedCreate(**{**PHOSPHATE_NEED, "limits": [], "max_distance_km": None})),
        ("p7", NeedCreate(**{**PHOSPHATE_NEED, "limits": ["P >= 8 wt%", "P >= 8 wt%"]})),
    ]  # fmt: skip
    streams, composition = streams_relations(STREAMS)
    need_table, limits = needs_relations(needs)
    results = {
        strategy: rank_matches(
            streams,
            composition,
            need_table,
            limits,
            per=per,
            include_excluded=include_excluded,
            coarse=coarse,
            hard_counts=strategy,
        )
        for strategy in ("pairs", "signatures", "auto")
    }
    assert results["pairs"].num_rows > 0
    assert results["signatures"].equals(results["pairs"])
    assert results["auto"].equals(results["pairs"])
