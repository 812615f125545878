"""The prepared queries shipped with the package (scripts/build_query_pack.py), and the
`verdikart` program's run without pandas (verdikart.no_pandas)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from program import probed, run_program
from verdikart.indicators import trade as tr
from verdikart.sql_cache import (
    SqlCache,
    _compiler_version,
    _read_pack,
    inputs_key,
    pack_versions,
    shipped_code_version,
    shipped_pack_path,
    write_shipped_pack,
)
from verdikart.store import Store

PACK = shipped_pack_path("duckdb")
REBUILD = "run `python scripts/build_query_pack.py` and commit src/verdikart/prepared/"


def _pack_is_for_this_compiler() -> None:
    """The pack is keyed by the Ibis and sqlglot versions too: with other versions installed
    it is not used (first runs build), which is no fault of the code."""
    made_by = pack_versions(PACK).get("compiler_version")
    if made_by != _compiler_version():
        pytest.skip(f"the pack was made with other Ibis/sqlglot versions; {REBUILD}")


def test_the_shipped_pack_is_made_by_this_code() -> None:
    versions = pack_versions(PACK)
    assert versions, f"{PACK}: missing or unreadable; {REBUILD}"
    assert versions["code_version"] == shipped_code_version(), (
        f"the code changed since the pack of prepared queries was made; {REBUILD}"
    )


@pytest.mark.parametrize(("reporter", "year"), [("SWE", 2003), ("EU27", 2024)])
def test_a_new_install_maps_any_bundled_year_without_building(
    tmp_path: Path, reporter: str, year: int
) -> None:
    """A first `verdikart map` in an empty data folder runs the shipped queries: Ibis is never
    imported. Its rows are those of a mapping that builds every query."""
    _pack_is_for_this_compiler()
    from verdikart.app import Verdikart
    from verdikart.chains.mapping import MapRequest
    from verdikart.config import Settings

    run = run_program(
        ["map", "--country", reporter, "--year", str(year), "--format", "json"],
        "'ibis' in sys.modules",
        tmp_path / "shipped",
    )
    assert probed(run) == "False", run.stderr
    shipped = json.loads(run.stdout)

    built_app = Verdikart(Settings(data_dir=tmp_path / "built"))
    built_app.store().sql_cache()._shipped_path = None  # no pack: every query is built
    built = built_app.map(MapRequest(country=reporter, year=year))
    built_app.close()
    assert len(shipped) == len(built.rows) > 0
    for ours, theirs in zip(shipped, built.rows, strict=True):
        assert ours["material"] == theirs["material"]
        for name, value in theirs.items():
            if isinstance(value, float):
                assert ours[name] == pytest.approx(value, rel=1e-9), name


INPUTS = (tr.country_reporters(["NOR"]), tr.hs6_products(["260800", "810520"]), [2022])


def _store(cache: SqlCache) -> Store:
    store = Store.open(None)
    store._sql_cache = cache
    return store


def _shares(cache: SqlCache, store: Store | None = None) -> pa.Table:
    """Norway's supplier shares of two products, 2022, on a store with `cache`."""
    return (store or _store(cache)).engine().query(tr.supplier_shares_expr, *INPUTS)


def _ship(tmp_path: Path) -> tuple[Path, pa.Table]:
    """A pack holding the one query of :func:`_shares`, and its result."""
    maker = SqlCache("duckdb")
    maker.start_shipping()
    expected = _shares(maker)
    assert expected.num_rows > 0
    pack = tmp_path / "pack.arrow"
    write_shipped_pack(pack, maker.shipping())
    return pack, expected


def test_a_shipped_query_runs_without_building_and_is_kept_on_disk(
    tmp_path: Path,
) -> None:
    pack, expected = _ship(tmp_path)
    cache = SqlCache("duckdb", tmp_path / "cache", pack)
    key, _ = inputs_key(tr.supplier_shares_expr, INPUTS, {})
    assert cache.prepared(key) is None  # nothing kept yet
    store = _store(cache)
    result = _shares(cache, store)
    assert result.equals(expected) and result.num_rows > 0
    assert store.engine()._backend is None  # nothing compiled
    # the next process finds it in its own folder, without the pack
    assert SqlCache("duckdb", tmp_path / "cache").prepared(key) is not None


def test_a_new_pack_is_made_by_building_every_query(tmp_path: Path) -> None:
    """A cache that collects a new pack does not read the old one (else the queries the old
    pack holds would be run from it and left out of the new one)."""
    pack, _ = _ship(tmp_path)
    cache = SqlCache("duckdb", None, pack)
    cache.start_shipping()
    _shares(cache)
    assert list(cache.shipping()) == list(_read_pack(pack))


def test_a_pack_made_by_other_code_is_not_used(tmp_path: Path) -> None:
    pack, expected = _ship(tmp_path)
    table = pa.ipc.open_file(pack).read_all()
    meta = dict(table.schema.metadata or {})
    meta[b"code_version"] = b"other code"
    stale = tmp_path / "stale.arrow"
    with pa.ipc.new_file(str(stale), table.schema.with_metadata(meta)) as writer:
        writer.write_table(table.replace_schema_metadata(meta))
    cache = SqlCache("duckdb", None, stale)
    assert _shares(cache).equals(expected)
    assert cache._shipped == {}  # read, found stale, not used: the query was built


@pytest.mark.parametrize("content", [b"", b"not a pack", b"ARROW1\x00\x00garbage"])
def test_a_missing_or_damaged_pack_only_costs_a_build(tmp_path: Path, content: bytes) -> None:
    pack = tmp_path / "pack.arrow"
    if content:
        pack.write_bytes(content)
    _, expected = _ship(tmp_path / "made")  # the expected rows, from a build
    assert _shares(SqlCache("duckdb", None, pack)).equals(expected)


def test_the_program_runs_without_pandas_and_spark_gets_it_back(tmp_path: Path) -> None:
    """`verdikart` hides pandas from pyarrow (0.2 s of every command): a command runs without
    it; the Spark engine, which needs it, gets it back (and pyarrow sees it)."""
    run = run_program(
        ["geopolrisk", "--country", "NOR", "--material", "cobalt", "--format", "json"],
        "'pandas' in sys.modules",
        tmp_path,
    )
    assert probed(run) == "False", run.stderr
    assert json.loads(run.stdout)[0]["country"] == "NOR"

    script = (
        "import sys\n"
        "from verdikart.no_pandas import allow_pandas, hide_pandas\n"
        "hide_pandas()\n"
        "import pyarrow as pa\n"
        "pa.array(['a'])\n"
        "assert 'pandas' not in sys.modules\n"
        "try:\n"
        "    import pandas\n"
        "except ImportError as exc:\n"
        "    assert 'verdikart.no_pandas' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('pandas was not hidden')\n"
        "allow_pandas()\n"
        "assert 'pandas' in sys.modules\n"
        "import pandas\n"
        "print(pa.array(pandas.Series([1.5, None])).to_pylist())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[1.5, None]"  # a pandas Series, its NaN as a missing value
