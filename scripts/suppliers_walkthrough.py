"""Scripted HTTP walk-through of supplier matchmaking (issue #12) against a real server.

Starts `verdikart serve` (uvicorn) in a subprocess on a free 127.0.0.1 port with a fresh SQLite
database (or the database in VERDIKART_DB_URL), creates three organisations and loads the test
fixture of Enhetsregisteret with the CLI, and then talks HTTP only:

  the buyer imports an eForms contract notice as a need and states its requirements -> two
  suppliers publish profiles -> the buyer's matches show both on public data only -> the buyer
  asks supplier B for its details -> B sees the request and shares -> the buyer's matches now
  use B's details (certifications, lead time), A stays public -> the buyer reads B's details,
  not A's -> B's audit trail lists the request, the share and the buyer's reads; A's lists none.

The capabilities are illustrative; the organisation numbers are the test fixture's.

Usage:  .venv/bin/python scripts/suppliers_walkthrough.py [--notice PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
VERDIKART = Path(sys.executable).parent / "verdikart"
UNITS = ROOT / "tests" / "fixtures" / "register" / "enheter.json.gz"
NOTICE = ROOT.parent / "shared" / "data" / "eforms" / "cn_25.xml"
SECRETS_A = ("A-SECRET-NOTE", "A1234", "AQAP 2110")


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


def ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url}: "
                         f"{response.status_code} {response.text}")  # fmt: skip
    return response.json()


def brief(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            k: m[k]
            for k in (
                "organisation",
                "organisation_number",
                "score",
                "access",
                "components",
                "explanation",
            )
        }  # fmt: skip
        for m in matches
    ]


def profile(orgnr: str, summary: str, codes: list[str], details: dict[str, Any]) -> dict[str, Any]:
    return {
        "organisation_number": orgnr,
        "summary": summary,
        "codes": [{"scheme": "cpv", "code": c} for c in codes],
        "details": details,
    }


def walk(http: httpx.Client, tokens: dict[str, str], notice: Path) -> None:
    buyer, a, b = ({"Authorization": f"Bearer {tokens[k]}"} for k in ("buyer", "a", "b"))
    valid = (date.today() + timedelta(days=730)).isoformat()

    need = ok(http.post("/api/suppliers/needs/eforms", params={"name": notice.name},
                        content=notice.read_bytes(),
                        headers={**buyer, "Content-Type": "application/xml"}), 201)[0]  # fmt: skip
    step(1, f"Buyer imports the eForms notice {notice.name} as a need", need)
    need_id = need["need_id"]
    req = ok(http.patch(f"/api/suppliers/needs/{need_id}/requirements", headers=buyer,
                        json={"required_certifications": ["ISO 9001"],
                              "max_lead_time_weeks": 8}))  # fmt: skip
    step(2, "Buyer states what the notice asks in prose: ISO 9001, lead time at most 8 weeks",
         {k: req[k] for k in ("codes", "required_certifications", "max_lead_time_weeks")})  # fmt: skip

    pa = ok(http.put("/api/suppliers/profile", headers=a, json=profile(
        "112233504", "Solar modules and PV cells (illustrative)", ["09331200", "31712300"],
        {"description": "A-SECRET-NOTE", "ncage": "A1234",
         "certifications": [{"standard": "ISO 9001", "valid_until": valid},
                            {"standard": "AQAP 2110", "valid_until": valid}],
         "lead_time_weeks": 3})))  # fmt: skip
    pb = ok(http.put("/api/suppliers/profile", headers=b, json=profile(
        "976030788", "PV installation and maintenance (illustrative)", ["50711000", "09331000"],
        {"description": "B capacity: 4 crews", "ncage": "B1234",
         "certifications": [{"standard": "ISO 9001", "valid_until": valid}],
         "lead_time_weeks": 6})))  # fmt: skip
    step(3, "Two suppliers publish profiles (public summary + codes; details confidential)",
         [{"organisation": p["organisation"], "profile_id": p["id"], "codes": p["codes"]}
          for p in (pa, pb)])  # fmt: skip

    first = ok(http.get(f"/api/suppliers/needs/{need_id}/matches", headers=buyer))
    step(4, "Buyer's matches: both on public data only (codes)", brief(first["matches"]))
    assert all(m["access"] == "public" for m in first["matches"])

    asked = ok(http.post(f"/api/suppliers/profiles/{pb['id']}/requests", headers=buyer,
                         json={"message": "We would like to see your certifications"}), 201)  # fmt: skip
    step(5, "Buyer asks supplier B for its details", asked)
    seen = ok(http.get("/api/suppliers/profile/requests", headers=b))
    step(6, "Supplier B sees the request, and shares with the buyer", seen)
    ok(http.post(f"/api/suppliers/profiles/{pb['id']}/shares", headers=b,
                 json={"buyer": seen[0]["buyer"]}))  # fmt: skip

    second = ok(http.get(f"/api/suppliers/needs/{need_id}/matches", headers=buyer))
    step(7, "Buyer's matches again: B scored with its details, A still public",
         brief(second["matches"]))  # fmt: skip
    by = {m["organisation"]: m for m in second["matches"]}
    assert by["Supplier B AS"]["access"] == "details", by
    assert "certifications" in by["Supplier B AS"]["components"]
    assert by["Supplier A AS"]["access"] == "public"
    assert set(by["Supplier A AS"]["components"]) == {"codes"}
    text = json.dumps(second) + json.dumps(first)
    assert not any(s in text for s in SECRETS_A), "supplier A's confidential tier leaked"

    got_a = ok(http.get(f"/api/suppliers/profiles/{pa['id']}", headers=buyer))
    got_b = ok(http.get(f"/api/suppliers/profiles/{pb['id']}", headers=buyer))
    step(8, "Buyer opens both profiles: A's summary only, B's details",
         {"A": {"access": got_a["access"], "has_details": "details" in got_a},
          "B": {"access": got_b["access"], "details": got_b.get("details")}})  # fmt: skip
    assert "details" not in got_a and got_b["access"] == "shared"
    guessed = http.get("/api/suppliers/needs/" + "0" * 32 + "/matches", headers=buyer)
    assert guessed.status_code == 404

    trail_b = ok(http.get("/api/exchange/audit", headers=b))
    trail_a = ok(http.get("/api/exchange/audit", headers=a))
    keep = ("at", "action", "actor_organisation", "object_type", "object_id")

    def events(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: e.get(k) for k in keep if k in e} for e in trail]

    step(9, "Supplier B's audit trail: the request, the share and the buyer's reads",
         events(trail_b))  # fmt: skip
    actions_b = [e["action"] for e in trail_b]
    for action in ("profile.request-details", "profile.share", "profile.read-details"):
        assert action in actions_b, actions_b
    actions_a = [e["action"] for e in trail_a]
    step(10, "Supplier A's audit trail: no reads of its details", events(trail_a))
    assert "profile.read-details" not in actions_a


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notice", type=Path, default=NOTICE, help="an eForms notice")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="verdikart-suppliers-"))
    env = {**os.environ, "VERDIKART_DATA_DIR": str(workdir)}
    env.pop("VERDIKART_TOKEN", None)
    db = env.get("VERDIKART_DB_URL") or f"sqlite:///{workdir / 'exchange.sqlite'}"
    env["VERDIKART_DB_URL"] = db
    print(f"database: {db.split('?')[0]}")
    tokens = {}
    for key, org, name in (("buyer", "Buyer Energi AS", "Bente"), ("a", "Supplier A AS", "Arne"),
                           ("b", "Supplier B AS", "Berit")):  # fmt: skip
        tokens[key] = cli(env, "exchange", "add-user", "--org", org, "--name", name,
                          "--format", "json")["token"]  # fmt: skip
    units = cli(env, "suppliers", "import", "enhetsregisteret", str(UNITS), "--format", "json")
    print(f"Enhetsregisteret test fixture loaded: {units['inserted']} units")
    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(VERDIKART), "serve", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print(log.read_text("utf-8", errors="replace"), file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"server: {base} (uvicorn, pid {server.pid})")
        with httpx.Client(base_url=base, timeout=30) as http:
            walk(http, tokens, args.notice)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    text = log.read_text("utf-8", errors="replace")
    if "Traceback" in text:
        print(text, file=sys.stderr)
        return 1
    print("\nwalk-through complete: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
