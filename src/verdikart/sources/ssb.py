"""Statistics Norway (SSB) external trade in goods into the registered table `ssb_trade`.

Two official layouts:

* the bulk semicolon CSV (one row per year, flow, 8-digit commodity number and country):
  ``aargang;impeks;varenr;obland;vnr_m2;m1_sum;m2_sum;v_sum`` - aargang year, impeks I/E,
  varenr the Norwegian 8-digit commodity number (HS-based, like CN8), obland the ISO alpha-2
  country of origin (imports) or destination (exports), vnr_m2 the unit of the supplementary
  quantity, m1_sum net weight in kg, m2_sum the supplementary quantity, v_sum value in NOK.
  Decimal commas are accepted; an empty cell is missing (NULL), never 0. SSB's symbols keep
  their meaning: ``.`` (not applicable), ``..`` (not available), ``...`` (not yet available)
  and ``:`` (confidential) leave the figure NULL and are kept in ``status``; ``-`` is SSB's
  "nil" and reads as 0.
* the StatBank API's JSON-stat2 response for table 08801 (dimensions Varekoder, ImpEks, Land,
  ContentsCode (Mengde1 kg, Mengde2, Verdi NOK), Tid) - queried with a POST to
  https://data.ssb.no/api/v0/no/table/08801. The value array is decoded set-based in DuckDB
  (row-major strides), not cell by cell in Python. Each statistic's unit is read from the
  response (``dimension.ContentsCode.category.unit.<code>.base``): tonn -> kg and 1000 kr ->
  NOK are converted (x1000, noted in the report), any other unit is an error (`_content_units`).
  Commodity codes come as the API gives them, the 8-digit national code with the year it was
  introduced (``15042011_1995``): the suffix is dropped. A suppressed cell (null in ``value``
  with a symbol in ``status``, keyed by the flat index) stays a row with NULL figures and the
  symbol in ``status``, never 0; a cell triple with no figure and no symbol is no trade.

SSB pools every commodity code with restricted publication in ``99999999`` (seed 000 l.611):
it is imported like any code; the industry statistics show it as its own line.

Countries: ISO alpha-2 -> alpha-3 via the reference country table (bundled BACI codes as a
fallback); unknown codes are an error naming them with row counts and (CSV) first lines,
unless ``--allow-unmapped`` (then kept as the alpha-2 code and reported with counts).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from verdikart.errors import SourceError
from verdikart.sources._common import (
    ImportReport,
    Progress,
    check_codes,
    check_rules,
    download,
    iso2_to_iso3,
    no_progress,
    numbered_csv,
    require_file,
    sql_str,
)
from verdikart.store import Store

CSV_COLUMNS = ("aargang", "impeks", "varenr", "obland", "vnr_m2", "m1_sum", "m2_sum", "v_sum")
API_URL = "https://data.ssb.no/api/v0/no/table/08801"
JSONSTAT_DIMS = ("Varekoder", "ImpEks", "Land", "ContentsCode", "Tid")
CONTENTS = {"Mengde1": "quantity_1_kg", "Mengde2": "quantity_2", "Verdi": "value_nok"}
FLOWS = {"1": "import", "2": "export", "I": "import", "E": "export"}
# The stored unit of each ContentsCode and the units a response may state for it (JSON-stat2
# dimension.ContentsCode.category.unit.<code>.base, compared lower-case with single spaces)
# with the factor to the stored unit. Mengde2's unit is the commodity's supplementary unit
# (pieces, litres, ...): taken as given.
STORED_UNITS = {"Mengde1": "kg", "Verdi": "NOK"}
# SSB's symbols for a cell without a figure (https://www.ssb.no/en/help/explanation-of-symbols):
# kept in `status`, the figure NULL. '-' ("nil") is a true zero and reads as 0.
SUPPRESSED = (".", "..", "...", ":")
NIL = "-"
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "Mengde1": {
        "kg": 1.0,
        "kilo": 1.0,
        "kilogram": 1.0,
        "tonn": 1000.0,
        "tonnes": 1000.0,
        "t": 1000.0,
        "1000 kg": 1000.0,
    },
    "Verdi": {
        "kr": 1.0,
        "kroner": 1.0,
        "nok": 1.0,
        "1000 kr": 1000.0,
        "1000 kroner": 1000.0,
        "1000 nok": 1000.0,
        "nok 1000": 1000.0,
        "tusen kroner": 1000.0,
        "mill. kr": 1e6,
        "millioner kroner": 1e6,
        "mill. nok": 1e6,
    },
}


def api_query(
    commodities: list[str], years: list[str], *, countries: list[str] | None = None
) -> dict[str, Any]:
    """The StatBank API v0 POST body for table 08801 (json-stat2 response)."""
    return {
        "query": [
            {"code": "Varekoder", "selection": {"filter": "item", "values": commodities}},
            {"code": "ImpEks", "selection": {"filter": "item", "values": ["1", "2"]}},
            {
                "code": "Land",
                "selection": (
                    {"filter": "item", "values": countries}
                    if countries
                    else {"filter": "all", "values": ["*"]}
                ),
            },
            {
                "code": "ContentsCode",
                "selection": {"filter": "item", "values": list(CONTENTS)},
            },
            {"code": "Tid", "selection": {"filter": "item", "values": years}},
        ],
        "response": {"format": "json-stat2"},
    }


def download_ssb_08801(
    dest_dir: Path,
    *,
    commodities: list[str] | None = None,
    years: list[str] | None = None,
    **_: object,
) -> Path:
    """POST a query to StatBank table 08801 and save the JSON-stat2 answer."""
    body = api_query(commodities or ["28046100", "76011000"], years or ["2023"])
    return download(
        API_URL,
        dest_dir / "ssb_08801.json",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )


def _iso_table(con: duckdb.DuckDBPyConnection) -> None:
    mapping = iso2_to_iso3()
    table = pa.table({"iso2": list(mapping), "iso3": list(mapping.values())})
    con.register("ssb_iso_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE ssb_iso AS SELECT * FROM ssb_iso_arrow")
    con.unregister("ssb_iso_arrow")


def _num(col: str) -> str:
    """A CSV number: decimal comma accepted; SSB's symbols NULL, its nil '-' 0."""
    symbols = ", ".join(f"'{x}'" for x in SUPPRESSED)
    return (
        f"CASE WHEN trim({col}) = '{NIL}' THEN 0.0 WHEN trim({col}) IN ({symbols}) THEN NULL "
        f"ELSE TRY_CAST(replace(NULLIF(trim({col}), ''), ',', '.') AS DOUBLE) END"
    )


