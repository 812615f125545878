"""Benchmark: a full-size synthetic BACI on one machine, then every indicator over it.

    .venv/bin/python benchmarks/bench_scale.py [--years 10] [--rows 10000000] [--keep DIR]
        [--spark-year 2022] [--no-spark]

1. Generates ``--years`` BACI HS92 year files of ``--rows`` rows each in CEPII's layout
   (``BACI_HS92_Y<year>_V202401b.csv``: t,i,j,k,v,q; every exporter-importer-product once,
   sorted as CEPII writes them; 238 BACI countries; 5,000 HS6 codes: every HS92 code of the
   materials' code lists and of the GeoPolRisk map, the rest filled with other codes).
2. Imports them in one call (one transaction) into a fresh store file.
3. GeoPolRisk for every country, group, material and year the store holds.
4. The mapping for every country and every generated year at once (``run_mappings_years``).
5. Spark in local mode: the whole store exported to the Parquet layout, then GeoPolRisk (and
   with ``--spark-mapping`` the mapping) for one year on Spark, compared with DuckDB's results
   (relative difference 1e-9).

Each step runs in its own process and prints wall seconds and its peak RSS (for Spark also
the JVM's). Goal on the 2-core machine: steps 2-4 each under 60 s and 4 GB on DuckDB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRODUCTS = 5000
PERMUTE = 1_000_003  # a prime, coprime to 238 * 238 * 5000


def material_codes() -> list[str]:
    """Every HS92 code the indicators read: the materials' lists and the GeoPolRisk map."""
    from verdikart.reference.materials import material_hs6_table
    from verdikart.store import Store

    codes = set(material_hs6_table("HS92").column("hs6").to_pylist())
    with Store.open(None) as store:
        engine = store.engine()
        m = engine.relations().wmd_hs_map
        for row in engine.rows(m.select("hs6", "hs6_complementary")):
            for code in [row["hs6"], *(row["hs6_complementary"] or "").split(";")]:
                if code and code.strip():
                    codes.add(code.strip().zfill(6))
    return sorted(codes)


def product_codes() -> list[str]:
    """5,000 distinct HS6 codes: the materials' codes, then fillers from chapters 01-97."""
    codes = material_codes()
    taken = set(codes)
    filler = 10101
    while len(codes) < PRODUCTS:
        code = f"{filler:06d}"
        if code not in taken:
            codes.append(code)
            taken.add(code)
        filler += 7
    return sorted(codes)


