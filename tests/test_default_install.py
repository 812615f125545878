"""The default install has no pandas (only the `spark` extra brings it): the commands and the
web pages run without it. pyarrow imports pandas whenever it is installed and an array is made
from Python values (0.3 s of every command), so verdikart never needs it outside Spark.

The suite runs with the `dev` extras (pandas installed), so each check runs in a subprocess
where importing pandas or numpy fails, as in a default install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# `verdikart` as in a default install, pandas and numpy absent: `python -c LAUNCHER ARGS...`
LAUNCHER = (
    "import sys\n"
    "sys.modules['pandas'] = None  # as if not installed: importing it raises ImportError\n"
    "sys.modules['numpy'] = None\n"
    "from verdikart.cli import main\n"
    "sys.argv[0] = 'verdikart'\n"
    "main()\n"
)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VERDIKART_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (
            ("geopolrisk", "--country", "NOR", "--material", "cobalt", "--year", "2022",
             "--format", "json"),
            lambda out: json.loads(out)[0]["score"] == pytest.approx(0.17027503137526864),
        ),
        (
            ("map", "--country", "NOR", "--year", "2022", "--format", "json"),
            lambda out: len(json.loads(out)) > 10,
        ),
        (
            ("production", "--material", "cobalt", "--year", "2022", "--format", "json"),
            lambda out: len(json.loads(out)) > 0,
        ),
        (
            ("chain", "show", "cobalt", "--format", "json"),
            lambda out: "stages" in json.loads(out),
        ),
    ],
)  # fmt: skip
def test_commands_run_without_pandas(tmp_path: Path, args: tuple[str, ...], check: object) -> None:
    for _ in range(2):  # building the queries, then from the prepared queries
        run = _cli(tmp_path, *args)
        assert run.returncode == 0, run.stderr[-2000:]
        assert check(run.stdout), run.stdout[:500]  # type: ignore[operator]


def test_the_web_atlas_runs_without_pandas(tmp_path: Path) -> None:
    import httpx

    from test_exchange_support import start_server, stop_server

    proc, base = start_server(
        {"VERDIKART_DATA_DIR": str(tmp_path)}, launcher=[sys.executable, "-c", LAUNCHER]
    )
    try:
        for path in ("/", "/materials/cobalt", "/countries/CHN", "/matrix", "/api/overview"):
            r = httpx.get(base + path, timeout=120)
            assert r.status_code == 200, (path, r.text[:500])
    finally:
        stop_server(proc)