def _symbol(col: str) -> str:
    symbols = ", ".join(f"'{x}'" for x in SUPPRESSED)
    return f"CASE WHEN trim({col}) IN ({symbols}) THEN trim({col}) END"


def _finish(
    con: duckdb.DuckDBPyConnection,
    staging: str,
    select_sql: str,
    where: str,
    allow_unmapped: bool,
    report: ImportReport,
    *,
    line: str = "r.line",
    field: str = "obland",
) -> int:
    """Map partners, check unknown codes, fill staging from `select_sql` (a temp table name).

    `line` is the SQL for a row's file line (NULL when the format has none, as in JSON-stat);
    `field` names where the country code sits in the file.
    """
    check_codes(
        con,
        f"SELECT {line} AS line, r.partner_iso2 AS code, NULL AS note FROM {select_sql} r",
        "SELECT iso2 FROM ssb_iso",
        where,
        allow_unmapped=allow_unmapped,
        report=report,
        keep_as="as the alpha-2 code",
        field=field,
    )
    con.execute(
        f'INSERT INTO temp."{staging}" SELECT r.year, r.period, r.flow, r.cn8, left(r.cn8, 6), '
        "coalesce(m.iso3, r.partner_iso2), r.partner_iso2, r.quantity_1_kg, r.quantity_2, "
        f"r.quantity_2_unit, r.value_nok, r.status, '{sql_str(report.source)}' "
        f"FROM {select_sql} r LEFT JOIN ssb_iso m ON r.partner_iso2 = m.iso2"
    )
    row = con.execute(
        f'SELECT count(*), list(DISTINCT year ORDER BY year), count(DISTINCT partner) FROM temp."{staging}"'
    ).fetchall()[0]
    assert row is not None
    report.rows, report.years, report.countries = int(row[0]), list(row[1] or []), int(row[2])
    suppressed = con.execute(
        f'SELECT status, count(*) FROM temp."{staging}" WHERE status IS NOT NULL '
        "GROUP BY status ORDER BY status"
    ).fetchall()
    if suppressed:
        listed = ", ".join(f"'{sym}' {int(n):,}" for sym, n in suppressed)
        report.warnings.append(
            f"suppressed cells kept as suppressed (figures NULL, not 0): {listed}"
        )
    return report.rows


