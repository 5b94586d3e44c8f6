"""Groups of readers (card holders, researchers) that access rules can name: creating,
describing, deleting them and managing their members, every change audited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repository import accounts, audit
from repository.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from repository.models import Group, User, access_rule_groups, group_members

# The name is what rules and the search index refer to, so it never changes once made.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
TITLE_MAX_LENGTH = 255


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    member_count: int
    rule_count: int


def list_groups(session: Session) -> list[GroupSummary]:
    """Every group by name, with how many members it has and how many rules name it."""
    members = dict(session.execute(
        select(group_members.c.group_id, func.count()).group_by(group_members.c.group_id)).all())
    rules = dict(session.execute(
        select(access_rule_groups.c.group_id, func.count())
        .group_by(access_rule_groups.c.group_id)).all())
    return [GroupSummary(group, members.get(group.id, 0), rules.get(group.id, 0))
            for group in session.scalars(select(Group).order_by(Group.name))]


def all_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).order_by(Group.name)))


def get_group(session: Session, name: str) -> Group:
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise NotFound(N_("No group named '%(name)s'"), name=name)
    return group


def create_group(session: Session, actor: User | None, *, name: str, title: str,
                 description: str = "") -> Group:
    """A new, empty group; ``name`` is its permanent short name (a-z, 0-9, '.', '-', '_')."""
    _require_staff(actor)
    name = (name or "").strip().lower()
    if not NAME.fullmatch(name):
        raise InvalidInput(N_("A group's short name has 2 to 64 characters: a-z, 0-9, dot, "
                              "hyphen or underscore."))
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Conflict(N_("A group named '%(name)s' exists already"), name=name)
    group = Group(name=name, title=_title(title), description=(description or "").strip())
    session.add(group)
    session.flush()
    audit.record(session, actor, "group.create", "group", name,
                 new={"title": group.title, "description": group.description})
    return group


def update_group(session: Session, actor: User | None, group: Group, *, title: str,
                 description: str = "") -> None:
    """Change the title and description shown to staff (the name stays)."""
    _require_staff(actor)
    before = {"title": group.title, "description": group.description}
    after = {"title": _title(title), "description": (description or "").strip()}
    old, new = audit.changed(before, after)
    if not new:
        return
    group.title, group.description = after["title"], after["description"]
    audit.record(session, actor, "group.update", "group", group.name, old=old, new=new)


def delete_group(session: Session, actor: User | None, group: Group) -> None:
    """Remove a group no access rule names (a rule losing its group would shut readers out)."""
    _require_staff(actor)
    used = session.scalar(select(func.count()).select_from(access_rule_groups)
                          .where(access_rule_groups.c.group_id == group.id))
    if used:
        raise Conflict(N_("The rights of %(count)d collections or items name this group. "
                          "Change them first."), count=used)
    audit.record(session, actor, "group.delete", "group", group.name, old={
        "title": group.title, "members": [member.username for member in group.members]})
    session.delete(group)
    session.flush()


def add_member(session: Session, actor: User | None, group: Group, username: str) -> User:
    """Put the account ``username`` in ``group`` (nothing happens if it is there already)."""
    _require_staff(actor)
    user = _account(session, username)
    if user not in group.members:
        group.members.append(user)
        session.flush()
        audit.record(session, actor, "group.member_add", "group", group.name,
                     new={"member": user.username})
    return user


def remove_member(session: Session, actor: User | None, group: Group, username: str) -> None:
    """Take the account ``username`` out of ``group``."""
    _require_staff(actor)
    user = _account(session, username)
    if user in group.members:
        group.members.remove(user)
        session.flush()
        audit.record(session, actor, "group.member_remove", "group", group.name,
                     old={"member": user.username})


def _account(session: Session, username: str) -> User:
    user = accounts.find_user(session, username or "")
    if user is None:
        raise NotFound(N_("No account named '%(name)s'"), name=(username or "").strip())
    return user


def _title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInput(N_("A group needs a title"))
    if len(title) > TITLE_MAX_LENGTH:
        raise InvalidInput(N_("The title must have at most %(max)d characters."),
                           max=TITLE_MAX_LENGTH)
    return title


def _require_staff(actor: User | None) -> None:
    if actor is not None and not actor.is_staff:
        raise PermissionDenied(N_("Only library staff can do this."))