def generate(path: Path, rows: int, year: int, codes: list[str]) -> None:
    """Write one BACI year with DuckDB (no Python loop over rows)."""
    import duckdb

    from verdikart.store import bundled_path

    countries = str(bundled_path("baci_countries")).replace("'", "''")
    target = str(path).replace("'", "''")
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE products AS SELECT unnest($codes) AS k", {"codes": codes})
    con.execute(
        "CREATE TEMP TABLE pidx AS SELECT k, row_number() OVER (ORDER BY k) - 1 AS idx "
        "FROM products"
    )
    con.execute(
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
          SELECT {year} AS t, e.baci_code AS i, m.baci_code AS j, p.k AS k,
                 round(random() * 1000, 3) AS v,
                 CASE WHEN r % 17 = 0 THEN '           NA'
                      ELSE CAST(round(random() * 500, 3) AS VARCHAR) END AS q
          FROM parts JOIN codes e ON e.idx = parts.ie JOIN codes m ON m.idx = parts.ii
          JOIN pidx p ON p.idx = parts.kk
          ORDER BY t, i, j, k
        ) TO '{target}' (HEADER, DELIMITER ',', QUOTE '')
        """
    )


# -- steps, each in its own process -------------------------------------------------------
def step_import(store_path: Path, folder: Path) -> dict[str, object]:
    from verdikart.sources.baci import import_baci
    from verdikart.store import Store

    store_path.unlink(missing_ok=True)
    with Store.open(store_path, create=True) as store:
        report = import_baci(store, folder)
    return {"rows": report.rows}


def step_geopolrisk(store_path: Path, out: Path, engine: str, data: str | None, year: int | None):
    from verdikart.app import Verdikart
    from verdikart.config import Settings

    settings = Settings(store=store_path, engine=engine, spark_data=data)
    with Verdikart(settings) as app:
        table = app.geopolrisk(None, None, None if year is None else [year])
    import pyarrow.parquet as pq

    pq.write_table(table, out)
    return {"rows": table.num_rows}


def step_mapping(store_path: Path, out: Path, engine: str, data: str | None, years: list[int]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from verdikart.app import Verdikart
    from verdikart.chains.mapping import MapRequest, run_mappings_years
    from verdikart.config import Settings
    from verdikart.reference.countries import country_table

    settings = Settings(store=store_path, engine=engine, spark_data=data)
    countries = [c for c in country_table().column("iso3").to_pylist() if c]
    rows: list[dict[str, object]] = []
    with Verdikart(settings) as app:
        # every year in one pass: each query family reads the years once
        mapped = run_mappings_years(app.engine(), countries, years, MapRequest())
        for year, results in mapped.items():
            for code, result in results.items():
                for row in result.rows:
                    rows.append(
                        {
                            "reporter": code,
                            "year": year,
                            "product": row["product"],
                            "import_value_kusd": row["import_value_kusd"],
                            "hhi": row["hhi"],
                            "top_supplier_share": row["top_supplier_share"],
                            "geopolrisk_score": row["geopolrisk_score"],
                        }
                    )
    pq.write_table(pa.Table.from_pylist(rows), out)
    return {"rows": len(rows), "countries": len(countries)}


def step_export(store_path: Path, layout: Path) -> dict[str, object]:
    from verdikart.store import Store

    with Store.open(store_path) as store:
        written = store.export_layout(layout)
    return {"rows": sum(written.values())}


def _jvm_peak_mb() -> float:
    """Peak RSS of this process's Java children (the Spark driver), from /proc."""
    peak = 0.0
    me = str(os.getpid())
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == me and "java" in fields.get("Name", ""):
            peak = max(peak, float(fields.get("VmHWM", "0 kB").split()[0]) / 1024)
    return peak


