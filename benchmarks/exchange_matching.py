"""Speed of the set-based matcher: N streams x M needs (all-needs matching), top-k per need.

Synthetic inputs (the real register is small): streams and needs spread over mainland Norway's
bounding box, 26 material classes, 5 analysed components per stream, 3 limits per need.
Usage: .venv/bin/python benchmarks/exchange_matching.py [n_streams] [n_needs] [k]
Prints the wall-clock time and the number of candidate pairs and matches.
"""

from __future__ import annotations

import sys
import time

import duckdb

from verdikart.exchange.matching import rank_matches
from verdikart.exchange.schemas import MATERIAL_CLASSES


def build(con: duckdb.DuckDBPyConnection, n_streams: int, n_needs: int) -> None:
    classes = "[" + ", ".join(f"'{c}'" for c in MATERIAL_CLASSES) + "]"
    nclass = len(MATERIAL_CLASSES)
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""
        CREATE TABLE streams AS
        SELECT 's' || i AS stream_id, {classes}[1 + (i % {nclass})] AS material_class,
               random() < 0.2 AS hazardous, 100 + random() * 50000 AS quantity_t_per_year,
               58 + random() * 12 AS lat, 5 + random() * 25 AS lon
        FROM range({n_streams}) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE composition AS
        SELECT stream_id, comp AS component, v * 0.9 AS value_min, v * 1.1 AS value_max
        FROM (SELECT stream_id, unnest(['P2O5', 'SiO2', 'Cd', 'Cl', 'Fe2O3']) AS comp,
                     unnest([random() * 0.3, random() * 0.4, random() * 4e-5,
                             random() * 0.01, random() * 0.1]) AS v
              FROM streams)
        """
    )
    con.execute(
        f"""
        CREATE TABLE needs AS
        SELECT 'n' || i AS need_id, {classes}[1 + (i % {nclass})] AS material_class,
               random() < 0.3 AS accepts_hazardous, 1000 + random() * 20000 AS quantity_t_min,
               NULL::DOUBLE AS quantity_t_max, 50 + random() * 450 AS max_distance_km,
               58 + random() * 12 AS lat, 5 + random() * 25 AS lon
        FROM range({n_needs}) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE limits AS
        SELECT need_id, unnest(['P', 'Cd', 'Cl']) AS component, unnest(['>=', '<', 'lowest']) AS op,
               unnest([0.02 + random() * 0.08, 2e-5, NULL]) AS value
        FROM needs
        """
    )


def main() -> None:
    n_streams = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_needs = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    con = duckdb.connect()
    build(con, n_streams, n_needs)
    start = time.perf_counter()
    result = rank_matches(
        con.table("streams"),
        con.table("composition"),
        con.table("needs"),
        con.table("limits"),
        k=k,
    )
    elapsed = time.perf_counter() - start
    print(
        f"streams={n_streams} needs={n_needs} k={k}: {result.num_rows} matches "
        f"for {len(set(result.column('need_id').to_pylist()))} needs in {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
