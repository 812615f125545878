"""Materials and critical-material lists (verdikart.reference.materials)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest

from verdikart.errors import UnknownCodeError
from verdikart.reference.materials import (
    LIST_IDS,
    REVISIONS,
    get_material,
    list_ids,
    list_info,
    list_members,
    list_membership_table,
    lists,
    load_materials,
    material_hs6_table,
    materials_table,
)

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "src" / "verdikart" / "bundled"
SEEDS = REPO.parent / "shared" / "seeds"

EXPECTED_COUNTS = {
    "crma-critical": 34,
    "crma-strategic": 17,
    "nato2024": 12,
    "eu2023": 34,
    "eu2020": 30,
    "eu2017": 27,
    "eu2014": 20,
    "eu2011": 14,
    "usgs2022": 50,
    "doe2023": 18,
}

# IUPAC 2021 standard atomic weights (abridged, 4-5 significant digits suffice here)
ATOMIC_WEIGHT = {
    "H": 1.008,
    "Li": 6.94,
    "B": 10.81,
    "C": 12.011,
    "O": 15.999,
    "F": 18.998,
    "Mg": 24.305,
    "Si": 28.085,
    "P": 30.974,
    "Cl": 35.45,
    "K": 39.098,
    "Ca": 40.078,
    "Ti": 47.867,
    "V": 50.942,
    "Cr": 51.996,
    "As": 74.922,
    "Y": 88.906,
    "Zr": 91.224,
    "Nb": 92.906,
    "La": 138.91,
    "Ce": 140.12,
    "Pr": 140.91,
    "Nd": 144.24,
    "Sm": 150.36,
    "Tb": 158.93,
    "Dy": 162.50,
    "Ta": 180.95,
    "W": 183.84,
    "U": 238.03,
}


def _mass(formula: str) -> float:
    """Molar mass of a simple formula such as 'Li2CO3' or 'Pr6O11'."""

    total = 0.0
    for symbol, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        total += ATOMIC_WEIGHT[symbol] * (int(count) if count else 1)
    return total


def _element_mass(formula: str, element: str) -> float:
    """Mass of `element` in one mole of `formula`."""

    counts = dict(re.findall(r"([A-Z][a-z]?)(\d*)", formula))
    return ATOMIC_WEIGHT[element] * int(counts[element] or 1)


@pytest.mark.parametrize(("list_id", "count"), sorted(EXPECTED_COUNTS.items()))
def test_list_counts(list_id: str, count: int) -> None:
    assert len(list_members(list_id)) == count
    assert list_info(list_id).count == count


def test_list_ids_and_infos() -> None:
    assert list_ids() == LIST_IDS
    assert [i.id for i in lists()] == list(LIST_IDS)
    info = list_info("crma-strategic")
    assert "2024/1252" in info.source and info.date == "2024-04-11"
    assert "65 %" in (info.note or "")
    with pytest.raises(UnknownCodeError, match="crma-critical"):
        list_info("eu2099")


def test_cobalt_is_on_every_list() -> None:
    cobalt = get_material("cobalt")
    expected = {
        "eu2011",
        "eu2014",
        "eu2017",
        "eu2020",
        "eu2023",
        "crma-critical",
        "crma-strategic",
        "nato2024",
        "usgs2022",
        "doe2023",
    }
    assert expected <= set(cobalt.lists)
    assert cobalt.norwegian_rationale and cobalt.norwegian_rationale[0].seed.startswith("003")


def test_official_names_are_kept() -> None:
    strategic = [e.name_official for e in list_members("crma-strategic")]
    assert strategic[0] == "bauxite/alumina/aluminium"
    assert "natural graphite – battery grade" in strategic
    assert "rare earth elements for magnets (Nd, Pr, Tb, Dy, Gd, Sm, Ce)" in strategic
    assert [e.ref for e in list_members("crma-strategic")][-1] == "(q)"
    assert [e.name_official for e in list_members("usgs2022")][0] == "aluminum"
    assert get_material("aluminium").name_official("doe2023") == ["aluminum"]


def test_list_entries_are_unique_materials_except_norway() -> None:
    for lid in LIST_IDS:
        mats = [e.material for e in list_members(lid)]
        if lid != "norway":
            assert len(mats) == len(set(mats)), lid


def test_every_production_slug_is_a_material() -> None:
    slugs = {
        r[0]
        for r in duckdb.sql(
            f"select distinct material from '{BUNDLED / 'production.parquet'}'"
        ).fetchall()
    }
    assert len(slugs) == 65
    assert slugs - set(load_materials()) == set()


def test_every_bundled_trade_hs6_is_mapped() -> None:
    con = duckdb.connect()
    con.register("hs6", material_hs6_table("HS92"))
    trade = BUNDLED / "trade.parquet"
    unmapped = con.sql(
        f"select distinct t.hs6 from '{trade}' t anti join hs6 m on m.hs6 = t.hs6"
    ).fetchall()
    assert unmapped == []
    assert duckdb.sql(f"select count(distinct hs6) from '{trade}'").fetchall() == [(74,)]


def test_wmd_hs_map_codes_and_eol_rir_agree() -> None:
    rows = duckdb.sql(
        f"select material, hs6, hs6_complementary, eol_rir from '{BUNDLED / 'wmd_hs_map.parquet'}'"
    ).fetchall()
    mats = load_materials()
    for material, hs6, complementary, eol in rows:
        m = mats[material]
        codes = [hs6, *(complementary or "").split(";")]
        for code in filter(None, codes):
            assert code in m.hs6("HS92"), (material, code)
        assert m.eol_rir == pytest.approx(eol), material


def test_hs6_table_shape_and_revisions() -> None:
    for rev in REVISIONS:
        table = material_hs6_table(rev)
        assert table.column_names == ["material", "stage", "hs6", "shared"]
        assert set(table.column("stage").to_pylist()) <= {
            "extraction",
            "processing",
            "intermediate",
            "scrap",
        }
        assert all(len(c) == 6 and c.isdigit() for c in table.column("hs6").to_pylist())
    cobalt92 = get_material("cobalt").hs6("HS92")
    assert {"260500", "810510", "282200"} <= set(cobalt92)
    assert {"810520", "810530", "282739"} <= set(get_material("cobalt").hs6("HS2022"))
    assert get_material("bismuth").hs6("HS2017") == ("810600",)
    assert get_material("bismuth").hs6("HS2022") == ("810610", "810690")
    assert material_hs6_table("H0").num_rows == material_hs6_table("HS92").num_rows
    with pytest.raises(UnknownCodeError, match="HS2022"):
        material_hs6_table("HS1800")


def test_hs6_table_proxies_and_shared_filter() -> None:
    plain = material_hs6_table()
    assert "neodymium" not in plain.column("material").to_pylist()
    with_proxies = material_hs6_table(include_proxies=True)
    nd = [
        r["hs6"] for r in with_proxies.to_pylist() if r["material"] == "neodymium" and r["shared"]
    ]
    assert "284690" in nd
    unshared = material_hs6_table(include_shared=False)
    assert not any(unshared.column("shared").to_pylist())
    assert "811292" not in [r["hs6"] for r in unshared.to_pylist() if r["material"] == "gallium"]


def test_get_material_variants() -> None:
    assert get_material("Kobolt").id == "cobalt"
    assert get_material("COBALT").id == "cobalt"
    assert get_material("phosphate rock").id == "phosphate-rock"
    assert get_material("Råfosfat").id == "phosphate-rock"
    assert get_material("natural graphite").id == "graphite"
    assert get_material("PGMs").id == "pgms"
    assert get_material("sink").id == "zinc"
    assert get_material("Ilmenitt").id == "titanium"
    assert get_material("fluorine").id == "fluorspar"
    with pytest.raises(UnknownCodeError, match="cobalt") as info:
        get_material("kobalt")
    assert "known ids" in str(info.value)


def test_groups_have_members() -> None:
    pgms = get_material("pgms")
    assert {"platinum", "palladium", "rhodium", "iridium", "ruthenium", "osmium"} == set(
        pgms.members
    )
    assert set(get_material("rare-earths").members) == {"light-rare-earths", "heavy-rare-earths"}
    assert "dysprosium" in get_material("heavy-rare-earths").members
    assert "neodymium" in get_material("light-rare-earths").members


@pytest.mark.parametrize(
    ("material", "source", "target"),
    [
        ("lithium", "Li2O", "Li"),
        ("lithium", "Li2CO3", "Li"),
        ("phosphate-rock", "P2O5", "P"),
        ("potash", "K2O", "K"),
        ("titanium", "TiO2", "Ti"),
        ("chromium", "Cr2O3", "Cr"),
        ("niobium", "Nb2O5", "Nb"),
        ("tantalum", "Ta2O5", "Ta"),
        ("arsenic", "As2O3", "As"),
        ("boron", "B2O3", "B"),
        ("uranium", "U3O8", "U"),
        ("vanadium", "V2O5", "V"),
        ("tungsten", "WO3", "W"),
        ("zirconium", "ZrSiO4", "Zr"),
        ("fluorspar", "CaF2", "F"),
        ("neodymium", "Nd2O3", "Nd"),
        ("praseodymium", "Pr6O11", "Pr"),
        ("dysprosium", "Dy2O3", "Dy"),
        ("terbium", "Tb4O7", "Tb"),
    ],
)
def test_conversion_factors_are_stoichiometric(material: str, source: str, target: str) -> None:
    conv = {(c.from_basis, c.to_basis): c.factor for c in get_material(material).conversions}
    expected = _element_mass(source, target) / _mass(source)
    assert conv[(source, target)] == pytest.approx(expected, abs=2e-4)


def test_hand_checked_conversion_values() -> None:
    # the values quoted in the project's brief (TiO2 -> Ti is 47.867/79.865 = 0.5993)
    factors = {
        (m.id, c.from_basis): c.factor for m in load_materials().values() for c in m.conversions
    }
    assert factors[("lithium", "Li2O")] == 0.4645
    assert factors[("phosphate-rock", "P2O5")] == 0.4364
    assert factors[("potash", "K2O")] == 0.8301
    assert factors[("chromium", "Cr2O3")] == 0.6842
    assert factors[("niobium", "Nb2O5")] == 0.6990
    assert factors[("tantalum", "Ta2O5")] == 0.8190
    assert factors[("potash", "KCl")] == pytest.approx(_mass("K2O") / (2 * _mass("KCl")), abs=2e-4)


def test_tables() -> None:
    table = materials_table()
    assert table.num_rows == len(load_materials())
    cobalt = [r for r in table.to_pylist() if r["material"] == "cobalt"][0]
    assert cobalt["name_no"] == "Kobolt" and cobalt["eol_rir"] == 0.22
    con = duckdb.connect()
    con.register("membership", list_membership_table())
    counts = dict(con.sql("select list_id, count(*) from membership group by 1").fetchall())
    for lid, count in EXPECTED_COUNTS.items():
        assert counts[lid] == count


def test_as_dict_has_every_list() -> None:
    data = get_material("nickel").as_dict()
    assert set(data["lists"]) == set(LIST_IDS)
    assert data["lists"]["crma-strategic"] is True
    assert data["name_official"]["crma-critical"] == ["nickel – battery grade"]
    assert [s["stage"] for s in data["stages"]][:2] == ["extraction", "processing"]


# ---------------------------------------------------------------- checks against real data

KEYWORDS = {
    "bauxite": ["aluminium"],
    "baryte": ["barium"],
    "boron": ["borat", "boron", "boric"],
    "fluorspar": ["fluor"],
    "magnesite": ["magnes"],
    "phosphate-rock": ["phosph"],
    "potash": ["potass"],
    "steam-coal": ["coal"],
    "coking-coal": ["coal"],
    "tungsten": ["tungst"],
    "ferrosilicon": ["ferro-silicon"],
    "coke-electrodes": ["coke", "pitch", "electrode", "graphite"],
    "chemicals": ["chlorine", "sulphuric", "ammonia", "sodium hydroxide", "nitric"],
}


def _hs2022(shared_data: Path) -> dict[str, str]:
    path = shared_data / "hs_nomenclature" / "harmonized-system.csv"
    with path.open(encoding="utf-8") as fh:
        return {r["hscode"]: r["description"] for r in csv.DictReader(fh) if r["level"] == "6"}


@pytest.mark.shared_data
def test_hs2022_codes_exist_and_describe_the_material(shared_data: Path) -> None:
    nomenclature = _hs2022(shared_data)
    problems = []
    for m in load_materials().values():
        keywords = KEYWORDS.get(m.id, [m.id.split("-")[0], m.name_en.split()[0].lower()])
        for item in m.hs_items:
            missing = [c for c in item.codes["HS2022"] if c not in nomenclature]
            if missing:
                problems.append(f"{m.id}: {missing} not in HS2022")
                continue
            if item.shared:
                continue
            text = " ".join(nomenclature[c] for c in item.codes["HS2022"]).lower()
            if not any(k in text for k in keywords):
                problems.append(f"{m.id} {item.codes['HS2022']}: {text[:80]}")
    assert problems == []


@pytest.mark.shared_data
def test_hs2017_codes_follow_the_unsd_correlation(shared_data: Path) -> None:
    """Each product's HS2017 codes are exactly what its HS2022 codes convert to (UNSD table)."""
    import openpyxl

    path = shared_data / "correspondences" / "HS2022toHS2017ConversionAndCorrelationTables.xlsx"
    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book["HS2022-HS2017 Conversions"]
    to2017 = {str(a): str(b) for a, b in sheet.iter_rows(min_row=2, values_only=True) if a}
    problems = []
    for m in load_materials().values():
        for item in m.hs_items:
            converted = {to2017.get(c, "?") for c in item.codes["HS2022"]}
            if converted != set(item.codes["HS2017"]):
                problems.append(f"{m.id}: {item.codes['HS2022']} -> {converted}")
    assert problems == []


