"""Running the `verdikart` program as its own process, as a user's shell would (main(), not
the in-process CliRunner), with a probe of the process's state printed when it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_program(
    args: list[str], probe: str, data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`verdikart ARGS` in a new Python process, with VERDIKART_DATA_DIR=`data_dir` when one is
    given; its stdout, and on its stderr's last line `PROBE <value of the expression probe>`
    (e.g. ``'ibis' in sys.modules``), evaluated when main() ends, exit or not."""
    script = (
        "import sys\n"
        "from verdikart.cli import main\n"
        f"sys.argv = ['verdikart', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    if exc.code:\n"
        "        raise\n"
        "finally:\n"
        f"    print('PROBE', {probe}, file=sys.stderr)\n"
    )
    env = dict(os.environ)
    env.pop("VERDIKART_STORE", None)
    if data_dir is not None:
        env["VERDIKART_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )


def probed(run: subprocess.CompletedProcess[str]) -> str:
    """The probe's value a run printed last on its stderr."""
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("PROBE "), run.stderr
    return last.removeprefix("PROBE ")
