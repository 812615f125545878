"""Settings, declared once: the analytic store, its engine, the exchange database, the language."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return user_data_path("verdikart", appauthor=False)


class Settings(BaseSettings):
    """Read from the environment (VERDIKART_*); CLI options override per call."""

    model_config = SettingsConfigDict(env_prefix="VERDIKART_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    store: Path | None = None
    db_url: str | None = None
    language: str = "en"
    # The analytic engine: "duckdb" (embedded, over the store) or "spark" (PySpark; local mode
    # by default, a cluster's master URL in spark_master), reading the Parquet layout in
    # spark_data (written by `verdikart data export --all`; a path or a URL Spark reads),
    # or the bundled files when unset.
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    spark_data: str | None = None

    @property
    def store_path(self) -> Path:
        return self.store if self.store is not None else self.data_dir / "verdikart.duckdb"

    @property
    def database_url(self) -> str:
        """The exchange's relational database: SQLite by default, PostgreSQL when set."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'exchange.sqlite'}"
