"""Terminal output fits the terminal: every data command at 80 and 200 columns prints no line
longer than the width and no number in scientific notation; long tables are cut with a count
and a hint; numbers are formatted for people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.report.labels import display, label, number, percent

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCIENTIFIC = re.compile(r"\b\d+(?:[.,]\d+)?[eE][+-]?\d+\b")

COMMANDS = [
    ["data", "status"],
    ["materials", "list"],
    ["materials", "show", "kobolt"],
    ["materials", "lists"],
    ["geopolrisk"],
    ["geopolrisk", "-m", "kobolt", "-c", "Norge", "-y", "2020-2022"],
    ["production", "-m", "cobalt,nikkel", "-y", "2022"],
    ["production", "-m", "cobalt", "-y", "2022", "-c", "NOR"],
    ["criticality"],
    ["criticality", "-m", "cobalt", "--summary"],
    ["map", "--year", "2022"],
    ["map", "--year", "2022", "--level", "hs6", "--lists", "nato"],
    ["position", "-c", "NOR"],
    ["chain", "show", "nikkel"],
    ["company", "assess", str(FIXTURES / "company" / "fjordmetall_purchases.csv")],
    ["exchange", "potential", "--material", "manganese"],
]


def _run(args: list[str], width: int, monkeypatch: pytest.MonkeyPatch, *lang: str) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    result = CliRunner().invoke(cli, [*lang, *args], terminal_width=width)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_fits_the_width_without_scientific_notation(
    args: list[str], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if args[0] in ("position", "chain") and args[0] not in cli.commands:
        pytest.skip(f"{args[0]} is not a command yet")
    out = _run(args, width, monkeypatch)
    assert out.strip()
    long = [line for line in out.splitlines() if len(line) > width]
    assert not long, f"{len(long)} line(s) longer than {width}: {long[:2]}"
    assert not SCIENTIFIC.findall(out), SCIENTIFIC.findall(out)[:5]


def test_norwegian_headers_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _run(
        ["geopolrisk", "-m", "kobolt", "-c", "Norge", "-y", "2022"], 80, monkeypatch, "--lang", "nb"
    )
    assert "Importverdi (1000 USD)" in out and "NOR Norge" in out
    assert "162\u00a0743" in out  # import value 162,743 kUSD in Norwegian style


def test_long_tables_are_cut_with_a_count_and_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _run(["geopolrisk"], 80, monkeypatch)
    assert "Showing the first 100 of 6,547 rows" in out
    assert "--format csv, json or xlsx" in out
    few = _run(["--rows", "5", "geopolrisk"], 120, monkeypatch)
    assert "Showing the first 5 of 6,547 rows" in few


def test_codes_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    assert display("top_supplier", "S19") == "S19 Other Asia, nes"
    assert display("country", "NOR", "nb") == "NOR Norge"
    out = _run(["production", "-m", "cobalt", "-y", "2022"], 200, monkeypatch)
    assert "COD Congo" in out


def test_people_numbers() -> None:
    assert percent(0.651234) == "65.1 %"
    assert percent(1.1e-07) == "<0.01 %"
    assert percent(0.0027) == "0.27 %"
    assert percent(0.5, "nb") == "50,0 %"
    assert number(16270712.3) == "16,270,712"
    assert number(1.14037e-07) == "<0.0001"
    assert number(0.161186) == "0.161"
    assert number(1234.6, lang="nb") == "1\u00a0235"
    assert display("year", 2022) == "2022"
    assert display("import_value_kusd", 77541.2) == "77,541"
    assert display("critical", True, "nb") == "ja"
    assert label("import_value_kusd") == "Import value (1000 USD)"
    assert label("import_value_kusd", "nb") == "Importverdi (1000 USD)"
    assert label("top_supplier_share") == "Top supplier share (%)"
