"""Bearer tokens and the acting principal.

A token is `secrets.token_urlsafe(32)`; only its sha256 is stored, and the lookup compares
hashes with `hmac.compare_digest` so the check does not leak timing about stored tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from verdikart.errors import ExchangeError
from verdikart.exchange.models import User


class AuthenticationError(ExchangeError):
    """Missing, malformed or unknown bearer token."""

    http_status: ClassVar[int] = 401


@dataclass(frozen=True)
class Principal:
    """Who is acting: the user, their organisation, role and (for hub operators) cluster."""

    user_id: str
    user_name: str
    org_id: str
    org_name: str
    role: str
    hub_cluster_id: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.role == "platform"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal owning `token`; AuthenticationError otherwise (same message for all)."""
    if not token or len(token) > 200:
        raise AuthenticationError("invalid or missing bearer token")
    digest = hash_token(token)
    user = session.scalars(select(User).where(User.token_hash == digest)).first()
    if user is None or not hmac.compare_digest(user.token_hash, digest):
        raise AuthenticationError("invalid or missing bearer token")
    return principal_of(user)


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        user_name=user.name,
        org_id=user.organisation_id,
        org_name=user.organisation.name,
        role=user.role,
        hub_cluster_id=user.hub_cluster_id,
    )
