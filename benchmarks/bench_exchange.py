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
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CLASSES = ["slag", "dust", "fly-ash", "sludge", "salt", "phosphate", "metal-scrap", "gypsum"]
COUNTIES = ["Agder", "Telemark", "Vestland", "Nordland", "Østfold", "Trøndelag", "Rogaland"]
COMPONENTS = ["P2O5", "Cl", "Cd", "SiO2", "MnO", "Fe2O3", "CaO", "Zn"]


def generate(n_streams: int, n_needs: int, dialect: str, n_orgs: int = 1000) -> dict[str, Any]:
    """Reproducible synthetic rows, generated set-based in DuckDB as Arrow tables laid out like
    the database tables (JSON as text; timestamps as text in the dialect's format)."""
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)").fetchall()
    classes = "['" + "','".join(CLASSES) + "']"
    counties = "['" + "','".join(COUNTIES) + "']"
    comps = "['" + "','".join(COMPONENTS) + "']"
    tz = "+00" if dialect == "postgresql" else ""

    def ts(expr: str) -> str:
        return f"strftime({expr}, '%Y-%m-%d %H:%M:%S.%f') || '{tz}'"

    t0 = "TIMESTAMP '2025-01-01 00:00:00'"
    orgs = con.sql(
        f"""SELECT 'org' || lpad(i::VARCHAR, 28, '0') AS id, 'Bench org ' || i AS name,
                   NULL::VARCHAR AS cluster_id, {ts(t0)} AS created_at
            FROM range({n_orgs}) t(i)"""
    ).to_arrow_table()
    sites = con.sql(
        f"""SELECT 's' || lpad(i::VARCHAR, 30, '0') AS id,
                   'org' || lpad(i::VARCHAR, 28, '0') AS organisation_id,
                   'main site' AS name, NULL::VARCHAR AS municipality,
                   58 + random() * 12 AS lat, 5 + random() * 25 AS lon, NULL::VARCHAR AS nace
            FROM range({n_orgs}) t(i)"""
    ).to_arrow_table()
    streams = con.sql(
        f"""SELECT md5(i::VARCHAR) AS id,
                   'org' || lpad((i % {n_orgs})::VARCHAR, 28, '0') AS organisation_id,
                   {ts(f"{t0} + to_seconds(i)")} AS created_at,
                   {ts(f"{t0} + to_seconds(i)")} AS updated_at,
                   {classes}[1 + (i % {len(CLASSES)})] || ' stream' AS name_public,
                   {classes}[1 + (i % {len(CLASSES)})] AS material_class,
                   'by-product' AS kind, '10–100 kt' AS quantity_band,
                   {counties}[1 + (hash(i) % {len(COUNTIES)})::BIGINT] AS region,
                   false AS hazardous, NULL::VARCHAR AS ewc_code, '[]' AS critical_materials,
                   'bench stream ' || i AS name,
                   's' || lpad((i % {n_orgs})::VARCHAR, 30, '0') AS site_id,
                   NULL::VARCHAR AS form,
                   round(10 + random() * 200000) AS quantity_t_per_year,
                   NULL::DOUBLE AS energy_gwh_per_year, NULL::DOUBLE AS quantity_uncertainty_pct,
                   NULL::VARCHAR AS availability, 'other' AS current_treatment,
                   NULL::VARCHAR AS current_receiver, 'null' AS contact, '[]' AS documents,
                   'benchmark' AS source
            FROM range({n_streams}) t(i)"""
    ).to_arrow_table()
    con.register("streams_t", streams)
    composition = con.sql(
        f"""SELECT s.id AS stream_id, j AS position,
                   {comps}[1 + ((hash(s.id) + j) % {len(COMPONENTS)})::BIGINT] AS component,
                   NULL::DOUBLE AS value, round(random() * 20, 3) AS value_min,
                   NULL::DOUBLE AS value_max, 'wt%' AS unit, NULL::VARCHAR AS method,
                   NULL::VARCHAR AS analysed_on
            FROM streams_t s, range(4) r(j)"""
    ).to_arrow_table()
    composition = composition.set_column(
        composition.schema.get_field_index("value_max"),
        "value_max",
        pc.add(composition.column("value_min"), 1.0),
    )
    needs = con.sql(
        f"""SELECT md5('need' || i) AS id,
                   'org' || lpad((i * 7 % {n_orgs})::VARCHAR, 28, '0') AS organisation_id,
                   {ts(t0)} AS created_at, NULL::VARCHAR AS name,
                   {classes}[1 + (i % {len(CLASSES)})] AS material_class, '[]' AS also_classes,
                   '[{{"component": "P", "op": ">=", "value": ' || (1 + i % 10) ||
                   ', "unit": "wt%"}}, {{"component": "Cl", "op": "<", "value": 0.5, "unit": "wt%"}}]'
                       AS limits,
                   NULL::DOUBLE AS quantity_t_per_year_min, NULL::DOUBLE AS quantity_t_per_year_max,
                   CASE WHEN i % 2 = 0 THEN 300.0 ELSE NULL END::DOUBLE AS max_distance_km,
                   's' || lpad((i * 7 % {n_orgs})::VARCHAR, 30, '0') AS site_id,
                   NULL::VARCHAR AS region, false AS accepts_hazardous
            FROM range({n_needs}) t(i)"""
    ).to_arrow_table()
    con.close()
    return {
        "ex_organisation": orgs,
        "ex_site": sites,
        "ex_stream": streams,
        "ex_composition": composition,
        "ex_need": needs,
    }


