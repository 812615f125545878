"""`--format xlsx --out FILE` for every command that prints data (one writer: readable headers,
a units row, number formats, widths, frozen header, filter, a sources sheet with the command),
and `--format csv --csv-style nb` for Norwegian Excel."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from verdikart.cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, (result.output, result.exception)


def test_criticality_workbook(tmp_path: Path) -> None:
    out = tmp_path / "c.xlsx"
    _invoke("criticality", "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    data, sources = book.worksheets[0], book["Sources"]
    assert book.sheetnames[-1] == "Sources"
    header = [c.value for c in data[1]]
    units = [c.value for c in data[2]]
    assert header[:5] == [
        "Material",
        "Stage",
        "Supply risk (SR)",
        "Economic importance (EI)",
        "Critical",
    ]
    assert units[header.index("Import reliance")] == "%"
    assert data.freeze_panes == "A3"
    assert data.auto_filter.ref == f"A2:{data.cell(2, len(header)).column_letter}{data.max_row}"
    assert data.column_dimensions["A"].width >= len("Material")
    cobalt = next(
        r for r in data.iter_rows(min_row=3) if r[0].value == "cobalt" and r[1].value == "max"
    )
    sr = cobalt[header.index("Supply risk (SR)")]
    eol = cobalt[header.index("End-of-life recycling input")]
    assert isinstance(sr.value, float) and sr.number_format == "#,##0.00"
    assert eol.value == pytest.approx(0.22) and eol.number_format == "0.0%"
    texts = [str(c.value) for row in sources.iter_rows() for c in row if c.value is not None]
    assert "verdikart criticality --format xlsx --out " + str(out) in texts
    assert any("EU CRM study 2023" in t for t in texts)  # the data's sources
    assert "Data in the store" in texts and "trade" in texts


def test_every_data_command_writes_a_workbook(tmp_path: Path) -> None:
    commands = [
        ["data", "status"],
        ["materials", "list"],
        ["geopolrisk", "-m", "kobolt", "-c", "Norge", "-y", "2020-2022"],
        ["production", "-m", "cobalt", "-y", "2022"],
        ["map", "--year", "2022"],
        ["company", "assess", str(FIXTURES / "company" / "fjordmetall_purchases.csv")],
        ["exchange", "potential", "--material", "manganese"],
    ]
    if "position" in cli.commands:
        commands.append(["position", "-c", "NOR"])
    for n, args in enumerate(commands):
        out = tmp_path / f"{n}.xlsx"
        _invoke(*args, "--format", "xlsx", "--out", str(out))
        book = load_workbook(out)
        assert len(book.sheetnames) == 2 and book.sheetnames[-1] == "Sources", args
        assert book.worksheets[0].freeze_panes == "A3", args
        assert book.worksheets[0].max_row >= 3, args


def test_geopolrisk_workbook_formats(tmp_path: Path) -> None:
    out = tmp_path / "g.xlsx"
    _invoke(
        "--lang",
        "nb",
        "geopolrisk",
        "-m",
        "cobalt",
        "-c",
        "NOR",
        "-y",
        "2022",
        "--format",
        "xlsx",
        "--out",
        str(out),
    )
    book = load_workbook(out)
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    assert "Importverdi" in header and book.sheetnames[-1] == "Kilder"
    value = ws.cell(3, header.index("Importverdi") + 1)
    assert value.value == pytest.approx(162743, rel=1e-4) and value.number_format == "#,##0"
    assert ws.cell(2, header.index("Importverdi") + 1).value == "1000 USD"
    assert ws.cell(3, header.index("År") + 1).number_format == "0"


def test_xlsx_needs_out() -> None:
    result = CliRunner().invoke(cli, ["criticality", "--format", "xlsx"])
    assert result.exit_code == 2 and "--out" in result.output


def test_csv_for_norwegian_excel(tmp_path: Path) -> None:
    out = tmp_path / "g.csv"
    args = ["geopolrisk", "-m", "cobalt", "-c", "NOR", "-y", "2022", "--format", "csv"]
    _invoke(*args, "--csv-style", "nb", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    header, row = raw.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("country;kind;material;year;score;")
    cells = row.split(";")
    assert cells[:4] == ["NOR", "country", "cobalt", "2022"]
    assert cells[4].startswith("0,17") and "." not in cells[4]
    english = CliRunner().invoke(cli, args)
    assert english.output.splitlines()[1].split(",")[4].startswith("0.17")
