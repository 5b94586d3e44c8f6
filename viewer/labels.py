"""Translatable labels for domain values shown on pages (Dublin Core elements, statuses)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DC_LABELS = {
    "title": _l("Title"),
    "creator": _l("Creator"),
    "contributor": _l("Contributor"),
    "date": _l("Date"),
    "publisher": _l("Publisher"),
    "subject": _l("Subject"),
    "description": _l("Description"),
    "type": _l("Type"),
    "format": _l("Format"),
    "language": _l("Language"),
    "coverage": _l("Coverage"),
    "source": _l("Source"),
    "relation": _l("Relation"),
    "identifier": _l("Identifier"),
    "rights": _l("Rights"),
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "review": _l("In review"),
    "published": _l("Published"),
    "withdrawn": _l("Withdrawn"),
}

LANGUAGE_NAMES = {
    "vi": _l("Vietnamese"),
    "vie": _l("Vietnamese"),
    "en": _l("English"),
    "eng": _l("English"),
    "fr": _l("French"),
    "fra": _l("French"),
    "zh": _l("Chinese"),
    "lzh": _l("Classical Chinese"),
}
