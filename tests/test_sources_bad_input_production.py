"""Bad input for the production readers (World Mining Data, USGS MCS) and mixed units in the
production indicators: every bad file stops the import with a message naming file, line/sheet
and field, the installed CLI exits 2 (no traceback), and the store is left as it was.

The files are written here, small, in the publishers' layouts (WMD 6.4 workbook: title rows,
``Country | unit | <years> | data source``; USGS MCS: ``mcsYYYY-<code>_world.csv`` with BOM,
CRLF, trailing empty columns and blank lines, as in the real releases).
"""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result

from verdikart.cli import cli
from verdikart.errors import SourceError
from verdikart.indicators.production import own_production, producer_shares, production_hhi
from verdikart.schema import PRODUCTION
from verdikart.store import Store, arrow_loader

WMD_NAME = "6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_Minerals.xlsx"
YEARS = [2021, 2022]
# Graphite 2021/2022 as in the WMD sheet layout: (country, unit, values, data source)
GRAPHITE = [
    ("China", "metr. t", [800000, 850000], "e"),
    ("Norway", "metr. t", [8000, 10000], "r"),
]


def counts(store_file: Path) -> dict[str, int]:
    with Store.open(store_file) as store:
        out = store.row_counts()
        out["imports"] = len(store.imports())
    return out


