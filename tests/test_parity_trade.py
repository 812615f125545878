"""Trade indicators and supplier shares give the same rows on DuckDB and Spark (bundled data).

Reporters: Norway, the EU27 (a group with accession years, as chains/mapping.py builds it) and
several countries; products: every HS6 code of the reference's materials that the trade data
hold (with material and stage, as chains/mapping.py builds them), per HS6 code, per material
and per material-stage (the import-reliance tests); years with their previous year (yoy);
value and quantity basis; and a company's purchases standing in for the trade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.indicators import trade as tr

pytestmark = pytest.mark.spark

COMPANY_FILE = Path(__file__).parent / "fixtures" / "company" / "fjordmetall_purchases.csv"
COUNTRIES = ["NOR", "SWE", "DEU", "JPN", "CHN", "KAZ", "USA", "ZAF"]
INDICATOR_KEYS = ("reporter", "product", "year")
SHARE_KEYS = ("reporter", "product", "year", "supplier")


def _reference_products(duck_engine: Any, level: str) -> pa.Table:
    """The reference's HS92 codes present in the trade data, one product per HS6 code,
    material or material-stage, with material and stage (chains.mapping.material_products)."""
    from verdikart.reference.materials import material_hs6_table

    trade = duck_engine.relations().trade
    present = {r["hs6"] for r in duck_engine.rows(trade.select("hs6").distinct())}
    rows = [r for r in material_hs6_table("HS92").to_pylist() if r["hs6"] in present]
    product = {
        "hs6": lambda r: r["hs6"],
        "material": lambda r: r["material"],
        "stage": lambda r: f"{r['material']}:{r['stage']}",
    }[level]
    return pa.table(
        {
            "product": pa.array([product(r) for r in rows], pa.string()),
            "hs6": pa.array([r["hs6"] for r in rows], pa.string()),
            "material": pa.array([r["material"] for r in rows], pa.string()),
            "stage": pa.array([r["stage"] for r in rows], pa.string()),
        }
    )


def _eu27() -> pa.Table:
    from verdikart.chains.mapping import reporter_table

    reporters, rid, _ = reporter_table("EU27")
    assert rid == "EU27" and reporters.num_rows >= 27
    return reporters


def _company() -> tuple[pa.Table, pa.Table, pa.Table, list[int]]:
    """A company's purchases as assess_company hands them over: (reporters, products, flows,
    years)."""
    from verdikart.indicators.company import COMPANY, _as_flows, read_purchases

    purchases = read_purchases(COMPANY_FILE)
    flows = _as_flows(purchases, "company purchases file")
    products = tr.hs6_products(sorted(set(purchases.column("product").to_pylist())))
    years = sorted(set(purchases.column("year").to_pylist()))
    return tr.country_reporters([COMPANY]), products, flows, years


def _same(duck: pa.Table, spark: pa.Table, keys: tuple[str, ...]) -> None:
    assert duck.num_rows > 0
    assert duck.schema == spark.schema, (duck.schema, spark.schema)
    assert_same_rows(duck, spark, keys)
    # the same sort order on both engines
    order = [tuple(r[k] for k in keys) for r in duck.select(list(keys)).to_pylist()]
    assert order == [tuple(r[k] for k in keys) for r in spark.select(list(keys)).to_pylist()]


def _all_reporters() -> pa.Table:
    """The EU27 (its members with their years) and the countries, as one reporters relation."""
    countries = tr.country_reporters(COUNTRIES)
    return pa.concat_tables(
        [_eu27().select(countries.column_names).cast(countries.schema), countries]
    )


def _all_products(duck_engine: Any) -> pa.Table:
    """Products per HS6 code, per material and per material-stage, as one products relation."""
    return pa.concat_tables(
        [_reference_products(duck_engine, level) for level in ("hs6", "material", "stage")]
    )


# basis -> years (each with its previous year for yoy; 2000 and 2004 straddle EU accessions)
YEARS = {"value": [2000, 2004, 2021, 2022], "quantity": [2016, 2021, 2022]}


@pytest.mark.parametrize("basis", list(YEARS))
def test_trade_indicators_parity(basis: str, duck_engine: Any, spark_engine: Any) -> None:
    args = (_all_reporters(), _all_products(duck_engine), YEARS[basis])
    duck = tr.trade_indicators(duck_engine, *args, basis=basis)
    spark = tr.trade_indicators(spark_engine, *args, basis=basis)
    _same(duck, spark, INDICATOR_KEYS)
    rows = {(r["reporter"], r["product"], r["year"]): r for r in spark.to_pylist()}
    assert {r[0] for r in rows} == {"EU27", *COUNTRIES}
    assert any(r["import_value_yoy"] is not None for r in rows.values())
    assert any(r["import_quantity_t"] is None for r in rows.values())
    if basis == "quantity":
        # import reliance reached (JPN bismuth 2022, tests/test_trade_indicators.py) and the
        # USGS "E" rule (KAZ bismuth 2022)
        jpn = rows[("JPN", "bismuth:processing", 2022)]
        assert jpn["import_reliance"] == pytest.approx(0.1947903, abs=1e-7)
        assert 'net exporter (USGS "E")' in rows[("KAZ", "bismuth:processing", 2022)]["notes"]
        assert any("shares unknown on quantity basis" in r["notes"] for r in rows.values())


@pytest.mark.parametrize("basis", list(YEARS))
def test_supplier_shares_parity(basis: str, duck_engine: Any, spark_engine: Any) -> None:
    args = (_all_reporters(), _all_products(duck_engine), YEARS[basis])
    duck = tr.supplier_shares(duck_engine, *args, basis=basis)
    spark = tr.supplier_shares(spark_engine, *args, basis=basis)
    _same(duck, spark, SHARE_KEYS)
    # EU27 imports are extra-EU on both engines, with the members of each year
    from verdikart.reference.countries import group_members

    for year in YEARS[basis]:
        eu = set(group_members("EU27", year))
        assert (
            not {
                r["supplier"]
                for r in spark.to_pylist()
                if r["reporter"] == "EU27" and r["year"] == year
            }
            & eu
        )


@pytest.mark.parametrize("basis", ["value", "quantity"])
def test_company_purchases_parity(basis: str, duck_engine: Any, spark_engine: Any) -> None:
    reporters, products, flows, years = _company()
    args = (reporters, products, years)
    for fn, keys in ((tr.trade_indicators, INDICATOR_KEYS), (tr.supplier_shares, SHARE_KEYS)):
        duck = fn(duck_engine, *args, basis=basis, flows=flows)
        spark = fn(spark_engine, *args, basis=basis, flows=flows)
        _same(duck, spark, keys)


def test_trade_not_analysed_parity(duck_engine: Any, spark_engine: Any) -> None:
    # the bundled trade is one dataset in one revision: nothing left out on either engine
    assert tr.trade_not_analysed(duck_engine, 2022) == tr.trade_not_analysed(spark_engine, 2022)
