"""Trade indicators against hand-computed values from small real slices of the bundled BACI data."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from verdikart.indicators import trade as tr
from verdikart.store import Store


@pytest.fixture(scope="module")
def store() -> Store:
    return Store.open(None)


def _one(table: pa.Table) -> dict:
    rows = table.to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_norway_nickel_ore_2022_shares_hhi(store: Store) -> None:
    # Real rows: trade importer NOR, hs6 260400 (nickel ores), 2022 (BACI HS92 V202401b):
    #   CAN 733.331 kUSD 13.849 t;  NLD 1.126 kUSD 0.088 t;  FIN 0.005 kUSD 0.003 t
    # total = 733.331 + 1.126 + 0.005 = 734.462 kUSD; 13.849 + 0.088 + 0.003 = 13.940 t
    # s_CAN = 733.331 / 734.462 = 0.998460097; s_NLD = 0.001533095; s_FIN = 0.000006808
    # HHI = 0.998460097^2 + 0.001533095^2 + 0.000006808^2 = 0.996924916
    r = _one(
        tr.trade_indicators(
            store.engine(), tr.country_reporters(["NOR"]), tr.hs6_products(["260400"]), [2022]
        )
    )
    assert r["import_value_kusd"] == pytest.approx(734.462)
    assert r["import_quantity_t"] == pytest.approx(13.940)
    assert r["n_suppliers"] == 3
    assert r["top_supplier"] == "CAN"
    assert r["top_supplier_share"] == pytest.approx(733.331 / 734.462)
    assert r["top_supplier_share"] == pytest.approx(0.998460097, abs=1e-9)
    assert r["top3_share"] == pytest.approx(1.0)
    assert r["hhi"] == pytest.approx(0.996924916, abs=1e-9)
    assert r["hhi_points"] == pytest.approx(9969.24916, abs=1e-5)
    assert r["concentration_flag"] is True
    # exports NOR -> world of 260400 in 2022: 2801.257 kUSD, so a net exporter
    assert r["export_value_kusd"] == pytest.approx(2801.257)
    assert r["net_import_value_kusd"] == pytest.approx(734.462 - 2801.257)
    # governance (WGI PV, normalised (2.5 - PV)/5), 2022: CAN 0.345437193, NLD 0.356539035,
    # FIN 0.321701658; HHI_WGI = sum s_i^2 g_i
    #   = 0.998460097^2*0.345437193 + 0.001533095^2*0.356539035 + 0.000006808^2*0.321701658
    #   = 0.344374971
    assert r["hhi_wgi"] == pytest.approx(0.344374971, abs=1e-8)
    assert r["governance_coverage"] == pytest.approx(1.0)
    # year-on-year: 2021 imports were AUS 117.475 + FIN 0.021 = 117.496 kUSD
    assert r["import_value_yoy"] == pytest.approx(734.462 / 117.496 - 1)


def test_threshold_option(store: Store) -> None:
    r = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["NOR"]),
            tr.hs6_products(["260400"]),
            [2022],
            threshold=0.999,
        )
    )
    assert r["concentration_flag"] is False  # 0.99846 is not above 0.999


def test_missing_quantity_is_null_with_reason(store: Store) -> None:
    # NOR imports of 260200 (manganese ores) 2022: 7 partners, AUT's row (0.187 kUSD) has no
    # quantity. Value basis: GAB 164019.211 / total 309466.991 = 0.530005512;
    # top-3 = (164019.211 + 143665.604 + 1655.923) / 309466.991 = 0.999592031
    r = _one(
        tr.trade_indicators(
            store.engine(), tr.country_reporters(["NOR"]), tr.hs6_products(["260200"]), [2022]
        )
    )
    assert r["import_value_kusd"] == pytest.approx(309466.991)
    assert r["import_quantity_t"] is None
    assert r["import_quantity_missing_rows"] == 1
    assert "import quantity missing in 1 source row(s)" in r["notes"]
    assert r["top_supplier"] == "GAB"
    assert r["top_supplier_share"] == pytest.approx(0.530005512, abs=1e-9)
    assert r["top3_share"] == pytest.approx(0.999592031, abs=1e-9)
    assert r["concentration_flag"] is False
    # on a quantity basis the shares are unknown (never computed from a partial total)
    q = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["NOR"]),
            tr.hs6_products(["260200"]),
            [2022],
            basis="quantity",
        )
    )
    assert q["hhi"] is None and q["top_supplier_share"] is None
    assert "shares unknown on quantity basis" in q["notes"]
    shares = tr.supplier_shares(
        store.engine(),
        tr.country_reporters(["NOR"]),
        tr.hs6_products(["260200"]),
        [2022],
        basis="quantity",
    ).to_pylist()
    assert all(s["share"] is None for s in shares)
    assert next(s for s in shares if s["supplier"] == "AUT")["quantity_t"] is None


def test_group_flows_between_members_are_internal(store: Store) -> None:
    # A group of EST, LVA, LTU importing 261000 (chromium ores) in 2022. Real rows:
    #   EST <- FIN 6.765, ITA 16.706, NLD 0.757, POL 0.027, ZAF 4184.434
    #   LVA <- EST 5.2 (internal), NLD 0.839, ZAF 845.685
    #   LTU <- ITA 0.081, LVA 7.325 (internal), NLD 24.232, ZAF 90.083
    # ZAF 5120.202, NLD 25.828, ITA 16.787, FIN 6.765, POL 0.027; total 5169.609 kUSD
    members = pa.table(
        {
            "reporter": ["BALTIC"] * 3,
            "iso3": ["EST", "LVA", "LTU"],
            "year_from": pa.array([None] * 3, pa.int32()),
            "year_to": pa.array([None] * 3, pa.int32()),
        }
    )
    r = _one(tr.trade_indicators(store.engine(), members, tr.hs6_products(["261000"]), [2022]))
    assert r["import_value_kusd"] == pytest.approx(5169.609)
    assert r["n_suppliers"] == 5
    assert r["top_supplier"] == "ZAF"
    assert r["top_supplier_share"] == pytest.approx(5120.202 / 5169.609)
    shares = {
        s["supplier"]: s["share"]
        for s in tr.supplier_shares(
            store.engine(), members, tr.hs6_products(["261000"]), [2022]
        ).to_pylist()
    }
    assert "EST" not in shares and "LVA" not in shares
    hand_hhi = sum((v / 5169.609) ** 2 for v in (5120.202, 25.828, 16.787, 6.765, 0.027))
    assert r["hhi"] == pytest.approx(hand_hhi)


def test_eu27_imports_are_extra_eu(store: Store) -> None:
    from verdikart.chains.mapping import reporter_table
    from verdikart.reference.countries import group_members

    reporters, rid, _ = reporter_table("EU27")
    assert rid == "EU27"
    shares = tr.supplier_shares(
        store.engine(), reporters, tr.hs6_products(["261000"]), [2022]
    ).to_pylist()
    eu = set(group_members("EU27", 2022))
    assert shares and not {s["supplier"] for s in shares} & eu
    # membership honours accession years: in 2000 Estonia (joined 2004) is an outside supplier
    older = tr.supplier_shares(
        store.engine(), reporters, tr.hs6_products(["261000"]), [2000]
    ).to_pylist()
    assert not {s["supplier"] for s in older} & set(group_members("EU27", 2000))


def test_material_level_sums_codes(store: Store) -> None:
    # cobalt = 282200 (oxides) + 810510 (matte, unwrought); NOR 2022 imports 52.69 + 162690.165
    products = pa.table({"product": ["cobalt", "cobalt"], "hs6": ["282200", "810510"]})
    r = _one(tr.trade_indicators(store.engine(), tr.country_reporters(["NOR"]), products, [2022]))
    assert r["import_value_kusd"] == pytest.approx(52.69 + 162690.165)
    assert r["hs6_codes"] == "282200,810510"


def test_invariants_over_all_norwegian_imports(store: Store) -> None:
    codes = [r["hs6"] for r in store.rows("SELECT DISTINCT hs6 FROM trade")]
    ind = tr.trade_indicators(
        store.engine(), tr.country_reporters(["NOR"]), tr.hs6_products(codes), [2022]
    )
    shares = tr.supplier_shares(
        store.engine(), tr.country_reporters(["NOR"]), tr.hs6_products(codes), [2022]
    )
    by_product: dict[str, float] = {}
    for s in shares.to_pylist():
        by_product[s["product"]] = by_product.get(s["product"], 0.0) + s["share"]
    assert all(math.isclose(v, 1.0, rel_tol=1e-9) for v in by_product.values())
    for r in ind.to_pylist():
        if r["n_suppliers"]:
            assert 1 / r["n_suppliers"] - 1e-12 <= r["hhi"] <= 1 + 1e-12
            assert r["top_supplier_share"] <= r["top3_share"] + 1e-12


def test_bad_basis_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="basis"):
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["NOR"]),
            tr.hs6_products(["260400"]),
            [2022],
            basis="mass",
        )  # type: ignore[arg-type]


def _one_product(code: str, material: str, stage: str) -> pa.Table:
    return pa.table({"product": [code], "hs6": [code], "material": [material], "stage": [stage]})


def test_import_reliance_japan_bismuth_2022(store: Store) -> None:
    # Bismuth, processing stage: the reference's complete code set is 810600 alone (unwrought
    # bismuth, gross weight = metal content), WMD production is refined metal (content_basis
    # NULL), so the two sides compare. Real rows, 2022:
    #   WMD: JPN bismuth 480 t.
    #   BACI 810600 imports of JPN (11 rows): CHN 309.191 + KOR 63.867 + FRA 6.732 + HKG 3.395
    #     + MYS 1.7 + GBR 0.911 + DEU 0.654 + CAN 0.263 + DNK 0.219 + USA 0.089 + IND 0.001
    #     = 387.022 t
    #   exports of JPN (15 rows): LUX 114.25 + KOR 80.808 + USA 36.226 + S19 17.959 + CAN 9.672
    #     + CHN 8.427 + HKG 1.667 + POL 1.467 + MYS 0.22 + THA 0.13 + NLD 0.033 + DEU 0.021
    #     + SGP 0.011 + CZE 0.01 + PHL 0.003 = 270.904 t
    # apparent consumption = 480 + 387.022 - 270.904 = 596.118 t
    # import reliance = (387.022 - 270.904) / 596.118 = 116.118 / 596.118 = 0.1947903
    r = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["JPN"]),
            _one_product("810600", "bismuth", "processing"),
            [2022],
        )
    )
    assert r["import_quantity_t"] == pytest.approx(387.022)
    assert r["export_quantity_t"] == pytest.approx(270.904)
    assert r["production_t"] == pytest.approx(480)
    assert r["apparent_consumption_t"] == pytest.approx(596.118)
    assert r["import_reliance"] == pytest.approx(116.118 / 596.118)
    assert r["import_reliance"] == pytest.approx(0.1947903, abs=1e-7)
    assert "reliance" not in r["notes"]


def test_import_reliance_needs_the_complete_code_set(store: Store) -> None:
    # Aluminium metal (processing) is 281820, 760110, 760120 in the reference. 760110 alone
    # (non-alloyed) left out alloyed metal and gave NOR 2022 a reliance of 0.0934 although
    # Norway is a large net exporter of primary aluminium: now NULL with the reason.
    r = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["NOR"]),
            _one_product("760110", "aluminium", "processing"),
            [2022],
        )
    )
    assert r["import_reliance"] is None
    assert r["production_t"] is None and r["apparent_consumption_t"] is None
    assert (
        "reliance n/a: HS6 760110 is not the complete code set 281820,760110,760120 of "
        "aluminium processing" in r["notes"]
    )
    # the complete set, but 281820 and 760120 are not in the bundled trade data
    products = pa.table(
        {
            "product": ["al"] * 3,
            "hs6": ["281820", "760110", "760120"],
            "material": ["aluminium"] * 3,
            "stage": ["processing"] * 3,
        }
    )
    r = _one(tr.trade_indicators(store.engine(), tr.country_reporters(["NOR"]), products, [2022]))
    assert r["import_reliance"] is None
    assert (
        "reliance n/a: only 1 of 3 HS6 codes of aluminium processing in the trade data"
        in r["notes"]
    )


def test_import_reliance_not_for_ore_against_metal_content(store: Store) -> None:
    # CHN 2022: copper concentrate 260300 imports 19.0 Mt gross weight against WMD copper mine
    # production 1.93 Mt Cu content; the old figure 0.908 mixed the two bases.
    r = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["CHN"]),
            _one_product("260300", "copper", "extraction"),
            [2022],
        )
    )
    assert r["import_quantity_t"] == pytest.approx(19_042_979.124)
    assert r["import_reliance"] is None
    assert (
        "reliance n/a: production (metal content) not comparable with gross trade weight "
        "of HS6 260300" in r["notes"]
    )


def test_import_reliance_not_for_net_exporter(store: Store) -> None:
    # bismuth 810600, KAZ 2022: production 101 t, imports 5.298 t < exports 40.762 t
    # -> USGS "E", no figure
    r = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["KAZ"]),
            _one_product("810600", "bismuth", "processing"),
            [2022],
        )
    )
    assert r["import_quantity_t"] == pytest.approx(5.298)
    assert r["export_quantity_t"] == pytest.approx(40.762)
    assert r["import_reliance"] is None
    assert 'net exporter (USGS "E")' in r["notes"]


def test_duplicated_governance_rows_do_not_double_suppliers() -> None:
    # wgi.db repeats GUY's row; a governance relation with every GUY row twice must not double
    # GUY's flows. PAN imports of 270900 (crude oil) in 2022: 11 suppliers, 16,138,288.745 kUSD
    # (before the fix: 12 supplier rows, 21,981,841 kUSD with the bundled duplicate).
    from verdikart.store import bundled_path

    fresh = Store.open(None)
    cols = ", ".join(c for c in fresh.con.sql("SELECT * FROM governance LIMIT 0").columns)
    path = str(bundled_path("governance"))
    fresh.con.execute(
        f"CREATE OR REPLACE TEMP VIEW governance AS "
        f"SELECT {cols} FROM read_parquet('{path}') "
        f"UNION ALL SELECT {cols} FROM read_parquet('{path}') WHERE country = 'GUY'"
    )
    assert fresh.rows(
        "SELECT count(*) AS n FROM governance WHERE country = 'GUY' AND year = 2022 "
        "AND indicator = 'pv.normalized'"
    ) == [{"n": 2}]
    reporters, products = tr.country_reporters(["PAN"]), tr.hs6_products(["270900"])
    shares = tr.supplier_shares(fresh.engine(), reporters, products, [2022]).to_pylist()
    suppliers = [s["supplier"] for s in shares]
    assert "GUY" in suppliers
    assert len(suppliers) == len(set(suppliers)) == 11
    assert math.isclose(sum(s["share"] for s in shares), 1.0, rel_tol=1e-12)
    r = _one(tr.trade_indicators(fresh.engine(), reporters, products, [2022]))
    assert r["import_value_kusd"] == pytest.approx(16_138_288.745)
    assert r["n_suppliers"] == 11
    assert r["top3_share"] <= 1 + 1e-12


def test_governance_coverage_unknown_when_shares_unknown(store: Store) -> None:
    # NOR 260200 2022 on a quantity basis: AUT's row lacks a quantity, so every share is NULL;
    # the coverage of an unknown distribution is unknown, not 1.0 (least(1.0, NULL) = 1.0)
    q = _one(
        tr.trade_indicators(
            store.engine(),
            tr.country_reporters(["NOR"]),
            tr.hs6_products(["260200"]),
            [2022],
            basis="quantity",
        )
    )
    assert q["top_supplier_share"] is None
    assert q["governance_coverage"] is None
    assert q["hhi_wgi"] is None
