"""Benchmark: the full GeoPolRisk matrix through the real CLI, start-up included.

Runs ``verdikart geopolrisk --country all --material all --year 2018 ... --year 2022
--format json`` in a subprocess (bundled data, a fresh empty data directory), and prints wall
time, the child's peak memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) and the number
of results. Goal: about 31,000 results in under 2 s wall.

    .venv/bin/python benchmarks/bench_geopolrisk.py [--repeat 3] [--years 2018-2022]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def verdikart_executable() -> str:
    sibling = Path(sys.executable).with_name("verdikart")
    return str(sibling) if sibling.exists() else (shutil.which("verdikart") or "verdikart")


def run_once(args: list[str], out_path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and the child's CPU time (user + system; robust when the machine is busy)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with out_path.open("wb") as out:
        subprocess.run(args, stdout=out, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--years", default="2018-2022", help="first-last")
    ns = parser.parse_args(argv)
    first, _, last = ns.years.partition("-")
    years = [str(y) for y in range(int(first), int(last or first) + 1)]
    args = [verdikart_executable(), "geopolrisk", "--country", "all", "--material", "all"]
    for year in years:
        args += ["--year", year]
    args += ["--format", "json"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, VERDIKART_DATA_DIR=str(Path(tmp) / "data"))
        env.pop("VERDIKART_STORE", None)
        out_path = Path(tmp) / "out.json"
        runs = [run_once(args, out_path, env) for _ in range(ns.repeat)]
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rows = json.loads(out_path.read_text(encoding="utf-8"))
        size_mb = out_path.stat().st_size / 1e6
    complete = sum(1 for r in rows if r["missing_reason"] is None)
    print(f"command: {' '.join(args)}")
    print(f"results: {len(rows):,} ({complete:,} complete, {len(rows) - complete:,} with a reason)")
    print(f"output: {size_mb:.1f} MB json")
    walls = [w for w, _ in runs]
    cpus = [c for _, c in runs]
    print(f"wall: best {min(walls):.3f} s, runs {', '.join(f'{t:.3f}' for t in walls)} s")
    print(f"cpu (user+sys): best {min(cpus):.3f} s, runs {', '.join(f'{t:.3f}' for t in cpus)} s")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"peak memory (child max RSS): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
