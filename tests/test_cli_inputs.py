"""One set of input rules for every command: Norwegian and English names, codes, list short
names, year ranges/lists/latest, and "did you mean" with exit 2 on every unknown value."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import UnknownCodeError
from verdikart.reference.inputs import (
    YearSpec,
    country_ids,
    list_ids,
    material_ids,
    parse_years,
)
from verdikart.reference.materials import resolve_list_id


def _json(*args: str) -> object:
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_materials_countries_and_lists_by_any_name() -> None:
    assert material_ids(["kobolt", "Nikkel", "Natural Graphite,cobalt"]) == [
        "cobalt",
        "nickel",
        "graphite",
    ]
    assert material_ids(["all"]) is None
    assert country_ids(["Norge", "Sverige", "SE", "nato", "578", "579"]) == ["NOR", "SWE", "NATO"]
    assert list_ids("nato,eu,crma,strategic") == [
        "nato2024",
        "eu2023",
        "crma-critical",
        "crma-strategic",
    ]
    assert resolve_list_id("NATO2024") == "nato2024"


def test_years() -> None:
    assert parse_years("2018-2020").resolve([2018, 2019, 2020, 2021]) == [2018, 2019, 2020]
    assert parse_years(["2020,2022"]).explicit() == [2020, 2022]
    assert parse_years("latest").resolve([2018, 2024]) == [2024]
    assert parse_years("2019, latest").resolve([2018, 2019, 2024]) == [2019, 2024]
    assert parse_years("all") == YearSpec(every=True)
    assert parse_years(None, default="latest").latest
    with pytest.raises(UnknownCodeError, match="use a year"):
        parse_years("twenty")
    with pytest.raises(UnknownCodeError, match="runs backwards"):
        parse_years("2022-2018")
    with pytest.raises(UnknownCodeError, match="years with data: 2018-2024"):
        parse_years("2030").resolve(range(2018, 2025))


def test_unknown_values_suggest() -> None:
    with pytest.raises(UnknownCodeError, match="did you mean: nato2024"):
        resolve_list_id("natoo")
    with pytest.raises(UnknownCodeError, match=r"did you mean: NOR \(Norway\)"):
        country_ids(["Norgee"])


def test_geopolrisk_norwegian_names_and_range() -> None:
    rows = _json("geopolrisk", "--material", "kobolt", "--country", "Norge", "--year", "2020-2022")
    assert [(r["country"], r["material"], r["year"]) for r in rows] == [
        ("NOR", "cobalt", 2020),
        ("NOR", "cobalt", 2021),
        ("NOR", "cobalt", 2022),
    ]
    listed = _json("geopolrisk", "-m", "kobolt", "-c", "NOR", "--year", "2020,2022")
    assert [r["year"] for r in listed] == [2020, 2022]


def test_geopolrisk_defaults_to_the_latest_year() -> None:
    rows = _json("geopolrisk", "-m", "cobalt", "-c", "NOR")
    assert [r["year"] for r in rows] == [2024]


def test_production_and_criticality_take_norwegian_names() -> None:
    prod = _json("production", "-m", "kobolt", "-y", "latest", "-c", "Norge")
    assert [(r["country"], r["material"], r["year"]) for r in prod] == [("NOR", "cobalt", 2024)]
    crit = _json("criticality", "-m", "kobolt", "--summary")
    assert [r["material"] for r in crit] == ["cobalt"]
    eu_ids = _json("criticality", "-m", "titanium-metal,Natural Graphite", "--summary")
    assert [r["material"] for r in eu_ids] == ["graphite", "titanium-metal"]


def test_map_list_short_names_and_latest() -> None:
    rows = _json("map", "--lists", "nato", "--country", "Norge", "--year", "2022")
    assert rows and all("nato2024" in r["lists"] for r in rows)
    assert {r["material"] for r in rows} <= {
        "aluminium",
        "beryllium",
        "cobalt",
        "gallium",
        "germanium",
        "graphite",
        "lithium",
        "manganese",
        "platinum",
        "rare-earths",
        "titanium",
        "tungsten",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["geopolrisk", "-m", "cobolt", "-c", "NOR"], "did you mean: cobalt"),
        (["geopolrisk", "-m", "cobalt", "-c", "Sverig"], "did you mean: SWE (Sweden)"),
        (["geopolrisk", "-m", "cobalt", "-c", "NOR", "-y", "1990"], "years with"),
        (["production", "-m", "kobalt", "-y", "2022"], "did you mean: cobalt"),
        (["criticality", "-m", "cobolt"], "did you mean: cobalt"),
        (["map", "--lists", "natoo"], "did you mean: nato2024"),
        (["map", "--country", "Norgee"], "did you mean: NOR (Norway)"),
        (["materials", "show", "kobbolt"], "did you mean: cobalt"),
        (["materials", "list", "--list", "nat"], "did you mean: nato2024"),
        (["exchange", "potential", "--material", "manganes"], "did you mean: manganese"),
    ],
)
def test_unknown_values_exit_2_with_suggestions(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    # the CLI's main() prints `error: <message>` and exits with the error's exit_code
    assert isinstance(result.exception, UnknownCodeError), result.output
    assert result.exception.exit_code == 2
    assert message in str(result.exception)
