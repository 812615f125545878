"""Bad scenario files, event tables, watch rules and --shock texts: file, line and reason, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli

GOOD = """[scenario]
year = 2022
importers = ["NOR"]
date = 2023-12-01

[[shock]]
supplier = "CHN"
material = "graphite"
change = "-100%"
"""


def _run(args: list[str]) -> str:
    """The error text of a command that must fail with exit status 2 (the CLI's main() prints
    a VerdikartError as `error: <message>` and exits with its exit_code; click's own usage
    errors exit 2 too)."""
    from verdikart.errors import VerdikartError

    result = CliRunner().invoke(cli, args)
    if isinstance(result.exception, VerdikartError):
        assert result.exception.exit_code == 2
        return str(result.exception)
    assert result.exit_code == 2, (result.output, result.exception)
    return result.output


def _scenario(tmp_path: Path, text: str, name: str = "bad.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return _run(["scenario", "run", str(path), "--format", "json"])


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ('supplier = "CHN"', 'supplier = "Chinaa"', 7, "unknown country or group 'Chinaa'"),
        ('importers = ["NOR"]', 'importers = ["NOR", "XXZ"]', 3, "unknown country or group 'XXZ'"),
        ('material = "graphite"', 'material = "grafite"', 8, "unknown material 'grafite'"),
        ('material = "graphite"', 'material = "graphite/smelting"', 8, "unknown stage 'smelting'"),
        ('change = "-100%"', 'change = "-150%"', 9, "outside 0-100 %"),
        ('change = "-100%"', 'change = "+20%"', 9, "outside 0-100 %"),
        ("date = 2023-12-01", 'date = "1 Dec 2023"', 4, "does not parse"),
    ],
)
def test_bad_scenario_file(tmp_path: Path, old: str, new: str, line: int, reason: str) -> None:
    out = _scenario(tmp_path, GOOD.replace(old, new))
    assert f"bad.toml, line {line}" in out
    assert reason in out


def test_bad_resourcing_share(tmp_path: Path) -> None:
    out = _scenario(tmp_path, GOOD + "\n[resourcing.graphite]\ndivert_share = 1.5\n")
    assert "bad.toml, line 12" in out and "outside 0-100 %" in out


def test_bad_yaml_scenario_names_its_line(tmp_path: Path) -> None:
    text = "scenario:\n  year: 2022\nshock:\n  - supplier: CHN\n    material: unobtainium\n    change: -100%\n"
    out = _scenario(tmp_path, text, "bad.yaml")
    assert "bad.yaml, line 5" in out and "unknown material 'unobtainium'" in out


def test_unknown_key_and_invalid_toml(tmp_path: Path) -> None:
    out = _scenario(tmp_path, GOOD.replace('change = "-100%"', 'change = "-100%"\ncut = 1'))
    assert "line 10" in out and "unknown key(s) ['cut']" in out
    out = _scenario(tmp_path, GOOD.replace("year = 2022", "year = "))
    assert "invalid TOML" in out and "line 2" in out


@pytest.mark.parametrize(
    "shock",
    [
        "CHN:graphite",
        "XXZ:graphite:-100%",
        "CHN:kryptonite:-100%",
        "CHN:graphite:-101%",
        "CHN:graphite:50%",
        "CHN:graphite:lots",
    ],
)
def test_bad_shock_text(shock: str) -> None:
    out = _run(["scenario", "run", "--shock", shock, "--year", "2022", "--format", "json"])
    assert shock in out


def test_year_without_trade_data() -> None:
    out = _run(["scenario", "run", "--shock", "CHN:graphite:-100%", "--year", "1980"])
    assert "no trade data for year 1980" in out


EVENT = """[[event]]
id = "x"
date = 2023-08-01
country = "CHN"
kind = "export-control"
materials = ["gallium"]
title = "a measure"
source = "https://example.org/act"
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ('country = "CHN"', 'country = "Cathay"', 4, "unknown country or group 'Cathay'"),
        ('materials = ["gallium"]', 'materials = ["galium-x"]', 6, "unknown material"),
        ("date = 2023-08-01", 'date = "2023-13-01"', 3, "does not parse"),
        ('kind = "export-control"', 'kind = "embargo-ish"', 5, "is not one of"),
        ('source = "https://example.org/act"\n', "", 1, "has no source"),
    ],
)
def test_bad_event_table(tmp_path: Path, old: str, new: str, line: int, reason: str) -> None:
    path = tmp_path / "events.toml"
    path.write_text(EVENT.replace(old, new), encoding="utf-8")
    out = _run(["scenario", "events", "--events", str(path)])
    assert f"events.toml, line {line}" in out and reason in out


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("[rules.supplier_share]\nthreshold = 65\n", 2, "outside 0-100 %"),
        ("[rules.hhi_jump]\npoints = 10\n", 1, "unknown rule 'hhi_jump'"),
        ("[rules.hhi_rise]\npoint = 10\n", 2, "unknown key 'point'"),
    ],
)
def test_bad_watch_rules(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    out = _run(["watch", "--country", "NOR", "--rules", str(path), "--no-record"])
    assert f"rules.toml, line {line}" in out and reason in out


def test_bad_watch_since() -> None:
    out = _run(["watch", "--country", "NOR", "--since", "last month", "--no-record"])
    assert "not a date" in out


def test_every_shipped_data_file_loads() -> None:
    from verdikart.scenarios.events import load_events
    from verdikart.scenarios.spec import load_defaults, load_scenario, shipped_scenarios
    from verdikart.scenarios.watch import load_rules

    assert len(load_events()) >= 10 and all(e.source for e in load_events())
    assert load_defaults().general.new_source_years == 16
    assert load_rules().rules["supplier_share"]["threshold"] == 0.65
    for path in shipped_scenarios():
        assert load_scenario(path).sources
