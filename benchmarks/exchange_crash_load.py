"""Load run with a crash: parallel clients write through `verdikart serve` on PostgreSQL while
the server is killed (SIGKILL) and restarted; afterwards nothing may be lost or duplicated and
the audit trail must be complete (issue #14).

Each of C clients (default 20) makes W writes (default 50): even writes register a side
stream, odd ones a need, each with its own `Idempotency-Key` (a UUID) that the client keeps
while it retries -- after a refused connection, a dropped connection or a timeout, with
backoff -- until it gets 201. Once a share of the writes (default 30 %) is done, the server is
killed with SIGKILL (no shutdown code runs: requests in flight are cut) and started again on
the same port. Then the database is checked directly:

* every write has exactly one object (streams + needs = C x W, ids distinct, none missing,
  none duplicated: a retried write that had committed before the kill returns the same id);
* exactly one `create_stream` / `create_need` audit event per object, none without an object;
* one idempotency record per write.

The payloads are synthetic load data (a SiMn-slag-like stream as in the tests; values made up
for the load run, not a measured analysis).

Usage:
    .venv/bin/python benchmarks/exchange_crash_load.py [--clients 20] [--writes 50]
        [--kill-at 0.3] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
Runs in its own PostgreSQL schema, dropped afterwards (--keep to keep it). Exit status 0 when
every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PG_DEFAULT = os.environ.get(
    "VERDIKART_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
VERDIKART = str(Path(sys.executable).parent / "verdikart")


def stream_body(client: int, n: int) -> dict[str, Any]:
    return {
        "summary": {"name_public": f"load c{client} w{n}", "material_class": "slag",
                    "kind": "by-product", "region": "Agder", "hazardous": False},
        "details": {"name": f"load stream c{client} w{n}", "quantity_t_per_year": 1000.0 + n,
                    "current_treatment": "material-recovery",
                    "site": {"name": f"site c{client}", "lat": 58.31, "lon": 6.95},
                    "composition": [{"component": "MnO", "value": 6.5, "unit": "wt%"}]},
    }  # fmt: skip


def need_body(client: int, n: int) -> dict[str, Any]:
    return {"name": f"load need c{client} w{n}", "material_class": "slag",
            "limits": ["MnO >= 5 wt%"], "site": {"name": f"site c{client}"}}  # fmt: skip


@dataclass
class Tally:
    """What the clients saw (shared between threads under a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: int = 0
    attempts: int = 0
    connection_errors: int = 0
    dropped_in_flight: int = 0
    timeouts: int = 0
    server_errors: int = 0
    results: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)


