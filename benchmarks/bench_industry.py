"""Benchmark: a full-size SSB 08801 year imported and regrouped by industry.

    .venv/bin/python benchmarks/bench_industry.py [--countries 52] [--keep DIR]

Generates, with DuckDB in a child process (so the peak RSS printed is the import's and the
regrouping's own), a synthetic 08801 year in SSB's bulk CSV layout
(``aargang;impeks;varenr;obland;vnr_m2;m1_sum;m2_sum;v_sum``): every CN 2022 commodity code of
the bundled correspondence plus 99999999, times `--countries` partner countries (ISO alpha-2 of
the reference country table), times import and export; about 1 in 50 values suppressed (':').
The figures are synthetic (seeded, deterministic): this measures speed, not statistics. Then
it imports the file with `verdikart.sources.ssb.import_ssb_csv` into a fresh store file (every
row rule, country mapping, one transaction) and runs `industry_trade` (groups, HS chapters,
product groups, unknown and split codes) for exports. Prints rows, seconds per step and peak
RSS. Goal: import + regrouping < 10 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from verdikart.store import Store, bundled_path


def generate(path: Path, countries: int) -> tuple[int, float]:
    """Write the CSV with DuckDB (no Python loop over rows); (rows, seconds)."""
    from verdikart.reference.countries import country_table

    started = time.perf_counter()
    con = duckdb.connect()
    iso2 = sorted(
        {c for c in country_table().column("iso2").to_pylist() if c and len(c) == 2 and c != "NO"}
    )[:countries]
    con.execute("CREATE TABLE land AS SELECT unnest(?) AS obland", [iso2])
    codes = str(bundled_path("cn_cpa")).replace("'", "''")
    con.execute(
        "CREATE TABLE vare AS SELECT DISTINCT cn8 AS varenr FROM "
        f"read_parquet('{codes}') WHERE cn_year = 2022 UNION SELECT '99999999'"
    )
    target = str(path).replace("'", "''")
    con.execute(
        "COPY (SELECT 2023 AS aargang, f.impeks, v.varenr, l.obland, '' AS vnr_m2, "
        "CASE WHEN h % 50 = 0 THEN ':' ELSE CAST(h % 100000 AS VARCHAR) END AS m1_sum, "
        "'' AS m2_sum, "
        "CASE WHEN h % 50 = 0 THEN ':' ELSE CAST(h % 10000000 AS VARCHAR) END AS v_sum "
        "FROM vare v, land l, (VALUES ('I'), ('E')) f(impeks), "
        "LATERAL (SELECT abs(hash(v.varenr || l.obland || f.impeks)) AS h) "
        f"ORDER BY varenr, impeks, obland) TO '{target}' (HEADER, DELIMITER ';')"
    )
    rows = con.execute(f"SELECT count(*) FROM read_csv('{target}', delim=';')").fetchall()[0][0]
    con.close()
    return int(rows), time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(csv: str, folder: str) -> None:
    from verdikart.indicators.industry import industry_trade
    from verdikart.sources.ssb import import_ssb_csv

    started = time.perf_counter()
    with Store.open(Path(folder) / "store.duckdb", create=True) as store:
        report = import_ssb_csv(store, Path(csv))
        imported = time.perf_counter()
        result = industry_trade(store.engine(), year=2023)
        done = time.perf_counter()
    by = {r["group"]: r for r in result.groups.to_pylist()}
    print(f"imported {report.rows:,} rows in {imported - started:.2f} s")
    print(
        f"regrouped in {done - imported:.2f} s: process industry "
        f"{by['process_industry']['share']:.4f} of total, {result.split.num_rows} split parts, "
        f"{result.unknown.num_rows} unknown codes"
    )
    print(
        f"import + regrouping: {done - started:.2f} s (goal < 10 s); peak RSS {peak_rss_mb():,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countries", type=int, default=52)
    parser.add_argument("--keep", type=Path, default=None, help="keep the CSV in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv = folder / "08801_2023_synthetic.csv"
        rows, seconds = generate(csv, args.countries)
        print(f"generated {rows:,} rows ({csv.stat().st_size / 1e6:,.0f} MB) in {seconds:.1f} s")
        ctx = multiprocessing.get_context("spawn")
        child = ctx.Process(target=run, args=(str(csv), tmp))
        child.start()
        child.join()


if __name__ == "__main__":
    main()
