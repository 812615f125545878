"""Scripted HTTP walk-through of the materialbørs's disclosure flow against a real server.

Starts `verdikart serve` (uvicorn) in a subprocess on a free 127.0.0.1 port with a fresh SQLite
database (or the database in VERDIKART_DB_URL), creates two organisations with the CLI, and then
talks HTTP only:

  A registers a stream -> B sees only the summary -> B requests disclosure -> A accepts ->
  B sees the details -> A revokes -> B sees only the summary again -> A's audit trail lists
  B's reads.

Usage:  .venv/bin/python scripts/exchange_walkthrough.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

VERDIKART = Path(sys.executable).parent / "verdikart"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run(
        [str(VERDIKART), *args], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def step(number: int, text: str, payload: Any = None) -> None:
    print(f"\n[{number}] {text}")
    if payload is not None:
        print("    " + json.dumps(payload, ensure_ascii=False, indent=2).replace("\n", "\n    "))


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="verdikart-walkthrough-"))
    env = {**os.environ, "VERDIKART_DATA_DIR": str(workdir)}
    db = env.get("VERDIKART_DB_URL") or f"sqlite:///{workdir / 'exchange.sqlite'}"
    print(f"database: {db.split('?')[0]}")
    a_user = cli(env, "exchange", "add-user", "--org", "Eramet Norway", "--name", "Anne",
                 "--format", "json")  # fmt: skip
    b_user = cli(env, "exchange", "add-user", "--org", "Yara", "--name", "Bjørn",
                 "--format", "json")  # fmt: skip
    a = {"Authorization": f"Bearer {a_user['token']}"}
    b = {"Authorization": f"Bearer {b_user['token']}"}
    port = free_port()
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [str(VERDIKART), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(200):
                try:
                    http.get("/openapi.json")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"server: {base} (pid {server.pid})")
            stream = {
                "summary": {
                    "name_public": "Silicomanganese slag (SiGS)",
                    "material_class": "slag",
                    "kind": "by-product",
                    "region": "Agder",
                    "hazardous": False,
                },
                "details": {
                    "name": "SiGS, Kvinesdal (seed 001 l.2405-2407: ~220,000 t/yr)",
                    "quantity_t_per_year": 220_000,
                    "current_treatment": "material-recovery",
                    "site": {"name": "Eramet Kvinesdal", "lat": 58.31, "lon": 6.95},
                    "composition": [
                        {
                            "component": "MnO",
                            "value_min": 5,
                            "value_max": 10,
                            "unit": "wt%",
                            "method": "ILLUSTRATIVE demo values, not a measured analysis",
                        },
                    ],  # fmt: skip
                },
            }
            r = http.post("/api/exchange/streams", json=stream, headers=a)
            r.raise_for_status()
            stream_id = r.json()["id"]
            step(1, f"A (Eramet) registers a stream -> {r.status_code}", r.json())

            r = http.get(f"/api/exchange/streams/{stream_id}", headers=b)
            assert "details" not in r.json()
            step(2, f"B (Yara) reads it -> {r.status_code}, summary only", r.json())

            r = http.post(f"/api/exchange/streams/{stream_id}/disclosure-requests",
                          json={"message": "phosphate/slag trials"}, headers=b)  # fmt: skip
            request_id = r.json()["id"]
            step(3, f"B requests disclosure -> {r.status_code}", r.json())

            r = http.post(f"/api/exchange/disclosure-requests/{request_id}/accept", headers=a)
            step(4, f"A accepts -> {r.status_code}, status {r.json()['status']}")

            r = http.get(f"/api/exchange/streams/{stream_id}", headers=b)
            assert "details" in r.json()
            step(5, f"B reads it again -> {r.status_code}, with details", r.json()["details"])

            r = http.post(f"/api/exchange/disclosure-requests/{request_id}/revoke", headers=a)
            step(6, f"A revokes -> {r.status_code}, status {r.json()['status']}")

            r = http.get(f"/api/exchange/streams/{stream_id}", headers=b)
            assert "details" not in r.json()
            step(7, f"B reads it again -> {r.status_code}, summary only: "
                    f"keys {sorted(r.json())}")  # fmt: skip

            trail = http.get("/api/exchange/audit", headers=a).json()
            reads = [e for e in trail if e["action"] == "read_details"
                     and e["actor_organisation"] == "Yara"]  # fmt: skip
            step(8, f"A's audit trail: {len(trail)} events, {len(reads)} read(s) of details by B")
            for event in reversed(trail):
                print(f"    {event['at']}  {event['action']:<20} by {event['actor_organisation']}")
            assert len(reads) == 1
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
    print("\nwalk-through complete")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