def cli_run(store_file: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--store", str(store_file), *args])
    # the traceback's frames hold the CLI context and its open store: drop them so the store
    # file is free for the next connection (the installed CLI ends its process instead)
    if result.exception is not None:
        result.exception.__traceback__ = None
    result.exc_info = None
    gc.collect()
    return result


def installed_cli(store_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `verdikart` entry point (exit 2 and `error: ...` on bad input)."""
    env = {**os.environ, "VERDIKART_STORE": str(store_file)}
    exe = Path(sys.executable).with_name("verdikart")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, check=False)


def assert_source_error(result: Result, path: Path, *words: str) -> str:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SourceError), repr(result.exception)
    message = str(result.exception)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    return message


# -- World Mining Data ------------------------------------------------------------------------
def write_wmd(path: Path, sheets: dict[str, list[tuple[str, str, list[Any], str | None]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        ws.append([f"Production of {name}"])
        ws.append([])
        ws.append(["Country", "unit", *YEARS, "data source"])  # row 3
        for country, unit, values, quality in rows:  # from row 4
            ws.append([country, unit, *values, quality])
        ws.append(["Total", "metr. t", *([None] * len(YEARS)), None])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


@pytest.fixture
def wmd_store(tmp_path: Path) -> Path:
    """A store with one good WMD import (so 'unchanged' covers imported rows too)."""
    store_file = tmp_path / "store.duckdb"
    good = write_wmd(tmp_path / "good" / WMD_NAME, {"Graphite": GRAPHITE})
    result = cli_run(store_file, "data", "import", "wmd", str(good))
    assert result.exit_code == 0, result.output
    return store_file


def _cut_sheet_xml(data: bytes) -> bytes:
    """The same workbook with its sheet's XML cut in the middle (a valid zip)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            body = zin.read(name)
            zout.writestr(name, body[: len(body) // 2] if "worksheets/sheet" in name else body)
    return out.getvalue()


CORRUPT: dict[str, tuple[Callable[[bytes], bytes], list[str]]] = {
    "truncated": (lambda d: d[: len(d) // 2], ["not a readable xlsx workbook", "BadZipFile"]),
    "empty": (lambda d: b"", ["not a readable xlsx workbook"]),
    "csv-renamed": (
        lambda d: b"Country,unit,2021\r\nChina,metr. t,800000\r\n",
        ["not a readable xlsx workbook"],
    ),
    "sheet-xml-cut": (_cut_sheet_xml, ["sheet 'Graphite' cannot be read", "ParseError"]),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_wmd_corrupt_workbook_is_a_source_error(tmp_path: Path, wmd_store: Path, case: str) -> None:
    """G3: a truncated/corrupt workbook -> SourceError naming the file, store unchanged."""
    corrupt, words = CORRUPT[case]
    before = counts(wmd_store)
    good = write_wmd(tmp_path / "src" / WMD_NAME, {"Graphite": GRAPHITE})
    bad = tmp_path / "bad" / WMD_NAME
    bad.parent.mkdir()
    bad.write_bytes(corrupt(good.read_bytes()))
    result = cli_run(wmd_store, "data", "import", "wmd", str(bad))
    assert_source_error(result, bad, *words)
    assert counts(wmd_store) == before


def test_wmd_truncated_workbook_exits_2(tmp_path: Path, wmd_store: Path) -> None:
    """G3 through the installed CLI: `error: <file>: ...`, exit 2, no traceback."""
    before = counts(wmd_store)
    good = write_wmd(tmp_path / "src" / WMD_NAME, {"Graphite": GRAPHITE})
    bad = tmp_path / "truncated.xlsx"
    bad.write_bytes(good.read_bytes()[:3000])
    proc = installed_cli(wmd_store, "data", "import", "wmd", str(bad))
    assert proc.returncode == 2, proc.stderr
    assert f"error: {bad}: not a readable xlsx workbook" in proc.stderr
    assert "BadZipFile" in proc.stderr and "Traceback" not in proc.stderr
    assert counts(wmd_store) == before


def test_wmd_kg_and_t_in_one_sheet_are_converted_to_t(tmp_path: Path, wmd_store: Path) -> None:
    """G4a: China in kg next to Norway in metr. t -> one unit (t), with a warning naming the
    line; producer shares from the CLI then compare like with like (hand-computed)."""
    mixed = [("China", "kg", [800_000, 850_000], "e"), ("Norway", "metr. t", [8000, 10000], "r")]
    path = write_wmd(tmp_path / "mixed" / WMD_NAME, {"Graphite": mixed})
    result = cli_run(wmd_store, "data", "import", "wmd", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rows"] == 4
    assert any(
        "sheet 'Graphite': 2 value(s) in kg converted to t" in w and "line(s) 4" in w
        for w in report["warnings"]
    ), report["warnings"]
    with Store.open(wmd_store) as store:
        rows = store.rows(
            "SELECT country, quantity, unit FROM production WHERE material = 'graphite' "
            "AND year = 2022 ORDER BY country"
        )
    assert rows == [
        {"country": "CHN", "quantity": 850.0, "unit": "t"},
        {"country": "NOR", "quantity": 10000.0, "unit": "t"},
    ]
    out = cli_run(
        wmd_store, "production", "--material", "graphite", "--year", "2022", "--format", "json"
    )
    assert out.exit_code == 0, out.output
    shares = {r["country"]: r for r in json.loads(out.output)}
    # world 850 + 10,000 = 10,850 t; CHN 850/10850 = 0.0783410138..., NOR 0.9216589861...
    assert shares["CHN"]["quantity"] == 850.0 and shares["CHN"]["unit"] == "t"
    assert shares["CHN"]["share"] == pytest.approx(850 / 10850, rel=1e-12)
    assert shares["CHN"]["share"] == pytest.approx(0.0783410138248848, rel=1e-12)
    assert shares["NOR"]["share"] == pytest.approx(10000 / 10850, rel=1e-12)
    assert shares["NOR"]["rank"] == 1
    # HHI = (850² + 10000²) / 10850² = 100,722,500 / 117,722,500 = 0.855592601...
    assert shares["NOR"]["hhi"] == pytest.approx(100_722_500 / 117_722_500, rel=1e-12)


def test_wmd_mass_next_to_carats_is_an_error(tmp_path: Path, wmd_store: Path) -> None:
    """G4a: units that do not convert (metr. t and ct) in one sheet -> error naming sheet,
    line, field and both units; store unchanged."""
    before = counts(wmd_store)
    mixed = [*GRAPHITE, ("Brazil", "ct", [100, 120], "e")]
    path = write_wmd(tmp_path / "bad" / WMD_NAME, {"Graphite": mixed})
    result = cli_run(wmd_store, "data", "import", "wmd", str(path))
    message = assert_source_error(
        result, path, "line 6", "field 'unit'", "sheet 'Graphite'", "'ct'", "'metr. t'", "line 4"
    )
    assert "do not convert" in message
    assert counts(wmd_store) == before
    proc = installed_cli(wmd_store, "data", "import", "wmd", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"error: {path}, line 6, field 'unit': sheet 'Graphite'" in proc.stderr


# -- production indicators on rows in different units -----------------------------------------
SOURCE = "World Mining Data 2024"


def _loader(rows: list[tuple[str, str, float, str]]) -> Callable[[Any, str], int]:
    """Rows (material, country, quantity, unit) for 2022 extraction, loaded as one import."""
    n = len(rows)
    table = pa.table(
        {
            "year": pa.array([2022] * n, pa.int16()),
            "country": [r[1] for r in rows],
            "material": [r[0] for r in rows],
            "commodity": [r[0].title() for r in rows],
            "stage": ["extraction"] * n,
            "content_basis": pa.nulls(n, pa.string()),
            "quantity": pa.array([r[2] for r in rows], pa.float64()),
            "unit": [r[3] for r in rows],
            "data_quality": ["r"] * n,
            "source": [SOURCE] * n,
        }
    )
    return arrow_loader(table, PRODUCTION)


@pytest.fixture
def mixed_store(tmp_path: Path) -> Store:
    """Graphite in kg (CHN) and t (NOR); diamonds in t (AUS) and ct (BWA, RUS)."""
    store = Store.open(tmp_path / "mixed.duckdb", create=True)
    rows = [
        ("graphite", "CHN", 850_000.0, "kg"),
        ("graphite", "NOR", 10_000.0, "t"),
        ("diamonds-gem", "AUS", 3.0, "t"),
        ("diamonds-gem", "BWA", 17_000_000.0, "ct"),
        ("diamonds-gem", "RUS", 20_000_000.0, "ct"),
    ]
    store.import_rows("production", _loader(rows), source=SOURCE)
    return store


def test_shares_hhi_and_own_production_on_tonnes(mixed_store: Store) -> None:
    """G4b: CHN 850,000 kg + NOR 10,000 t -> CHN 850 t, share 850/10,850 = 0.078341..."""
    shares = {
        r["country"]: r
        for r in producer_shares(mixed_store.engine(), ["graphite"], [2022]).to_pylist()
    }
    chn, nor = shares["CHN"], shares["NOR"]
    assert (chn["quantity"], chn["unit"], chn["quantity_t"]) == (850.0, "t", 850.0)
    assert chn["world_quantity"] == 10_850.0
    assert chn["share"] == pytest.approx(0.07834101382488479, rel=1e-12)
    assert nor["share"] == pytest.approx(10_000 / 10_850, rel=1e-12)
    assert (nor["rank"], chn["rank"]) == (1, 2)
    assert chn["note"] == "units kg, t converted to t"
    hhi = production_hhi(mixed_store.engine(), ["graphite"], [2022]).to_pylist()[0]
    assert hhi["unit"] == "t" and hhi["world_quantity_t"] == 10_850.0
    assert hhi["hhi"] == pytest.approx((850**2 + 10_000**2) / 10_850**2, rel=1e-12)
    assert hhi["top_country"] == "NOR"
    assert hhi["top_share"] == pytest.approx(10_000 / 10_850, rel=1e-12)
    own = own_production(mixed_store.engine(), ["CHN", "NORDIC"], ["graphite"], [2022]).to_pylist()
    by = {r["country"]: r for r in own}
    assert (by["CHN"]["quantity"], by["CHN"]["unit"], by["CHN"]["quantity_t"]) == (
        850.0,
        "t",
        850.0,
    )
    assert by["CHN"]["share"] == pytest.approx(850 / 10_850, rel=1e-12)
    assert by["NORDIC"]["quantity_t"] == 10_000.0  # NOR is the only Nordic producer
    assert by["NORDIC"]["share"] == pytest.approx(10_000 / 10_850, rel=1e-12)


def test_units_that_do_not_convert_give_null_and_a_reason(mixed_store: Store) -> None:
    """G4b: tonnes next to carats -> no share, rank, world quantity or HHI (NULL, never a
    wrong number), and a note saying why; each country keeps its own quantity and unit."""
    shares = {
        r["country"]: r
        for r in producer_shares(mixed_store.engine(), ["diamonds-gem"], [2022]).to_pylist()
    }
    assert {c: (r["quantity"], r["unit"]) for c, r in shares.items()} == {
        "AUS": (3.0, "t"),
        "BWA": (17_000_000.0, "ct"),
        "RUS": (20_000_000.0, "ct"),
    }
    for row in shares.values():
        assert row["share"] is None and row["rank"] is None and row["world_quantity"] is None
        assert row["note"].startswith("units ct, t do not convert to one unit"), row["note"]
    hhi = production_hhi(mixed_store.engine(), ["diamonds-gem"], [2022]).to_pylist()[0]
    assert hhi["hhi"] is None and hhi["world_quantity"] is None and hhi["top_country"] is None
    assert hhi["unit"] is None and "do not convert" in hhi["note"]
    own = own_production(mixed_store.engine(), ["RUS"], ["diamonds-gem"], [2022]).to_pylist()[0]
    assert own["share"] is None and own["quantity"] is None and "do not convert" in own["note"]
    # the other material of the same store is unaffected
    assert (
        producer_shares(mixed_store.engine(), ["graphite"], [2022]).column("share").null_count == 0
    )


# -- USGS MCS ---------------------------------------------------------------------------------
USGS_HEADER = "Source,Country,Type,Prod_t_2022,Prod_t_est_2023,Prod_notes,Reserves_t,Reserves_notes"
LITHIUM = [  # lines 2-7
    'MCS2024,United States,"Mine production, lithium content",W,W,,1000000,',
    'MCS2024,Australia,"Mine production, lithium content",61000,86000,,6200000,',
    'MCS2024,Chile,"Mine production, lithium content",39000,44000,,9300000,',
    'MCS2024,China,"Mine production, lithium content","22,600",33000,,3000000,',
    'MCS2024,Portugal,"Mine production, lithium content",NA,Included in World total.,,60000,',
    'MCS2024,World total (rounded),"Mine production, lithium content",146000,180000,,28000000,',
]
SALIENT = [
    "DataSource,Commodity,Year,Production_t,NIR_pct",
    "MCS2024,Lithium,2022,W,>25",
    "MCS2024,Lithium,2023,W,>50",
]


def _csv(lines: list[str], pad: int = 3, blank: int = 1) -> bytes:
    """As the real releases: UTF-8 BOM, CRLF, trailing empty columns, blank lines at the end."""
    width = lines[0].count(",") + pad
    body = [line + "," * pad for line in lines] + ["," * width] * blank
    return ("\ufeff" + "\r\n".join(body) + "\r\n").encode("utf-8")


def write_usgs(
    folder: Path, world: list[str] | None = None, salient: list[str] | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mcs2024-lithi_world.csv").write_bytes(_csv([USGS_HEADER, *(world or LITHIUM)]))
    (folder / "mcs2024-lithi_salient.csv").write_bytes(_csv(salient or SALIENT))
    return folder


@pytest.fixture
def usgs_store(tmp_path: Path) -> Path:
    store_file = tmp_path / "store.duckdb"
    result = cli_run(store_file, "data", "import", "usgs", str(write_usgs(tmp_path / "good")))
    assert result.exit_code == 0, result.output
    return store_file


def _replace(line: int, old: str, new: str) -> Callable[[list[str]], list[str]]:
    def edit(rows: list[str]) -> list[str]:
        out = list(rows)
        assert old in out[line - 2]
        out[line - 2] = out[line - 2].replace(old, new, 1)
        return out

    return edit


# case -> (edit of the world rows (line 2 = first row), line, field, words)
BAD_WORLD: dict[str, tuple[Callable[[list[str]], list[str]], int, str | None, str]] = {
    "letter-in-number": (
        _replace(4, "39000", "39x00"),
        4,
        "Prod_t_2022",
        "'39x00' is neither a number nor a USGS missing-value marker",
    ),
    "negative": (_replace(3, "86000", "-86000"), 3, "Prod_t_est_2023", "negative quantity"),
    "negative-reserves": (
        _replace(4, "9300000", "-9300000"),
        4,
        "Reserves_t",
        "negative quantity",
    ),
    "text-in-reserves": (
        _replace(5, "3000000", "3000OOO"),
        5,
        "Reserves_t",
        "'3000OOO' is neither a number",
    ),
    "unquoted-thousands": (
        _replace(5, '"22,600"', "22,600"),
        5,
        None,
        "the row has 12 fields but the header has 11 (an unquoted comma",
    ),
    "no-country": (_replace(4, "Chile", ""), 4, "Country", "no country name"),
    "bad-quoting": (_replace(4, "39000", '"39"000'), 4, None, "not a well-formed CSV record"),
}


@pytest.mark.parametrize("case", sorted(BAD_WORLD))
def test_usgs_bad_cell_or_row_is_named(tmp_path: Path, usgs_store: Path, case: str) -> None:
    """G8: file, line, column and problem in the message; the store as it was."""
    edit, line, field, words = BAD_WORLD[case]
    before = counts(usgs_store)
    folder = write_usgs(tmp_path / case, world=edit(LITHIUM))
    result = cli_run(usgs_store, "data", "import", "usgs", str(folder))
    path = folder / "mcs2024-lithi_world.csv"
    where = f"{path}, line {line}" + (f", field '{field}'" if field else "")
    assert_source_error(result, path, where, words)
    assert counts(usgs_store) == before


def test_usgs_letter_in_number_exits_2(tmp_path: Path, usgs_store: Path) -> None:
    """G8 through the installed CLI: '35x00' is an error, not a NULL with a quality text."""
    before = counts(usgs_store)
    folder = write_usgs(tmp_path / "num", world=_replace(4, "39000", "35x00")(LITHIUM))
    proc = installed_cli(usgs_store, "data", "import", "usgs", str(folder))
    assert proc.returncode == 2, proc.stderr
    path = folder / "mcs2024-lithi_world.csv"
    assert f"error: {path}, line 4, field 'Prod_t_2022': '35x00' is neither" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert counts(usgs_store) == before


@pytest.mark.parametrize("cut", ["MCS2", 'MCS2024,Chile,"Mine production, lith', "MCS2024,Chile,"])
def test_usgs_file_cut_mid_row_names_the_line(tmp_path: Path, usgs_store: Path, cut: str) -> None:
    """G8: a file cut in the middle of line 4 is an error naming line 4 (not a dropped row)."""
    before = counts(usgs_store)
    folder = write_usgs(tmp_path / "cut")
    path = folder / "mcs2024-lithi_world.csv"
    head = "\r\n".join([USGS_HEADER + ",,,", *(r + ",,," for r in LITHIUM[:2])])
    path.write_bytes(("\ufeff" + head + "\r\n" + cut).encode("utf-8"))
    result = cli_run(usgs_store, "data", "import", "usgs", str(folder))
    assert_source_error(result, path, f"{path}, line 4:", "truncated")
    assert counts(usgs_store) == before
    proc = installed_cli(usgs_store, "data", "import", "usgs", str(folder))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


def test_usgs_salient_file_cut_mid_row(tmp_path: Path, usgs_store: Path) -> None:
    before = counts(usgs_store)
    folder = write_usgs(tmp_path / "cut")
    path = folder / "mcs2024-lithi_salient.csv"
    path.write_bytes(("\r\n".join([*SALIENT[:2], "MCS2024,Lithium,20"]) + "\r\n").encode())
    result = cli_run(usgs_store, "data", "import", "usgs", str(folder))
    assert_source_error(result, path, f"{path}, line 3:", "the row has 3 field(s)")
    assert counts(usgs_store) == before


def test_usgs_trailing_blank_lines_and_markers_are_not_errors(tmp_path: Path) -> None:
    """Blank lines at the end carry nothing (ignored); the publisher's markers stay
    NULL with the reason; 'e5,000' is 5,000 estimated."""
    world = [
        *LITHIUM[:4],
        'MCS2024,Zimbabwe,"Mine production, lithium content",Less than ½ unit.,"e3,400",,XX,',
        LITHIUM[4],
        LITHIUM[5],
    ]
    folder = tmp_path / "ok"
    folder.mkdir()
    body = _csv([USGS_HEADER, *world], blank=4)
    (folder / "mcs2024-lithi_world.csv").write_bytes(body + b"\r\n\r\n")
    (folder / "mcs2024-lithi_salient.csv").write_bytes(_csv(SALIENT, blank=2))
    store_file = tmp_path / "s.duckdb"
    result = cli_run(store_file, "data", "import", "usgs", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 6 * 2  # USA AUS CHL CHN ZWE PRT, two years
    with Store.open(store_file) as store:
        rows = store.rows(
            "SELECT country, year, quantity, data_quality FROM production "
            "WHERE source = 'USGS MCS 2024' AND country IN ('USA', 'ZWE', 'PRT') ORDER BY 1, 2"
        )
    assert rows == [
        {"country": "PRT", "year": 2022, "quantity": None, "data_quality": "not available"},
        {
            "country": "PRT",
            "year": 2023,
            "quantity": None,
            "data_quality": "Included in World total.",
        },
        {"country": "USA", "year": 2022, "quantity": None, "data_quality": "withheld"},
        {"country": "USA", "year": 2023, "quantity": None, "data_quality": "withheld"},
        {"country": "ZWE", "year": 2022, "quantity": None, "data_quality": "Less than ½ unit."},
        {"country": "ZWE", "year": 2023, "quantity": 3400.0, "data_quality": "e"},
    ]


def test_usgs_real_releases_import_as_before(tmp_path: Path, shared_data: Path) -> None:
    """The real MCS 2024 and 2023 releases import with the same counts as before the checks."""
    expected = {"2024": (1880, 898, 4555), "2023": (1818, 831, 4440)}
    for edition, (production, reserves, salient) in expected.items():
        store_file = tmp_path / f"{edition}.duckdb"
        folder = shared_data / "usgs_mcs" / edition
        result = cli_run(store_file, "data", "import", "usgs", str(folder), "--format", "json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["rows"] == production
        assert report["extra_tables"] == {"mineral_reserves": reserves, "usgs_salient": salient}
    with Store.open(tmp_path / "2024.duckdb") as store:
        # 'e5,000' (estimate marker glued to the number, kt) is a value, not a NULL
        sand = store.rows(
            "SELECT quantity, data_quality FROM production WHERE source = 'USGS MCS 2024' "
            "AND material = 'industrial-sand' AND country = 'AUS' AND year = 2022"
        )
    assert sand == [{"quantity": 5_000_000.0, "data_quality": "e"}]


# -- unknown country names and mislabelled units (USGS, WMD) ----------------------------------
def test_usgs_unknown_country_is_an_error_unless_allowed(tmp_path: Path, usgs_store: Path) -> None:
    before = counts(usgs_store)
    folder = write_usgs(tmp_path / "unk", world=_replace(4, "Chile", "Atlantis")(LITHIUM))
    result = cli_run(usgs_store, "data", "import", "usgs", str(folder))
    assert_source_error(
        result,
        folder,
        "field 'Country'",
        "unknown country name(s): 'Atlantis' (3 row(s), first at mcs2024-lithi_world.csv, "
        "line 4); nothing imported. Pass --allow-unmapped",
    )
    assert counts(usgs_store) == before
    allowed = cli_run(
        usgs_store, "data", "import", "usgs", str(folder), "--allow-unmapped", "--format", "json"
    )
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.output)["unmapped"] == {
        "country: Atlantis": 3
    }  # 2 production values + reserves


def test_wmd_unknown_country_is_an_error_unless_allowed(tmp_path: Path, wmd_store: Path) -> None:
    before = counts(wmd_store)
    rows = [*GRAPHITE, ("Atlantis", "metr. t", [5, 6], "e")]
    bad = write_wmd(tmp_path / "unk" / WMD_NAME, {"Graphite": rows})
    result = cli_run(wmd_store, "data", "import", "wmd", str(bad))
    assert_source_error(
        result,
        bad,
        "unknown country name(s): 'Atlantis' (2 row(s), first at sheet 'Graphite', line 6)",
    )
    assert counts(wmd_store) == before
    allowed = cli_run(wmd_store, "data", "import", "wmd", str(bad), "--allow-unmapped")
    assert allowed.exit_code == 0, allowed.output


def test_usgs_type_stating_another_unit_is_an_error(tmp_path: Path, usgs_store: Path) -> None:
    """'thousand metric tons' in the Type of a Prod_t file: mislabelled, not scaled silently."""
    before = counts(usgs_store)
    edit = _replace(4, "Mine production, lithium content", "Mine production, thousand metric tons")
    folder = write_usgs(tmp_path / "unit", world=edit(LITHIUM))
    result = cli_run(usgs_store, "data", "import", "usgs", str(folder))
    path = folder / "mcs2024-lithi_world.csv"
    assert_source_error(
        result,
        path,
        f"{path}, line 4, field 'Type'",
        "states kt but the production columns are in t",
    )
    assert counts(usgs_store) == before