def import_ssb_csv(
    store: Store,
    path: Path | str,
    *,
    year: int | None = None,
    allow_unmapped: bool = False,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import SSB's bulk semicolon CSV into `ssb_trade` (all-or-nothing)."""
    started = time.perf_counter()
    src = require_file(Path(path))
    report = ImportReport("ssb", "ssb_trade", "SSB external trade in goods (bulk CSV)", str(src))

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        progress("reading", 0, 1)
        numbered_csv(con, src, "ssb_raw", expected=CSV_COLUMNS, delim=";")
        rules = {
            "aargang not a year": "TRY_CAST(aargang AS SMALLINT) IS NULL",
            "impeks not I/E": "upper(trim(impeks)) NOT IN ('I', 'E')",
            "varenr not 8 digits": "NOT regexp_full_match(trim(varenr), '[0-9]{8}')",
            "obland empty": "NULLIF(trim(obland), '') IS NULL",
            **{
                f"{c} not a number": f"(NULLIF(trim({c}), '') IS NOT NULL AND {_num(c)} IS NULL "
                f"AND {_symbol(c)} IS NULL)"
                for c in ("m1_sum", "m2_sum", "v_sum")
            },
            **{f"negative {c}": f"{_num(c)} < 0" for c in ("m1_sum", "v_sum")},
        }
        if year is not None:
            rules[f"aargang is not {year}"] = f"TRY_CAST(aargang AS SMALLINT) <> {int(year)}"
        check_rules(con, "ssb_raw", rules, str(src))
        _iso_table(con)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ssb_rows AS SELECT line, CAST(aargang AS SMALLINT) AS year, "
            "trim(aargang) AS period, "
            "CASE upper(trim(impeks)) WHEN 'I' THEN 'import' ELSE 'export' END AS flow, "
            "trim(varenr) AS cn8, upper(trim(obland)) AS partner_iso2, "
            f"{_num('m1_sum')} AS quantity_1_kg, {_num('m2_sum')} AS quantity_2, "
            "NULLIF(trim(vnr_m2), '') AS quantity_2_unit, "
            f"{_num('v_sum')} AS value_nok, "
            f"coalesce({_symbol('v_sum')}, {_symbol('m1_sum')}, {_symbol('m2_sum')}) AS status "
            "FROM ssb_raw"
        )
        progress("writing to the store", 1, 1)
        return _finish(con, staging, "ssb_rows", str(src), allow_unmapped, report)

    try:
        store.import_rows("ssb_trade", load, source=report.source, path=str(src.resolve()))
    finally:
        for t in ("ssb_raw", "ssb_rows", "ssb_iso"):
            store.con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    report.seconds = time.perf_counter() - started
    return report


