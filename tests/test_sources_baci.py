"""BACI reader: official layouts (plain CSV, zip), malformed files, idempotence, supersession."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import SourceError
from verdikart.sources import run_import
from verdikart.store import Store

FIX = Path(__file__).resolve().parent / "fixtures" / "baci"
YEAR_FILE = FIX / "BACI_HS17_Y2022_V202401b.csv"
ZIP_FILE = FIX / "BACI_HS17_V202401b.zip"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", create=True)


def coverage_of(store: Store, relation: str) -> set[tuple[int, str, str]]:
    """The distinct (year, hs_revision, source) rows of `relation`."""
    rows = store.rows(f"SELECT DISTINCT year, hs_revision, source FROM {relation}")
    return {(r["year"], r["hs_revision"], r["source"]) for r in rows}


def counts(store: Store) -> dict[str, int]:
    out = store.row_counts()
    out["imports"] = len(store.imports())
    return out


def test_plain_year_file(store: Store) -> None:
    report = run_import(store, "baci", YEAR_FILE)
    assert report.rows == 10
    assert report.years == [2022]
    assert report.source == "CEPII BACI HS17 V202401b"
    rows = store.rows(
        "SELECT exporter, importer, hs6, value_kusd, quantity_t FROM trade "
        "WHERE hs_revision = 'HS17' AND year = 2022 ORDER BY value_kusd DESC LIMIT 1"
    )
    assert rows == [
        {
            "exporter": "NOR",
            "importer": "DEU",
            "hs6": "760110",
            "value_kusd": 812345.678,
            "quantity_t": 295123.4,
        }
    ]
    # 'NA' (space padded) is missing -> NULL, never 0
    missing = store.rows(
        "SELECT count(*) AS n FROM trade WHERE hs_revision='HS17' AND quantity_t IS NULL"
    )
    assert missing == [{"n": 2}]


def test_zip_all_years_and_year_filter(store: Store) -> None:
    report = run_import(store, "baci", ZIP_FILE)
    assert report.rows == 13 and report.years == [2021, 2022]
    report = run_import(store, "baci", ZIP_FILE, year=2021)
    assert report.rows == 3 and report.years == [2021]
    # re-importing 2021 replaced 2021 only; 2022 stays
    n = store.rows(
        "SELECT year, count(*) AS n FROM trade WHERE hs_revision='HS17' GROUP BY year ORDER BY year"
    )
    assert n == [{"year": 2021, "n": 3}, {"year": 2022, "n": 10}]


def test_reimport_is_idempotent(store: Store) -> None:
    run_import(store, "baci", YEAR_FILE)
    first = store.row_counts()
    run_import(store, "baci", YEAR_FILE)
    assert store.row_counts() == first


def test_other_revision_of_the_same_year_is_kept(tmp_path: Path, store: Store) -> None:
    run_import(store, "baci", YEAR_FILE)
    hs12 = tmp_path / "BACI_HS12_Y2022_V202401b.csv"
    hs12.write_text(YEAR_FILE.read_text())
    report = run_import(store, "baci", hs12)
    # the fixture's 10 rows name 7 codes: 579 276 752 156 36 124 842
    assert (report.rows, report.years, report.countries) == (10, [2022], 7)
    run_import(store, "baci", YEAR_FILE)  # HS17 again: replaces HS17 only
    assert store.rows(
        "SELECT hs_revision, count(*) AS n FROM trade WHERE year = 2022 "
        "AND hs_revision IN ('HS12', 'HS17') GROUP BY ALL ORDER BY 1"
    ) == [{"hs_revision": "HS12", "n": 10}, {"hs_revision": "HS17", "n": 10}]
    # the superseded HS17 batch is gone from the batch table, the live ones stay
    assert store.rows("SELECT hs_revision FROM imported_baci_batches ORDER BY import_id") == [
        {"hs_revision": "HS12"},
        {"hs_revision": "HS17"},
    ]


def test_imported_year_supersedes_bundled(tmp_path: Path, store: Store) -> None:
    bundled_2022 = store.rows(
        "SELECT count(*) AS n FROM trade WHERE year = 2022 AND hs_revision = 'HS92'"
    )[0]["n"]
    assert bundled_2022 > 0
    total = store.row_counts()["trade"]
    text = YEAR_FILE.read_text()
    hs92 = tmp_path / "BACI_HS92_Y2022_V202401b.csv"
    hs92.write_text(text)
    run_import(store, "baci", hs92)
    assert store.rows(
        "SELECT count(*) AS n FROM trade WHERE year = 2022 AND hs_revision = 'HS92'"
    ) == [{"n": 10}]
    assert store.row_counts()["trade"] == total - bundled_2022 + 10
    # other years of the bundled slice untouched
    assert store.rows("SELECT count(*) AS n FROM trade WHERE year = 2021")[0]["n"] > 0
    # the coverage view, made from the bundled file's footer list, drops the superseded year
    assert coverage_of(store, "trade_coverage") == coverage_of(store, "trade")
    assert (2022, "HS92", "CEPII BACI HS92 V202401b") in coverage_of(store, "trade_coverage")


def test_revision_from_option_when_name_is_silent(tmp_path: Path, store: Store) -> None:
    plain = tmp_path / "trade_2022.csv"
    plain.write_text(YEAR_FILE.read_text())
    with pytest.raises(SourceError, match="--hs-revision"):
        run_import(store, "baci", plain)
    report = run_import(store, "baci", plain, hs_revision="hs12", year=2022)
    assert report.rows == 10
    assert store.rows(
        "SELECT DISTINCT hs_revision FROM trade WHERE source LIKE 'CEPII BACI HS12%'"
    ) == [{"hs_revision": "HS12"}]


def test_unknown_country_code_error_or_reported(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "BACI_HS17_Y2022_V202401b.csv"
    lines = YEAR_FILE.read_text().splitlines()
    lines[4] = lines[4].replace("2022,156,579", "2022,999,579")
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as err:
        run_import(store, "baci", bad)
    assert err.value.line == 5 and "999 (1 rows)" in str(err.value)
    report = run_import(store, "baci", bad, allow_unmapped=True)
    assert report.unmapped == {"999": 1}
    assert store.rows("SELECT exporter FROM trade WHERE exporter_code = 999") == [
        {"exporter": "999"}
    ]


MALFORMED = {
    "bad header": (lambda lines: ["t;i;j;k;v;q", *lines[1:]], 1, "header"),
    "non-numeric value": (
        lambda lines: [*lines[:6], lines[6].replace("250100.000", "25O100.0"), *lines[7:]],
        7,
        "column 'v' is not a number",
    ),
    "non-numeric code": (
        lambda lines: [*lines[:3], lines[3].replace("280461", "28O461"), *lines[4:]],
        4,
        "'k' is not a whole number",
    ),
    "truncated row": (lambda lines: [*lines[:-1], lines[-1][:12]], 11, "too few columns"),
    "too many columns": (lambda lines: [*lines[:2], lines[2] + ",7", *lines[3:]], 3, "too many"),
    "negative value": (
        lambda lines: [*lines[:8], lines[8].replace(",102400.500", ",-102400.500"), *lines[9:]],
        9,
        "negative v",
    ),
    "year mismatch": (
        lambda lines: [*lines[:5], lines[5].replace("2022,", "2021,", 1), *lines[6:]],
        6,
        "year",
    ),
    "duplicate key": (
        lambda lines: [*lines[:4], lines[1], *lines[4:]],
        5,
        "row repeating an earlier t,i,j,k (a flow counted twice): 1 row(s) (first at line 5)",
    ),
    "empty importer": (
        lambda lines: [*lines[:3], lines[3].replace("2022,579,156,", "2022,579,,"), *lines[4:]],
        4,
        "empty t, i, j or k: 1 row(s) (first at line 4)",
    ),
    "empty year": (
        lambda lines: [*lines[:2], lines[2].replace("2022,", ",", 1), *lines[3:]],
        3,
        "empty t, i, j or k: 1 row(s) (first at line 3)",
    ),
    "bad hs6": (
        lambda lines: [*lines[:2], lines[2].replace("760110", "7601"), *lines[3:]],
        3,
        "6 digits",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_via_cli_leaves_store_unchanged(tmp_path: Path, case: str) -> None:
    edit, line, words = MALFORMED[case]
    store_file = tmp_path / "store.duckdb"
    runner = CliRunner()
    ok = runner.invoke(cli, ["--store", str(store_file), "data", "import", "baci", str(YEAR_FILE)])
    assert ok.exit_code == 0, ok.output
    with Store.open(store_file) as store:
        before = counts(store)
    bad = tmp_path / "BACI_HS17_Y2022_V202401b.csv"
    bad.write_text("\n".join(edit(YEAR_FILE.read_text().splitlines())) + "\n")
    result = runner.invoke(cli, ["--store", str(store_file), "data", "import", "baci", str(bad)])
    assert result.exit_code != 0
    message = str(result.exception)
    assert isinstance(result.exception, SourceError), message
    assert str(bad) in message and f"line {line}" in message and words in message, message
    assert message.count(words) == 1, message  # each bad line and problem named once
    with Store.open(store_file) as store:
        assert counts(store) == before


@pytest.mark.parametrize("repeat", [False, True])
def test_repeated_flow_in_a_sorted_file(tmp_path: Path, store: Store, repeat: bool) -> None:
    """CEPII's own order (t, i, j, k ascending): a clean file passes on the order proof; a
    repeated line next to its twin is still found (and named)."""
    body = sorted(
        YEAR_FILE.read_text().splitlines()[1:],
        key=lambda line: tuple(int(x) for x in line.split(",")[:4]),
    )
    if repeat:
        body.insert(4, body[3])
    sorted_file = tmp_path / "BACI_HS17_Y2022_V202401b.csv"
    sorted_file.write_text("t,i,j,k,v,q\n" + "\n".join(body) + "\n")
    if not repeat:
        assert run_import(store, "baci", sorted_file).rows == 10
        return
    with pytest.raises(
        SourceError, match=r"a flow counted twice\): 1 row\(s\) \(first at line 6\)"
    ):
        run_import(store, "baci", sorted_file)


def test_two_releases_of_one_year_are_refused(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "BACI_HS17_Y2022_V202401b.csv").write_text(YEAR_FILE.read_text())
    (folder / "BACI_HS17_Y2022_V202501.csv").write_text(YEAR_FILE.read_text())
    before = counts(store)
    with pytest.raises(SourceError, match="two files for HS17 2022: .*V202401b.csv and .*V202501"):
        run_import(store, "baci", folder)
    assert counts(store) == before


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_damaged_zip_is_a_clear_error(tmp_path: Path, store: Store, damage: str) -> None:
    data = ZIP_FILE.read_bytes()
    if damage == "truncated":
        data = data[:300]
    else:  # flip one byte inside the first member's compressed data: CRC check fails
        at = data.index(b"BACI_HS17_Y2021") + 60
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    bad = tmp_path / "BACI_HS17_V202401b.zip"
    bad.write_bytes(data)
    before = counts(store)
    with pytest.raises(SourceError, match="zip") as info:
        run_import(store, "baci", bad)
    assert str(info.value).startswith(str(bad))
    assert counts(store) == before


def test_malformed_file_through_the_real_binary(tmp_path: Path) -> None:
    bad = tmp_path / "BACI_HS17_Y2022_V202401b.csv"
    lines = YEAR_FILE.read_text().splitlines()
    lines[6] = lines[6].replace("250100.000", "abc")
    bad.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "VERDIKART_STORE": str(tmp_path / "s.duckdb")}
    exe = Path(sys.executable).with_name("verdikart")
    proc = subprocess.run(
        [str(exe), "data", "import", "baci", str(bad)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2
    assert f"error: {bad}, line 7: " in proc.stderr
    assert "column 'v' is not a number" in proc.stderr


def test_status_json_lists_bundled_sources(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "s.duckdb"), "data", "status", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    trade = [r for r in rows if r["table"] == "trade"]
    assert len(trade) == 1
    assert trade[0]["rows"] == 1_264_888
    assert (trade[0]["year_min"], trade[0]["year_max"]) == (1995, 2024)
    assert trade[0]["origin"] == "bundled"
    assert {r["table"] for r in rows} >= {"trade", "production", "governance", "baci_countries"}


def test_import_cli_summary_and_export(tmp_path: Path) -> None:
    store_file = tmp_path / "s.duckdb"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--store", str(store_file), "data", "import", "baci", str(ZIP_FILE), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == 13 and summary["years"] == [2021, 2022]
    out = tmp_path / "trade.parquet"
    result = runner.invoke(cli, ["--store", str(store_file), "data", "export", "trade", str(out)])
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    assert pq.read_metadata(out).num_rows == 1_264_888 + 13


def test_sources_command_lists_readers() -> None:
    result = CliRunner().invoke(cli, ["data", "sources", "--format", "json"])
    assert result.exit_code == 0, result.output
    ids = {r["source"] for r in json.loads(result.output)}
    assert ids >= {"baci", "ssb", "ssb-jsonstat", "comtrade", "wgi", "wmd", "usgs"}


def test_na_spelling_beyond_the_sniffed_head_takes_the_text_path(
    tmp_path: Path, store: Store
) -> None:
    """A padded NA first seen after the first 256 KiB: the typed parse rejects it, the reader
    re-reads the file as text and still imports every row (q NULL)."""
    # 12,000 distinct flows (Norway's exports of 12,000 product codes to Germany), then the NA
    rows = [f"2022,579,276,{100000 + i},1.500,1.000" for i in range(12_000)]
    rows.append("2022,579,276,760110,5.000,     NA")
    big = tmp_path / "BACI_HS17_Y2022_V202401b.csv"
    big.write_text("t,i,j,k,v,q\n" + "\n".join(rows) + "\n")
    assert big.stat().st_size > 256 * 1024
    report = run_import(store, "baci", big)
    assert report.rows == 12_001
    assert store.rows(
        "SELECT count(*) AS n FROM trade WHERE hs_revision = 'HS17' AND quantity_t IS NULL"
    ) == [{"n": 1}]
