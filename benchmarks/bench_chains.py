"""Benchmark: `chain show` for every material that has a value chain, and `position` for every
country, on the bundled data.

Three parts, each with wall time and peak resident memory (``ru_maxrss``):

* warm, in one process: one application core (fresh empty data directory, bundled data), then
  ``Verdikart.chain_show`` for every material of every chain file (and every chain id), each
  rendered to JSON and to the SVG picture. Prints the first call (opening the store and
  computing the indicators), every run of all calls, and the slowest call. Goal: all
  materials in under 2 s on the bundled data, first call included. The core computes the
  indicators of every chain for a country and year once and reuses them; ``--no-reuse``
  recomputes them on every call (what one CLI process does);
* cold, one CLI process per material (``verdikart chain show NAME --format json``), as a user
  runs them in turn: total and slowest wall time, the largest child's peak memory
  (``RUSAGE_CHILDREN``); ``--cold N`` limits it to the first N materials, ``--cold 0`` skips it;
* ``position`` for every country: :mod:`bench_position` run as its own process (so its peak
  memory is its own), unless ``--no-position``.

    .venv/bin/python benchmarks/bench_chains.py [--repeat 3] [--png] [--no-reuse]
        [--cold N] [--no-position]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _names() -> list[str]:
    from verdikart.chains.model import load_chains

    chains = load_chains()
    return sorted({m for c in chains.values() for m in c.materials} | set(chains))


def warm(names: list[str], repeat: int, png: bool, no_reuse: bool) -> None:
    """Every material in one process (one core)."""
    from verdikart.app import Verdikart
    from verdikart.cli.common import render
    from verdikart.report.chain_svg import chain_svg, svg_to_png

    print(f"warm: {len(names)} materials/chains in one process")
    total = 0.0
    with Verdikart() as app:
        start = time.perf_counter()
        app.chain_show(names[0])
        first = time.perf_counter() - start
        for run in range(repeat):
            times: dict[str, float] = {}
            start = time.perf_counter()
            for name in names:
                if no_reuse:
                    app._chain_cache.clear()
                t0 = time.perf_counter()
                view = app.chain_show(name)
                render(view, "json")
                svg = chain_svg(view)
                if png:
                    svg_to_png(svg)
                times[name] = time.perf_counter() - t0
            total = time.perf_counter() - start
            slowest = max(times, key=times.__getitem__)
            print(
                f"  run {run + 1}: {len(names)} in {total:.2f} s "
                f"(mean {total / len(names) * 1000:.0f} ms, slowest {slowest} "
                f"{times[slowest] * 1000:.0f} ms)"
            )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  first call (opens the store, computes the indicators): {first:.2f} s; "
        f"first call + one run of all: {first + total:.2f} s; peak memory {peak_mib:.0f} MiB"
    )


def cold(names: list[str]) -> None:
    """Every material as its own CLI process."""
    exe = Path(sys.executable).with_name("verdikart")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "verdikart.cli"]
    print(f"cold: {len(names)} materials, one `verdikart chain show NAME --format json` each")
    times: dict[str, float] = {}
    start = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        subprocess.run(
            [*cmd, "chain", "show", name, "--format", "json"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        times[name] = time.perf_counter() - t0
    total = time.perf_counter() - start
    slowest = max(times, key=times.__getitem__)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  {len(names)} processes in {total:.2f} s (mean {total / len(names):.2f} s, "
        f"slowest {slowest} {times[slowest]:.2f} s); peak memory of one process "
        f"{peak_mib:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--png", action="store_true", help="also render each picture to PNG")
    parser.add_argument("--no-reuse", action="store_true", help="recompute per call")
    parser.add_argument("--cold", type=int, default=None, help="only N cold processes (0: none)")
    parser.add_argument("--no-position", action="store_true", help="skip position")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VERDIKART_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ.pop("VERDIKART_STORE", None)
        names = _names()
        warm(names, ns.repeat, ns.png, ns.no_reuse)
        if ns.cold != 0:
            cold(names if ns.cold is None else names[: ns.cold])
        if not ns.no_position:
            print("position: every country (benchmarks/bench_position.py, its own process)")
            subprocess.run([sys.executable, str(HERE / "bench_position.py")], check=True)


if __name__ == "__main__":
    main()
