"""API tokens for staff scripts: made once and shown once, kept only as a SHA-256 hash, revocable.

A token authenticates its account with the account's current role and groups, so demoting or
disabling the account takes effect at the token's next use. Tokens are issued to staff and
administrators only: readers use the portal, whose sessions carry CSRF protection.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

# Modules, not names: repository.models imports this module at its end to register the table.
from repository import accounts, audit
from repository.errors import N_, InvalidInput, NotFound, PermissionDenied
from repository.models import Base, User, UTCDateTime, created_at, intpk, utcnow

TOKEN_PREFIX = "khoso_"  # noqa: S105 - a marker that scanners and logs recognise, no secret
NAME_MAX_LENGTH = 64
MAX_EXPIRES_DAYS = 3650
# Writing last_used_at on every call would turn each read into a write; a few minutes is enough
# to tell a live token from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class ApiToken(Base):
    """A bearer token of one account: ``token_hash`` is the secret's SHA-256, never the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def is_usable(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, *, name: str = "", expires_days: int | None = None,
                 actor: User | None = None, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user`` (staff or admin) and its secret, which is not kept anywhere."""
    if not user.is_staff:
        raise PermissionDenied(N_("API tokens are for staff accounts only."))
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(N_("A token name has at most %(max)d characters."), max=NAME_MAX_LENGTH)
    if expires_days is not None and not 0 < expires_days <= MAX_EXPIRES_DAYS:
        raise InvalidInput(N_("A token expires after 1 to %(max)d days."), max=MAX_EXPIRES_DAYS)
    now = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=hash_token(secret), created_at=now,
                     expires_at=now + timedelta(days=expires_days) if expires_days else None)
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.create", "user", user.id,
                 new={"token": token.id, "name": name, "expires_at": token.expires_at})
    return token, secret


def authenticate(session: Session, secret: str, today: date, now: datetime | None = None
                 ) -> User | None:
    """The account a presented secret belongs to, if the token is current and the account may
    sign in; None for anything else (unknown, revoked, expired, disabled). Marks the token used
    (at most every few minutes); the caller commits."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = hash_token(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    now = now or utcnow()
    # Looked up by the hash of a 256-bit secret: timing reveals nothing worth having.
    if token is None or not token.is_usable(now) or not accounts.can_sign_in(token.user, today):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now  # the caller commits
    return token.user


def revoke_token(session: Session, token_id: int, actor: User | None = None,
                 now: datetime | None = None) -> ApiToken:
    """Stop a token from working (kept, for the record of who had which token)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(N_("No API token number %(id)d."), id=token_id)
    if not token.revoked:
        token.revoked_at = now or utcnow()
        audit.record(session, actor, "token.revoke", "user", token.user_id,
                     old={"token": token.id, "name": token.name})
    return token


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))
