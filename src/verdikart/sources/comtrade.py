"""UN Comtrade CSV (bulk or API download) into `trade`.

Layout (UN Comtrade, API v1 ``/data/v1/get/C/A/HS`` and bulk files): comma CSV with header
``typeCode, freqCode, refPeriodId, refYear, refMonth, period, reporterCode, reporterISO,
reporterDesc, flowCode, flowDesc, partnerCode, partnerISO, partnerDesc, partner2Code, ...,
classificationCode, cmdCode, cmdDesc, aggrLevel, isLeaf, customsCode, mosCode, motCode,
qtyUnitCode, qtyUnitAbbr, qty, ..., netWgt, ..., cifvalue, fobvalue, primaryValue, ...``.
Values are in US dollars, net weight in kg.

Mapping: an import flow (M) gives importer = reporter, exporter = partner; an export flow (X)
the reverse. value_kusd = primaryValue / 1000 (CIF for imports, FOB for exports, as
reported); quantity_t = netWgt / 1000 (blank -> NULL). Only bilateral totals of 6-digit codes
are trade rows: partner 0 (World), partner areas that are not a country (`NOT_COUNTRIES`:
Areas nes, bunkers, free zones, special categories, regional "nes" areas), breakdowns by second
partner / customs procedure / mode of transport, re-exports/re-imports and non-6-digit codes are
skipped and counted in the report. Every other reporter and partner must be a country of the
reference country table (by its ISO alpha-3 text); an unknown or empty one is an error naming
it, its row count and first lines, unless ``--allow-unmapped`` (kept as the ISO text, or the
numeric code when that is empty, and reported with counts).
HS revision from ``classificationCode`` (H0 = HS92 ... H6 = HS22); "HS" (as reported) needs
``--hs-revision``. Re-importing replaces only rows of the same Comtrade source label.
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

REQUIRED = (
    "typeCode",
    "freqCode",
    "refYear",
    "reporterCode",
    "reporterISO",
    "flowCode",
    "partnerCode",
    "partnerISO",
    "classificationCode",
    "cmdCode",
    "netWgt",
    "primaryValue",
)
CLASSIFICATIONS = {
    "H0": "HS92",
    "H1": "HS96",
    "H2": "HS02",
    "H3": "HS07",
    "H4": "HS12",
    "H5": "HS17",
    "H6": "HS22",
}
# Comtrade partner areas that are not a country (its partnerAreas reference: regional "nes"
# areas, bunkers, free zones, special categories): not bilateral country trade, so skipped and
# counted like World (0). 490 Other Asia nes, 697 Europe EFTA nes and 849 US Misc. Pacific
# Isds are not here: the country table knows them (S19, R20, PUS, as BACI does).
NOT_COUNTRIES = {
    80: "British Antarctic Territory",
    129: "Caribbean, nes",
    221: "Eastern Europe, nes",
    290: "Northern Africa, nes",
    471: "CACM, nes",
    472: "Africa CAMEU region, nes",
    473: "LAIA, nes",
    492: "Europe EU, nes",
    527: "Oceania, nes",
    536: "Neutral Zone",
    568: "Other Europe, nes",
    577: "Other Africa, nes",
    636: "Rest of America, nes",
    637: "North America and Central America, nes",
    837: "Bunkers",
    838: "Free Zones",
    839: "Special Categories",
    879: "Western Asia, nes",
    899: "Areas, nes",
}
API_URL = (
    "https://comtradeapi.un.org/data/v1/get/C/A/HS?reporterCode={reporter}&period={year}"
    "&flowCode=M,X&cmdCode=AG6&format=csv"
)


def download_comtrade(
    dest_dir: Path, *, reporter: int = 579, year: int = 2022, key: str | None = None, **_: object
) -> Path:
    """One reporter-year of 6-digit trade from the Comtrade API (needs a subscription key)."""
    import os

    token = key or os.environ.get("COMTRADE_API_KEY")
    if not token:
        raise SourceError(
            "comtrade",
            "the Comtrade API needs a key: set COMTRADE_API_KEY (comtradedeveloper.un.org)",
        )
    url = API_URL.format(reporter=reporter, year=year)
    return download(
        url,
        dest_dir / f"comtrade_{reporter}_{year}.csv",
        headers={"Ocp-Apim-Subscription-Key": token},
    )


def _number_bad(col: str) -> str:
    return f"(NULLIF(trim({col}), '') IS NOT NULL AND TRY_CAST({col} AS DOUBLE) IS NULL)"


def import_comtrade(
    store: Store,
    path: Path | str,
    *,
    hs_revision: str | None = None,
    allow_unmapped: bool = False,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import a Comtrade CSV of annual commodity trade into `trade` (all-or-nothing)."""
    started = time.perf_counter()
    src = require_file(Path(path))
    source = _label(src, hs_revision)
    report = ImportReport("comtrade", "trade", source, str(src))

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        progress("reading", 0, 1)
        numbered_csv(con, src, "ct_raw", expected=REQUIRED, extra_ok=True)
        check_rules(
            con,
            "ct_raw",
            {
                "refYear not a year": "TRY_CAST(refYear AS SMALLINT) IS NULL",
                "reporterCode not a number": "TRY_CAST(reporterCode AS INTEGER) IS NULL",
                "partnerCode not a number": "TRY_CAST(partnerCode AS INTEGER) IS NULL",
                "flowCode empty": "NULLIF(trim(flowCode), '') IS NULL",
                "primaryValue not a number": _number_bad("primaryValue"),
                "netWgt not a number": _number_bad("netWgt"),
                "negative primaryValue": "TRY_CAST(primaryValue AS DOUBLE) < 0",
                "negative netWgt": "TRY_CAST(netWgt AS DOUBLE) < 0",
                "not annual data (freqCode <> A)": "upper(trim(freqCode)) <> 'A'",
                "not goods (typeCode <> C)": "upper(trim(typeCode)) <> 'C'",
            },
            str(src),
        )
        revision = _revision(con, src, hs_revision)
        cols = _columns(con)
        areas = ", ".join(map(str, NOT_COUNTRIES))
        area = f"TRY_CAST(partnerCode AS INTEGER) IN ({areas})"
        total = (
            f"partnerCode <> '0' AND NOT ({area}) AND upper(flowCode) IN ('M', 'X') "
            "AND length(trim(cmdCode)) = 6 AND regexp_full_match(trim(cmdCode), '[0-9]{6}')"
        )
        breakdown = []
        if "partner2Code" in cols:
            breakdown.append("coalesce(NULLIF(trim(partner2Code), ''), '0') <> '0'")
        if "customsCode" in cols:
            breakdown.append("coalesce(NULLIF(trim(customsCode), ''), 'C00') <> 'C00'")
        if "motCode" in cols:
            breakdown.append("coalesce(NULLIF(trim(motCode), ''), '0') <> '0'")
        keep = f"({total})" + "".join(f" AND NOT ({b})" for b in breakdown)
        skipped = con.execute(
            "SELECT count_if(partnerCode = '0'), count_if(upper(flowCode) NOT IN ('M', 'X')), "
            "count_if(NOT regexp_full_match(trim(cmdCode), '[0-9]{6}')), "
            f"count_if(({' OR '.join(breakdown) or 'false'})), count(*) FROM ct_raw"
        ).fetchall()[0]
        assert skipped is not None
        by_area = con.execute(
            "SELECT TRY_CAST(partnerCode AS INTEGER) AS code, count(*) FROM ct_raw "
            f"WHERE {area} GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        if by_area:
            listed = ", ".join(f"{NOT_COUNTRIES[c]} {c}: {n:,}" for c, n in by_area)
            report.warnings.append(
                f"{sum(n for _, n in by_area):,} rows with a partner area that is not a country "
                f"skipped (not bilateral totals): {listed}"
            )
        for label, n in zip(
            (
                "partner World (0) rows",
                "re-export/re-import (or other flow) rows",
                "rows with a code that is not 6-digit HS (TOTAL, chapters, headings)",
                "breakdown rows (second partner, customs procedure or transport mode)",
            ),
            skipped[:4],
            strict=True,
        ):
            if n:
                report.warnings.append(f"{int(n):,} {label} skipped (not bilateral totals)")
        known = known_countries(con)
        sides = " UNION ALL ".join(
            f"SELECT line, coalesce(NULLIF(upper(trim({side}ISO)), ''), trim({side}Code)) "
            f"AS code, '{side}Code ' || trim({side}Code) AS note FROM ct_raw WHERE {keep}"
            for side in ("reporter", "partner")
        )
        check_codes(
            con,
            sides,
            f"SELECT iso3 FROM {known}",
            str(src),
            allow_unmapped=allow_unmapped,
            report=report,
            keep_as="as the ISO text (or the numeric code when it is empty)",
            field="reporterISO/partnerISO",
        )
        reporter = "coalesce(NULLIF(upper(trim(reporterISO)), ''), trim(reporterCode))"
        partner = "coalesce(NULLIF(upper(trim(partnerISO)), ''), trim(partnerCode))"
        con.execute(
            f'INSERT INTO temp."{staging}" SELECT CAST(refYear AS SMALLINT), '
            f"CASE WHEN upper(flowCode) = 'X' THEN {reporter} ELSE {partner} END, "
            f"CASE WHEN upper(flowCode) = 'X' THEN {partner} ELSE {reporter} END, "
            "CAST(CASE WHEN upper(flowCode) = 'X' THEN reporterCode ELSE partnerCode END AS INTEGER), "
            "CAST(CASE WHEN upper(flowCode) = 'X' THEN partnerCode ELSE reporterCode END AS INTEGER), "
            f"'{revision}', trim(cmdCode), "
            "TRY_CAST(NULLIF(trim(primaryValue), '') AS DOUBLE) / 1000.0, "
            "TRY_CAST(NULLIF(trim(netWgt), '') AS DOUBLE) / 1000.0, "
            f"'{sql_str(source)}' FROM ct_raw WHERE {keep}"
        )
        row = con.execute(
            f"SELECT count(*), list(DISTINCT year ORDER BY year), "
            f'(SELECT count(DISTINCT c) FROM (SELECT exporter c FROM temp."{staging}" '
            f'UNION SELECT importer FROM temp."{staging}")) FROM temp."{staging}"'
        ).fetchall()[0]
        assert row is not None
        report.rows, report.years, report.countries = int(row[0]), list(row[1] or []), int(row[2])
        progress("writing to the store", 1, 1)
        return report.rows

    try:
        store.import_rows(
            "trade", load, source=source, path=str(src.resolve()), same_source_only=True
        )
    finally:
        store.con.execute("DROP TABLE IF EXISTS temp.ct_raw")
        store.con.execute(f"DROP TABLE IF EXISTS temp.{KNOWN_COUNTRIES}")
    report.seconds = time.perf_counter() - started
    return report


def _label(src: Path, option: str | None) -> str:
    """'UN Comtrade HS17, reported by NOR': one label per file, known before the import."""
    try:
        rows = (
            duckdb.connect()
            .execute(
                "SELECT list(DISTINCT upper(trim(classificationCode))), "
                "list(DISTINCT trim(reporterISO) ORDER BY trim(reporterISO)) "
                f"FROM read_csv('{sql_str(src)}', header=true, all_varchar=true)"
            )
            .fetchall()
        )
    except duckdb.Error:
        return "UN Comtrade"  # the load names what is wrong with the file
    classes, reporters = rows[0] if rows else ([], [])
    revision = (option or "").strip().upper() or (
        CLASSIFICATIONS.get(classes[0], classes[0]) if classes and len(classes) == 1 else "HS"
    )
    shown = "+".join(r for r in (reporters or [])[:5] if r)
    more = f"+{len(reporters) - 5} more" if reporters and len(reporters) > 5 else ""
    return f"UN Comtrade {revision}, reported by {shown}{more}"


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("DESCRIBE ct_raw").fetchall()}


def _revision(con: duckdb.DuckDBPyConnection, src: Path, option: str | None) -> str:
    codes = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT upper(trim(classificationCode)) FROM ct_raw ORDER BY 1"
        ).fetchall()
    ]
    named = {CLASSIFICATIONS.get(c) for c in codes}
    if option:
        revision = option.strip().upper()
        if revision not in CLASSIFICATIONS.values():
            raise SourceError("--hs-revision", f"unknown HS revision {option!r}")
        if named - {None} and named != {revision}:
            raise SourceError(
                src, f"classificationCode {codes} does not match --hs-revision {revision}"
            )
        return revision
    if len(named) == 1 and None not in named:
        return str(next(iter(named)))
    raise SourceError(
        src,
        f"classificationCode {', '.join(codes)}: cannot tell one HS revision "
        "(H0..H6 name one; 'HS' is as-reported); pass --hs-revision",
        field="classificationCode",
    )
