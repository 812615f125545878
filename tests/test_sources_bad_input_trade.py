"""Bad input to the WGI, Comtrade and SSB readers (issue 2): a clear error, exit 2, store unchanged.

Each bad file is derived here, in a temp dir, from the small official-layout fixtures under
tests/fixtures (a row cut short, an unknown code, a unit the reader does not store). The
command line is run as the installed entry point in a subprocess, so the exit code and the
absence of a traceback are the user's; the store is compared before and after (row counts of
every table and the number of logged imports).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import SourceError
from verdikart.reference.countries import resolve_country
from verdikart.sources import run_import
from verdikart.store import Store

FIX = Path(__file__).resolve().parent / "fixtures"
WGI = FIX / "wgi" / "wgidataset.csv"
COMTRADE = FIX / "comtrade" / "comtrade_NOR_2022_H5.csv"
SSB_CSV = FIX / "ssb" / "utenrikshandel_2023.csv"
SSB_JSON = FIX / "ssb" / "08801.json"
ENTRY = Path(sys.executable).with_name("verdikart")


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A store file holding one good import of each reader, so 'unchanged' means something."""
    path = tmp_path / "store.duckdb"
    with Store.open(path, create=True) as store:
        run_import(store, "wgi", WGI)
        run_import(store, "comtrade", COMTRADE)
        run_import(store, "ssb", SSB_CSV)
        run_import(store, "ssb-jsonstat", SSB_JSON)
    return path


def _snapshot(path: Path) -> tuple[dict[str, int], int]:
    with Store.open(path) as store:
        return store.row_counts(), len(store.imports())


