"""Benchmark of the materialbørs at scale: bulk insert, matching, list-page latency over HTTP.

Generates N streams (default 100,000, four composition rows each) and M needs (default
10,000) of 1,000 organisations with DuckDB (seeded, reproducible), bulk-inserts them (SQLAlchemy
core executemany on SQLite; COPY on PostgreSQL), then times

* matching one need (load relations for that need + all streams, rank top-10),
* matching all needs (top-10 per need),
* GET /api/exchange/streams?limit=50 over real HTTP against `verdikart serve` (first page and
  a filtered page deep in the list), median and p95 of repeated requests.

Usage:
    .venv/bin/python benchmarks/bench_exchange.py [--streams 100000] [--needs 10000]
        [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test]  (default: fresh SQLite)
On PostgreSQL the benchmark works in its own schema and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert

CLASSES = ["slag", "dust", "fly-ash", "sludge", "salt", "phosphate", "metal-scrap", "gypsum"]
COUNTIES = ["Agder", "Telemark", "Vestland", "Nordland", "Østfold", "Trøndelag", "Rogaland"]
COMPONENTS = ["P2O5", "Cl", "Cd", "SiO2", "MnO", "Fe2O3", "CaO", "Zn"]


def generate(n_streams: int, n_needs: int, n_orgs: int = 1000) -> dict[str, list[dict]]:
    """Reproducible synthetic rows (plain dicts per table), generated set-based in DuckDB."""
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)").fetchall()
    classes = "['" + "','".join(CLASSES) + "']"
    counties = "['" + "','".join(COUNTIES) + "']"
    comps = "['" + "','".join(COMPONENTS) + "']"
    orgs = con.sql(
        f"""SELECT 'org' || lpad(i::VARCHAR, 28, '0') AS id, 'Bench org ' || i AS name,
                   's' || lpad(i::VARCHAR, 30, '0') AS site_id,
                   58 + random() * 12 AS lat, 5 + random() * 25 AS lon
            FROM range({n_orgs}) t(i)"""
    ).to_arrow_table()
    con.register("orgs_t", orgs)
    streams = con.sql(
        f"""SELECT md5(i::VARCHAR) AS id,
                   'org' || lpad((i % {n_orgs})::VARCHAR, 28, '0') AS organisation_id,
                   's' || lpad((i % {n_orgs})::VARCHAR, 30, '0') AS site_id,
                   TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i) AS created_at,
                   {classes}[1 + (i % {len(CLASSES)})] AS material_class,
                   {counties}[1 + (hash(i) % {len(COUNTIES)})::BIGINT] AS region,
                   round(10 + random() * 200000) AS quantity_t_per_year,
                   'bench stream ' || i AS name
            FROM range({n_streams}) t(i)"""
    ).to_arrow_table()
    con.register("streams_t", streams)
    composition = con.sql(
        f"""SELECT s.id AS stream_id, j AS position,
                   {comps}[1 + ((hash(s.id) + j) % {len(COMPONENTS)})::BIGINT] AS component,
                   round(random() * 20, 3) AS value_min, unit
            FROM streams_t s, range(4) r(j),
                 (SELECT 'wt%' AS unit) u"""
    ).to_arrow_table()
    needs = con.sql(
        f"""SELECT md5('need' || i) AS id,
                   'org' || lpad((i * 7 % {n_orgs})::VARCHAR, 28, '0') AS organisation_id,
                   's' || lpad((i * 7 % {n_orgs})::VARCHAR, 30, '0') AS site_id,
                   {classes}[1 + (i % {len(CLASSES)})] AS material_class,
                   CASE WHEN i % 2 = 0 THEN 300.0 ELSE NULL END AS max_distance_km,
                   '[{{"component": "P", "op": ">=", "value": ' || (1 + i % 10) ||
                   ', "unit": "wt%"}}, {{"component": "Cl", "op": "<", "value": 0.5, "unit": "wt%"}}]'
                       AS limits
            FROM range({n_needs}) t(i)"""
    ).to_arrow_table()
    return {
        "orgs": orgs.to_pylist(),
        "streams": streams.to_pylist(),
        "composition": composition.to_pylist(),
        "needs": needs.to_pylist(),
    }


def bulk_insert(engine: Any, data: dict[str, list[dict]]) -> dict[str, float]:
    """Insert everything; executemany on SQLite, COPY on PostgreSQL. Returns seconds per table."""
    from verdikart.exchange.models import CompositionEntry, Need, Organisation, SideStream, Site

    now = datetime(2025, 1, 1, tzinfo=UTC)
    tables: list[tuple[Any, list[dict]]] = [
        (Organisation.__table__, [{"id": o["id"], "name": o["name"], "created_at": now,
                                   "cluster_id": None} for o in data["orgs"]]),
        (Site.__table__, [{"id": o["site_id"], "organisation_id": o["id"], "name": "main site",
                           "municipality": None, "lat": o["lat"], "lon": o["lon"], "nace": None}
                          for o in data["orgs"]]),
        (SideStream.__table__, [
            {"id": s["id"], "organisation_id": s["organisation_id"], "created_at": s["created_at"],
             "updated_at": s["created_at"], "name_public": f"{s['material_class']} stream",
             "material_class": s["material_class"], "kind": "by-product",
             "quantity_band": "10–100 kt", "region": s["region"], "hazardous": False,
             "ewc_code": None, "critical_materials": "[]", "name": s["name"],
             "site_id": s["site_id"], "form": None, "quantity_t_per_year": s["quantity_t_per_year"],
             "energy_gwh_per_year": None, "quantity_uncertainty_pct": None, "availability": None,
             "current_treatment": "other", "current_receiver": None, "contact": "null",
             "documents": "[]", "source": "benchmark"} for s in data["streams"]]),
        (CompositionEntry.__table__, [
            {"stream_id": c["stream_id"], "position": c["position"], "component": c["component"],
             "value": None, "value_min": c["value_min"], "value_max": c["value_min"] + 1.0,
             "unit": c["unit"], "method": None, "analysed_on": None}
            for c in data["composition"]]),
        (Need.__table__, [
            {"id": n["id"], "organisation_id": n["organisation_id"], "created_at": now,
             "name": None, "material_class": n["material_class"], "also_classes": "[]",
             "limits": n["limits"], "quantity_t_per_year_min": None,
             "quantity_t_per_year_max": None, "max_distance_km": n["max_distance_km"],
             "site_id": n["site_id"], "region": None, "accepts_hazardous": False}
            for n in data["needs"]]),
    ]  # fmt: skip
    timings = {}
    for table, rows in tables:
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            columns = list(rows[0])
            raw = engine.raw_connection()
            try:
                with raw.cursor() as cur:
                    with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as cp:
                        for row in rows:
                            cp.write_row([row[c] for c in columns])
                raw.commit()
            finally:
                raw.close()
        else:
            json_cols = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
            # JSON columns take Python objects through SQLAlchemy; the rows carry JSON text.
            fixed = [{k: (json.loads(v) if k in json_cols and isinstance(v, str) else v)
                      for k, v in row.items()} for row in rows]  # fmt: skip
            with engine.begin() as con:
                con.execute(insert(table), fixed)
        timings[table.name] = time.perf_counter() - start
    return timings


def time_http(base: str, token: str, path: str, params: dict[str, Any], n: int) -> list[float]:
    times = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60) as http:
        http.get(path, params=params, headers=headers).raise_for_status()  # warm-up
        for _ in range(n):
            start = time.perf_counter()
            r = http.get(path, params=params, headers=headers)
            times.append(time.perf_counter() - start)
            r.raise_for_status()
    return times


def fmt_ms(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20)
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {q[18] * 1000:.1f} ms (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--batch", type=int, default=500, help="needs per ranking batch")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory limit")
    args = parser.parse_args()

    from verdikart.exchange.db import make_engine, migrate
    from verdikart.exchange.service import ExchangeService

    workdir = Path(tempfile.mkdtemp(prefix="verdikart-bench-"))
    schema = None
    url = args.db_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    if url.startswith("postgresql"):
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                             autocommit=True) as con:  # fmt: skip
            con.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{url}?options=-csearch_path%3D{schema}"
    print(f"database: {url.split('?')[0]}" + (f" (schema {schema})" if schema else ""))
    try:
        engine = make_engine(url)
        migrate(engine)
        start = time.perf_counter()
        data = generate(args.streams, args.needs)
        print(f"generate {args.streams:,} streams, {len(data['composition']):,} composition "
              f"rows, {args.needs:,} needs: {time.perf_counter() - start:.2f} s")  # fmt: skip
        timings = bulk_insert(engine, data)
        total = sum(timings.values())
        rows = args.streams + len(data["composition"]) + args.needs
        print(f"bulk insert: {total:.2f} s ({rows / total:,.0f} rows/s); "
              + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))  # fmt: skip
        engine.dispose()

        svc = ExchangeService(url)
        token = svc.add_user("Bench org 0", "bench")["token"]
        who = svc.authenticate(token)
        need_id = next(n["id"] for n in data["needs"] if n["organisation_id"] == who.org_id)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            matches = svc.match_need(who, need_id, limit=10)
            times.append(time.perf_counter() - start)
        print(f"match one need (load its classes of {args.streams:,} streams + rank top-10): "
              f"best {min(times):.2f} s, {len(matches)} matches")  # fmt: skip

        import duckdb as ddb

        from verdikart.exchange.linking import load_relations
        from verdikart.exchange.matching import rank_matches

        start = time.perf_counter()
        con = ddb.connect(config={"memory_limit": args.memory_limit,
                                  "temp_directory": str(workdir / "duckdb_tmp")})  # fmt: skip
        with svc.sessions() as session:
            rel = load_relations(session, con=con)
        loaded = time.perf_counter() - start
        # Needs are ranked in batches over the same loaded relations: the candidate pairs of all
        # needs at once (~N x M / classes) would not fit in memory.
        streams = rel["streams"].drop_columns(["organisation_id"])
        needs = rel["needs"].drop_columns(["organisation_id"])
        need_ids = needs.column("need_id")
        n_rows = 0
        for offset in range(0, needs.num_rows, args.batch):
            batch = needs.slice(offset, args.batch)
            ids = set(batch.column("need_id").to_pylist())
            limits = rel["limits"].filter(
                pc.is_in(rel["limits"].column("need_id"), value_set=pa.array(sorted(ids)))
            )
            ranked = rank_matches(streams, rel["composition"], batch, limits, per="need", k=10,
                                  con=con)  # fmt: skip
            n_rows += ranked.num_rows
            if offset == 0:
                first = time.perf_counter() - start - loaded
                print(f"  first batch of {batch.num_rows} needs: {first:.2f} s", flush=True)
        total = time.perf_counter() - start
        print(f"match all {len(need_ids):,} needs (top-10 each, batches of {args.batch}): "
              f"{total:.2f} s (load {loaded:.2f} s, rank {total - loaded:.2f} s), "
              f"{n_rows:,} rows")  # fmt: skip
        con.close()
        svc.close()

        port = _free_port()
        env = {**os.environ, "VERDIKART_DB_URL": url, "VERDIKART_DATA_DIR": str(workdir)}
        log = (workdir / "server.log").open("wb")
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "verdikart"), "serve", "--port", str(port),
             "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            first = time_http(base, token, "/api/exchange/streams", {"limit": 50}, args.requests)
            print(f"GET /api/exchange/streams?limit=50 (first page of {args.streams:,}): "
                  f"{fmt_ms(first)}")  # fmt: skip
            deep = time_http(
                base, token, "/api/exchange/streams",
                {"limit": 50, "material_class": "slag", "region": "Agder", "offset": 1000},
                args.requests,
            )  # fmt: skip
            print(f"GET ...?limit=50&material_class=slag&region=Agder&offset=1000: {fmt_ms(deep)}")
        finally:
            server.terminate()
            server.wait(timeout=15)
            log.close()
    finally:
        if schema:
            import psycopg

            base_url = args.db_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(base_url, autocommit=True) as con:
                con.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(base: str) -> None:
    for _ in range(300):
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


if __name__ == "__main__":
    raise SystemExit(main())
