"""Benchmark: the web atlas's page and API response times on the bundled data (issue 11's goal:
p95 under 300 ms).

Starts the real server (`verdikart serve`: uvicorn, one worker) in a subprocess on a free port,
with a fresh temporary data directory (bundled data only, SQLite exchange), as the web tests
do. Per URL: one warm-up request, then N sequential requests (default 100) on one keep-alive
connection; prints median, p95 and max in ms and the status. A URL that answers 404 (an API
route this version does not have) is reported as absent and not timed.

`--cold` also measures each URL's first request on a server of its own with its own fresh data
directory (nothing cached in memory or on disk): the time a user waits on a just-started server;
then again after a restart on the same data directory (compiled SQL kept on disk).

Usage: .venv/bin/python benchmarks/bench_web.py [-n 100] [--cold] [--json out.json] [URL ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PAGES = ["/", "/materials/cobalt", "/countries/CHN", "/matrix"]
# the pages' JSON equivalents under /api/ (absent ones are reported, not timed)
API = ["/api/overview?country=NOR", "/api/materials/cobalt", "/api/countries/CHN", "/api/matrix"]
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """`verdikart serve` over a fresh data dir; (process, base URL, seconds until it answered)."""
    port = free_port()
    env = {**os.environ, "VERDIKART_DATA_DIR": str(data_dir)}
    for name in ("VERDIKART_STORE", "VERDIKART_DB_URL", "VERDIKART_ENGINE"):
        env.pop(name, None)
    exe = Path(sys.executable).parent / "verdikart"
    cmd = [str(exe), "serve", "--port", str(port), "--log-level", "warning"]
    log = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    while time.perf_counter() - t0 < START_TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return proc, base, time.perf_counter() - t0
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"server did not start within {START_TIMEOUT_S} s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def p95(values: list[float]) -> float:
    """The 95th percentile, nearest rank (of 100 values: the 95th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def timed_get(client: httpx.Client, url: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    response = client.get(url)
    _ = response.content
    return response.status_code, (time.perf_counter() - t0) * 1000


def run_warm(urls: list[str], n: int) -> list[dict[str, object]]:
    """One server: per URL the first request (in the order given), one warm-up, N timed."""
    out: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="vk-bench-web-") as tmp:
        proc, base, started = start_server(Path(tmp) / "data")
        print(f"server answered after {started:.1f} s ({base})", flush=True)
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                for url in urls:
                    status, first = timed_get(client, url)  # also the warm-up
                    row: dict[str, object] = {"url": url, "status": status, "first_ms": first}
                    if status == 404:
                        print(f"{url:<28} absent (404)", flush=True)
                        out.append(row)
                        continue
                    times = []
                    for _ in range(n):
                        code, ms = timed_get(client, url)
                        if code != status:
                            raise RuntimeError(f"{url}: status {code}, first was {status}")
                        times.append(ms)
                    row |= {
                        "n": n,
                        "median_ms": statistics.median(times),
                        "p95_ms": p95(times),
                        "max_ms": max(times),
                    }
                    print(
                        f"{url:<28} {status}  first {first:8.1f}  median {row['median_ms']:7.1f}"
                        f"  p95 {row['p95_ms']:7.1f}  max {row['max_ms']:7.1f} ms",
                        flush=True,
                    )
                    out.append(row)
        finally:
            stop_server(proc)
    return out


def run_cold(urls: list[str]) -> list[dict[str, object]]:
    """Per URL a server of its own over a fresh data dir: its first request's time (nothing
    kept anywhere), then the same after a restart on that data dir (the compiled SQL kept on
    disk beside the store, results in memory gone: a restarted server)."""
    out: list[dict[str, object]] = []
    for url in urls:
        tmp = tempfile.mkdtemp(prefix="vk-bench-cold-")
        row: dict[str, object] = {"url": url}
        try:
            for run in ("cold", "restart"):
                proc, base, started = start_server(Path(tmp) / "data")
                try:
                    with httpx.Client(base_url=base, timeout=300) as client:
                        status, first = timed_get(client, url)
                        _, second = timed_get(client, url)
                finally:
                    stop_server(proc)
                row |= {"status": status, f"{run}_ms": first, f"{run}_second_ms": second}
                print(
                    f"{run:<7} {url:<28} {status}  first request {first:8.1f} ms  "
                    f"second {second:7.1f} ms  (server start {started:.1f} s)",
                    flush=True,
                )
                if status == 404:
                    break
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("urls", nargs="*", help="paths to time (default: the pages and API)")
    parser.add_argument("-n", type=int, default=100, help="timed requests per URL")
    parser.add_argument("--cold", action="store_true", help="also first requests, fresh servers")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    urls = args.urls or PAGES + API
    figures: dict[str, object] = {"warm": run_warm(urls, args.n)}
    if args.cold:
        figures["cold"] = run_cold(urls)
    timed = [r for r in figures["warm"] if "p95_ms" in r]  # type: ignore[union-attr]
    if timed:
        worst = max(timed, key=lambda r: float(r["p95_ms"]))  # type: ignore[arg-type]
        print(f"worst p95: {worst['p95_ms']:.1f} ms ({worst['url']}); goal < 300 ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
