"""The value-chain data files and their loader (verdikart.chains.model).

Bad files are small TOML texts written to tmp_path: each rejected with the file, the line and
the problem. The shipped files are checked against the real public registers in
../shared/data (HS nomenclature, EU ETS installations, EU CRM 2023 inputs; skipped when absent).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from verdikart.chains.model import (
    REVISIONS,
    find_chain,
    find_stage,
    load_chain_file,
    load_chains,
)
from verdikart.errors import SourceError, UnknownCodeError
from verdikart.reference.materials import load_materials

GOOD = """\
[chain]
id = "tiny"
name_en = "Tiny"
name_no = "Liten"
materials = ["nickel"]
source = "seed002"

[[stage]]
id = "ore"
name_en = "Ore"
name_no = "Malm"
material = "nickel"
kind = "ore"
hs92 = ["260400"]
hs_source = "hs"
source = "seed002"

[[stage]]
id = "metal"
name_en = "Metal"
name_no = "Metall"
material = "nickel"
kind = "refined"
hs92 = ["750210"]
hs_source = "hs"
source = "seed002"

[[link]]
from = "ore"
to = "metal"
source = "seed002"

[[plant]]
id = "p"
company = "C"
plant = "P"
municipality = "M"
stages_in = ["ore"]
stages_out = ["metal"]
public_facts = "https://example.org/facts"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, needle: str, occurrence: int = 0) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence]


def test_good_file_loads(tmp_path: Path) -> None:
    chain = load_chain_file(_write(tmp_path, GOOD))
    assert [s.id for s in chain.stages] == ["ore", "metal"]
    assert chain.stage("metal").hs == {rev: ("750210",) for rev in REVISIONS}
    assert chain.plants[0].public_facts == "https://example.org/facts"


def test_cycle_rejected_with_file_and_line(tmp_path: Path) -> None:
    text = GOOD + '\n[[link]]\nfrom = "metal"\nto = "ore"\nsource = "seed002"\n'
    path = _write(tmp_path, text)
    with pytest.raises(SourceError) as err:
        load_chain_file(path)
    assert err.value.path == str(path)
    assert "cycle" in err.value.problem and "ore -> metal -> ore" in err.value.problem
    # the line of `to = "ore"` in the second [[link]] table, the link that closes the cycle
    assert err.value.line == _line_of(text, 'to = "ore"')
    assert f"tiny.toml, line {err.value.line}" in str(err.value)


def test_unknown_hs_code_rejected(tmp_path: Path) -> None:
    text = GOOD.replace('hs92 = ["750210"]', 'hs92 = ["750299"]')
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown HS code 750299" in err.value.problem
    assert err.value.line == _line_of(text, "750299")
    assert err.value.field == "hs92"


def test_unknown_hs2022_code_rejected_even_if_an_old_code(tmp_path: Path) -> None:
    # 810510 is an HS92 code (materials.toml lists it); HS 2022 has no such subheading
    text = GOOD.replace(
        'hs92 = ["750210"]', 'hs92 = ["810510"]\nhs2017 = ["810520"]\nhs2022 = ["810510"]'
    )
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown HS code 810510 in hs2022" in err.value.problem
    assert err.value.line == _line_of(text, 'hs2022 = ["810510"]')


def test_unknown_stage_reference_rejected(tmp_path: Path) -> None:
    text = GOOD.replace('to = "metal"', 'to = "metall"')
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown stage 'metall'" in err.value.problem
    assert "did you mean metal" in err.value.problem
    assert err.value.line == _line_of(text, 'to = "metall"')


def test_plant_stage_reference_rejected(tmp_path: Path) -> None:
    text = GOOD.replace('stages_out = ["metal"]', 'stages_out = ["matte"]')
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown stage 'matte' in 'stages_out'" in err.value.problem
    assert err.value.line == _line_of(text, 'stages_out = ["matte"]')


def test_plant_without_source_rejected(tmp_path: Path) -> None:
    text = GOOD.replace('public_facts = "https://example.org/facts"\n', "")
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "plant 'p' has no source" in err.value.problem
    assert err.value.line == _line_of(text, "[[plant]]")


def test_unknown_source_key_rejected(tmp_path: Path) -> None:
    text = GOOD.replace('public_facts = "https://example.org/facts"', 'public_facts = "sed002"')
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown source 'sed002'" in err.value.problem and "seed002" in err.value.problem
    assert err.value.line == _line_of(text, 'public_facts = "sed002"')


def test_unknown_sector_and_key_rejected(tmp_path: Path) -> None:
    text = GOOD.replace(
        'kind = "refined"', 'kind = "refined"\nsectors = [{ sector = "space", source = "hs" }]'
    )
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown sector 'space'" in err.value.problem
    text = GOOD.replace('kind = "refined"', 'kind = "refined"\ncolour = "red"')
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert "unknown key(s) ['colour']" in err.value.problem
    assert err.value.line == _line_of(text, "colour")


def test_invalid_toml_names_line(tmp_path: Path) -> None:
    text = GOOD.replace('name_no = "Liten"', "name_no = Liten")
    with pytest.raises(SourceError) as err:
        load_chain_file(_write(tmp_path, text))
    assert err.value.line == _line_of(text, "name_no = Liten")


# -- the shipped chains ------------------------------------------------------------------


