"""Screenshots of the web atlas in both languages, for a person to look at.

Starts `verdikart serve` on a free 127.0.0.1 port with a fresh data directory, loads the
materialbørs demonstration cases (real companies' public facts, illustrative compositions),
signs in as a demo organisation (Yara, which has needs) and saves full-page screenshots of the overview, the
cobalt page, the matrix and the exchange's matches page, in bokmål and English, with Debian's
Chromium (headless). Prints each file with its size.

Usage:  .venv/bin/python scripts/atlas_screenshots.py [--out build/screenshots]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from exchange_walkthrough import free_port

VERDIKART = Path(sys.executable).parent / "verdikart"
PAGES = {"overview": "/", "cobalt": "/materials/cobalt", "matrix": "/matrix"}
SIGNED_IN_PAGES = {"exchange-matches": "/exchange/matches"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    parser.add_argument("--org", default="Yara", help="the demo organisation signed in")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="verdikart-shots-") as tmp:
        env = {**os.environ, "VERDIKART_DATA_DIR": tmp}
        env.pop("VERDIKART_DB_URL", None)
        tokens = Path(tmp, "demo-tokens.json")
        subprocess.run(
            [str(VERDIKART), "exchange", "demo", "--tokens", str(tokens)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        token = json.loads(tokens.read_text("utf-8"))[args.org]
        port = free_port()
        log = Path(tmp, "server.log").open("wb")
        server = subprocess.Popen(
            [str(VERDIKART), "serve", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=log, stderr=log,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            _shoot(base, token, args.out)
        finally:
            server.terminate()
            server.wait(30)
            log.close()


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit("the server did not start within 60 s")


def _shoot(base: str, token: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.add_cookies([{"name": "verdikart_token", "value": token, "url": base}])
        page = context.new_page()
        for lang in ("nb", "en"):
            for name, path in {**PAGES, **SIGNED_IN_PAGES}.items():
                page.goto(f"{base}{path}?lang={lang}", timeout=180_000)
                page.wait_for_load_state("networkidle", timeout=180_000)
                file = out / f"{name}-{lang}.png"
                page.screenshot(path=str(file), full_page=True)
                print(f"{file}  {file.stat().st_size:,} bytes  ({page.title()})")
        browser.close()


if __name__ == "__main__":
    main()
