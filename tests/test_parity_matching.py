"""Side-stream <-> need matching gives the same ranked rows on DuckDB and on Spark."""

from __future__ import annotations

import math
import random
from typing import Any, Literal

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.exchange.matching import STREAM_FIELDS, coarsen_sites, rank_matches

pytestmark = pytest.mark.spark

CLASSES = ["phosphate", "fly-ash", "sludge", "slag", "dust"]
# elements, oxides and salts (converted to the limit's key element) and one aggregate
COMPONENTS = ["P", "P2O5", "Ca3(PO4)2", "Cd", "CdO", "Cl", "CaCl2", "Zn", "ZnO", "SiO2",
              "Fe2O3", "CaO", "CaSO4·2H2O", "MnO", "DOC"]  # fmt: skip
LIMIT_SETS: list[list[tuple[str, str, float | None]]] = [
    [("P", ">=", 0.08), ("Cd", "<", 2e-5), ("Cl", "lowest", None)],
    [("P2O5", ">", 0.15), ("Zn", "<=", 0.01)],
    [("SiO2", ">=", 0.85)],
    [("Fe2O3", "<", 0.1047), ("MnO", "highest", None), ("CaO", ">=", 0.2)],
    [("Cl", "lowest", None)],
    [],
    [("P", ">=", 0.05), ("P", ">=", 0.05), ("DOC", "<", 0.03)],
]
QUANTITY_BANDS = ["≥100 kt", "10–100 kt", "1–10 kt", "100–1000 t", "<100 t"]


def _inputs(n_streams: int = 300, n_needs: int = 120, seed: int = 8) -> tuple[pa.Table, ...]:
    """A register of streams (compositions with ranges and gaps, unknown sites and quantities,
    hazardous ones) and needs (accepted classes, hard and soft limits, shared limit sets)."""
    r = random.Random(seed)

    def site() -> tuple[float | None, float | None]:
        if r.random() < 0.08:
            return None, None
        return 58 + r.random() * 12, 5 + r.random() * 25

    streams: dict[str, list[Any]] = {name: [] for name, _ in STREAM_FIELDS}
    streams["critical_materials"] = []
    comp: dict[str, list[Any]] = {"stream_id": [], "component": [], "value_min": [],
                                  "value_max": []}  # fmt: skip
    for i in range(n_streams):
        sid = f"s{i:04d}"
        lat, lon = site()
        row = {
            "stream_id": sid,
            "material_class": r.choice(CLASSES),
            "hazardous": r.random() < 0.2,
            "quantity_t_per_year": None if r.random() < 0.1 else round(50 + r.random() * 60000),
            "lat": lat,
            "lon": lon,
            "name_public": f"stream {i}",
            "kind": r.choice(["waste", "by-product"]),
            "quantity_band": r.choice(QUANTITY_BANDS),
            "region": r.choice(["Agder", "Telemark", "Nordland"]),
            "ewc_code": None if r.random() < 0.7 else "10 02 08",
            "critical_materials": r.choice([[], ["phosphorus"], ["zinc", "phosphate-rock"]]),
        }
        for name, value in row.items():
            streams[name].append(value)
        for component in r.sample(COMPONENTS, r.randint(0, 6)):
            value = r.choice([r.random() * 0.4, r.random() * 1e-4, r.random() * 0.05])
            comp["stream_id"].append(sid)
            comp["component"].append(component)
            comp["value_min"].append(value)
            comp["value_max"].append(value if r.random() < 0.6 else value * 1.3)
    needs: dict[str, list[Any]] = {
        c: []
        for c in ("need_id", "material_class", "accepts_hazardous", "quantity_t_min",
                  "quantity_t_max", "max_distance_km", "lat", "lon", "accepted_classes")
    }  # fmt: skip
    limits: dict[str, list[Any]] = {"need_id": [], "component": [], "op": [], "value": []}
    for i in range(n_needs):
        nid = f"n{i:04d}"
        lat, lon = site()
        row = {
            "need_id": nid,
            "material_class": r.choice(CLASSES),
            "accepts_hazardous": r.random() < 0.3,
            "quantity_t_min": r.choice([None, 0.0, 1000.0, 5000.0, 20000.0]),
            "quantity_t_max": None,
            "max_distance_km": r.choice([None, 40.0, 150.0, 300.0, 800.0]),
            "lat": lat,
            "lon": lon,
            "accepted_classes": r.choice([[], [r.choice(CLASSES)], [r.choice(CLASSES)] * 2]),
        }
        for name, value in row.items():
            needs[name].append(value)
        for component, op, bound in r.choice(LIMIT_SETS):
            limits["need_id"].append(nid)
            limits["component"].append(component)
            limits["op"].append(op)
            limits["value"].append(bound)
    return (
        pa.table(streams).cast(
            pa.schema([*STREAM_FIELDS, ("critical_materials", pa.list_(pa.string()))])
        ),
        pa.table(comp).cast(
            pa.schema(
                [
                    ("stream_id", pa.string()),
                    ("component", pa.string()),
                    ("value_min", pa.float64()),
                    ("value_max", pa.float64()),
                ]
            )
        ),  # fmt: skip
        pa.table(needs).cast(
            pa.schema(
                [
                    ("need_id", pa.string()),
                    ("material_class", pa.string()),
                    ("accepts_hazardous", pa.bool_()),
                    ("quantity_t_min", pa.float64()),
                    ("quantity_t_max", pa.float64()),
                    ("max_distance_km", pa.float64()),
                    ("lat", pa.float64()),
                    ("lon", pa.float64()),
                    ("accepted_classes", pa.list_(pa.string())),
                ]
            )
        ),  # fmt: skip
        pa.table(limits).cast(
            pa.schema(
                [
                    ("need_id", pa.string()),
                    ("component", pa.string()),
                    ("op", pa.string()),
                    ("value", pa.float64()),
                ]
            )
        ),  # fmt: skip
    )


