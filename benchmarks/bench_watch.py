"""Benchmark: the full early-warning watch for every importing country in one run.

Every rule (reference/data/watch.toml) and the shipped policy events for every country that
imports in the latest trade year, on the bundled data (or the store given with --store), no
record file; prints wall time (first run with compiling, second run), alerts and peak memory
(ru_maxrss).

Usage: .venv/bin/python benchmarks/bench_watch.py [--store PATH]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import Counter

from verdikart.scenarios.watch import run_watch
from verdikart.store import Store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a store file (default: bundled data)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    store = Store.open(args.store)
    engine = store.engine()
    runs = []
    for _ in range(2):
        t = time.perf_counter()
        alerts = run_watch(engine, None)
        runs.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    store.close()
    countries = len({a["country"] for a in alerts})
    print(f"store: {args.store or 'bundled data only'}; engine: duckdb; every country")
    print(
        f"  {len(alerts):,} alerts for {countries} countries: "
        + ", ".join(f"{r} {n:,}" for r, n in Counter(a["rule"] for a in alerts).most_common())
    )
    print(f"  first run (compiling)                {runs[0]:8.2f} s")
    print(f"  second run                           {runs[1]:8.2f} s")
    print(f"  total wall time                      {total:8.2f} s")
    print(f"  peak memory (ru_maxrss)              {_peak_mib():8.0f} MiB")


if __name__ == "__main__":
    main()
