"""Readers and downloaders reject options they do not take (`run_import`, `run_download`):
an UnknownCodeError naming the option and the reader's options, nothing imported, no network."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from verdikart.errors import UnknownCodeError
from verdikart.sources import (
    download_options,
    get_reader,
    reader_options,
    readers,
    run_download,
    run_import,
)
from verdikart.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BACI = FIXTURES / "baci" / "BACI_HS17_Y2022_V202401b.csv"
EU_CRM = FIXTURES / "eu_crm"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", create=True)


def test_unknown_import_option_names_it_and_the_readers_options(store: Store) -> None:
    with pytest.raises(UnknownCodeError) as err:
        run_import(store, "baci", BACI, hs_revison="HS17")  # a typo
    assert str(err.value) == (
        "the 'baci' reader does not take option 'hs_revison'; "
        "its options: hs_revision, year, allow_unmapped"
    )
    with pytest.raises(UnknownCodeError, match=r"'parquet' reader does not take option 'year'"):
        run_import(store, "parquet", BACI, year=2022)
    assert store.imports() == []  # refused before reading anything


def test_several_unknown_options_all_named(store: Store) -> None:
    with pytest.raises(UnknownCodeError) as err:
        run_import(store, "usgs", BACI, table="trade", scope="global")
    assert "option 'table', 'scope'; its options: allow_unmapped" in str(err.value)


def test_unset_flags_and_progress_are_accepted(store: Store) -> None:
    """None / False (a flag the user did not set) are not options given; `progress` goes only
    to readers that report progress (eu-crm does not)."""
    seen: list[str] = []
    report = run_import(
        store,
        "baci",
        BACI,
        table=None,
        allow_unmapped=False,
        progress=lambda stage, done, total: seen.append(stage),
    )
    assert report.rows > 0 and seen
    report = run_import(
        store, "eu-crm", EU_CRM, allow_unmapped=False, progress=lambda *_: None, year=2023
    )
    assert report.rows > 0


def test_unknown_download_option_before_any_network(tmp_path: Path) -> None:
    with pytest.raises(UnknownCodeError) as err:
        run_download("baci", tmp_path, reporter=579)
    assert str(err.value) == (
        "the 'baci' download does not take option 'reporter'; its options: revision, version"
    )
    with pytest.raises(UnknownCodeError, match="its options: none"):
        run_download("wgi", tmp_path, revision="HS92")
    assert list(tmp_path.iterdir()) == []


def test_declared_options_are_what_the_readers_take() -> None:
    """`ReaderInfo.options` (shown by `verdikart data sources`) lists only options the reader
    really takes; every reader and downloader has no positional option."""
    for source_id, info in readers().items():
        assert set(info.options) <= set(reader_options(source_id)), source_id
        params = list(inspect.signature(info.load()).parameters.values())
        positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        assert positional == ["store", "path"], source_id
        if info.downloader:
            assert isinstance(download_options(source_id), tuple)
    assert reader_options("wmd") == ("edition", "allow_unmapped")
    assert get_reader("parquet").options == ("table",)


def test_cli_option_a_reader_does_not_take_exits_2(tmp_path: Path) -> None:
    """The installed command: exit 2, the message, no traceback, no store written."""
    store = tmp_path / "store.duckdb"
    env = {**os.environ, "VERDIKART_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "verdikart"), "--store", str(store), "data",
         "import", "parquet", str(BACI), "--hs-revision", "HS17"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.strip() == (
        "error: the 'parquet' reader does not take option 'hs_revision'; its options: table"
    )
    assert not store.exists()
