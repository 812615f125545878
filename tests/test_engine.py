"""The engine layer: the relations' declared types are the store's, settings pick the engine."""

from __future__ import annotations

import pytest

from verdikart.app import Verdikart
from verdikart.config import Settings
from verdikart.engine import RELATION_NAMES, EngineError, open_engine, spec_schema
from verdikart.store import Store


def test_declared_schema_is_the_store_views_schema() -> None:
    """DuckDBEngine types the views from verdikart.schema without asking the catalog: the
    views must really have those types (bundled Parquet and imported tables alike)."""
    import ibis

    with Store.open(None) as store:
        backend = ibis.duckdb.from_connection(store.con)
        for name in RELATION_NAMES:
            assert backend.get_schema(name) == spec_schema(name), name


def test_relations_are_built_once_per_engine() -> None:
    with Store.open(None) as store:
        engine = store.engine()
        assert engine.relations() is engine.relations()
        assert store.engine() is engine


def test_unknown_engine_and_relation_are_clear_errors() -> None:
    with pytest.raises(EngineError, match="unknown engine 'trino'"):
        open_engine("trino")
    with Store.open(None) as store, pytest.raises(EngineError, match="unknown relation"):
        store.engine().table("imported_baci_trade")


def test_app_uses_the_engine_the_settings_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Verdikart(Settings(store=tmp_path / "s.duckdb")) as app:
        assert app.engine().name == "duckdb"
        reader = app.reader()
        assert reader.store() is not app.store() and reader.engine() is not app.engine()
        reader.close()


def test_spark_layout_missing_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from verdikart.engine import SparkEngine

    engine = SparkEngine.__new__(SparkEngine)  # no session needed to resolve locations
    engine._data = str(tmp_path / "nowhere")
    with pytest.raises(EngineError, match="no Parquet layout here"):
        engine._location("trade")


def test_cli_export_all_writes_the_partitioned_layout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from verdikart.cli import cli

    layout = tmp_path / "layout"
    result = CliRunner().invoke(cli, ["data", "export", "--all", str(layout)])
    assert result.exit_code == 0, result.output
    from verdikart.schema import TABLES

    listed = sum(1 for spec in TABLES.values() if spec.listed)
    assert f"rows in {listed} tables" in result.output
    trade = layout / "trade" / "dataset=cepii-baci-hs92-v202401b" / "hs_revision=HS92"
    assert (trade / "year=2022").is_dir()
    assert (layout / "wmd_hs_map" / "data.parquet").is_file()
    bad = CliRunner().invoke(cli, ["data", "export", "trade"])
    assert bad.exit_code == 2 and "give TABLE and PATH" in bad.output
