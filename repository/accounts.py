"""Accounts without HTTP: creating, registering and approving users; signing in with throttling.

Messages are English msgids marked with ``N_``; the web layer translates ``exc.message`` with
``exc.params``, so the domain stays free of Flask and still speaks the reader's language.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
from datetime import date, datetime, timedelta
from functools import lru_cache
from hashlib import sha256
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repository import audit
from repository.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from repository.models import AccountStatus, LoginFailure, Role, User


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``pybabel extract -k N_``); translated where shown."""
    return message


PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
CARD_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{0,63}")
DISPLAY_NAME_MAX_LENGTH = 255

# argon2id with the RFC 9106 "low memory" profile; change it here and old hashes are
# upgraded at their owner's next sign-in.
DEFAULT_HASHER = PasswordHasher()


# -- errors ---------------------------------------------------------------------------------

class Explained:
    """Mixin for errors whose ``message`` is a msgid with ``params``; ``field`` names the input."""

    message: str = ""

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 **params: Any) -> None:
        self.message = message or type(self).message
        self.field = field
        self.params = params
        super().__init__(self.message % params if params else self.message)


class AccountInputError(Explained, InvalidInput):
    """A value breaks an account rule (username pattern, password length, ...)."""


class AccountConflict(Explained, Conflict):
    """The username, email or card number is taken, or the change would clash with the state."""


class AccountForbidden(Explained, PermissionDenied):
    """The actor's role does not allow this change."""

    message = N_("You are not allowed to change this account.")


class AuthenticationError(Explained, PermissionDenied):
    """Signing in was refused; subclasses say why, as far as the asker may know."""


class InvalidCredentials(AuthenticationError):
    """Wrong password or no such account: the two are deliberately indistinguishable."""

    message = N_("The username or password is not correct.")


class LoginThrottled(AuthenticationError):
    """Too many recent failures for this account or from this address."""

    message = N_("Too many failed sign-in attempts. Please wait and try again.")

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.minutes = max(1, math.ceil(retry_after / 60))
        super().__init__()


class AccountPending(AuthenticationError):
    """The password was right, but staff have not approved the registration yet."""

    message = N_("Your account awaits approval by the library staff. "
                 "You can sign in once it is approved.")


class AccountDisabled(AuthenticationError):
    """The password was right, but the account has been disabled."""

    message = N_("This account has been disabled. Please contact the library.")


class AccountExpired(AuthenticationError):
    """The password was right, but the account (the reader's library card) has expired."""

    message = N_("Your account has expired. Please renew your library card to continue.")


# -- passwords ------------------------------------------------------------------------------

def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are kept inside the hash)."""
    return _hasher(hasher).hash(password)


def _hasher(hasher: PasswordHasher | None) -> PasswordHasher:
    # Looked up at call time, so that one assignment (tests, a small server) changes it.
    return hasher if hasher is not None else DEFAULT_HASHER


def check_password_rules(password: str, username: str) -> None:
    """Raise AccountInputError when ``password`` is too short, too long or the username."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountInputError(N_("The password must have at least %(min)d characters."),
                                field="password", min=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise AccountInputError(N_("The password must have at most %(max)d characters."),
                                field="password", max=PASSWORD_MAX_LENGTH)
    if password.strip().lower() == username.strip().lower():
        raise AccountInputError(N_("The password must not be the same as the username."),
                                field="password")


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=8)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified against when the account does not exist, so that both cases cost the same.
    return hasher.hash(secrets.token_urlsafe(16))


# -- creating accounts ----------------------------------------------------------------------

def create_user(session: Session, *, username: str, password: str, role: Role | str,
                email: str | None = None, card_number: str | None = None,
                display_name: str = "", status: AccountStatus | str = AccountStatus.ACTIVE,
                expires_on: date | None = None, actor: User | None = None,
                hasher: PasswordHasher | None = None) -> User:
    """Create an account (audited as ``user.create``). ``actor`` None means the command line.

    Staff may create readers; only administrators create staff and administrators. Raises
    AccountInputError or AccountConflict with a message naming the field.
    """
    role, status = Role(role), AccountStatus(status)
    if actor is not None:
        _require_staff(actor)
        if role is not Role.READER:
            _require_admin(actor)
    values = _clean(username, email, card_number, display_name)
    check_password_rules(password, values["username"])
    for field, holder in _holders(session, values).items():
        if holder is not None:
            raise _taken(field)
    user = _insert(session, values, hash_password(password, hasher=hasher), role, status,
                   expires_on)
    audit.record(session, actor, "user.create", "user", user.id, new=_snapshot(user))
    return user


