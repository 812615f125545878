"""CLI command: `verdikart serve` runs the web app (exchange API and pages) with uvicorn."""

from __future__ import annotations

from typing import Any

import click

from verdikart.cli.common import pass_context


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--log-level", default="info", show_default=True)
@pass_context
def serve(ctx: Any, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the web app: /exchange/ pages, /api/exchange/ JSON API, /docs (OpenAPI)."""
    import uvicorn

    from verdikart.exchange.db import make_engine, migrate
    from verdikart.exchange.service import ExchangeService
    from verdikart.web import create_app

    settings = ctx.settings()
    # Migrate once here, before workers start, so they never race on the schema.
    engine = make_engine(settings.database_url)
    migrate(engine)
    # ... and end the import jobs a crash or kill left unfinished (deleting their uploads)
    ExchangeService(engine=engine, auto_migrate=False).recover_interrupted_jobs()
    engine.dispose()
    if workers > 1:
        uvicorn.run(
            "verdikart.web.asgi:app", host=host, port=port, workers=workers, log_level=log_level
        )
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


COMMANDS: list[click.Command] = [serve]
