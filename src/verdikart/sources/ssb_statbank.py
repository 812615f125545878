"""SSB StatBank tables of the process-industry statistics into the registered table
`ssb_statbank` (one row per cell, long).

The official layout is the StatBank API's JSON-stat2 response (PxWebApi v0 POST
``https://data.ssb.no/api/v0/no/table/{id}`` with ``"response": {"format": "json-stat2"}``, or
v2 GET ``.../api/pxwebapi/v2/tables/{id}/data?outputFormat=json-stat2``):

* ``id``/``size`` give the dimensions and the row-major layout of ``value``; ``role.time``
  names the time dimension (``Tid``: ``2023`` or ``2023M01``), ``role.metric`` the statistic
  (``ContentsCode``), whose unit is ``dimension.ContentsCode.category.unit.<code>.base``;
* the one or two other dimensions are the industry or balance item (first) and the energy
  product (second; 11561's ``EnergiProdukt``);
* a cell SSB has no figure for is null in ``value`` with its symbol in ``status`` (keyed by the
  flat index: ``.`` not applicable, ``..`` not available, ``:`` confidential): stored with value
  NULL and the symbol, never as 0.

Tables and the unit each must be in (a response in another unit of the same kind is converted
and noted; any other unit is an error naming the file and the field):

* 11561 energy balance (GWh; TJ / 3.6), 14091 monthly electricity balance (GWh; MWh / 1,000),
  emissions to air by industry (1,000 t CO2-equivalents), employment by industry (persons).

The table comes from ``extension.px.tableid`` (or ``--table``); a response whose sizes do not
match its dimensions, or has more dimensions than these, is refused. All or nothing: a bad
file leaves the store unchanged; re-importing a table's year replaces it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from verdikart.errors import SourceError
from verdikart.sources._common import ImportReport, require_file, sql_str
from verdikart.store import Store

# table id -> (what it is, the stored unit, accepted units (lower-case) -> factor to it)
TABLES: dict[str, tuple[str, str, dict[str, float]]] = {
    "11561": ("energy balance", "GWh", {"gwh": 1.0, "tj": 1 / 3.6, "mwh": 0.001}),
    "14091": ("monthly electricity balance", "GWh", {"gwh": 1.0, "mwh": 0.001, "twh": 1000.0}),
    "emissions": (
        "emissions to air by industry",
        "1000 t CO2e",
        {
            "1000 tonn co2-ekvivalenter": 1.0,
            "1 000 tonn co2-ekvivalenter": 1.0,
            "1000 tonnes co2 equivalents": 1.0,
            "tonn co2-ekvivalenter": 0.001,
            "1000 tonn": 1.0,
        },
    ),
    "employment": (
        "employment by industry",
        "persons",
        {"personer": 1.0, "persons": 1.0, "antall": 1.0, "sysselsatte": 1.0},
    ),
}
# StatBank table numbers of the emissions and employment tables verdikart reads as such
ALIASES = {"09288": "emissions", "13931": "emissions", "13126": "employment", "07984": "employment"}


def _unit_key(text: object) -> str:
    return " ".join(str(text).replace("\u00a0", " ").split()).casefold()


def _categories(src: Path, doc: dict[str, Any], dim: str, size: int) -> tuple[list[str], list[str]]:
    category = doc.get("dimension", {}).get(dim, {}).get("category", {})
    index = category.get("index")
    if isinstance(index, dict):
        codes = [c for c, _ in sorted(index.items(), key=lambda kv: kv[1])]
    elif isinstance(index, list):
        codes = [str(c) for c in index]
    else:
        raise SourceError(src, "dimension has no category index", field=f"dimension.{dim}")
    if len(codes) != size:
        raise SourceError(src, f"{len(codes)} categories but size {size}", field=f"dimension.{dim}")
    labels = category.get("label") if isinstance(category.get("label"), dict) else {}
    return codes, [str(labels.get(c, c)) for c in codes]


def _status(src: Path, doc: dict[str, Any], n: int) -> list[str | None]:
    from verdikart.sources.ssb import _status_cells

    return _status_cells(src, doc, n)


def read_statbank(src: Path, table: str | None = None) -> tuple[str, pa.Table, list[str]]:
    """Check a StatBank JSON-stat2 response; return (table key, the cells as an Arrow table of
    pos/value/status plus one code and label column per role, notes)."""
    try:
        doc = json.loads(src.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(src, f"not JSON: {exc}", line=getattr(exc, "lineno", None)) from exc
    if not isinstance(doc, dict) or doc.get("class") != "dataset":
        raise SourceError(src, "not a JSON-stat2 dataset (class 'dataset' missing)")
    table_id = str(table or doc.get("extension", {}).get("px", {}).get("tableid") or "")
    key = ALIASES.get(table_id, table_id)
    if key not in TABLES:
        known = ", ".join([*TABLES, *ALIASES])
        raise SourceError(
            src,
            f"table {table_id or '(none)'!r} is not one the process-industry statistics read "
            f"(known: {known}); name it with --table",
            field="extension.px.tableid",
        )
    dims, sizes = doc.get("id"), doc.get("size")
    if not isinstance(dims, list) or not isinstance(sizes, list) or len(dims) != len(sizes):
        raise SourceError(src, "'id' and 'size' missing or of different length", field="size")
    given = doc.get("role")
    role: dict[str, Any] = given if isinstance(given, dict) else {}
    time_dim = (role.get("time") or ["Tid"])[0]
    metric_dim = (role.get("metric") or ["ContentsCode"])[0]
    for needed, what in ((time_dim, "time"), (metric_dim, "metric")):
        if needed not in dims:
            raise SourceError(src, f"no {what} dimension {needed!r} in {dims}", field="id")
    others = [d for d in dims if d not in (time_dim, metric_dim)]
    if not 1 <= len(others) <= 2:
        raise SourceError(
            src,
            f"dimensions {dims}: expected an item dimension (and for 11561 a product one) "
            "besides time and statistic",
            field="id",
        )
    expected = 1
    for s in sizes:
        expected *= int(s)
    values = doc.get("value")
    if isinstance(values, dict):
        dense: list[Any] = [None] * expected
        for pos, v in values.items():
            dense[int(pos)] = v
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
    cats = {d: _categories(src, doc, d, int(s)) for d, s in zip(dims, sizes, strict=True)}
    # units of the statistic(s): each must be the table's unit or convertible to it
    what, unit, accepted = TABLES[key]
    metric_cat = doc["dimension"][metric_dim].get("category", {})
    units = metric_cat.get("unit") if isinstance(metric_cat.get("unit"), dict) else {}
    factors: list[float] = []
    notes: list[str] = []
    for code in cats[metric_dim][0]:
        base = (units.get(code) or {}).get("base") if isinstance(units.get(code), dict) else None
        if base is None:
            raise SourceError(
                src,
                f"statistic {code} gives no unit; table {table_id} ({what}) is in {unit}",
                field=f"dimension.{metric_dim}.category.unit.{code}",
            )
        factor = accepted.get(_unit_key(base))
        if factor is None:
            raise SourceError(
                src,
                f"statistic {code} is in {base!r}, which does not agree with table {table_id} "
                f"({what}, stored in {unit}); nothing imported",
                field=f"dimension.{metric_dim}.category.unit.{code}",
            )
        if factor != 1.0:
            notes.append(f"{code} given in {base!r}: converted to {unit} (x{factor:g})")
        factors.append(factor)
    status = _status(src, doc, expected)
    cells = pa.table(
        {
            "pos": pa.array(range(expected), pa.int64()),
            "v": pa.array(values, pa.float64()),
            "st": pa.array(status, pa.string()),
        }
    )
    layout = {
        "dims": dims,
        "sizes": [int(s) for s in sizes],
        "time": time_dim,
        "metric": metric_dim,
        "item": others[0],
        "product": others[1] if len(others) > 1 else None,
        "cats": cats,
        "factors": factors,
        "unit": unit,
        "updated": str(doc.get("updated", ""))[:10],
        "table_id": table_id,
    }
    return key, cells, [json.dumps(layout, ensure_ascii=False), *notes]


def import_ssb_statbank(
    store: Store, path: Path | str, *, table: str | None = None, **_: object
) -> ImportReport:
    """Import a StatBank JSON-stat2 response of 11561, 14091, emissions or employment by
    industry into `ssb_statbank` (all-or-nothing; replaces the table's years)."""
    started = time.perf_counter()
    src = require_file(Path(path))
    key, cells, notes = read_statbank(src, table)
    layout = json.loads(notes[0])
    source = f"SSB StatBank {layout['table_id']}" + (
        f" (updated {layout['updated']})" if layout["updated"] else ""
    )
    report = ImportReport("ssb-statbank", "ssb_statbank", source, str(src))
    report.warnings.extend(notes[1:])
    dims, sizes = layout["dims"], layout["sizes"]

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        strides = [1] * len(sizes)
        for i in range(len(sizes) - 2, -1, -1):
            strides[i] = strides[i + 1] * sizes[i + 1]
        con.register("sb_values", cells)
        con.execute("CREATE OR REPLACE TEMP TABLE sb_cells AS SELECT * FROM sb_values")
        con.unregister("sb_values")
        for i, dim in enumerate(dims):
            codes, labels = layout["cats"][dim]
            extra = (
                {"factor": layout["factors"]}
                if dim == layout["metric"]
                else {"factor": [1.0] * len(codes)}
            )
            con.register(
                "sb_dim",
                pa.table({"idx": list(range(len(codes))), "code": codes, "label": labels, **extra}),
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE sb_d{i} AS SELECT * FROM sb_dim")
            con.unregister("sb_dim")
        joins = " ".join(
            f"JOIN sb_d{i} d{i} ON d{i}.idx = (c.pos // {strides[i]}) % {sizes[i]}"
            for i in range(len(dims))
        )
        pick = {dim: f"d{i}" for i, dim in enumerate(dims)}
        t, m, it = pick[layout["time"]], pick[layout["metric"]], pick[layout["item"]]
        pr = pick.get(layout["product"]) if layout["product"] else None
        con.execute(
            f'INSERT INTO temp."{staging}" SELECT '
            f"'{sql_str(key)}', {t}.code, TRY_CAST(left({t}.code, 4) AS SMALLINT), "
            f"TRY_CAST(nullif(regexp_extract({t}.code, 'M([0-9]{{2}})$', 1), '') AS SMALLINT), "
            f"{it}.code, {it}.label, "
            + (f"{pr}.code, {pr}.label, " if pr else "NULL, NULL, ")
            + f"{m}.code, '{sql_str(layout['unit'])}', c.v * {m}.factor, "
            "CASE WHEN c.v IS NULL THEN c.st END, "
            f"'{sql_str(source)}' FROM sb_cells c {joins}"
        )
        bad = con.execute(
            f'SELECT count(*), any_value(period) FROM temp."{staging}" WHERE year IS NULL'
        ).fetchall()[0]
        if bad[0]:
            raise SourceError(
                src,
                f"{bad[0]} cell(s) with a time code that is not a year or YYYYMmm (e.g. {bad[1]!r})",
                field=f"dimension.{layout['time']}",
            )
        row = con.execute(
            f'SELECT count(*), list(DISTINCT year ORDER BY year), count(status) FROM temp."{staging}"'
        ).fetchall()[0]
        report.rows, report.years = int(row[0]), list(row[1] or [])
        if row[2]:
            report.warnings.append(
                f"{int(row[2])} suppressed cell(s) kept as suppressed (value NULL, not 0)"
            )
        return report.rows

    try:
        store.import_rows("ssb_statbank", load, source=source, path=str(src.resolve()))
    finally:
        for t in ("sb_cells", *(f"sb_d{i}" for i in range(len(dims)))):
            store.con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    report.seconds = time.perf_counter() - started
    return report