def register_reader(session: Session, *, username: str, password: str, email: str,
                    card_number: str | None = None, display_name: str = "",
                    hasher: PasswordHasher | None = None) -> User | None:
    """A reader signs up: a pending account that staff approve (audited as ``user.register``).

    A taken username is reported (the reader must choose another). A taken email address or
    card number is not: the call returns None and the caller shows the same confirmation, so
    that registering never reveals who already holds an account.
    """
    if not (email or "").strip():
        raise AccountInputError(N_("An email address is needed to register."), field="email")
    values = _clean(username, email, card_number, display_name)
    check_password_rules(password, values["username"])
    holders = _holders(session, values)
    if holders.pop("username") is not None:
        raise _taken("username")
    password_hash = hash_password(password, hasher=hasher)
    if any(holder is not None for holder in holders.values()):
        return None
    user = _insert(session, values, password_hash, Role.READER, AccountStatus.PENDING, None)
    audit.record(session, user, "user.register", "user", user.id, new=_snapshot(user))
    return user


def _clean(username: str, email: str | None, card_number: str | None,
           display_name: str) -> dict[str, Any]:
    name = (username or "").strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise AccountInputError(
            N_("A username has 3 to 32 characters: letters a-z without diacritics, digits, "
               "dot, hyphen or underscore, and starts with a letter or a digit."),
            field="username")
    address = (email or "").strip().lower() or None
    if address is not None and (len(address) > 255 or not EMAIL_PATTERN.fullmatch(address)):
        raise AccountInputError(N_("Please enter a valid email address."), field="email")
    card = (card_number or "").strip().upper() or None
    if card is not None and not CARD_PATTERN.fullmatch(card):
        raise AccountInputError(
            N_("A library card number has only letters, digits and hyphens (at most 64)."),
            field="card_number")
    shown = (display_name or "").strip()
    if len(shown) > DISPLAY_NAME_MAX_LENGTH:
        raise AccountInputError(N_("The name must have at most %(max)d characters."),
                                field="display_name", max=DISPLAY_NAME_MAX_LENGTH)
    return {"username": name, "email": address, "card_number": card, "display_name": shown}


def _holders(session: Session, values: dict[str, Any]) -> dict[str, User | None]:
    """For username, email and card number: the account that already uses the value."""
    found = {}
    for field in ("username", "email", "card_number"):
        value = values[field]
        column = getattr(User, field)
        found[field] = None if value is None else session.scalar(
            select(User).where(column == value))
    return found


def _taken(field: str) -> AccountConflict:
    messages = {
        "username": N_("This username is already taken. Please choose another."),
        "email": N_("Another account already uses this email address."),
        "card_number": N_("Another account already uses this library card number."),
    }
    return AccountConflict(messages[field], field=field)


def _insert(session: Session, values: dict[str, Any], password_hash: str, role: Role,
            status: AccountStatus, expires_on: date | None) -> User:
    user = User(**values, password_hash=password_hash, role=role, status=status,
                expires_on=expires_on, session_token=secrets.token_hex(16))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        # Two requests raced past the checks above; the caller's unit of work rolls back.
        raise AccountConflict(N_("This username, email address or card number was just taken. "
                                 "Please check and try again.")) from exc
    return user


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username, "email": user.email, "card_number": user.card_number,
        "display_name": user.display_name, "role": user.role, "status": user.status,
        "expires_on": user.expires_on,
    }


# -- signing in -----------------------------------------------------------------------------

def authenticate(session: Session, username: str, password: str, client_address: str | None,
                 now: datetime, *, max_failures: int = 5, window: int = 15 * 60,
                 pepper: bytes = b"", hasher: PasswordHasher | None = None) -> User:
    """The user whose password this is, or an AuthenticationError saying only what may be said.

    Its own unit of work: it commits, because a failure must be remembered even though the
    caller sees an exception. More than ``max_failures`` failures within ``window`` seconds,
    for the account name or for ``client_address``, raise LoginThrottled before any password
    is checked. An unknown name costs the same password check as a known one and fails with
    the same InvalidCredentials. Only after a correct password does the caller learn that the
    account is pending, disabled or expired (``now.date()`` in the library's zone decides).
    """
    hasher = _hasher(hasher)
    name = (username or "").strip().lower()
    keys = throttle_keys(name, client_address, pepper)
    wait = _retry_after(session, keys, now, max_failures, window)
    if wait:
        raise LoginThrottled(wait)
    user = find_user(session, name)
    known_hash = user.password_hash if user is not None else _dummy_hash(hasher)
    if not _verify(hasher, known_hash, password) or user is None:
        _record_failure(session, keys, now, window)
        session.commit()
        raise InvalidCredentials()
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    refusal = _refusal(user, now.date())
    if refusal is None:
        user.last_login_at = now
    session.commit()
    if refusal is not None:
        raise refusal
    return user