class Server:
    """`verdikart serve` on a fixed port, killed and restarted by the run."""

    def __init__(self, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.env, self.port, self.log_dir = env, port, log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start and wait until it answers; returns the seconds it took."""
        t0 = time.monotonic()
        self.starts += 1
        log = (self.log_dir / f"server-{self.starts}.log").open("wb")
        cmd = [VERDIKART, "serve", "--port", str(self.port), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=1).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start within 60 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def client_run(
    client: int, token: str, writes: int, server: Server, tally: Tally, timeout: float
) -> None:
    """One client: W writes, each retried with its own key until it gets 201."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=timeout) as http:
        for n in range(writes):
            kind = "streams" if n % 2 == 0 else "needs"
            body = stream_body(client, n) if kind == "streams" else need_body(client, n)
            key = str(uuid.uuid4())
            delay = 0.1
            while True:
                with tally.lock:
                    tally.attempts += 1
                try:
                    r = http.post(f"{server.base}/api/exchange/{kind}", json=body,
                                  headers={**headers, "Idempotency-Key": key})  # fmt: skip
                except httpx.TimeoutException:
                    with tally.lock:
                        tally.timeouts += 1
                except httpx.ConnectError:  # refused: the request was never sent
                    with tally.lock:
                        tally.connection_errors += 1
                except httpx.TransportError:  # sent, then the connection dropped: it may
                    with tally.lock:  # have committed -- the retry's key decides
                        tally.dropped_in_flight += 1
                else:
                    if r.status_code == 201:
                        with tally.lock:
                            tally.results[(client, n)] = (kind, r.json()["id"])
                            tally.done += 1
                        break
                    if r.status_code < 500:
                        raise RuntimeError(f"client {client} write {n}: {r.status_code} {r.text}")
                    with tally.lock:
                        tally.server_errors += 1
                time.sleep(delay)
                delay = min(2.0, delay * 2)


def schema_url(base: str) -> tuple[str, str]:
    import psycopg

    schema = f"vk_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{base}?options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(
        base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(url: str, tally: Tally, expected: int) -> dict[str, Any]:
    """Everything the database holds, against what the clients were told."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as con:
            streams = [r[0] for r in con.execute(text("SELECT id FROM ex_stream"))]
            needs = [r[0] for r in con.execute(text("SELECT id FROM ex_need"))]
            audit = con.execute(
                text(
                    "SELECT action, object_id FROM ex_audit "
                    "WHERE action IN ('create_stream', 'create_need')"
                )  # fmt: skip
            ).all()
            keys = con.execute(text("SELECT count(*) FROM ex_idempotency")).scalar_one()
            names = [r[0] for r in con.execute(text("SELECT name FROM ex_stream"))]
            names += [r[0] for r in con.execute(text("SELECT name FROM ex_need"))]
    finally:
        engine.dispose()
    told = {oid for _, oid in tally.results.values()}
    stored = set(streams) | set(needs)
    audited = Counter(oid for _, oid in audit)
    return {
        "writes_acknowledged": len(tally.results),
        "distinct_ids_acknowledged": len(told),
        "streams_in_db": len(streams),
        "needs_in_db": len(needs),
        "lost (acknowledged, not in db)": len(told - stored),
        "unacknowledged objects in db": len(stored - told),
        "duplicate payloads in db": sum(c - 1 for c in Counter(names).values() if c > 1),
        "audit create events": len(audit),
        "objects without an audit event": len(stored - set(audited)),
        "objects with more than one": sum(1 for c in audited.values() if c > 1),
        "audit events without an object": len(set(audited) - stored),
        "idempotency records": keys,
        "expected": expected,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--kill-at", type=float, default=0.3,
                        help="share of the writes done when the server is killed")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout, s")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--keep", action="store_true", help="keep the schema")
    args = parser.parse_args()
    expected = args.clients * args.writes

    schema, url = schema_url(args.pg)
    work = Path(tempfile.mkdtemp(prefix="vk-load-"))
    env = {**os.environ, "VERDIKART_DB_URL": url, "VERDIKART_DATA_DIR": str(work / "data")}
    server = Server(env, free_port(), work)
    try:
        from verdikart.exchange.service import ExchangeService

        svc = ExchangeService(url)
        try:
            tokens = [svc.add_user(f"Load org {i % 10}", f"client {i}")["token"]
                      for i in range(args.clients)]  # fmt: skip
        finally:
            svc.close()
        first_start = server.start()
        tally = Tally()
        t0 = time.monotonic()
        kill_info: dict[str, float] = {}
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            futures = [pool.submit(client_run, i, tokens[i], args.writes, server, tally,
                                   args.timeout) for i in range(args.clients)]  # fmt: skip
            while tally.done < args.kill_at * expected:
                if any(f.done() for f in futures):
                    break
                time.sleep(0.01)
            kill_info["done_at_kill"] = tally.done
            kill_info["t_kill"] = time.monotonic() - t0
            server.kill()
            t_down = time.monotonic()
            time.sleep(1.0)  # the clients meet a dead port for a while
            kill_info["restart_s"] = server.start()
            kill_info["downtime_s"] = time.monotonic() - t_down
            for f in futures:
                f.result()
        wall = time.monotonic() - t0
        server.stop()
        result = check(url, tally, expected)
    finally:
        server.stop()
        if not args.keep:
            drop_schema(args.pg, schema)

    print(f"load run: {args.clients} clients x {args.writes} writes = {expected} writes "
          f"(streams and needs alternately) on PostgreSQL, Idempotency-Key per write")  # fmt: skip
    print(f"  first start {first_start:.1f} s; killed (SIGKILL) after {kill_info['t_kill']:.1f} s "
          f"with {kill_info['done_at_kill']:.0f} writes acknowledged; restarted in "
          f"{kill_info['restart_s']:.1f} s (down {kill_info['downtime_s']:.1f} s)")  # fmt: skip
    print(f"  wall time {wall:.1f} s, {expected / wall:.1f} acknowledged writes/s")
    print(f"  attempts {tally.attempts} (retries {tally.attempts - expected}): refused "
          f"{tally.connection_errors}, dropped in flight {tally.dropped_in_flight}, timeouts "
          f"{tally.timeouts}, 5xx {tally.server_errors}")  # fmt: skip
    for name, value in result.items():
        print(f"  {name}: {value}")
    ok = (
        result["writes_acknowledged"] == result["distinct_ids_acknowledged"] == expected
        and result["streams_in_db"] + result["needs_in_db"] == expected
        and result["lost (acknowledged, not in db)"] == 0
        and result["unacknowledged objects in db"] == 0
        and result["duplicate payloads in db"] == 0
        and result["audit create events"] == expected
        and result["objects without an audit event"] == 0
        and result["objects with more than one"] == 0
        and result["audit events without an object"] == 0
        and result["idempotency records"] == expected
    )
    print("  result:", "OK - nothing lost, nothing duplicated, audit complete" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
