"""Benchmark: matching one need against N capability profiles (issue #12 goal: 100,000 profiles
in under 1 s).

The profiles are SYNTHETIC (made-up organisations; each with 3 CPV codes drawn from 40 CPV
divisions, 1 NACE code, a register unit in one of six municipalities, certifications, lead time
and clearance in the confidential index); they only measure speed and memory. 1 % of them share
their details with the buyer, so the confidential components are computed for those. Rows are
written with SQLAlchemy Core in batches (the benchmark measures matching, not profile entry).

The need asks for a main CPV code, two additional ones and a NACE code, a county, two
certifications, a lead time and a clearance level. Prints the number of candidates, the median
and min/max wall time of `RegisterService.match_need` (the whole use case: SQL ranking, the
explanations of the top 50, the audit events) over --runs runs, the peak Python allocation
during one match (tracemalloc) and the process's peak resident memory (ru_maxrss). With
SQLite the query runs inside this process, so its CPU time is printed too: on a machine shared
with other jobs it says more than the wall time.

    .venv/bin/python benchmarks/bench_supplier_match.py [--profiles 100000] [--runs 7] [--db URL]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

DIVISIONS = [f"{d:02d}" for d in (3, 9, 14, 15, 18, 19, 22, 24, 30, 31, 32, 33, 34, 35, 37, 38,
                                  39, 41, 42, 43, 44, 45, 48, 50, 51, 55, 60, 63, 64, 65, 66,
                                  70, 71, 72, 73, 75, 76, 77, 79, 80)]  # fmt: skip
MUNICIPALITIES = ("0301", "4601", "5001", "1103", "3301", "1820")
NACE = ("24.42", "24.45", "25.11", "28.99", "33.12", "43.21", "71.12")
CERTS = ("ISO 9001", "ISO 14001", "ISO 45001", "AQAP 2110", "EN 9100", "NORSOK")


def _cpv(rng: random.Random) -> str:
    return rng.choice(DIVISIONS) + f"{rng.randrange(0, 1000):03d}" + "000"


def populate(engine: Any, count: int, buyer_org: str, buyer_user: str) -> None:
    from sqlalchemy import insert

    from verdikart.exchange.models import Organisation
    from verdikart.register.models import (
        CapabilityProfile,
        ProfileCertification,
        ProfileCode,
        ProfilePrivate,
        ProfileShare,
        RegisterUnit,
    )

    rng = random.Random(12)
    now = datetime.now(UTC)
    until = date.today() + timedelta(days=400)
    batch = 5000
    for start in range(0, count, batch):
        orgs, units, profiles, codes, certs, private, shares = [], [], [], [], [], [], []
        for i in range(start, min(start + batch, count)):
            org, pid, orgnr = f"o{i:031d}", f"p{i:031d}", f"{900000000 + i}"
            orgs.append({"id": org, "name": f"Synthetic supplier {i}", "created_at": now})
            units.append({"organisation_number": orgnr, "kind": "unit", "name": f"SYN {i}",
                          "municipality": rng.choice(MUNICIPALITIES), "deleted": False,
                          "bankrupt": False, "under_liquidation": False, "imported_at": now})  # fmt: skip
            profiles.append({"id": pid, "organisation_id": org, "organisation_number": orgnr,
                             "summary": f"synthetic profile {i}", "details": {},
                             "created_at": now, "updated_at": now})  # fmt: skip
            picked = {_cpv(rng) for _ in range(3)}
            codes += [{"profile_id": pid, "scheme": "cpv", "code": c} for c in picked]
            codes.append({"profile_id": pid, "scheme": "nace", "code": rng.choice(NACE)})
            certs += [{"profile_id": pid, "standard": s, "valid_until": until}
                      for s in rng.sample(CERTS, 2)]  # fmt: skip
            private.append({"profile_id": pid, "lead_time_weeks": rng.randrange(1, 20),
                            "clearance_rank": rng.choice((None, 1, 2, 3))})  # fmt: skip
            if i % 100 == 0:
                shares.append({"id": f"s{i:031d}", "profile_id": pid, "buyer_org_id": buyer_org,
                               "granted_by": buyer_user, "granted_at": now})  # fmt: skip
        with engine.begin() as con:
            con.execute(insert(Organisation), orgs)
            con.execute(insert(RegisterUnit), units)
            con.execute(insert(CapabilityProfile), profiles)
            con.execute(insert(ProfileCode), codes)
            con.execute(insert(ProfileCertification), certs)
            con.execute(insert(ProfilePrivate), private)
            if shares:
                con.execute(insert(ProfileShare), shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file; "
                        "on PostgreSQL a new schema, dropped afterwards)")  # fmt: skip
    parser.add_argument("--keep-schema", default=None, metavar="NAME",
                        help="PostgreSQL: use (and keep) this schema, e.g. to rerun on it")  # fmt: skip
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}"
    schema = None
    if url.startswith("postgresql"):  # a schema of its own, dropped at the end
        import psycopg

        schema = args.keep_schema or f"bench_supplier_match_{os.getpid()}"
        dsn = url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        url = f"{url.split('?')[0]}?options=-csearch_path%3D{schema}"
    try:
        run(url, args)
    finally:
        if schema and not args.keep_schema:
            with psycopg.connect(dsn, autocommit=True) as con:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run(url: str, args: argparse.Namespace) -> None:
    from verdikart.exchange.service import ExchangeService
    from verdikart.register.service import RegisterService

    svc = ExchangeService(url)
    reg = RegisterService(svc)
    from sqlalchemy import func, select

    from verdikart.register.models import CapabilityProfile

    user = svc.add_user("Benchmark Buyer AS", f"Bente {time.time_ns()}")  # new user on reruns
    buyer = svc.authenticate(user["token"])
    print(f"database: {url.split('?')[0]}")
    with svc.engine.connect() as con:
        have = con.execute(select(func.count()).select_from(CapabilityProfile)).scalar_one()
    if have == 0:  # a --db kept from an earlier run is reused as it is
        t0 = time.perf_counter()
        populate(svc.engine, args.profiles, buyer.org_id, buyer.user_id)
        print(f"profiles: {args.profiles:,} written in {time.perf_counter() - t0:.1f} s")
    else:
        print(f"profiles: {have:,} already in the database")
    need = reg.create_need(
        buyer,
        {
            "title": "benchmark need",
            "codes": [
                {"scheme": "cpv", "code": "44316000", "main": True},
                {"scheme": "cpv", "code": "31712331"},
                {"scheme": "cpv", "code": "09331200"},
                {"scheme": "nace", "code": "24.45"},
            ],
            "region": "46",
            "deadline": (date.today() + timedelta(days=90)).isoformat(),
            "required_certifications": ["ISO 9001", "AQAP 2110"],
            "clearance_level": "KONFIDENSIELT",
            "max_lead_time_weeks": 8,
        },
    )
    reg.match_need(buyer, need["id"])  # warm the caches once
    times, cpu = [], []
    result: dict[str, Any] = {}
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        result = reg.match_need(buyer, need["id"], limit=50)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    tracemalloc.start()
    reg.match_need(buyer, need["id"], limit=50)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    shared = sum(1 for m in result["matches"] if m["access"] == "details")
    print(f"candidates (profiles sharing a CPV division or NACE division): "
          f"{result['candidates']:,}; shown 50, of them with details: {shared}")  # fmt: skip
    print(f"match one need: median {statistics.median(times) * 1000:.0f} ms over {args.runs} "
          f"runs (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f} ms)")  # fmt: skip
    print(f"  CPU time of this process (with SQLite the query's own; not PostgreSQL's): median "
          f"{statistics.median(cpu) * 1000:.0f} ms; load average while measuring: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"peak Python allocation during one match: {peak / 1e6:.1f} MB")
    print(f"peak resident memory of the process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    print(f"top match: {result['matches'][0]['score']} {result['matches'][0]['explanation']['en']}")
    svc.close()


if __name__ == "__main__":
    main()