def throttle_keys(username: str, client_address: str | None, pepper: bytes = b"") -> list[str]:
    """The keys failures are counted under: the account name first, then the address.

    Keyed hashes (HMAC-SHA256) so that neither names nor addresses are stored in the clear.
    """
    keys = [hmac.new(pepper, f"account:{username}".encode(), sha256).hexdigest()]
    if client_address:
        keys.append(hmac.new(pepper, f"address:{client_address}".encode(), sha256).hexdigest())
    return keys


def _retry_after(session: Session, keys: list[str], now: datetime, max_failures: int,
                 window: int) -> int:
    """Seconds until every key is back under the limit (0 when none is over it)."""
    cutoff = now - timedelta(seconds=window)
    wait = 0
    for key in keys:
        recent = list(session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.key == key, LoginFailure.at > cutoff)
            .order_by(LoginFailure.at.desc())
            .limit(max_failures)))
        if len(recent) >= max_failures:
            # The oldest of the last ``max_failures`` must leave the window.
            free_at = recent[-1] + timedelta(seconds=window)
            wait = max(wait, 1, math.ceil((free_at - now).total_seconds()))
    return wait


def _record_failure(session: Session, keys: list[str], now: datetime, window: int) -> None:
    # Failures older than the window no longer count; dropping them keeps the table small.
    session.execute(delete(LoginFailure).where(
        LoginFailure.at <= now - timedelta(seconds=window)))
    session.add_all(LoginFailure(key=key, at=now) for key in keys)


def _refusal(user: User, today: date) -> AuthenticationError | None:
    if user.status is AccountStatus.PENDING:
        return AccountPending()
    if user.status is AccountStatus.DISABLED:
        return AccountDisabled()
    if user.is_expired(today):
        return AccountExpired()
    return None


def can_sign_in(user: User, today: date) -> bool:
    return _refusal(user, today) is None


def session_id(user: User) -> str:
    """The id a web session keeps: it changes with the password, which ends other sessions."""
    return f"{user.id}:{user.session_token}"