def _seed_text(name: str, first: int, last: int) -> str:
    lines = (SEEDS / name).read_text(encoding="utf-8").splitlines()[first - 1 : last]
    return " ".join(" ".join(lines).split())


def test_norwegian_entries_quote_their_seed() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not present at {SEEDS}")
    entries = list_members("norway")
    assert {"zinc", "phosphate-rock", "potash", "silicon", "ferrosilicon", "manganese"} <= {
        e.material for e in entries
    }
    assert {"nickel", "cobalt", "titanium", "quartz", "coke-electrodes", "fluorspar"} <= {
        e.material for e in entries
    }
    assert {"aluminium", "chemicals", "magnesium"} <= {e.material for e in entries}
    for e in entries:
        assert e.seed and e.line and e.line_end and e.quote and e.rationale
        text = _seed_text(e.seed, e.line, e.line_end)
        assert " ".join(e.quote.split()) in text, (e.name_official, e.seed, e.line)


def test_every_list_has_a_bokmal_title() -> None:
    from verdikart.reference.materials import list_info

    for info in lists():
        assert info.title_nb and info.title_nb != info.title, info.id
        assert info.title_in("nb") == info.title_nb and info.title_in("en") == info.title
    assert list_info("nato2024").title_nb == "NATOs forsvarskritiske råvarer"