def run_step(args: list[str]) -> dict[str, object]:
    """Run this script's `--step ...` in a child process; its JSON line, plus wall seconds."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    return result


def compare(a_path: Path, b_path: Path, keys: list[str]) -> str:
    """Rows, keys and numbers of two result files; 'identical' within 1e-9 relative."""
    import pyarrow.parquet as pq

    a = {tuple(r[k] for k in keys): r for r in pq.read_table(a_path).to_pylist()}
    b = {tuple(r[k] for k in keys): r for r in pq.read_table(b_path).to_pylist()}
    if a.keys() != b.keys():
        return f"DIFFERENT rows: {len(a)} vs {len(b)}, {len(set(a) ^ set(b))} keys differ"
    bad = 0
    for key, ra in a.items():
        rb = b[key]
        for col, va in ra.items():
            vb = rb[col]
            if isinstance(va, float) and isinstance(vb, float):
                same = math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-12) or (
                    math.isnan(va) and math.isnan(vb)
                )
            else:
                same = va == vb
            bad += not same
    return f"identical ({len(a):,} rows)" if bad == 0 else f"DIFFERENT: {bad} cell(s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep files in this dir")
    parser.add_argument("--spark-year", type=int, default=2022)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--mapping-years", type=int, default=None, help="map only the last N years (default all)"
    )
    parser.add_argument(
        "--spark-mapping", action="store_true", help="also the mapping of one year on Spark"
    )
    parser.add_argument(
        "--reuse-store", action="store_true", help="keep an imported store found in --keep"
    )
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="duckdb", help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--year", type=int, action="append", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:  # a child: one step, then one JSON line with its peak memory
        if args.step == "generate":
            generate(args.out, args.rows, args.year[0], product_codes())
            result: dict[str, object] = {}
        elif args.step == "import":
            result = step_import(args.store, args.folder)
        elif args.step == "geopolrisk":
            one = args.year[0] if args.year else None
            result = step_geopolrisk(args.store, args.out, args.engine, args.data, one)
        elif args.step == "mapping":
            result = step_mapping(args.store, args.out, args.engine, args.data, args.year)
        elif args.step == "export":
            result = step_export(args.store, Path(args.data))
        else:
            raise SystemExit(f"unknown step {args.step}")
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.engine == "spark":
            result["jvm_peak_rss_mb"] = _jvm_peak_mb()
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = args.keep or Path(tmp)
        csv_dir = folder / "baci"
        csv_dir.mkdir(parents=True, exist_ok=True)
        years = list(range(2023 - args.years, 2023))
        print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
        for year in years:
            csv = csv_dir / f"BACI_HS92_Y{year}_V202401b.csv"
            if not csv.exists():
                r = run_step(["--step", "generate", "--out", str(csv), "--rows", str(args.rows),
                              "--year", str(year)])  # fmt: skip
                print(f"generated {csv.name}: {csv.stat().st_size / 1e6:,.0f} MB "
                      f"in {r['wall_s']:.1f} s")  # fmt: skip
        store = folder / "scale.duckdb"

        def report(name: str, r: dict[str, object]) -> None:
            extra = (
                f", JVM peak RSS {r['jvm_peak_rss_mb']:,.0f} MB" if "jvm_peak_rss_mb" in r else ""
            )
            print(f"{name:48s} {r['wall_s']:7.1f} s  peak RSS {r['peak_rss_mb']:,.0f} MB{extra}"
                  f"  rows {r.get('rows', 0):,}")  # fmt: skip

        if not (args.reuse_store and store.exists()):
            r = run_step(["--step", "import", "--store", str(store), "--folder", str(csv_dir)])
            report(f"import {len(years)} x {args.rows:,} rows (DuckDB)", r)
        gpr_duck = folder / "gpr_duckdb.parquet"
        r = run_step(["--step", "geopolrisk", "--store", str(store), "--out", str(gpr_duck)])
        report("GeoPolRisk, every country/group x material x year", r)
        map_duck = folder / "map_duckdb.parquet"
        mapped = years[-args.mapping_years :] if args.mapping_years else years
        year_args = [a for y in mapped for a in ("--year", str(y))]
        r = run_step(
            ["--step", "mapping", "--store", str(store), "--out", str(map_duck), *year_args]
        )
        report(f"mapping, every country x {len(mapped)} year(s)", r)
        if args.no_spark:
            return
        layout = folder / "layout"
        r = run_step(["--step", "export", "--store", str(store), "--data", str(layout)])
        report("export the store to the Parquet layout", r)
        y = str(args.spark_year)
        gpr_duck1 = folder / "gpr_duckdb_1.parquet"
        run_step(["--step", "geopolrisk", "--store", str(store), "--out", str(gpr_duck1),
                  "--year", y])  # fmt: skip
        gpr_spark = folder / "gpr_spark.parquet"
        r = run_step(["--step", "geopolrisk", "--engine", "spark", "--data", str(layout),
                      "--out", str(gpr_spark), "--year", y, "--store", str(store)])  # fmt: skip
        report(f"Spark local: GeoPolRisk {y}, every country x material", r)
        print("  vs DuckDB:", compare(gpr_duck1, gpr_spark, ["country", "material", "year"]))
        if not args.spark_mapping:
            return
        map_duck1 = folder / "map_duckdb_1.parquet"
        run_step(["--step", "mapping", "--store", str(store), "--out", str(map_duck1),
                  "--year", y])  # fmt: skip
        map_spark = folder / "map_spark.parquet"
        r = run_step(["--step", "mapping", "--engine", "spark", "--data", str(layout),
                      "--out", str(map_spark), "--year", y, "--store", str(store)])  # fmt: skip
        report(f"Spark local: mapping {y}, every country", r)
        print("  vs DuckDB:", compare(map_duck1, map_spark, ["reporter", "year", "product"]))


if __name__ == "__main__":
    main()
