"""Norway's position (world share, market shares, RCA, trend) on small real slices."""

from __future__ import annotations

import pyarrow as pa
import pytest

from verdikart.indicators import position as pos
from verdikart.indicators import trade as tr
from verdikart.store import Store


@pytest.fixture(scope="module")
def store() -> Store:
    return Store.open(None)


def _sum(store: Store, where: str) -> float:
    row = store.con.execute(
        f"SELECT coalesce(sum(value_kusd), 0) FROM trade WHERE {where}"
    ).fetchall()[0]
    return float(row[0])


def _markets(rows: dict[str, list[str]]) -> pa.Table:
    market = [m for m, members in rows.items() for _ in members]
    iso3 = [c for members in rows.values() for c in members]
    none = pa.array([None] * len(iso3), pa.int32())
    return pa.table({"market": market, "iso3": iso3, "year_from": none, "year_to": none})


def test_world_share_rca_and_market_share(store: Store) -> None:
    products = tr.hs6_products(["260400", "810510"])
    markets = _markets({"NORDIC": ["NOR", "SWE", "DNK", "FIN", "ISL"]})
    rows = {
        r["product"]: r
        for r in pos.position(
            store.engine(), tr.country_reporters(["NOR"]), markets, products, [2022]
        ).to_pylist()
    }
    # Aggregates of the real 2022 rows (basket = the two codes under study)
    x_ij = _sum(store, "year = 2022 AND hs6 = '810510' AND exporter = 'NOR'")  # 225506.405
    x_wj = _sum(store, "year = 2022 AND hs6 = '810510'")
    x_i = _sum(store, "year = 2022 AND hs6 IN ('260400','810510') AND exporter = 'NOR'")
    x_w = _sum(store, "year = 2022 AND hs6 IN ('260400','810510')")
    assert x_ij == pytest.approx(225506.405)
    r = rows["810510"]
    assert r["export_value_kusd"] == pytest.approx(x_ij)
    assert r["world_export_share"] == pytest.approx(x_ij / x_wj)
    # Balassa (1965): RCA = (X_ij / X_i) / (X_wj / X_w)
    assert r["rca"] == pytest.approx((x_ij / x_i) / (x_wj / x_w))
    # Norway's share of the other Nordic countries' imports (Norway itself removed)
    others = "('SWE','DNK','FIN','ISL')"
    to_mk = _sum(
        store, f"year = 2022 AND hs6 = '810510' AND exporter = 'NOR' AND importer IN {others}"
    )
    mk_all = _sum(store, f"year = 2022 AND hs6 = '810510' AND importer IN {others}")
    mk_ext = _sum(
        store,
        f"year = 2022 AND hs6 = '810510' AND importer IN {others} AND exporter NOT IN {others}",
    )
    assert r["NORDIC_import_value_kusd"] == pytest.approx(mk_all)
    assert r["NORDIC_share"] == pytest.approx(to_mk / mk_all)
    assert r["NORDIC_external_share"] == pytest.approx(to_mk / mk_ext)


def test_store_basket_rca_differs(store: Store) -> None:
    products = tr.hs6_products(["810510"])
    empty = _markets({})
    one = pos.position(
        store.engine(), tr.country_reporters(["NOR"]), empty, products, [2022]
    ).to_pylist()[0]
    # a basket of one code: RCA = (X_ij/X_ij) / (X_wj/X_wj) = 1 by construction
    assert one["rca"] == pytest.approx(1.0)
    wide = pos.position(
        store.engine(), tr.country_reporters(["NOR"]), empty, products, [2022], basket="store"
    ).to_pylist()[0]
    x_i = _sum(store, "year = 2022 AND exporter = 'NOR'")
    x_w = _sum(store, "year = 2022")
    assert wide["rca"] == pytest.approx(
        (225506.405 / x_i) / (wide["world_export_value_kusd"] / x_w)
    )


def test_trend_is_ols_slope_over_five_years(store: Store) -> None:
    products = tr.hs6_products(["810510"])
    series = pos.world_share_series(
        store.engine(), tr.country_reporters(["NOR"]), products, list(range(2018, 2023))
    ).to_pylist()
    assert [r["year"] for r in series] == [2018, 2019, 2020, 2021, 2022]
    xs = [r["year"] for r in series]
    ys = [r["world_export_share"] for r in series]
    mx, my = sum(xs) / 5, sum(ys) / 5
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    r = pos.position(
        store.engine(), tr.country_reporters(["NOR"]), _markets({}), products, [2022]
    ).to_pylist()[0]
    assert r["world_export_share_slope"] == pytest.approx(slope)
    assert r["world_export_share_start"] == pytest.approx(ys[0])
    assert r["trend_start_year"] == 2018


def test_group_focal_overlapping_market(store: Store) -> None:
    # focal {NOR, SWE}, market {SWE, FIN, DEU}: the market seen by the focal is M' = {FIN, DEU}
    focal = pa.table(
        {
            "reporter": ["NS", "NS"],
            "iso3": ["NOR", "SWE"],
            "year_from": pa.array([None, None], pa.int32()),
            "year_to": pa.array([None, None], pa.int32()),
        }
    )
    markets = _markets({"MK": ["SWE", "FIN", "DEU"]})
    r = pos.position(
        store.engine(), focal, markets, tr.hs6_products(["760110"]), [2022]
    ).to_pylist()[0]
    base = "year = 2022 AND hs6 = '760110' AND importer IN ('FIN','DEU')"
    total = _sum(store, base)
    ext = _sum(store, base + " AND exporter NOT IN ('FIN','DEU')")
    from_focal = _sum(store, base + " AND exporter IN ('NOR','SWE')")
    assert r["MK_import_value_kusd"] == pytest.approx(total)
    assert r["MK_share"] == pytest.approx(from_focal / total)
    assert r["MK_external_share"] == pytest.approx(from_focal / ext)
    # the group's exports leave out NOR <-> SWE flows
    x = _sum(
        store,
        "year = 2022 AND hs6 = '760110' AND exporter IN ('NOR','SWE') "
        "AND importer NOT IN ('NOR','SWE')",
    )
    assert r["export_value_kusd"] == pytest.approx(x)
