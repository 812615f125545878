"""Settings, declared once: where the analytic store and the exchange database live."""

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

    @property
    def store_path(self) -> Path:
        return self.store if self.store is not None else self.data_dir / "verdikart.duckdb"

    @property
    def database_url(self) -> str:
        """The exchange's relational database: SQLite by default, PostgreSQL when set."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'exchange.sqlite'}"
