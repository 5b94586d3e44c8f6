"""An item's files: the list (with a content link only where the caller may fetch the file) and
the content itself, streamed with ranges and validators, asking the policy first."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from repository import items
from repository.access import Identity
from repository.errors import N_, NotFound
from repository.file_rights import may_fetch
from repository.models import FileRole, ItemFile
from viewer.api.common import ApiError, bp, identity
from viewer.api.serialize import file_json
from viewer.extensions import db_session, object_store
from viewer.identity import policy
from viewer.streaming import send_object

# Whole documents are saved under their name; page images and text open in place.
ATTACHMENTS = frozenset({FileRole.ORIGINAL, FileRole.PDF, FileRole.MASTER})


@bp.get("/items/<handle>/files")
def item_files(handle: str):
    session = db_session()
    item = items.find_item(session, handle, identity(), policy())
    stored = session.scalars(select(ItemFile).where(ItemFile.item_id == item.id)
                             .options(selectinload(ItemFile.page)).order_by(ItemFile.id))
    return jsonify(files=[file_json(entry, handle, may_fetch(policy(), identity(), item, entry))
                          for entry in stored])


@bp.get("/items/<handle>/files/<int:file_id>/content")
def file_content(handle: str, file_id: int):
    session = db_session()
    item = items.find_item(session, handle, identity(), policy())
    stored = session.get(ItemFile, file_id)
    if stored is None or stored.item_id != item.id:
        raise NotFound(N_("No such file"))
    if not may_fetch(policy(), identity(), item, stored):
        raise ApiError(403, _("You may see this item's description but not have this file."))
    anyone = may_fetch(policy(), Identity.anonymous(), item, stored)
    name = (stored.original_name or None) if stored.role in ATTACHMENTS else None
    return send_object(object_store(), stored.storage_key, media_type=stored.media_type,
                       sha256=stored.sha256, modified=stored.created_at, download_name=name,
                       public=anyone)
