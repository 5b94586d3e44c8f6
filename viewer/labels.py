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

ACCESS_LABELS = {
    "open": _l("Open to all"),
    "readers": _l("Signed-in readers"),
    "groups": _l("Named groups"),
    "onsite": _l("In the reading room"),
    "staff": _l("Library staff"),
}

QUERY_NOTES = {
    "shortened": _l("Your search was very long; only its beginning was used."),
    "unbalanced_quote": _l("A quote mark without its pair was ignored."),
    "lone_operator": _l("An operator without a word beside it (- or OR) was ignored."),
    "empty_field": _l("A field such as title: had no word after it and was ignored."),
    "long_phrase": _l("A very long phrase was shortened."),
    "bad_year": _l("A year filter was not understood; write year:1938 or year:1930..1945."),
    "too_many_words": _l("Only the first words of a very long search were used."),
}