def import_ssb_jsonstat(
    store: Store,
    path: Path | str,
    *,
    allow_unmapped: bool = False,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import a StatBank JSON-stat2 response for table 08801 into `ssb_trade`."""
    started = time.perf_counter()
    src = require_file(Path(path))
    try:
        doc = json.loads(src.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise SourceError(src, f"not JSON: {exc}", line=line) from exc
    dims, sizes, categories, values = _check_jsonstat(src, doc)
    categories["Varekoder"] = _commodity_codes(src, categories["Varekoder"])
    status = _status_cells(src, doc, len(values))
    factors, unit_notes = _content_units(src, doc, categories["ContentsCode"])
    table_id = str(doc.get("extension", {}).get("px", {}).get("tableid", "08801"))
    updated = str(doc.get("updated", ""))[:10]
    source = f"SSB StatBank {table_id}" + (f" (updated {updated})" if updated else "")
    report = ImportReport("ssb-jsonstat", "ssb_trade", source, str(src))
    report.warnings.extend(unit_notes)

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        progress("decoding JSON-stat", 0, 1)
        # strides of the row-major value array
        strides = [1] * len(sizes)
        for i in range(len(sizes) - 2, -1, -1):
            strides[i] = strides[i + 1] * sizes[i + 1]
        cells = pa.table(
            {
                "pos": pa.array(range(len(values)), pa.int64()),
                "v": pa.array(values, pa.float64()),
                "st": pa.array(status, pa.string()),
            }
        )
        con.register("js_values", cells)
        con.execute("CREATE OR REPLACE TEMP TABLE js_cells AS SELECT pos, v, st FROM js_values")
        con.unregister("js_values")
        for dim, codes in categories.items():
            con.register("js_dim", pa.table({"idx": list(range(len(codes))), "code": codes}))
            con.execute(f'CREATE OR REPLACE TEMP TABLE "js_{dim}" AS SELECT * FROM js_dim')
            con.unregister("js_dim")
        joins = " ".join(
            f'JOIN "js_{dim}" d{i} ON d{i}.idx = (c.pos // {strides[i]}) % {sizes[i]}'
            for i, dim in enumerate(dims)
        )
        index = {dim: f"d{i}.code" for i, dim in enumerate(dims)}
        con.execute(
            "CREATE OR REPLACE TEMP TABLE js_long AS SELECT "
            f"{index['Varekoder']} AS cn8, {index['ImpEks']} AS impeks, "
            f"{index['Land']} AS land, {index['ContentsCode']} AS contents, "
            f"{index['Tid']} AS tid, c.v, c.st FROM js_cells c {joins}"
        )
        pivot = ", ".join(
            f"max(v) FILTER (WHERE contents = '{code}') * {factors.get(code, 1.0)!r} AS {col}"
            for code, col in CONTENTS.items()
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE js_rows AS SELECT CAST(left(tid, 4) AS SMALLINT) AS year, "
            "tid AS period, CASE impeks WHEN '1' THEN 'import' WHEN '2' THEN 'export' "
            "ELSE impeks END AS flow, cn8, upper(land) AS partner_iso2, "
            f"{pivot}, NULL::VARCHAR AS quantity_2_unit, "
            # the value's symbol first (the figure the statistics read), else any
            "coalesce(max(st) FILTER (WHERE contents = 'Verdi' AND v IS NULL), "
            "max(st) FILTER (WHERE v IS NULL)) AS status FROM js_long GROUP BY ALL "
            # a cell triple with no figure and no symbol is no trade (SSB leaves zero flows
            # out); one with a symbol is a suppressed row, kept with NULL figures
            "HAVING count(v) > 0 OR count(st) > 0"
        )
        progress("writing to the store", 1, 1)
        _iso_table(con)
        return _finish(
            con,
            staging,
            "(SELECT year, period, flow, cn8, partner_iso2, quantity_1_kg, quantity_2, "
            "quantity_2_unit, value_nok, status FROM js_rows)",
            str(src),
            allow_unmapped,
            report,
            line="NULL",
            field="dimension.Land",
        )

    try:
        store.import_rows("ssb_trade", load, source=source, path=str(src.resolve()))
    finally:
        for t in ("js_cells", "js_long", "js_rows", "ssb_iso", *(f"js_{d}" for d in dims)):
            store.con.execute(f'DROP TABLE IF EXISTS temp."{t}"')
    report.seconds = time.perf_counter() - started
    return report


def _check_jsonstat(
    src: Path, doc: Any
) -> tuple[list[str], list[int], dict[str, list[str]], list[float | None]]:
    if not isinstance(doc, dict) or doc.get("class") != "dataset":
        raise SourceError(src, "not a JSON-stat2 dataset (class 'dataset' missing)")
    dims = doc.get("id")
    sizes = doc.get("size")
    if not isinstance(dims, list) or not isinstance(sizes, list) or len(dims) != len(sizes):
        raise SourceError(src, "JSON-stat 'id' and 'size' missing or of different length")
    missing = [d for d in JSONSTAT_DIMS if d not in dims]
    if missing:
        raise SourceError(
            src,
            f"dimensions {dims}; table 08801 needs {', '.join(JSONSTAT_DIMS)} "
            f"(missing: {', '.join(missing)})",
        )
    categories: dict[str, list[str]] = {}
    for dim, size in zip(dims, sizes, strict=True):
        index = doc.get("dimension", {}).get(dim, {}).get("category", {}).get("index")
        if isinstance(index, dict):
            codes = [c for c, _ in sorted(index.items(), key=lambda kv: kv[1])]
        elif isinstance(index, list):
            codes = [str(c) for c in index]
        else:
            raise SourceError(src, "dimension has no category index", field=dim)
        if len(codes) != size:
            raise SourceError(src, f"{len(codes)} categories but size {size}", field=dim)
        categories[dim] = codes
    unknown_contents = [c for c in categories["ContentsCode"] if c not in CONTENTS]
    if unknown_contents:
        raise SourceError(
            src,
            f"unknown ContentsCode {unknown_contents}; expected {list(CONTENTS)}",
            field="ContentsCode",
        )
    values = doc.get("value")
    expected = 1
    for size in sizes:
        expected *= size
    if isinstance(values, dict):  # the sparse form: {"pos": value}
        dense: list[float | None] = [None] * expected
        for pos, val in values.items():
            dense[int(pos)] = val
        values = dense
    if not isinstance(values, list) or len(values) != expected:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise SourceError(
            src, f"'value' holds {got} cells, the sizes say {expected}", field="value"
        )
    bad = next(
        (i for i, v in enumerate(values) if v is not None and not isinstance(v, int | float)), None
    )
    if bad is not None:
        raise SourceError(src, f"cell {bad} is {values[bad]!r}, not a number", field="value")
    return dims, sizes, categories, values


def _commodity_codes(src: Path, codes: list[str]) -> list[str]:
    """The 8-digit commodity numbers of dimension Varekoder: the StatBank API's
    code-with-year-suffix (``15042011_1995``, the year the code was introduced) without the
    suffix; a code that is not 8 digits, or one that appears twice once the suffixes are
    dropped, is an error naming them."""
    out: list[str] = []
    bad: list[str] = []
    for code in codes:
        number, sep, suffix = str(code).partition("_")
        number = number.strip()
        if not (len(number) == 8 and number.isdigit()) or (
            sep and not (len(suffix) == 4 and suffix.isdigit())
        ):
            bad.append(str(code))
        out.append(number)
    if bad:
        raise SourceError(
            src,
            f"{len(bad)} commodity code(s) not an 8-digit number (with an optional _YYYY "
            f"suffix): {', '.join(bad[:10])}; nothing imported",
            field="dimension.Varekoder",
        )
    seen: dict[str, str] = {}
    twice = []
    for code, number in zip(codes, out, strict=True):
        if number in seen:
            twice.append(f"{seen[number]} and {code}")
        seen.setdefault(number, str(code))
    if twice:
        raise SourceError(
            src,
            f"commodity codes that are the same number under two year suffixes: "
            f"{'; '.join(twice[:10])}; query one code version per number; nothing imported",
            field="dimension.Varekoder",
        )
    return out


def _status_cells(src: Path, doc: dict[str, Any], n: int) -> list[str | None]:
    """JSON-stat2 ``status`` per cell: a string (every cell), a list (one per cell) or an
    object keyed by the flat index; None where a cell has none."""
    status = doc.get("status")
    if status is None:
        return [None] * n
    if isinstance(status, str):
        return [status] * n
    if isinstance(status, list):
        if len(status) != n:
            raise SourceError(
                src, f"'status' holds {len(status)} cells, 'value' {n}", field="status"
            )
        return [None if v is None else str(v) for v in status]
    if isinstance(status, dict):
        out: list[str | None] = [None] * n
        for key, symbol in status.items():
            if not str(key).isdigit() or int(key) >= n:
                raise SourceError(
                    src, f"status key {key!r} is not a cell index below {n}", field="status"
                )
            out[int(key)] = None if symbol is None else str(symbol)
        return out
    raise SourceError(src, f"'status' is a {type(status).__name__}", field="status")


def _unit_key(text: str) -> str:
    return " ".join(str(text).replace("\u00a0", " ").split()).casefold()


def _content_units(
    src: Path, doc: dict[str, Any], codes: list[str]
) -> tuple[dict[str, float], list[str]]:
    """Factor to the stored unit for each ContentsCode, from the response's own unit metadata.

    JSON-stat2 gives each statistic's unit in ``dimension.ContentsCode.category.unit.<code>``
    (``base``: 'kg', 'tonn', 'kr', '1000 kr', ...; ``decimals`` is display precision only, not
    a scale). A known unit other than the stored one is converted (tonn -> kg x1000,
    1000 kr -> NOK x1000) and noted; an unknown unit, or a label whose '(unit)' contradicts the
    unit metadata, is an error naming the code and the unit. Without unit metadata the units
    table 08801 documents (kg, kroner) are assumed, and that is noted.
    """
    category = doc["dimension"]["ContentsCode"].get("category", {})
    units = category.get("unit") if isinstance(category.get("unit"), dict) else {}
    labels = category.get("label") if isinstance(category.get("label"), dict) else {}
    factors: dict[str, float] = {}
    notes: list[str] = []
    for code in codes:
        accepted = UNIT_FACTORS.get(code)
        if accepted is None:
            continue
        field = f"dimension.ContentsCode.category.unit.{code}"
        unit = units.get(code)
        base = unit.get("base") if isinstance(unit, dict) else None
        label = str(labels.get(code, ""))
        in_label = label[label.rfind("(") + 1 : -1] if label.endswith(")") and "(" in label else ""
        if base is None or not str(base).strip():
            if _unit_key(in_label) in accepted:
                base = in_label
            else:
                factors[code] = 1.0
                notes.append(
                    f"no unit given for ContentsCode {code}; taken as {STORED_UNITS[code]} "
                    "(as table 08801 publishes it)"
                )
                continue
        factor = accepted.get(_unit_key(str(base)))
        if factor is None:
            raise SourceError(
                src,
                f"ContentsCode {code} is in unit {base!r}, which verdikart cannot convert to "
                f"{STORED_UNITS[code]} (known: {', '.join(sorted(accepted))}); nothing imported",
                field=field,
            )
        label_factor = accepted.get(_unit_key(in_label))
        if label_factor is not None and label_factor != factor:
            raise SourceError(
                src,
                f"ContentsCode {code}: the label {label!r} and the unit {base!r} disagree; "
                "nothing imported",
                field=field,
            )
        factors[code] = factor
        if factor != 1.0:
            notes.append(
                f"ContentsCode {code} given in {base!r}: multiplied by {factor:g} to "
                f"{STORED_UNITS[code]}"
            )
    return factors, notes
