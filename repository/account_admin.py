"""Accounts as staff see them: finding users by role, status and text, one page at a time,
and changing an account's name, card, expiry, status and role in one audited step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from repository import accounts, audit
from repository.accounts import AccountConflict
from repository.errors import N_, NotFound
from repository.models import AccountStatus, Role, User


@dataclass(frozen=True)
class UserQuery:
    role: Role | None = None
    status: AccountStatus | None = None
    text: str = ""


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def find_users(session: Session, query: UserQuery, page: int = 1,
               per_page: int = 50) -> UserPage:
    """Accounts matching ``query`` by username; ``text`` is looked for in the username,
    name, email address and card number."""
    page = max(1, page)
    conditions = []
    if query.role is not None:
        conditions.append(User.role == query.role)
    if query.status is not None:
        conditions.append(User.status == query.status)
    text = query.text.strip()
    if text:
        conditions.append(or_(*(column.icontains(text, autoescape=True) for column in (
            User.username, User.display_name, User.email, User.card_number))))
    total = session.scalar(select(func.count(User.id)).where(*conditions)) or 0
    users = list(session.scalars(select(User).where(*conditions).order_by(User.username)
                                 .limit(per_page).offset((page - 1) * per_page)))
    return UserPage(users, total, page, per_page)


def get_account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such account."))
    return user


def may_manage(actor: User, user: User) -> bool:
    """Administrators manage every account; staff the readers' accounts."""
    try:
        accounts._require_manager(actor, user)
    except accounts.AccountForbidden:
        return False
    return True


@dataclass(frozen=True)
class AccountChange:
    """The account as the form left it; ``role`` None leaves the role alone."""

    display_name: str
    card_number: str | None
    expires_on: date | None
    status: AccountStatus
    role: Role | None = None


def update_account(session: Session, actor: User | None, user: User,
                   change: AccountChange) -> None:
    """Apply ``change``; each part is audited on its own (user.update, user.expiry,
    user.status or user.approve, user.role). Raises the accounts errors, naming the field."""
    _update_profile(session, actor, user, change.display_name, change.card_number)
    accounts.set_expiry(session, actor, user, change.expires_on)
    if user.status is AccountStatus.PENDING and change.status is AccountStatus.ACTIVE:
        accounts.approve(session, actor, user)
    elif change.status is not user.status:
        accounts.set_status(session, actor, user, change.status)
    if change.role is not None:
        accounts.set_role(session, actor, user, change.role)


def _update_profile(session: Session, actor: User | None, user: User, display_name: str,
                    card_number: str | None) -> None:
    accounts._require_manager(actor, user)
    cleaned = accounts._clean(user.username, user.email, card_number, display_name)
    before = {"display_name": user.display_name, "card_number": user.card_number}
    old, new = audit.changed(before, {key: cleaned[key] for key in before})
    if not new:
        return
    card = new.get("card_number")
    if card is not None and session.scalar(
            select(User.id).where(User.card_number == card, User.id != user.id)) is not None:
        raise AccountConflict(N_("Another account already uses this library card number."),
                              field="card_number")
    for key, value in new.items():
        setattr(user, key, value)
    session.flush()
    audit.record(session, actor, "user.update", "user", user.id, old=old, new=new)
