"""Benchmark: importing N synthetic organisation records in Enhetsregisteret's bulk layout
(a gzipped JSON array, the shape of `/enhetsregisteret/api/enheter/lastned`) into the register.

The records are SYNTHETIC (made-up names, organisation numbers with valid mod-11 check digits,
codes cycling through a few NACE codes and municipalities, every fifth without a published
employee count); they only measure speed and memory. Prints the file size, wall time of the
import (one transaction), records per second and peak resident memory (``ru_maxrss``); then
imports the file again (all updates) and prints that time too. Goal (issue #12): 1.5 M units
in under 2 minutes and 2 GB.

    .venv/bin/python benchmarks/bench_register_import.py [--units 1500000] [--db URL]
        [--file PATH]   # keep the synthetic file there and reuse it on the next run

Besides wall time it prints the process's CPU time (user + system) of each import, which
says more than the wall time on a machine shared with other jobs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
NACE = ("24.420", "24.450", "20.130", "52.292", "56.101", "88.911", "43.210")
MUNICIPALITIES = ("0301", "4601", "5001", "1103", "3301", "1820")


def numbers(count: int) -> list[str]:
    out: list[str] = []
    base = 81_000_000
    while len(out) < count:
        digits = f"{base:08d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            out.append(digits + str(check))
        base += 1
    return out


def write_file(path: Path, count: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write("[")
        for i, number in enumerate(numbers(count)):
            unit = {
                "organisasjonsnummer": number,
                "navn": f"SYNTETISK ENHET {i} AS",
                "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
                "naeringskode1": {"kode": NACE[i % len(NACE)], "beskrivelse": "syntetisk"},
                "forretningsadresse": {
                    "kommunenummer": MUNICIPALITIES[i % len(MUNICIPALITIES)],
                    "adresse": ["Gate 1"],
                    "postnummer": "0101",
                },
                "konkurs": False,
                "underAvvikling": False,
                "registrertIMvaregisteret": True,
            }
            if i % 5:
                unit["antallAnsatte"] = i % 300
                unit["harRegistrertAntallAnsatte"] = True
            else:
                unit["harRegistrertAntallAnsatte"] = False
            out.write(("," if i else "") + json.dumps(unit, ensure_ascii=False) + "\n")
        out.write("]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_500_000)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    parser.add_argument("--file", default=None, help="keep the synthetic file here and reuse it")
    args = parser.parse_args()

    from verdikart.exchange.service import ExchangeService
    from verdikart.register.service import RegisterService

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.file) if args.file else Path(tmp) / "enheter.json.gz"
        if not path.is_file():
            started = time.perf_counter()
            write_file(path, args.units)
            print(f"wrote {args.units:,} units, {path.stat().st_size / 1e6:,.1f} MB gzipped, "
                  f"in {time.perf_counter() - started:,.1f} s")  # fmt: skip
        else:
            print(f"reusing {path} ({path.stat().st_size / 1e6:,.1f} MB gzipped)")
        svc = ExchangeService(args.db or f"sqlite:///{Path(tmp) / 'register.sqlite'}")
        reg = RegisterService(svc)
        for label in ("first import", "second import (updates)"):
            started, cpu = time.perf_counter(), _cpu()
            result = reg.import_file(path)
            seconds, cpu = time.perf_counter() - started, _cpu() - cpu
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{label}: {seconds:,.1f} s (CPU {cpu:,.1f} s), "
                  f"{result['read'] / seconds:,.0f} units/s, "
                  f"inserted {result['inserted']:,}, updated {result['updated']:,}, "
                  f"peak memory {peak_mb:,.0f} MB")  # fmt: skip
        svc.close()


def _cpu() -> float:
    usage: Any = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


if __name__ == "__main__":
    main()
