"""Reading rooms as staff manage them: listing, saving a room's networks, deleting a room.

The networks decide who counts as "on site" (repository.access_rules.is_onsite)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository import audit
from repository.access_rules import set_reading_room
from repository.errors import N_, InvalidInput, NotFound
from repository.models import ReadingRoom, User

NAME_MAX_LENGTH = 128


def list_reading_rooms(session: Session) -> list[ReadingRoom]:
    return list(session.scalars(select(ReadingRoom).order_by(ReadingRoom.name)))


def get_reading_room(session: Session, room_id: int) -> ReadingRoom:
    room = session.get(ReadingRoom, room_id)
    if room is None:
        raise NotFound(N_("No such reading room"))
    return room


def save_reading_room(session: Session, actor: User | None, name: str,
                      networks: str) -> ReadingRoom:
    """Create the room ``name`` or replace its networks: CIDR blocks, one per line."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(N_("A reading room needs a name"))
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(N_("The name must have at most %(max)d characters."),
                           max=NAME_MAX_LENGTH)
    return set_reading_room(session, actor, name, (networks or "").splitlines())


def delete_reading_room(session: Session, actor: User | None, room: ReadingRoom) -> None:
    """Remove the room: its networks no longer count as on site."""
    audit.record(session, actor, "reading_room.delete", "reading_room", room.name,
                 old={"networks": room.network_list()})
    session.delete(room)
    session.flush()
