"""Benchmark: `chain show` for every material that has a value chain, on the bundled data.

In one process, as the CLI does per call: one application core (fresh empty data directory,
bundled data), then ``Verdikart.chain_show`` for every material of every chain file (and every
chain id), each rendered to JSON and to the SVG picture. Prints the wall time of the first call
(opening the store), of all calls, the slowest call, and the peak resident memory
(``ru_maxrss``). Goal: all materials in under 2 s on the bundled data, first call included.
The core computes the indicators of every chain for a country and year once (three queries)
and reuses them; ``--no-reuse`` recomputes them on every call (what one CLI process does).

    .venv/bin/python benchmarks/bench_chains.py [--repeat 3] [--png] [--no-reuse]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--png", action="store_true", help="also render each picture to PNG")
    parser.add_argument("--no-reuse", action="store_true", help="recompute per call")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VERDIKART_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ.pop("VERDIKART_STORE", None)
        from verdikart.app import Verdikart
        from verdikart.chains.model import load_chains
        from verdikart.cli.common import render
        from verdikart.report.chain_svg import chain_svg, svg_to_png

        names = sorted(
            {m for c in load_chains().values() for m in c.materials} | set(load_chains())
        )
        with Verdikart() as app:
            start = time.perf_counter()
            app.chain_show(names[0])
            first = time.perf_counter() - start
            for run in range(ns.repeat):
                times: dict[str, float] = {}
                start = time.perf_counter()
                for name in names:
                    if ns.no_reuse:
                        app._chain_cache.clear()
                    t0 = time.perf_counter()
                    view = app.chain_show(name)
                    render(view, "json")
                    svg = chain_svg(view)
                    if ns.png:
                        svg_to_png(svg)
                    times[name] = time.perf_counter() - t0
                total = time.perf_counter() - start
                slowest = max(times, key=times.__getitem__)
                print(
                    f"run {run + 1}: {len(names)} materials/chains in {total:.2f} s "
                    f"(mean {total / len(names) * 1000:.0f} ms, slowest {slowest} "
                    f"{times[slowest] * 1000:.0f} ms)"
                )
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"first call (opens the store, computes the indicators): {first:.2f} s; "
            f"first call + one run of all: {first + total:.2f} s; peak memory {peak_mib:.0f} MiB"
        )


if __name__ == "__main__":
    main()
