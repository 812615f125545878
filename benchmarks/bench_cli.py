"""Benchmark: the issue's command-line figures on the bundled data, start-up included.

Times, as whole processes, ``verdikart --version``, ``verdikart map --country NOR --year 2022
--format json`` and ``verdikart geopolrisk --country all --material all --year all --format
json``: ``--cold`` first runs, each in a fresh data directory (**cold**: nothing kept yet;
queries the package ships run at once, others are built and compiled), then ``--repeat``
runs with what the first kept (**warm**: prepared queries, see ``docs/engines.md``). With ``--vs PATH`` (another install's ``verdikart``, e.g. an earlier
commit's checkout) each run of this install is paired with one of that install, in turn, in
its own fresh data directory, so both see the same machine at the same moment. Prints min,
median and max wall seconds and the largest peak memory per command and install.

For ``map`` it then times the first run for other inputs after the warm runs: **another
country** (SWE, DEU, FIN, USA, CHN in 2022: the prepared queries take the country's rows, see
"Another country, the same query" in ``docs/engines.md``) and **another year** (NOR in 2021,
2020, 2019, 2018, 2017: years shape the SQL; the package ships every bundled year's queries,
see "Prepared queries shipped with the package" in ``docs/engines.md``).

    .venv/bin/python benchmarks/bench_cli.py [--repeat 5] [--cold 3]
        [--vs /path/to/other/bin/verdikart]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "--version": ["--version"],
    "map NOR 2022": ["map", "--country", "NOR", "--year", "2022", "--format", "json"],
    "geopolrisk all": [
        "geopolrisk", "--country", "all", "--material", "all", "--year", "all", "--format", "json"
    ],
}  # fmt: skip
# first runs with other inputs, after the warm runs of the command
OTHER_INPUTS: dict[str, dict[str, list[list[str]]]] = {
    "map NOR 2022": {
        "another country": [
            ["map", "--country", c, "--year", "2022", "--format", "json"]
            for c in ("SWE", "DEU", "FIN", "USA", "CHN")
        ],
        "another year": [
            ["map", "--country", "NOR", "--year", y, "--format", "json"]
            for y in ("2021", "2020", "2019", "2018", "2017")
        ],
    },
}


def run_once(executable: str, args: list[str], data_dir: Path) -> tuple[float, float]:
    """(wall seconds, peak memory MiB) of one run; its output goes to /dev/null."""
    env = {**os.environ, "VERDIKART_DATA_DIR": str(data_dir)}
    env.pop("VERDIKART_STORE", None)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # wait4 gives this child's own peak memory (RUSAGE_CHILDREN keeps the largest so far)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(
            f"{executable} {' '.join(args)} failed (exit {proc.returncode}); run it to see why"
        )
    return wall, usage.ru_maxrss / 1024


def summary(label: str, walls: list[float], peak_mib: float) -> str:
    return (
        f"  {label:<28} min {min(walls):6.2f} s  median {statistics.median(walls):6.2f} s  "
        f"max {max(walls):6.2f} s  peak {peak_mib:6.0f} MiB  ({len(walls)} run(s))"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per command")
    parser.add_argument(
        "--cold", type=int, default=3, help="first runs per command, each in a fresh data dir"
    )
    parser.add_argument("--vs", help="another install's verdikart executable, run in turn")
    args = parser.parse_args()
    installs = {"this install": str(Path(sys.executable).parent / "verdikart")}
    if args.vs:
        installs["--vs install"] = args.vs
    for name, command in COMMANDS.items():
        print(f"{name}: verdikart {' '.join(command)}")
        with tempfile.TemporaryDirectory(prefix="verdikart-bench-cli-") as tmp:
            dirs = {label: Path(tmp, str(i)) for i, label in enumerate(installs)}
            cold: dict[str, list[tuple[float, float]]] = {label: [] for label in installs}
            for n in range(args.cold):  # the first run's folder then serves the warm runs
                for label, exe in installs.items():
                    folder = dirs[label] if n == 0 else Path(tmp, f"cold-{n}-{label}")
                    cold[label].append(run_once(exe, command, folder))
            warm: dict[str, list[tuple[float, float]]] = {label: [] for label in installs}
            for _ in range(args.repeat):
                for label, exe in installs.items():
                    warm[label].append(run_once(exe, command, dirs[label]))
            others: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for kind, variants in OTHER_INPUTS.get(name, {}).items():
                for variant in variants:
                    for label, exe in installs.items():
                        runs = others.setdefault((kind, label), [])
                        runs.append(run_once(exe, variant, dirs[label]))
        for label in installs:
            walls = [w for w, _ in cold[label]]
            print(summary(f"{label}, first run (cold)", walls, max(m for _, m in cold[label])))
            walls = [w for w, _ in warm[label]]
            print(summary(f"{label}, again (warm)", walls, max(m for _, m in warm[label])))
            for (kind, who), runs in others.items():
                if who == label:
                    walls = [w for w, _ in runs]
                    print(summary(f"{label}, {kind}", walls, max(m for _, m in runs)))
        if args.vs:
            for kind, runs in (("cold", cold), ("warm", warm)):
                ours = statistics.median(w for w, _ in runs["this install"])
                theirs = statistics.median(w for w, _ in runs["--vs install"])
                print(f"  {kind} median ratio this/--vs: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
