"""Benchmark: one disruption scenario over every material for every importing country.

China stops exporting every material (``CHN:all:-100%``) in the latest trade year, for every
country that imports in that year, on the bundled data (or the store given with --store);
prints wall time (first run with compiling, second run), rows and peak memory (ru_maxrss).

Usage: .venv/bin/python benchmarks/bench_scenario.py [--store PATH] [--year Y] [--shock S]
"""

from __future__ import annotations

import argparse
import resource
import time

from verdikart.scenarios.run import run_scenario
from verdikart.scenarios.spec import from_shocks
from verdikart.store import Store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a store file (default: bundled data)")
    parser.add_argument("--year", type=int, default=None, help="baseline year (default: latest)")
    parser.add_argument(
        "--shock", default="CHN:all:-100%", help="the shock (default CHN:all:-100%%)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    store = Store.open(args.store)
    engine = store.engine()
    scenario = from_shocks([args.shock], year=args.year, importers=(), basis="value")
    runs = []
    for _ in range(2):
        t = time.perf_counter()
        result = run_scenario(engine, scenario, year=args.year, importers=None)
        runs.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    store.close()
    importers = len({r["importer"] for r in result.rows})
    print(f"store: {args.store or 'bundled data only'}; engine: duckdb; shock {args.shock}")
    print(
        f"  year {result.year}: {importers} importers x {len(scenario.products())} materials "
        f"= {len(result.rows):,} rows, {len(result.knock_on):,} knock-on records"
    )
    print(f"  first run (compiling)                {runs[0]:8.2f} s")
    print(f"  second run                           {runs[1]:8.2f} s")
    print(f"  total wall time                      {total:8.2f} s")
    print(f"  peak memory (ru_maxrss)              {_peak_mib():8.0f} MiB")


if __name__ == "__main__":
    main()