def _split_limits(table: pa.Table) -> tuple[pa.Table, list[tuple[Any, ...]]]:
    """The result without its `limits` list, and the list flattened to one tuple per limit
    (numbers compared with a tolerance: sums over compounds may differ in the last bits)."""
    flat = [
        (row["need_id"], row["stream_id"], i, limit)
        for row in table.to_pylist()
        for i, limit in enumerate(row["limits"])
    ]
    return table.drop_columns(["limits"]), flat


def _same_limits(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    assert len(a) == len(b)
    for (*key_a, la), (*key_b, lb) in zip(a, b, strict=True):
        assert key_a == key_b
        assert la.keys() == lb.keys()
        for name, va in la.items():
            vb = lb[name]
            if isinstance(va, float) and isinstance(vb, float):
                assert math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-15), (key_a, name, va, vb)
            else:
                assert va == vb, (key_a, name, va, vb)


@pytest.mark.parametrize(
    ("per", "coarse", "include_excluded", "hard_counts"),
    [
        ("need", False, True, "auto"),
        ("need", True, False, "pairs"),
        ("stream", False, False, "signatures"),
        ("stream", True, True, "auto"),
    ],
)
def test_matching_same_on_duckdb_and_spark(
    spark_engine: Any,
    duck_engine: Any,
    per: Literal["need", "stream"],
    coarse: bool,
    include_excluded: bool,
    hard_counts: Literal["auto", "pairs", "signatures"],
) -> None:
    streams, composition, needs, limits = _inputs()
    if coarse:  # as the exchange does for the undisclosed side
        if per == "need":
            streams = coarsen_sites(streams)
        else:
            needs = coarsen_sites(needs)
    kwargs: dict[str, Any] = {
        "per": per, "k": 5, "coarse": coarse, "include_excluded": include_excluded,
        "hard_counts": hard_counts,
    }  # fmt: skip
    on_duckdb = rank_matches(streams, composition, needs, limits, engine=duck_engine, **kwargs)
    on_spark = rank_matches(streams, composition, needs, limits, engine=spark_engine, **kwargs)
    # a realistic set: hundreds of ranked pairs, with exclusions, unknowns and conversions
    assert on_duckdb.num_rows > 200
    assert on_duckdb.schema == on_spark.schema
    keys = ["need_id", "stream_id"]
    # the same order (partition id, rank) on both engines
    assert on_duckdb.select(keys).to_pylist() == on_spark.select(keys).to_pylist()
    rows_duckdb, limits_duckdb = _split_limits(on_duckdb)
    rows_spark, limits_spark = _split_limits(on_spark)
    assert_same_rows(rows_duckdb, rows_spark, keys)
    _same_limits(limits_duckdb, limits_spark)
    assert any(source and "×" in source for *_, x in limits_duckdb for source in [x["source"]])
    if include_excluded:
        assert any(on_duckdb.column("excluded").to_pylist())