def user_for_session(session: Session, value: str, today: date) -> User | None:
    """The user a session id names, if the id is current and the account may sign in."""
    user_id, _, token = (value or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user if can_sign_in(user, today) else None


# -- finding accounts -----------------------------------------------------------------------

def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_user(session: Session, username: str) -> User:
    """The account named ``username``, or NotFound (for staff tools, not for sign-in)."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"No account named {username!r}.")
    return user


def list_users(session: Session, *, role: Role | str | None = None,
               status: AccountStatus | str | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if role is not None:
        query = query.where(User.role == Role(role))
    if status is not None:
        query = query.where(User.status == AccountStatus(status))
    return list(session.scalars(query))


def pending_registrations(session: Session) -> list[User]:
    """Readers waiting for approval, oldest first."""
    query = (select(User).where(User.status == AccountStatus.PENDING)
             .order_by(User.created_at, User.id))
    return list(session.scalars(query))


def pending_registration(session: Session, user_id: int) -> User:
    """One registration still waiting, or NotFound (approved, rejected or never made)."""
    user = session.get(User, user_id)
    if user is None or user.status is not AccountStatus.PENDING:
        raise NotFound("No such registration is waiting.")
    return user


# -- administrative changes (each one audited) ----------------------------------------------

def approve(session: Session, actor: User | None, user: User, *,
            expires_on: date | None = None) -> None:
    """Staff accept a pending registration; ``expires_on`` is the library card's expiry."""
    _require_staff(actor)
    if user.status is not AccountStatus.PENDING:
        raise AccountConflict(N_("This registration has already been handled."))
    old = {"status": user.status, "expires_on": user.expires_on}
    user.status = AccountStatus.ACTIVE
    if expires_on is not None:
        user.expires_on = expires_on
    audit.record(session, actor, "user.approve", "user", user.id, old=old,
                 new={"status": user.status, "expires_on": user.expires_on})


def reject(session: Session, actor: User | None, user: User) -> None:
    """Staff turn down a pending registration: the account is removed, the audit keeps it."""
    _require_staff(actor)
    if user.status is not AccountStatus.PENDING:
        raise AccountConflict(N_("This registration has already been handled."))
    audit.record(session, actor, "user.reject", "user", user.id, old=_snapshot(user))
    session.delete(user)
    session.flush()


def set_status(session: Session, actor: User | None, user: User,
               status: AccountStatus | str) -> None:
    """Enable or disable an account. Staff manage readers; administrators anyone."""
    status = AccountStatus(status)
    _require_manager(actor, user)
    if status is user.status:
        return
    _keep_an_admin(session, user, user.role, status)
    old = {"status": user.status}
    user.status = status
    audit.record(session, actor, "user.status", "user", user.id, old=old, new={"status": status})


def set_role(session: Session, actor: User | None, user: User, role: Role | str) -> None:
    """Make an account reader, staff or administrator (administrators only)."""
    role = Role(role)
    _require_admin(actor)
    if role is user.role:
        return
    _keep_an_admin(session, user, role, user.status)
    old = {"role": user.role}
    user.role = role
    audit.record(session, actor, "user.role", "user", user.id, old=old, new={"role": role})


def set_expiry(session: Session, actor: User | None, user: User, expires_on: date | None) -> None:
    """Renew (or end) an account with the library card; None means it never expires."""
    _require_manager(actor, user)
    if expires_on == user.expires_on:
        return
    old = {"expires_on": user.expires_on}
    user.expires_on = expires_on
    audit.record(session, actor, "user.expiry", "user", user.id, old=old,
                 new={"expires_on": expires_on})


def change_password(session: Session, user: User, new_password: str, *,
                    current_password: str | None = None, actor: User | None = None,
                    hasher: PasswordHasher | None = None) -> None:
    """Set a new password and a new session token, which signs out every other session.

    The owner gives ``current_password``; otherwise an administrator (or the command line,
    ``actor`` None) resets it. Audited as ``user.password`` without any secret.
    """
    if current_password is not None:
        if not _verify(_hasher(hasher), user.password_hash, current_password):
            raise AccountInputError(N_("The current password is not correct."),
                                    field="current_password")
    elif actor is not None:
        _require_admin(actor)
    check_password_rules(new_password, user.username)
    user.password_hash = hash_password(new_password, hasher=hasher)
    user.session_token = secrets.token_hex(16)
    audit.record(session, actor if actor is not None else user, "user.password", "user", user.id)


def _require_staff(actor: User | None) -> None:
    if actor is not None and not actor.is_staff:
        raise AccountForbidden(N_("Only library staff can do this."))


def _require_admin(actor: User | None) -> None:
    if actor is not None and actor.role is not Role.ADMIN:
        raise AccountForbidden(N_("Only an administrator can do this."))


def _require_manager(actor: User | None, user: User) -> None:
    if actor is None or actor.role is Role.ADMIN:
        return
    if actor.is_staff and user.role is Role.READER:
        return
    raise AccountForbidden(N_("Staff can only manage readers' accounts."))


def _keep_an_admin(session: Session, user: User, role: Role, status: AccountStatus) -> None:
    """Refuse a change that would leave the library without an active administrator."""
    was_admin = user.role is Role.ADMIN and user.status is AccountStatus.ACTIVE
    stays_admin = role is Role.ADMIN and status is AccountStatus.ACTIVE
    if not was_admin or stays_admin:
        return
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.status == AccountStatus.ACTIVE, User.id != user.id))
    if not others:
        raise AccountConflict(N_("At least one active administrator must remain."))


__all__ = [
    "DEFAULT_HASHER", "AccountConflict", "AccountDisabled", "AccountExpired",
    "AccountForbidden", "AccountInputError", "AccountPending", "AuthenticationError",
    "Explained", "InvalidCredentials", "LoginThrottled", "approve", "authenticate",
    "can_sign_in", "change_password", "check_password_rules", "create_user", "find_user",
    "get_user", "hash_password", "list_users", "pending_registration", "pending_registrations",
    "register_reader", "reject", "session_id", "set_expiry", "set_role", "set_status",
    "throttle_keys", "user_for_session",
]
