"""ASGI entry point for servers given an import string (uvicorn --workers, gunicorn):
`verdikart.web.asgi:app`, configured from the environment (VERDIKART_*)."""

from __future__ import annotations

from verdikart.web import create_app

app = create_app()
