"""Delivery of page content (thumbnails for now); every route asks the access policy first."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

from repository import items
from repository.access import Action
from repository.models import FileRole, ItemStatus
from viewer.extensions import db_session, object_store
from viewer.identity import current_identity, policy
from viewer.streaming import send_object

bp = Blueprint("delivery", __name__)


@bp.get("/items/<handle>/thumbnail")
def thumbnail(handle: str):
    """The cover thumbnail, or a neutral placeholder when there is none or it may not be seen."""
    identity = current_identity()
    item = items.find_item(db_session(), handle, identity, policy())
    cover = items.first_page_file(item, FileRole.THUMBNAIL)
    if cover is None or not policy().can(identity, Action.VIEW_PAGES, item):
        return send_from_directory(current_app.static_folder, "no-cover.svg", max_age=3600)
    return send_object(object_store(), cover.storage_key, media_type=cover.media_type,
                       sha256=cover.sha256, public=item.status is ItemStatus.PUBLISHED)
