"""The core's kept results (verdikart.result_cache): bounded, thread-safe, one computation per
key; per data version (an import gives fresh results: the atlas page changes), per engine;
callers get their own copies. Real store, real engine, the real web app (TestClient)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from verdikart.result_cache import ResultCache, detached

COBALT = "cobalt"


# ---------------------------------------------------------------- the cache alone


def test_bounded_least_recently_used_first() -> None:
    cache = ResultCache(max_entries=2)
    calls: list[str] = []

    def make(key: str) -> Any:
        def compute() -> list[str]:
            calls.append(key)
            return [key]

        return compute

    assert cache.get("a", make("a")) == ["a"]
    assert cache.get("b", make("b")) == ["b"]
    assert cache.get("a", make("a")) == ["a"]  # a kept, now the most recent
    cache.get("c", make("c"))  # b dropped
    assert len(cache) == 2
    cache.get("a", make("a"))
    cache.get("b", make("b"))
    assert calls == ["a", "b", "c", "b"]
    assert (cache.hits, cache.misses) == (2, 4)


def test_one_computation_per_key_across_threads() -> None:
    cache = ResultCache()
    calls = 0
    lock = threading.Lock()

    def slow() -> dict[str, int]:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.2)
        return {"n": 1}

    results: list[dict[str, int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == 1
    assert results == [{"n": 1}] * 8
    assert len({id(r) for r in results}) == 8  # each caller its own copy


def test_errors_are_not_kept() -> None:
    cache = ResultCache()
    attempts = 0

    def flaky() -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ValueError("first time")
        return 7

    with pytest.raises(ValueError, match="first time"):
        cache.get("k", flaky)
    assert cache.get("k", flaky) == 7
    assert cache.get("k", flaky) == 7
    assert attempts == 2


def test_detached_copies_share_nothing_mutable() -> None:
    import pyarrow as pa

    from verdikart.chains.mapping import MapRequest, MapResult

    table = pa.table({"a": [1]})
    result = MapResult(MapRequest(), "NOR", "Norway", 2024, [{"x": [1]}], [], [], ["s"])
    copy = detached(result)
    copy.rows[0]["x"].append(2)
    copy.rows.append({})
    copy.year = 1999
    assert result.rows == [{"x": [1]}] and result.year == 2024
    assert detached(table) is table  # immutable: shared
    frozen = MapRequest(lists=("eu2023",))
    assert detached(frozen) is frozen


# ---------------------------------------------------------------- the core and the web app


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The web app over the bundled data in a fresh data directory (no store file yet)."""
    from verdikart.config import Settings
    from verdikart.web import create_app

    monkeypatch.setenv("VERDIKART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("VERDIKART_STORE", raising=False)
    monkeypatch.delenv("VERDIKART_DB_URL", raising=False)
    monkeypatch.delenv("VERDIKART_ENGINE", raising=False)
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        yield c


def overview(client: TestClient) -> str:
    response = client.get("/?year=2024&lang=en")
    assert response.status_code == 200, response.text[-300:]
    return response.text


def cobalt_imports(client: TestClient) -> float:
    from verdikart.chains.mapping import MapRequest

    with client.app.state.verdikart.reader() as reader:  # type: ignore[attr-defined]
        rows = reader.map(MapRequest(year=2024)).rows
    return float(next(r for r in rows if r["material"] == COBALT)["import_value_kusd"])


def doubled_norway(client: TestClient, path: Path) -> Path:
    """Norway's 2024 imports doubled, as a Parquet file of the year's trade (imported, it
    supersedes the year: same coverage key)."""
    with client.app.state.verdikart.reader() as reader:  # type: ignore[attr-defined]
        reader.store().con.execute(
            "COPY (SELECT * REPLACE (CASE WHEN importer = 'NOR' THEN value_kusd * 2 "
            "ELSE value_kusd END AS value_kusd) FROM trade WHERE year = 2024) "
            f"TO '{path}' (FORMAT parquet)"
        )
    return path


def test_an_import_changes_the_page(client: TestClient, tmp_path: Path) -> None:
    """The overview is computed once, served from the kept results, and computed afresh after
    an import, through the core (at once) or straight into its store (within
    VERSION_RECHECK_S): the page shows the imported figures."""
    from verdikart.app import VERSION_RECHECK_S
    from verdikart.sources import run_import
    from verdikart.web.atlas_text import num

    core = client.app.state.verdikart.core()  # type: ignore[attr-defined]
    first = overview(client)
    misses = core.cache_stats()["misses"]
    overview(client)
    stats = core.cache_stats()
    assert stats["misses"] == misses and stats["hits"] > 0  # the second page: no computation
    cobalt = cobalt_imports(client)
    assert cobalt > 0 and num(cobalt, "en") in first

    version = core.data_version()
    core.data_import("parquet", doubled_norway(client, tmp_path / "x2.parquet"), table="trade")
    assert core.data_version() != version
    after = overview(client)
    assert num(2 * cobalt, "en") in after
    assert cobalt_imports(client) == pytest.approx(2 * cobalt)

    # straight into the store, around the core: the import log alone gives the new version
    run_import(
        core.store(), "parquet", doubled_norway(client, tmp_path / "x4.parquet"), table="trade"
    )
    time.sleep(VERSION_RECHECK_S)
    assert num(4 * cobalt, "en") in overview(client)
    assert cobalt_imports(client) == pytest.approx(4 * cobalt)


def test_readers_share_the_results_and_get_copies(client: TestClient) -> None:
    from verdikart.chains.mapping import MapRequest

    state = client.app.state.verdikart  # type: ignore[attr-defined]
    results: list[Any] = []

    def one() -> None:
        with state.reader() as reader:
            results.append(reader.map(MapRequest(country="NOR", year=2023)))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert all(r.rows == results[0].rows for r in results)
    assert state.core().cache_stats()["misses"] == 1  # one computation for four requests
    results[0].rows.clear()
    with state.reader() as reader:
        assert reader.map(MapRequest(country="NOR", year=2023)).rows == results[1].rows
        # a reader's close leaves the app's results in place
    assert state.core().cache_stats()["entries"] >= 1


def test_the_data_version_names_the_engine(tmp_path: Path) -> None:
    from verdikart.app import Verdikart
    from verdikart.config import Settings

    duck = Verdikart(Settings(data_dir=tmp_path))
    spark = Verdikart(Settings(data_dir=tmp_path, engine="spark", spark_data=str(tmp_path)))
    try:
        assert duck.data_version()[0] == "duckdb"  # type: ignore[index]
        assert spark.data_version()[0] == "spark"  # type: ignore[index]
        assert duck.data_version() != spark.data_version()
    finally:
        duck.close()
        spark.close()
