"""`verdikart materials ...` and `verdikart countries ...` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import UnknownCodeError


def _json(*args: str) -> object:
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(
    ("list_id", "count"), [("crma-critical", 34), ("crma-strategic", 17), ("nato2024", 12)]
)
def test_materials_list_of_one_list(list_id: str, count: int) -> None:
    rows = _json("materials", "list", "--list", list_id)
    assert isinstance(rows, list) and len(rows) == count
    assert all(r["list_id"] == list_id for r in rows)


def test_materials_list_csv_rows() -> None:
    result = CliRunner().invoke(
        cli, ["materials", "list", "--list", "crma-critical", "--format", "csv"]
    )
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 1 + 34


def test_materials_list_all() -> None:
    rows = _json("materials", "list")
    assert isinstance(rows, list)
    ids = {r["material"] for r in rows}
    assert {"cobalt", "phosphate-rock", "rare-earths", "pgms"} <= ids


def test_materials_show_cobalt() -> None:
    data = _json("materials", "show", "cobalt")
    assert isinstance(data, dict)
    assert data["id"] == "cobalt" and data["name_no"] == "Kobolt"
    assert all(data["lists"][lid] for lid in ("eu2011", "crma-strategic", "nato2024", "doe2023"))
    stages = {s["stage"]: s["hs6"] for s in data["stages"]}
    assert stages["extraction"]["HS92"] == ["260500"]
    assert "810520" in stages["processing"]["HS2022"]
    assert data["eol_rir"] == 0.22
    assert data["norwegian_rationale"][0]["line"] == 205


def test_materials_show_table_and_norwegian_name() -> None:
    result = CliRunner().invoke(cli, ["materials", "show", "Råfosfat"])
    assert result.exit_code == 0
    assert "phosphate-rock" in result.output and "P2O5 -> P x 0.4364" in result.output


def test_materials_show_unknown() -> None:
    result = CliRunner().invoke(cli, ["materials", "show", "unobtainium"])
    assert isinstance(result.exception, UnknownCodeError)
    assert "known ids" in str(result.exception)


def test_materials_lists() -> None:
    rows = _json("materials", "lists")
    assert isinstance(rows, list)
    counts = {r["id"]: r["count"] for r in rows}
    assert counts["crma-critical"] == 34 and counts["usgs2022"] == 50 and len(counts) == 11


def test_countries_show_and_list() -> None:
    norway = _json("countries", "show", "Norge")
    assert isinstance(norway, dict)
    assert (norway["id"], norway["baci_code"], norway["iso_numeric"]) == ("NOR", 579, 578)
    eu = _json("countries", "show", "eu27", "--year", "2004")
    assert isinstance(eu, dict) and len(eu["members"]) == 24
    rows = _json("countries", "list", "--group", "EU27", "--year", "2013")
    assert isinstance(rows, list) and len(rows) == 27
    groups = _json("countries", "groups")
    assert isinstance(groups, list)
    assert {g["group_id"] for g in groups} >= {"EU27", "EEA", "NATO", "NORDIC", "MSP", "G7"}


def test_countries_add_and_remove_user_group() -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["countries", "add-group", "nordic-plus", "NORDIC", "Tyskland", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["members"] == ["DEU", "DNK", "FIN", "ISL", "NOR", "SWE"]
    shown = _json("countries", "show", "nordic-plus")
    assert isinstance(shown, dict) and len(shown["members"]) == 6
    assert runner.invoke(cli, ["countries", "remove-group", "nordic-plus"]).exit_code == 0
    result = runner.invoke(cli, ["countries", "show", "nordic-plus"])
    assert isinstance(result.exception, UnknownCodeError)