def test_every_material_the_eu_assesses_has_names() -> None:
    """The bundled EU assessment covers materials with no value chain here; each still has an
    English and a bokmål name (materials.toml or eu_assessed_names.toml), the English one as
    the EU's data spell it."""
    import pyarrow.parquet as pq

    from verdikart.reference.materials import find_material, material_name
    from verdikart.store import bundled_path

    spelled: dict[str, str | None] = {}
    for name, column in (
        ("eu_supply_shares", "material_name"),
        ("eu_end_uses", "material_name"),
        ("eu_material_groups", None),
    ):
        table = pq.read_table(bundled_path(name))
        names = table.column(column).to_pylist() if column else [None] * table.num_rows
        for mid, eu_name in zip(table.column("material").to_pylist(), names, strict=True):
            if eu_name is not None or mid not in spelled:  # a spelled name is kept
                spelled[mid] = eu_name
    for mid, eu_name in spelled.items():
        assert material_name(mid, "en") != mid and material_name(mid, "nb") != mid, mid
        if find_material(mid) is None and eu_name is not None:
            assert material_name(mid, "en") == eu_name
    assert material_name("silica-sand", "nb") == "Kvartssand"
    assert material_name("cobalt", "nb") == "Kobolt"
    assert material_name("no-such-material", "nb") == "no-such-material"
