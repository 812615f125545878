"""Benchmark: import one BACI-format year of 10 M rows through the real import path.

    .venv/bin/python benchmarks/bench_import_baci.py [--rows 10000000] [--keep DIR] [--repeat 3]
        [--years 1]

Generates a realistic BACI CSV (all ~238 BACI country codes, 5,000 HS6 codes, each
exporter-importer-product once and sorted by t, i, j, k as CEPII writes them, v with three
decimals, about 1 in 17 q missing as CEPII's space-padded NA) with DuckDB into a temp dir, then
imports it with `verdikart.sources.baci.import_baci` - header check, typed parse (a malformed
line makes it redo the file with rejected-line capture), every row rule, country-code mapping -
into a fresh store file, and prints rows, seconds and rows/s per run (a fresh store each time),
their median, and peak RSS. Goal: >= 3 M rows/s and < 2 GB peak RSS. `--years N` makes N such
files (2022 back) and imports their directory in one call, one transaction.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from verdikart.sources.baci import import_baci
from verdikart.store import Store, bundled_path

PRODUCTS = 5000  # distinct HS6 codes
PERMUTE = 1_000_003  # a prime, coprime to 238 * 238 * 5000


def generate(path: Path, rows: int, year: int = 2022) -> float:
    """Write the CSV with DuckDB (no Python loop); returns seconds taken."""
    started = time.perf_counter()
    countries = str(bundled_path("baci_countries")).replace("'", "''")
    target = str(path).replace("'", "''")
    # Every (exporter, importer, product) once, as in a real BACI year: row r is mapped by a
    # multiplicative permutation (the multiplier is coprime to the key space) to a distinct key;
    # rows sorted by (t, i, j, k), CEPII's order.
    duckdb.connect().execute(
        f"""
        COPY (
          WITH codes AS (
            SELECT baci_code, row_number() OVER (ORDER BY baci_code) - 1 AS idx
            FROM read_parquet('{countries}')),
          n AS (SELECT count(*) AS n FROM codes),
          g AS (SELECT r, (r * {PERMUTE}) % ((SELECT n FROM n) * (SELECT n FROM n) * {PRODUCTS})
                          AS key FROM range({rows}) t(r)),
          parts AS (SELECT r, key // ((SELECT n FROM n) * {PRODUCTS}) AS ie,
                           (key // {PRODUCTS}) % (SELECT n FROM n) AS ii, key % {PRODUCTS} AS kk
                    FROM g)
          SELECT {year} AS t, e.baci_code AS i, m.baci_code AS j,
                 lpad(CAST(10101 + kk * 17 AS VARCHAR), 6, '0') AS k,
                 round(random() * 1000, 3) AS v,
                 CASE WHEN r % 17 = 0 THEN '           NA'
                      ELSE CAST(round(random() * 500, 3) AS VARCHAR) END AS q
          FROM parts JOIN codes e ON e.idx = parts.ie JOIN codes m ON m.idx = parts.ii
          ORDER BY t, i, j, k
        ) TO '{target}' (HEADER, DELIMITER ',', QUOTE '')
        """
    )
    return time.perf_counter() - started


def bare_read_seconds(csv: Path) -> float:
    """Reference on the same machine and moment: bare typed read_csv into a TEMP table, no
    validation, no mapping, nothing written to a store file."""
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    target = str(csv).replace("'", "''")
    started = time.perf_counter()
    con.execute(
        f"CREATE TEMP TABLE t AS SELECT * FROM read_csv('{target}', header=true, "
        "columns={'t': 'SMALLINT', 'i': 'INTEGER', 'j': 'INTEGER', 'k': 'INTEGER', "
        "'v': 'DOUBLE', 'q': 'DOUBLE'}, nullstr=['', 'NA', '           NA'])"
    )
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_once(csv: Path, folder: Path) -> tuple[int, float, list[tuple[str, float]], float]:
    """One import into a fresh store file: rows, seconds, stage times, store file MB."""
    db = folder / "bench.duckdb"
    db.unlink(missing_ok=True)
    store = Store.open(db, create=True)
    stages: list[tuple[str, float]] = []
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages.append((stage, time.perf_counter() - start))

    report = import_baci(store, csv, progress=progress)
    seconds = time.perf_counter() - start
    store.close()
    return report.rows, seconds, stages, db.stat().st_size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep the CSV in this dir")
    parser.add_argument("--repeat", type=int, default=3, help="imports to time (fresh store each)")
    parser.add_argument(
        "--years", type=int, default=1, help="year files (2022 and before), imported in one call"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-baci-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        years = list(range(2023 - args.years, 2023))
        files = [folder / f"BACI_HS17_Y{year}_V202401b.csv" for year in years]
        for year, csv in zip(years, files, strict=True):
            if csv.exists():
                continue
            # in a child process, so that the peak RSS printed below is the imports' own
            started = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(
                target=generate, args=(csv, args.rows, year)
            )
            child.start()
            child.join()
            seconds = time.perf_counter() - started
            print(f"generated {csv.name}: {csv.stat().st_size / 1e6:,.0f} MB in {seconds:.1f} s")
        # several years: one import of a directory holding just those files (one transaction)
        target = files[0]
        if len(files) > 1:
            target = Path(tmp) / "years"
            target.mkdir(exist_ok=True)
            for csv in files:
                (target / csv.name).symlink_to(csv.resolve())
        rss_before = peak_rss_mb()
        print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
        rates: list[float] = []
        for run in range(1, args.repeat + 1):
            rows, seconds, stages, db_mb = import_once(target, Path(tmp))
            rates.append(rows / seconds)
            steps = ", ".join(f"{stage.split(' ')[0]} {at:.2f} s" for stage, at in stages)
            print(
                f"run {run}: rows {rows:,}  seconds {seconds:.2f}  rows/s {rows / seconds:,.0f}  "
                f"store file {db_mb:,.0f} MB  ({steps})"
            )
        print(
            f"rows/s over {len(rates)} run(s): median {statistics.median(rates):,.0f}, "
            f"min {min(rates):,.0f}, max {max(rates):,.0f}"
        )
        print(f"peak RSS: {peak_rss_mb():,.0f} MB (before the imports: {rss_before:,.0f} MB)")
        bare = bare_read_seconds(files[0]) * len(files)
        print(
            f"reference, bare read_csv into a TEMP table (no checks, no store; per file x {len(files)}): "
            f"{bare:.2f} s = "
            f"{rows / bare:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