def _cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = (
        [str(ENTRY)]
        if ENTRY.exists()
        else [sys.executable, "-c", "from verdikart.cli import main; main()"]
    )
    return subprocess.run(
        [*command, "--store", str(store), "data", "import", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _refused(store: Path, *args: str) -> str:
    """Run a bad import: exit 2, `error: <file>...` and no traceback, the store unchanged."""
    before = _snapshot(store)
    proc = _cli(store, *args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.lstrip().startswith(f"error: {args[1]}"), proc.stderr
    assert _snapshot(store) == before
    return " ".join(proc.stderr.split())


def _write(path: Path, lines: list[str], *, end: str = "\n") -> Path:
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# -- G1: a line with the wrong number of fields (file cut mid-row, extra field) -------------
CSV_READERS = [("wgi", WGI, ","), ("comtrade", COMTRADE, ","), ("ssb", SSB_CSV, ";")]


@pytest.mark.parametrize(("source", "good", "delim"), CSV_READERS)
def test_file_cut_mid_row_names_file_line_and_field(
    seeded: Path, tmp_path: Path, source: str, good: Path, delim: str
) -> None:
    lines = _lines(good)
    fields = lines[0].count(delim) + 1
    cut = lines[3][: lines[3].index(delim, lines[3].index(delim) + 1)]  # two fields left
    bad = _write(tmp_path / f"{source}_cut.csv", [*lines[:3], cut], end="")
    text = _refused(seeded, source, str(bad))
    assert f"{bad}, line 4: malformed CSV, nothing imported" in text, text
    assert f"line 4: 2 field(s), {fields} expected (cut off before field" in text, text


@pytest.mark.parametrize(("source", "good", "delim"), CSV_READERS)
def test_extra_field_mid_file_names_the_line(
    seeded: Path, tmp_path: Path, source: str, good: Path, delim: str
) -> None:
    lines = _lines(good)
    fields = lines[0].count(delim) + 1
    lines[2] += f"{delim}surplus"
    bad = _write(tmp_path / f"{source}_long.csv", lines)
    text = _refused(seeded, source, str(bad))
    assert f"{bad}, line 3: malformed CSV" in text, text
    assert f"line 3: {fields + 1} fields, {fields} expected" in text, text


def test_malformed_csv_leaves_the_connection_usable(seeded: Path, tmp_path: Path) -> None:
    """The parse runs outside the store's transaction: the SourceError is the one raised, and
    the store's own settings (threads) and data are untouched afterwards."""
    lines = _lines(WGI)
    bad = _write(tmp_path / "wgi_cut.csv", [*lines[:6], lines[6][:8]], end="")
    with Store.open(seeded) as store:
        threads = store.con.execute("SELECT current_setting('threads')").fetchall()
        before = store.row_counts()
        with pytest.raises(SourceError) as err:
            run_import(store, "wgi", bad)
        assert err.value.line == 7 and "cut off before field 'code'" in err.value.problem
        assert store.con.execute("SELECT current_setting('threads')").fetchall() == threads
        assert store.row_counts() == before
        run_import(store, "wgi", WGI)  # the same connection imports the good file


def test_non_utf8_bytes_name_the_line(seeded: Path, tmp_path: Path) -> None:
    lines = _lines(SSB_CSV)
    bad = tmp_path / "ssb_latin1.csv"
    text = "\n".join([*lines[:4], lines[4].replace(";DE;", ";DE;Tr\u00f8ndelag"), *lines[5:]])
    bad.write_bytes(text.encode("latin-1"))
    message = _refused(seeded, "ssb", str(bad))
    assert f"{bad}, line 5: malformed CSV" in message and "not utf-8" in message, message


# -- G5: unknown country codes (WGI, Comtrade) ------------------------------------------------
def test_wgi_unknown_code_is_an_error_naming_line_and_count(seeded: Path, tmp_path: Path) -> None:
    lines = _lines(WGI)
    lines[2] = lines[2].replace(",NOR,", ",XXX,")
    lines[4] = lines[4].replace(",NOR,", ",XXX,")
    bad = _write(tmp_path / "wgi_xxx.csv", lines)
    text = _refused(seeded, "wgi", str(bad))
    assert f"{bad}, line 3, field 'code': unknown country code(s): XXX (2 rows; Norway)" in text
    assert "(first at line 3, 5); nothing imported. Pass --allow-unmapped" in text, text


def test_wgi_unknown_code_with_allow_unmapped_is_kept_and_reported(
    seeded: Path, tmp_path: Path
) -> None:
    lines = _lines(WGI)
    lines[2] = lines[2].replace(",NOR,", ",XXX,")
    bad = _write(tmp_path / "wgi_xxx.csv", lines)
    result = CliRunner().invoke(
        cli,
        ["--store", str(seeded), "data", "import", "wgi", str(bad), "--allow-unmapped"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "XXX" in result.output and "unknown country code(s) kept" in result.output
    with Store.open(seeded) as store:
        rows = store.rows("SELECT count(*) AS n FROM governance WHERE country = 'XXX'")
    assert rows == [{"n": 7}]  # six measures + pv.normalized of one pv line


def test_kosovo_is_a_known_country_for_wgi(seeded: Path, tmp_path: Path) -> None:
    ref = resolve_country("XKX")
    assert (ref.kind, ref.id, ref.iso2, ref.name_en) == ("country", "XKX", "XK", "Kosovo")
    assert resolve_country("XK").id == resolve_country("Kosovo").id == "XKX"
    lines = _lines(WGI)
    lines += [
        "KSVpv2023,KSV,Kosovo,2023,pv,-0.10,0.22,6,40.0,30.0,50.0",
        "XKXva2023,XKX,Kosovo,2023,va,0.20,0.20,6,55.0,45.0,65.0",
    ]
    good = _write(tmp_path / "wgi_kosovo.csv", lines)
    with Store.open(seeded) as store:
        report = run_import(store, "wgi", good)
        assert report.unmapped == {}
        rows = store.rows(
            "SELECT indicator FROM governance WHERE country = 'XKX' AND year = 2023 "
            "AND indicator IN ('pv.estimate', 'va.estimate') ORDER BY 1"
        )
    assert [r["indicator"] for r in rows] == ["pv.estimate", "va.estimate"]


def _comtrade_row(line: str, **values: str) -> str:
    header = _lines(COMTRADE)[0].split(",")
    cells = line.split(",")
    for name, value in values.items():
        cells[header.index(name)] = value
    return ",".join(cells)


def test_comtrade_unknown_partner_iso_is_an_error(seeded: Path, tmp_path: Path) -> None:
    lines = _lines(COMTRADE)
    lines[1] = _comtrade_row(lines[1], partnerCode="998", partnerISO="QQQ", partnerDesc="?")
    bad = _write(tmp_path / "ct_qqq.csv", lines)
    text = _refused(seeded, "comtrade", str(bad))
    assert (
        f"{bad}, line 2, field 'reporterISO/partnerISO': unknown country code(s): "
        "QQQ (1 rows; partnerCode 998) (first at line 2); nothing imported" in text
    ), text


def test_comtrade_empty_iso_names_the_numeric_code(seeded: Path, tmp_path: Path) -> None:
    lines = _lines(COMTRADE)
    lines[3] = _comtrade_row(lines[3], partnerCode="997", partnerISO="")
    bad = _write(tmp_path / "ct_empty.csv", lines)
    text = _refused(seeded, "comtrade", str(bad))
    assert "line 4" in text and "997 (1 rows; partnerCode 997)" in text, text


def test_comtrade_unknown_code_with_allow_unmapped_is_kept_and_reported(
    seeded: Path, tmp_path: Path
) -> None:
    lines = _lines(COMTRADE)
    lines[1] = _comtrade_row(lines[1], partnerCode="998", partnerISO="QQQ")
    bad = _write(tmp_path / "ct_qqq.csv", lines)
    with Store.open(seeded) as store:
        report = run_import(store, "comtrade", bad, allow_unmapped=True)
        assert report.unmapped == {"QQQ": 1}
        assert any("QQQ (1 rows; partnerCode 998)" in w for w in report.warnings)
        assert store.rows("SELECT exporter FROM trade WHERE exporter = 'QQQ'") == [
            {"exporter": "QQQ"}
        ]


def test_comtrade_partner_areas_are_skipped_and_counted(seeded: Path, tmp_path: Path) -> None:
    """World (0) and Comtrade's non-country areas (Areas nes 899, Bunkers 837) are not
    bilateral country trade: skipped with a count, not an unknown-code error."""
    lines = _lines(COMTRADE)
    lines.append(_comtrade_row(lines[1], partnerCode="899", partnerISO="_X"))
    lines.append(_comtrade_row(lines[1], partnerCode="837", partnerISO="XBU"))
    areas = _write(tmp_path / "ct_areas.csv", lines)
    with Store.open(seeded) as store:
        report = run_import(store, "comtrade", areas)
    assert report.rows == 3 and report.unmapped == {}
    text = " ".join(report.warnings)
    assert "2 rows with a partner area that is not a country skipped" in text, text
    assert "Areas, nes 899: 1" in text and "Bunkers 837: 1" in text
    assert "1 partner World (0) rows skipped" in text


# -- G6: SSB JSON-stat2 units -----------------------------------------------------------------
def _jsonstat(tmp_path: Path, name: str, **units: str) -> Path:
    doc: dict[str, Any] = json.loads(SSB_JSON.read_text(encoding="utf-8"))
    category = doc["dimension"]["ContentsCode"]["category"]
    for code, unit in units.items():
        category["unit"][code]["base"] = unit
        category["label"][code] = category["label"][code].split(" (")[0] + f" ({unit})"
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_ssb_jsonstat_tonnes_and_thousand_kroner_are_converted(
    seeded: Path, tmp_path: Path
) -> None:
    scaled = _jsonstat(tmp_path, "08801_scaled.json", Mengde1="tonn", Verdi="1000 kr")
    result = CliRunner().invoke(
        cli, ["--store", str(seeded), "data", "import", "ssb-jsonstat", str(scaled)]
    )
    assert result.exit_code == 0, result.output
    assert "Mengde1 given in 'tonn': multiplied by 1000 to kg" in result.output
    assert "Verdi given in '1000 kr': multiplied by 1000 to NOK" in result.output
    with Store.open(seeded) as store:
        rows = store.rows(
            "SELECT quantity_1_kg, value_nok FROM ssb_trade WHERE cn8 = '76011000' "
            "AND partner = 'SWE' AND flow = 'export'"
        )
    # the fixture's cell says 41,000,000 and 1,150,000,000: in tonnes and thousand kroner here
    assert rows == [{"quantity_1_kg": 41_000_000_000.0, "value_nok": 1_150_000_000_000.0}]


def test_ssb_jsonstat_unknown_unit_is_an_error(seeded: Path, tmp_path: Path) -> None:
    bad = _jsonstat(tmp_path, "08801_pund.json", Mengde1="pund")
    text = _refused(seeded, "ssb-jsonstat", str(bad))
    assert (
        f"{bad}, field 'dimension.ContentsCode.category.unit.Mengde1': ContentsCode Mengde1 "
        "is in unit 'pund', which verdikart cannot convert to kg" in text
    ), text


def test_ssb_jsonstat_label_contradicting_unit_is_an_error(seeded: Path, tmp_path: Path) -> None:
    doc = json.loads(SSB_JSON.read_text(encoding="utf-8"))
    doc["dimension"]["ContentsCode"]["category"]["label"]["Verdi"] = "Verdi (1000 kr)"
    bad = tmp_path / "08801_label.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    text = _refused(seeded, "ssb-jsonstat", str(bad))
    assert "ContentsCode Verdi: the label 'Verdi (1000 kr)' and the unit 'kr' disagree" in text


def test_ssb_jsonstat_unknown_land_names_the_dimension(seeded: Path, tmp_path: Path) -> None:
    doc = json.loads(SSB_JSON.read_text(encoding="utf-8"))
    land = doc["dimension"]["Land"]["category"]
    land["index"] = {("QQ" if k == "SE" else k): v for k, v in land["index"].items()}
    bad = tmp_path / "08801_qq.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    text = _refused(seeded, "ssb-jsonstat", str(bad))
    assert f"{bad}, field 'dimension.Land': unknown country code(s): QQ (" in text, text


# -- G9: SSB CSV unknown country code names its lines ----------------------------------------
def test_ssb_csv_unknown_code_names_first_lines(seeded: Path, tmp_path: Path) -> None:
    lines = _lines(SSB_CSV)
    lines[2] = lines[2].replace(";JP;", ";QQ;")
    lines[5] = lines[5].replace(";BR;", ";QQ;")
    bad = _write(tmp_path / "ssb_qq.csv", lines)
    text = _refused(seeded, "ssb", str(bad))
    assert (
        f"{bad}, line 3, field 'obland': unknown country code(s): QQ (2 rows) "
        "(first at line 3, 6); nothing imported" in text
    ), text


def test_ssb_csv_kosovo_xk_is_known(seeded: Path, tmp_path: Path) -> None:
    lines = _lines(SSB_CSV)
    lines[2] = lines[2].replace(";JP;", ";XK;")
    good = _write(tmp_path / "ssb_xk.csv", lines)
    with Store.open(seeded) as store:
        report = run_import(store, "ssb", good)
        assert report.unmapped == {}
        assert store.rows("SELECT partner FROM ssb_trade WHERE partner_iso2 = 'XK'") == [
            {"partner": "XKX"}
        ]
