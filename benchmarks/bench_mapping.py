"""Benchmark: the seed-003 mapping for every country in one year, set-based.

Runs the three query families of the mapping (trade indicators, supplier shares, position with
EU27/NATO/EEA market shares and RCA) once each with *every* country with trade as reporter,
over the default lists' materials, one full `run_mapping` for Norway, and the complete mapping
(ranked rows, suppliers, trend, notes: what `verdikart map` builds) for every one of those
countries at once with `run_mappings`. With `--each`, also `run_mapping` per country in turn. Prints wall time and peak memory (ru_maxrss).
Usage: .venv/bin/python benchmarks/bench_mapping.py [YEAR] [--each]
"""

from __future__ import annotations

import resource
import sys
import time

from verdikart.chains.mapping import (
    DEFAULT_LISTS,
    MapRequest,
    market_table,
    material_products,
    run_mapping,
    run_mappings,
)
from verdikart.indicators import position as pos
from verdikart.indicators import trade as tr
from verdikart.store import Store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(year: int, each: bool = False) -> None:
    t0 = time.perf_counter()
    store = Store.open(None)
    countries = [
        r["c"]
        for r in store.rows(
            "SELECT DISTINCT importer AS c FROM trade WHERE year = ? "
            "UNION SELECT DISTINCT exporter FROM trade WHERE year = ?",
            [year, year],
        )
    ]
    reporters = tr.country_reporters(countries)
    products, _ = material_products(store.engine(), DEFAULT_LISTS, "material", year)
    print(f"year {year}: {len(countries)} reporters x {products.num_rows} material-HS6 rows")
    timings: list[tuple[str, float, int]] = []
    for name, fn in (
        (
            "trade_indicators",
            lambda: tr.trade_indicators(store.engine(), reporters, products, [year]),
        ),
        (
            "supplier_shares",
            lambda: tr.supplier_shares(store.engine(), reporters, products, [year]),
        ),
        (
            "position (EU27/NATO/EEA, RCA, 5-y trend)",
            lambda: pos.position(store.engine(), reporters, market_table(), products, [year]),
        ),
    ):
        t = time.perf_counter()
        table = fn()
        timings.append((name, time.perf_counter() - t, table.num_rows))
    t = time.perf_counter()
    result = run_mapping(store.engine(), MapRequest(country="NOR", year=year))
    nor = time.perf_counter() - t
    for name, secs, rows in timings:
        print(f"  {name:45s} {secs:7.2f} s  {rows:8d} rows")
    print(f"  {'run_mapping NOR (incl. GeoPolRisk)':45s} {nor:7.2f} s  {len(result.rows):8d} rows")
    t = time.perf_counter()
    results = run_mappings(store.engine(), countries, MapRequest(year=year))
    every = time.perf_counter() - t
    with_rows = sum(1 for r in results.values() if r.rows)
    print(
        f"  {'run_mappings: all ' + str(len(countries)) + ' countries at once':45s} "
        f"{every:7.2f} s  {with_rows:8d} with rows"
    )
    if each:  # the same, one country at a time (what calling `verdikart map` per country costs)
        t = time.perf_counter()
        for c in countries:
            run_mapping(store.engine(), MapRequest(country=c, year=year))
        print(f"  {'run_mapping one country at a time':45s} {time.perf_counter() - t:7.2f} s")
    print(f"total wall time {time.perf_counter() - t0:.2f} s; peak memory {_peak_mib():.0f} MiB")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--each"]
    main(int(args[0]) if args else 2022, each="--each" in sys.argv[1:])