def bulk_insert(engine: Any, data: dict[str, pa.Table]) -> dict[str, float]:
    """COPY (CSV written by Arrow) on PostgreSQL; DBAPI executemany through SQLAlchemy core
    (`exec_driver_sql`) on SQLite. Returns seconds per table."""
    timings = {}
    for name, table in data.items():
        start = time.perf_counter()
        columns = ", ".join(table.column_names)
        if engine.dialect.name == "postgresql":
            buffer = io.BytesIO()
            pacsv.write_csv(
                table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed")
            )
            raw = engine.raw_connection()
            try:
                with raw.cursor() as cur:
                    with cur.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)") as cp:
                        cp.write(buffer.getvalue())
                raw.commit()
            finally:
                raw.close()
        else:
            rows = list(zip(*(col.to_pylist() for col in table.columns), strict=True))
            marks = ", ".join("?" for _ in table.column_names)
            with engine.begin() as con:
                con.exec_driver_sql(f"INSERT INTO {name} ({columns}) VALUES ({marks})", rows)
        timings[name] = time.perf_counter() - start
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
    parser.add_argument("--skip-all-needs", action="store_true", help="skip matching all needs")
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
        data = generate(args.streams, args.needs, engine.dialect.name)
        print(f"generate {args.streams:,} streams, {data['ex_composition'].num_rows:,} composition "
              f"rows, {args.needs:,} needs: {time.perf_counter() - start:.2f} s")  # fmt: skip
        timings = bulk_insert(engine, data)
        total = sum(timings.values())
        rows = sum(t.num_rows for t in data.values())
        print(f"bulk insert: {total:.2f} s ({rows / total:,.0f} rows/s); "
              + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))  # fmt: skip
        engine.dispose()

        svc = ExchangeService(url)
        token = svc.add_user("Bench org 0", "bench")["token"]
        who = svc.authenticate(token)
        needs_t = data["ex_need"]
        mask = pc.equal(needs_t.column("organisation_id"), who.org_id)
        need_id = needs_t.filter(mask).column("id")[0].as_py()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            matches = svc.match_need(who, need_id, limit=10)
            times.append(time.perf_counter() - start)
        print(f"match one need (load its classes of {args.streams:,} streams + rank top-10): "
              f"best {min(times):.2f} s, {len(matches)} matches")  # fmt: skip

        if not args.skip_all_needs:
            match_all(svc, args, workdir)
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


def match_all(svc: Any, args: Any, workdir: Path) -> None:
    """Rank the top-10 streams for every need. Needs go in batches over the same loaded
    relations: the candidate pairs of all needs at once (~N x M / classes) would not fit in
    memory."""
    from verdikart.engine import DuckDBEngine
    from verdikart.exchange.linking import load_relations
    from verdikart.exchange.matching import rank_matches

    start = time.perf_counter()
    con = duckdb.connect(
        config={"memory_limit": args.memory_limit, "temp_directory": str(workdir / "duckdb_tmp")}
    )
    with svc.sessions() as session:
        rel = load_relations(session, con=con)
    loaded = time.perf_counter() - start
    engine = DuckDBEngine(con)
    streams = rel["streams"].drop_columns(["organisation_id"])
    needs = rel["needs"].drop_columns(["organisation_id"])
    n_rows = 0
    for offset in range(0, needs.num_rows, args.batch):
        batch = needs.slice(offset, args.batch)
        limits = rel["limits"].filter(
            pc.is_in(rel["limits"].column("need_id"), value_set=batch.column("need_id"))
        )
        ranked = rank_matches(
            streams, rel["composition"], batch, limits, per="need", k=10, engine=engine
        )
        n_rows += ranked.num_rows
        if offset == 0:
            first = time.perf_counter() - start - loaded
            print(f"  first batch of {batch.num_rows} needs: {first:.2f} s", flush=True)
    total = time.perf_counter() - start
    print(f"match all {needs.num_rows:,} needs (top-10 each, batches of {args.batch}): "
          f"{total:.2f} s (load {loaded:.2f} s, rank {total - loaded:.2f} s), "
          f"{n_rows:,} rows")  # fmt: skip
    con.close()


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
