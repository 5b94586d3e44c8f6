"""Words for the values administration pages show: access levels, audit actions and fields."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from viewer.admin.common import bp, page_url
from viewer.auth import ACCOUNT_STATUS_LABELS, ROLE_LABELS
from viewer.labels import STATUS_LABELS

LEVEL_LABELS = {
    "open": _l("Everyone"),
    "readers": _l("Signed-in readers"),
    "groups": _l("Members of the chosen groups"),
    "onsite": _l("In a reading room only"),
    "staff": _l("Library staff only"),
}

RIGHT_LABELS = {
    "metadata": _l("See the description"),
    "view": _l("Read the pages"),
    "download": _l("Download"),
}

VISITOR_LABELS = {
    "anonymous": _l("A visitor who is not signed in"),
    "reader": _l("A signed-in reader"),
    "group_member": _l("A member of the chosen groups"),
    "onsite": _l("A visitor in a reading room"),
}

TARGET_LABELS = {
    "user": _l("Account"),
    "group": _l("Group"),
    "collection": _l("Collection"),
    "item": _l("Item"),
    "reading_room": _l("Reading room"),
}

ACTION_LABELS = {
    "user.create": _l("Account created"),
    "user.register": _l("Reader registered"),
    "user.approve": _l("Registration approved"),
    "user.reject": _l("Registration rejected"),
    "user.update": _l("Account details changed"),
    "user.status": _l("Account enabled or disabled"),
    "user.role": _l("Role changed"),
    "user.expiry": _l("Expiry date changed"),
    "user.password": _l("Password changed"),
    "group.create": _l("Group created"),
    "group.update": _l("Group changed"),
    "group.delete": _l("Group deleted"),
    "group.member_add": _l("Member added"),
    "group.member_remove": _l("Member removed"),
    "collection.create": _l("Collection created"),
    "collection.update": _l("Collection renamed"),
    "collection.move": _l("Collection moved"),
    "rights.set": _l("Rights set"),
    "rights.remove": _l("Rights removed"),
    "reading_room.set": _l("Reading room saved"),
    "reading_room.delete": _l("Reading room deleted"),
    "item.create": _l("Item created"),
    "item.status": _l("Item status changed"),
}

ACTION_PREFIXES = {
    "user.": _l("All changes to accounts"),
    "group.": _l("All changes to groups"),
    "collection.": _l("All changes to collections"),
    "rights.": _l("All changes to rights"),
    "reading_room.": _l("All changes to reading rooms"),
    "item.": _l("All changes to items"),
}

FIELD_LABELS = {
    **RIGHT_LABELS,
    "groups": _l("Groups"),
    "embargo_until": _l("Embargo until"),
    "watermark": _l("Watermark"),
    "username": _l("Username"),
    "email": _l("Email address"),
    "display_name": _l("Full name"),
    "card_number": _l("Library card number"),
    "role": _l("Role"),
    "status": _l("Status"),
    "expires_on": _l("Valid until"),
    "title": _l("Title"),
    "title_en": _l("Title in English"),
    "description": _l("Description"),
    "description_en": _l("Description in English"),
    "slug": _l("Short name"),
    "parent": _l("Parent collection"),
    "networks": _l("Networks"),
    "member": _l("Member"),
    "members": _l("Members"),
    "handle": _l("Handle"),
    "collection": _l("Collection"),
    "reason": _l("Reason"),
}

VALUE_LABELS = {
    **{key: LEVEL_LABELS for key in RIGHT_LABELS},
    "role": ROLE_LABELS,
    "status": {**ACCOUNT_STATUS_LABELS, **STATUS_LABELS},
}


def format_value(key: str, value: Any) -> str:
    """An audited value as a person reads it: levels and roles in words, lists joined."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, list):
        return ", ".join(format_value(key, item) for item in value)
    label = VALUE_LABELS.get(key, {}).get(value) if isinstance(value, str) else None
    return str(label) if label is not None else str(value)


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@bp.context_processor
def admin_labels() -> dict:
    return {
        "role_labels": ROLE_LABELS, "account_status_labels": ACCOUNT_STATUS_LABELS,
        "item_status_labels": STATUS_LABELS, "level_labels": LEVEL_LABELS,
        "right_labels": RIGHT_LABELS, "target_labels": TARGET_LABELS,
        "visitor_labels": VISITOR_LABELS,
        "action_label": action_label, "field_label": field_label,
        "format_value": format_value, "page_url": page_url,
    }