def test_shipped_chains_cover_the_issue() -> None:
    chains = load_chains()
    assert {
        "nickel",
        "aluminium",
        "silicon",
        "zinc",
        "titanium",
        "fertiliser",
        "graphite",
        "rare-earths",
        "magnesium",
    } <= set(chains)
    plants = {p.id for c in chains.values() for p in c.plants}
    for plant in (
        "glencore-nikkelverk",
        "hydro-sunndal",
        "hydro-karmoy",
        "hydro-ardal",
        "hydro-hoyanger",
        "hydro-husnes",
        "alcoa-lista",
        "alcoa-mosjoen",
        "elkem-bremanger",
        "elkem-thamshavn",
        "elkem-salten",
        "elkem-bjolvefossen",
        "elkem-rana",
        "eramet-porsgrunn",
        "eramet-sauda",
        "eramet-kvinesdal",
        "finnfjord",
        "wacker-holla",
        "ferroglobe-rana",
        "boliden-odda",
        "tizir-tyssedal",
        "kronos-fredrikstad",
        "yara-porsgrunn",
        "yara-glomfjord",
        "reetec-heroya",
        "fen-deposit",
    ):
        assert plant in plants


def test_resolver_takes_norwegian_names_and_suggests() -> None:
    assert find_chain("nikkel")[0].id == "nickel"
    assert find_chain("kobolt") == (load_chains()["nickel"], "cobalt")
    assert find_chain("Silisium")[0].id == "silicon"
    assert find_chain("Sjeldne jordarter")[0].id == "rare-earths"
    with pytest.raises(UnknownCodeError, match="did you mean nickel"):
        find_chain("nickle")
    with pytest.raises(UnknownCodeError, match="no value chain recorded for lithium"):
        find_chain("lithium")
    with pytest.raises(UnknownCodeError, match="did you mean nickel-matte"):
        find_stage(load_chains()["nickel"], "nickel-mate")


def _hs_nomenclature(shared: Path) -> set[str]:
    with (shared / "hs_nomenclature" / "harmonized-system.csv").open(encoding="utf-8") as fh:
        return {r["hscode"] for r in csv.DictReader(fh) if r["level"] == "6"}


@pytest.mark.shared_data
def test_every_hs_code_in_the_hs_nomenclature(shared_data: Path) -> None:
    """HS 2022 codes exist in the HS 2022 nomenclature; an HS92/HS2017 code absent from it
    (a code a later revision split) is one materials.toml documents for that revision."""
    hs2022 = _hs_nomenclature(shared_data)
    older: dict[str, set[str]] = {rev: set() for rev in REVISIONS}
    for material in load_materials().values():
        for item in material.hs_items:
            for rev in REVISIONS:
                older[rev].update(item.codes[rev])
    checked = 0
    for chain in load_chains().values():
        for stage in chain.stages:
            for code in stage.hs["HS2022"]:
                assert code in hs2022, (chain.id, stage.id, code)
                checked += 1
            for rev in ("HS92", "HS2017"):
                for code in stage.hs[rev]:
                    assert code in hs2022 or code in older[rev], (chain.id, stage.id, rev, code)
                    checked += 1
    assert checked > 80


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@pytest.mark.shared_data
def test_plants_match_the_eu_ets_register(shared_data: Path) -> None:
    """Each plant's EU ETS id is a Norwegian installation and its coordinates lie within 5 km
    of the register's."""
    with (shared_data / "eu_ets" / "installation.csv").open(encoding="utf-8") as fh:
        register = {r["id"]: r for r in csv.DictReader(fh) if r["country_id"] == "NO"}
    matched = 0
    for chain in load_chains().values():
        for plant in chain.plants:
            if plant.eu_ets_id is None:
                continue
            row = register.get(plant.eu_ets_id)
            assert row is not None, (plant.id, plant.eu_ets_id)
            assert plant.lat is not None and plant.lon is not None
            km = _haversine_km(
                plant.lat, plant.lon, float(row["latitudegoogle"]), float(row["longitudegoogle"])
            )
            assert km <= 5.0, (plant.id, km)
            matched += 1
    assert matched >= 22


@pytest.mark.shared_data
def test_eu_stage_names_are_the_eu_data_names(shared_data: Path) -> None:
    folder = shared_data / "eu_crm_2023_inputs"
    pairs: set[tuple[str, str]] = set()
    for name in ("fact_EUSupplyShares&t.csv", "fact_GlobalSupplyShares&t.csv"):
        with (folder / name).open(encoding="cp1252") as fh:
            pairs |= {(r["Material"], r["Stage"]) for r in csv.DictReader(fh)}
    for chain in load_chains().values():
        for stage in chain.stages:
            for eu in stage.eu:
                assert (eu.material, eu.stage) in pairs, (chain.id, stage.id, eu)


def test_wmd_names_are_the_bundled_map_commodities() -> None:
    import verdikart

    path = Path(verdikart.__file__).parent / "bundled" / "wmd_hs_map.parquet"
    commodities = set(pq.read_table(path, columns=["commodity"]).column(0).to_pylist())
    for chain in load_chains().values():
        for stage in chain.stages:
            if stage.production is not None and stage.production.wmd is not None:
                assert stage.production.wmd in commodities, (chain.id, stage.id)
