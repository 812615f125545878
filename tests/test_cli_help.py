"""Help in users' words: every command has a complete one-line summary, every option has help,
no help text names our internal source documents; `company template` writes a purchases file
that `company assess` reads once filled in."""

from __future__ import annotations

import csv
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from verdikart import __version__
from verdikart.cli import SHORT_HELP, _walk, cli
from verdikart.report.templates import HEADER

COMMANDS = _walk(cli)


def _help(path: str) -> str:
    result = CliRunner().invoke(cli, [*path.split(), "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS[1:], ids=[p for p, _ in COMMANDS[1:]])
def test_every_command_has_a_complete_short_help(path: str, command: click.Command) -> None:
    assert path in SHORT_HELP, f"add a one-line summary for `{path}` to cli.SHORT_HELP"
    short = command.get_short_help_str(limit=60)
    assert short == SHORT_HELP[path] and short.endswith(".") and not short.endswith("...")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p or "verdikart" for p, _ in COMMANDS])
def test_every_option_has_help_and_no_help_says_seed(path: str, command: click.Command) -> None:
    missing = [
        p.opts[0]
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and not p.help and p.name != "help"
    ]
    assert not missing, f"`verdikart {path}` options without help: {missing}"
    text = _help(path)
    assert "seed" not in text.casefold(), f"`verdikart {path} --help` mentions 'seed'"
    commands = text.split("Commands:")[1] if "Commands:" in text else ""
    assert "..." not in commands, "a summary cut in the command list"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_company_template_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"purchases{suffix}"
    result = CliRunner().invoke(cli, ["company", "template", "--out", str(path)])
    assert result.exit_code == 0, result.output
    row = ["kobolt", "", "Canada", "2022", "150", "", "", "8000"]
    if suffix == ".xlsx":
        book = load_workbook(path)
        assert book.sheetnames == ["Purchases", "Instructions"]
        assert [c.value for c in book["Purchases"][1]] == list(HEADER)
        assert any("origin" in str(c.value) for r in book["Instructions"].iter_rows() for c in r)
        book["Purchases"].append(row)
        book.save(path)
    else:
        guide = tmp_path / "purchases-instructions.txt"
        assert "origin" in guide.read_text(encoding="utf-8")
        with path.open("a", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerow(row)
    assessed = CliRunner().invoke(cli, ["company", "assess", str(path), "--format", "json"])
    assert assessed.exit_code == 0, assessed.output
    assert '"product": "cobalt"' in assessed.stdout and '"top_supplier": "CAN"' in assessed.stdout


def test_template_needs_csv_or_xlsx(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["company", "template", "--out", str(tmp_path / "p.txt")])
    assert result.exit_code != 0 and ".csv or .xlsx" in str(result.exception)


def test_version_loads_no_command_module() -> None:
    """`verdikart --version` answers without importing the commands' modules (they are added
    to the root group on first use); `--help` still lists every command."""
    from program import probed, run_program

    run = run_program(
        ["--version"],
        "sorted(m for m in sys.modules if m.startswith('verdikart.cli.')"
        " and m != 'verdikart.cli.common')",
    )
    assert run.stdout.strip() == f"verdikart, version {__version__}"
    assert probed(run) == "[]"
    assert "map " in _help("") and "suppliers " in _help("")
