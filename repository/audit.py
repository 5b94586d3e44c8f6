"""The audit trail: every administrative change is recorded as actor, action, target, old → new."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.models import AuditEvent, User

SYSTEM_ACTOR = "system"


def record(session: Session, actor: User | None, action: str, target_type: str,
           target_id: Any, old: Mapping[str, Any] | None = None,
           new: Mapping[str, Any] | None = None) -> AuditEvent:
    """Add one event to ``session`` (the caller's unit of work commits it with the change).

    ``actor`` is None for changes made from the command line or by the system itself. Values
    are stored as JSON: enums become their values, dates ISO strings. Never pass secrets.
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else SYSTEM_ACTOR,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        old=_plain(old),
        new=_plain(new),
    )
    session.add(event)
    return event


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as an (old, new) pair ready for ``record``."""
    keys = [key for key in new if old.get(key) != new[key]]
    return {key: old.get(key) for key in keys}, {key: new[key] for key in keys}


def history(session: Session, target_type: str, target_id: Any) -> list[AuditEvent]:
    """The events about one target, oldest first."""
    query = (select(AuditEvent)
             .where(AuditEvent.target_type == target_type,
                    AuditEvent.target_id == str(target_id))
             .order_by(AuditEvent.at, AuditEvent.id))
    return list(session.scalars(query))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return str(value)
