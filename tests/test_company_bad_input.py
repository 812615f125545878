"""`verdikart company assess FILE` on files it cannot read: exit 2, a message naming the file
(and the line where known) and what to do, never a traceback.

Runs the installed command (`.venv/bin/verdikart`) in a subprocess with its own data directory,
as a user would. CSV is read as UTF-8 only (with or without BOM); see
`verdikart.indicators.company._read_rows` for why other encodings are refused, not guessed.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from verdikart.errors import DataValidationError, SourceError
from verdikart.indicators.company import read_purchases

VERDIKART = Path(sys.executable).parent / "verdikart"
GOOD = Path(__file__).parent / "fixtures" / "company" / "fjordmetall_purchases.csv"
HEADER = "material,origin,year,quantity_t,value_kusd\n"


def _assess(path: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VERDIKART_DATA_DIR": str(data_dir)}
    env.pop("VERDIKART_STORE", None)
    return subprocess.run(
        [str(VERDIKART), "company", "assess", str(path), "--format", "csv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _refused(path: Path, tmp_path: Path, *expected: str) -> str:
    proc = _assess(path, tmp_path / "data")
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""
    message = proc.stderr.strip()
    assert message.startswith(f"error: {path}"), message
    for part in expected:
        assert part in message, message
    return message


def _workbook(path: Path, rows: list[list[str]], *, first: str | None = None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if first is not None:
        sheet.title = first
        sheet.append(["Fjordmetall AS: purchases 2022"])
        sheet = book.create_sheet("Data")
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _good_rows() -> list[list[str]]:
    with GOOD.open(encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_cp1252_csv_names_file_line_and_how_to_save(tmp_path: Path) -> None:
    path = tmp_path / "innkjøp.csv"
    path.write_bytes((HEADER + "cobalt,CAN,2022,150,8000\nkobolt,Bodø,2022,1,2\n").encode("cp1252"))
    message = _refused(
        path, tmp_path, ", line 3: not UTF-8 text (byte 0xF8)", "read as UTF-8", "Windows-1252"
    )
    assert "'kobolt,Bodø,2022,1,2'" in message  # the line as it reads in Windows-1252
    assert "CSV UTF-8" in message


def test_utf8_with_bom_is_read(tmp_path: Path) -> None:
    """Excel's 'CSV UTF-8' writes a byte-order mark: accepted, same result as without."""
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.read_bytes())
    assert read_purchases(path) == read_purchases(GOOD)


def test_semicolon_csv_is_read(tmp_path: Path) -> None:
    """Excel with a Norwegian locale separates with ';' (the header then holds no comma)."""
    path = tmp_path / "semikolon.csv"
    path.write_text(GOOD.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    assert read_purchases(path) == read_purchases(GOOD)


def test_utf16_csv(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(GOOD.read_text(encoding="utf-8").encode("utf-16"))
    _refused(path, tmp_path, ", line 1: UTF-16 text", "CSV UTF-8")


@pytest.mark.parametrize("content", [b"", b"\n\n   \n"], ids=["zero-bytes", "blank-lines"])
def test_empty_csv(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    _refused(path, tmp_path, ", line 1: empty file; expected a header row (material or hs6")


def test_truncated_xlsx(tmp_path: Path) -> None:
    whole = _workbook(tmp_path / "whole.xlsx", _good_rows()).read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    _refused(path, tmp_path, ": not a readable XLSX workbook", "truncated or damaged")


def test_damaged_xlsx_part(tmp_path: Path) -> None:
    """The zip directory is intact but the sheet's compressed bytes are not."""
    whole = _workbook(tmp_path / "whole.xlsx", _good_rows())
    info = zipfile.ZipFile(whole).getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(whole.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    for i in range(start, start + 40):
        data[i] ^= 0x5A
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    _refused(path, tmp_path, ": not a readable XLSX workbook (truncated or damaged?)")


def test_zip_that_is_no_workbook(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("purchases.txt", "cobalt")
    _refused(path, tmp_path, ": not a readable XLSX workbook", "[Content_Types].xml")


def test_csv_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "purchases.xlsx"
    path.write_bytes(GOOD.read_bytes())
    _refused(path, tmp_path, "not a complete zip archive", "name it .csv")


def test_empty_xlsx_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "blank.xlsx", [])
    _refused(path, tmp_path, ", sheet 'Sheet', line 1: empty sheet")


def test_xlsx_data_not_on_the_first_sheet(tmp_path: Path) -> None:
    """A cover sheet first: the message names the sheet read, the header it found and the
    workbook's other sheets."""
    path = _workbook(tmp_path / "cover.xlsx", _good_rows(), first="Cover")
    _refused(
        path,
        tmp_path,
        ", sheet 'Cover' (the first sheet is read; the workbook also has 'Data')",
        "missing column(s): origin, year, material or hs6",
        "header row found: fjordmetall as: purchases 2022",
    )


def test_xlsx_with_wrong_columns(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "columns.xlsx", [["item", "country", "tonnes"], ["Co", "CAN", "1"]])
    with pytest.raises(DataValidationError) as err:
        read_purchases(path)
    assert err.value.source == f"{path}, sheet 'Sheet'"
    assert err.value.problems[0].startswith("missing column(s): origin, year, material or hs6")
    assert "(header row found: item, country, tonnes)" in err.value.problems[0]


def test_old_xls_format(tmp_path: Path) -> None:
    path = tmp_path / "purchases.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    _refused(path, tmp_path, "Excel 97-2003 workbook (.xls)", "save it as .xlsx")


def test_row_numbers_are_file_lines_with_blank_lines(tmp_path: Path) -> None:
    """Problems point at the file's own line (CSV) or row (XLSX), blank lines counted."""
    text = HEADER + "\ncobalt,CAN,2022,150,8000\n\nunobtainium,CAN,2022,1,1\n"
    path = tmp_path / "gaps.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        read_purchases(path)
    assert err.value.problems == ["row 5: unknown material 'unobtainium'"]
    rows = [r.split(",") for r in text.splitlines()]
    book = _workbook(tmp_path / "gaps.xlsx", rows)
    with pytest.raises(DataValidationError) as err:
        read_purchases(book)
    assert err.value.problems == ["row 5: unknown material 'unobtainium'"]


def test_source_error_carries_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "cobalt,Tromsø,2022,1,2\n").encode("latin-1"))
    with pytest.raises(SourceError) as err:
        read_purchases(path)
    assert (err.value.path, err.value.line) == (str(path), 2)
