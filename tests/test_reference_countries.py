"""Country table, code resolution and groups (verdikart.reference.countries)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from verdikart.errors import DataValidationError, UnknownCodeError
from verdikart.reference.countries import (
    add_group,
    baci_code_table,
    country_table,
    group_members,
    group_membership_table,
    groups,
    remove_group,
    resolve_country,
)

BUNDLED = Path(__file__).resolve().parents[1] / "src" / "verdikart" / "bundled"


@pytest.mark.parametrize(
    "text", ["Norway", "norway", "Norge", "NORGE", "NO", "no", "NOR", "578", "579", " norway "]
)
def test_norway_variants(text: str) -> None:
    ref = resolve_country(text)
    assert (ref.kind, ref.id, ref.name_en, ref.name_no) == ("country", "NOR", "Norway", "Norge")
    assert ref.members() == ["NOR"]
    assert (ref.iso_numeric, ref.baci_code, ref.ssb_code, ref.iso2) == (578, 579, "NO", "NO")


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("251", "FRA"),
        ("250", "FRA"),
        ("699", "IND"),
        ("757", "CHE"),
        ("842", "USA"),
        ("840", "USA"),
        ("490", "S19"),
        ("58", "BEL"),
        ("280", "DEU"),
        ("USA", "USA"),
        ("United States", "USA"),
        ("De forente stater", "USA"),
        ("Tyskland", "DEU"),
        ("sør-korea", "KOR"),
        ("Rep. of Korea", "KOR"),
        ("NA", "NAM"),  # the alpha-2 'NA' is Namibia, not a missing value
        ("004", "AFG"),
    ],
)
def test_codes_and_names(text: str, iso3: str) -> None:
    assert resolve_country(text).id == iso3


def test_groups_resolve() -> None:
    assert resolve_country("EU27").kind == "group"
    assert resolve_country("eu27").id == "EU27"
    assert resolve_country("eu").id == "EU"
    assert resolve_country("Norden").id == "NORDIC"
    assert {g.id for g in groups()} >= {"EU27", "EU", "EU28", "EEA", "NATO", "NORDIC", "MSP", "G7"}


def test_unknown_lists_close_matches() -> None:
    with pytest.raises(UnknownCodeError, match=r"NOR \(Norway\)") as info:
        resolve_country("Norwy")
    assert "EU27" in str(info.value)


def test_eu27_membership_by_year() -> None:
    # EU27 = the 27 current members with their accession years; the UK is never in it.
    assert len(group_members("EU27", 1994)) == 11
    assert len(group_members("EU27", 1995)) == 14  # + AUT, FIN, SWE
    assert len(group_members("EU27", 2003)) == 14
    assert len(group_members("EU27", 2004)) == 24  # + 10 in the 2004 enlargement
    assert len(group_members("EU27", 2007)) == 26  # + BGR, ROU
    assert len(group_members("EU27", 2012)) == 26
    assert len(group_members("EU27", 2013)) == 27  # + HRV
    assert len(group_members("EU27", 2024)) == 27
    assert group_members("EU27") == group_members("EU27", 2024)
    assert "HRV" not in group_members("EU27", 2012)
    assert "GBR" not in group_members("EU27", 2010)


def test_eu_over_time_includes_uk_until_2020() -> None:
    assert len(group_members("EU", 2013)) == 28
    assert "GBR" in group_members("EU", 2020)
    assert "GBR" not in group_members("EU", 2021)
    assert len(group_members("EU", 2021)) == 27
    assert len(group_members("EU28", 2024)) == 28


def test_eea_nato_nordic_msp_g7() -> None:
    assert len(group_members("EEA", 2024)) == 30
    assert {"NOR", "ISL", "LIE"} <= set(group_members("EEA", 2024))
    assert "HRV" not in group_members("EEA", 2013)
    assert len(group_members("NATO", 2024)) == 32
    assert "FIN" in group_members("NATO", 2023) and "SWE" not in group_members("NATO", 2023)
    assert "SWE" in group_members("NATO", 2024)
    assert group_members("NORDIC") == ["DNK", "FIN", "ISL", "NOR", "SWE"]
    assert "NOR" in group_members("MSP", 2023) and "NOR" not in group_members("MSP", 2022)
    assert len(group_members("G7")) == 7
    assert resolve_country("NATO").members(1999) == group_members("NATO", 1999)


def test_group_members_of_a_country_is_an_error() -> None:
    with pytest.raises(UnknownCodeError, match="not a group"):
        group_members("NOR")


def test_country_table_shape() -> None:
    table = country_table()
    assert table.column_names[:7] == [
        "iso2",
        "iso3",
        "iso_numeric",
        "baci_code",
        "ssb_code",
        "name_en",
        "name_no",
    ]
    iso3 = table.column("iso3").to_pylist()
    assert len(iso3) == len(set(iso3))
    assert "NAM" in iso3 and table.num_rows >= 249


def test_every_bundled_baci_code_is_mapped() -> None:
    baci = duckdb.sql(
        f"select baci_code, iso3 from '{BUNDLED / 'baci_countries.parquet'}'"
    ).fetchall()
    assert len(baci) == 238
    ours = dict(
        zip(
            baci_code_table().column("baci_code").to_pylist(),
            baci_code_table().column("iso3").to_pylist(),
            strict=True,
        )
    )
    assert {int(code): iso3 for code, iso3 in baci} == ours
    for code, iso3 in baci:
        assert resolve_country(str(code)).id == iso3


def test_group_membership_table() -> None:
    membership = group_membership_table()
    assert membership.column_names == ["group_id", "iso3", "year_from", "year_to"]
    rows = duckdb.sql(
        "select count(*) from membership where group_id = 'EU27' and year_from <= 2004 "
        "and (year_to is null or year_to >= 2004)"
    ).fetchall()
    assert rows == [(24,)]


def test_user_group_roundtrip(isolated_data_dir: Path) -> None:
    ref = add_group("battery-partners", ["Norge", "SE", "CAN", "NORDIC"], name_en="Partners")
    assert ref.kind == "group" and ref.name_en == "Partners"
    stored = json.loads((isolated_data_dir / "groups.json").read_text())
    assert stored["battery-partners"]["members"] == ["CAN", "DNK", "FIN", "ISL", "NOR", "SWE"]
    assert resolve_country("Battery-Partners").members() == stored["battery-partners"]["members"]
    assert group_members("battery-partners", 2000) == stored["battery-partners"]["members"]
    assert "battery-partners" in group_membership_table().column("group_id").to_pylist()
    remove_group("battery-partners")
    with pytest.raises(UnknownCodeError):
        resolve_country("battery-partners")


def test_user_group_rejects_bad_input_and_writes_nothing(isolated_data_dir: Path) -> None:
    with pytest.raises(DataValidationError) as info:
        add_group("EU27", ["Atlantis", "NOR"])
    text = str(info.value)
    assert "already the group EU27" in text and "'Atlantis'" in text
    assert not (isolated_data_dir / "groups.json").exists()


@pytest.mark.shared_data
def test_country_table_matches_iso_reference(shared_data: Path) -> None:
    """Our ISO codes agree with github.com/datasets/country-codes (ISO 3166 / M49).

    BACI uses its own numeric codes where it differs from ISO: Norway is ISO 578, BACI 579.
    """
    with (shared_data / "country_codes" / "country-codes.csv").open(encoding="utf-8") as fh:
        reference = [r for r in csv.DictReader(fh) if r["ISO3166-1-Alpha-3"]]
    ours = {row["iso3"]: row for row in country_table().to_pylist() if row["status"] == "current"}
    assert len(reference) >= 240
    mismatches = []
    for r in reference:
        iso3 = r["ISO3166-1-Alpha-3"]
        mine = ours.get(iso3)
        if mine is None:
            mismatches.append(f"{iso3} missing")
            continue
        if mine["iso2"] != r["ISO3166-1-Alpha-2"]:
            mismatches.append(f"{iso3} iso2 {mine['iso2']} != {r['ISO3166-1-Alpha-2']}")
        if mine["iso_numeric"] != int(r["ISO3166-1-numeric"]):
            mismatches.append(f"{iso3} numeric {mine['iso_numeric']} != {r['ISO3166-1-numeric']}")
    assert mismatches == []
    norway = ours["NOR"]
    assert norway["iso_numeric"] == 578 and norway["baci_code"] == 579
