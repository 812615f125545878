"""Benchmark: `verdikart position` for every country, one call each (what the CLI costs).

Runs :func:`verdikart.indicators.stage_position.stage_position` on the bundled data (or the
store given with --store) for every country of the reference country table, in turn, and
prints wall time (total, per call: median, slowest), the countries with supplier rows, and
peak memory (ru_maxrss).

Usage: .venv/bin/python benchmarks/bench_position.py [--store PATH] [--limit N] [--year Y]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from verdikart.indicators.stage_position import stage_position
from verdikart.reference.countries import country_table
from verdikart.store import Store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a store file (default: bundled data)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N countries")
    parser.add_argument("--year", type=int, default=None, help="trade year (default: latest)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    store = Store.open(args.store)
    engine = store.engine()
    countries = sorted(c for c in country_table().column("iso3").to_pylist() if c)
    if args.limit is not None:
        countries = countries[: args.limit]
    opened = time.perf_counter() - started

    first = time.perf_counter()
    stage_position(engine, "NOR", year=args.year)  # warm: imports, first compile
    warm = time.perf_counter() - first

    times: list[tuple[float, str, int]] = []
    loop = time.perf_counter()
    for iso3 in countries:
        t = time.perf_counter()
        table = stage_position(engine, iso3, year=args.year)
        times.append((time.perf_counter() - t, iso3, table.num_rows))
    total = time.perf_counter() - loop
    store.close()

    per_call = [s for s, _, _ in times]
    slowest = max(times)
    with_rows = sum(1 for _, _, n in times if n)
    print(f"store: {args.store or 'bundled data only'}; engine: duckdb")
    print(f"  open store                           {opened:8.2f} s")
    print(f"  first call (NOR, warm-up)            {warm:8.2f} s")
    print(
        f"  position for {len(countries)} countries        {total:8.2f} s  "
        f"({with_rows} with supplier rows, {sum(n for _, _, n in times)} rows)"
    )
    print(
        f"  per call: median {statistics.median(per_call):.3f} s, "
        f"slowest {slowest[0]:.3f} s ({slowest[1]})"
    )
    print(f"  wall time total                      {time.perf_counter() - started:8.2f} s")
    print(f"  peak memory (ru_maxrss)              {_peak_mib():8.0f} MiB")


if __name__ == "__main__":
    main()
