"""Bearer tokens, sign-in sessions and the acting principal.

A token is `secrets.token_urlsafe(32)`; only its sha256 is stored, and the lookup compares
hashes with `hmac.compare_digest` so the check does not leak timing about stored tokens.
A deactivated user's token is refused; a revoked token's hash is replaced by a value no sha256
can equal. The pages' sign-in cookie holds a session token of its own (`WebSession`, also
stored as sha256 only, ending after :data:`SESSION_HOURS` or at sign-out), never the API
token, so signing out ends the session on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from verdikart.errors import ExchangeError
from verdikart.exchange.models import User, WebSession

SESSION_HOURS = 12
REVOKED_PREFIX = "revoked:"  # + random hex: never equal to a sha256 hex digest


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
    if user is None or not hmac.compare_digest(user.token_hash, digest) or not user.active:
        raise AuthenticationError("invalid or missing bearer token")
    return principal_of(user)


def revoked_hash() -> str:
    """A token hash no token has (the user then needs a new token: `rotate`)."""
    return REVOKED_PREFIX + secrets.token_hex(24)


def start_session(session: Session, user: User) -> str:
    """A new sign-in session for `user`; returns the cookie value (shown once)."""
    value = new_token()
    now = datetime.now(UTC)
    session.add(
        WebSession(
            id=hash_token(value),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    return value


def session_principal(session: Session, value: str | None) -> Principal:
    """The principal of a live sign-in session (cookie value); AuthenticationError otherwise."""
    if not value or len(value) > 200:
        raise AuthenticationError("not signed in")
    row = session.get(WebSession, hash_token(value))
    if row is None or row.expires_at <= datetime.now(UTC):
        raise AuthenticationError("not signed in, or the session has ended")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationError("not signed in, or the session has ended")
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
