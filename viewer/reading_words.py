"""The access statement of an item in plain words: who may read or download it, whether the
reader may, and what to do to get access."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l

from repository.models import AccessLevel
from repository.reading import AccessStatement, Requirement

READ = {
    AccessLevel.OPEN: _l("Open to all: anyone may read it online."),
    AccessLevel.READERS: _l("Sign in to read: any library account may read it online."),
    AccessLevel.GROUPS: _l("Members of %(groups)s may read it online."),
    AccessLevel.ONSITE: _l("Only in the library's reading rooms."),
    AccessLevel.STAFF: _l("Only library staff may read it."),
}
DOWNLOAD = {
    AccessLevel.OPEN: _l("Anyone may download the PDF."),
    AccessLevel.READERS: _l("Sign in to download the PDF."),
    AccessLevel.GROUPS: _l("Members of %(groups)s may download the PDF."),
    AccessLevel.ONSITE: _l("The PDF may be downloaded only in the library's reading rooms."),
    AccessLevel.STAFF: _l("The PDF is not offered for download."),
}
ADVICE = {
    AccessLevel.READERS: _l("Sign in with your library account, or register for one: it is "
                            "free."),
    AccessLevel.GROUPS: _l("Sign in, and ask the library to add your account to %(groups)s."),
    AccessLevel.ONSITE: _l("Visit one of the library's reading rooms and open this page there, "
                           "on its computers or its Wi-Fi."),
    AccessLevel.STAFF: _l("Ask a librarian whether a copy can be made available to you."),
}


@dataclass(frozen=True)
class AccessWords:
    """Sentences for the item page and the viewer; ``sign_in`` asks for sign-in links."""

    headline: str
    read: str
    download: str
    advice: str | None
    watermark: str | None
    sign_in: bool


def describe(statement: AccessStatement) -> AccessWords:
    """The statement in the reader's language."""
    return AccessWords(
        headline=_headline(statement),
        read=_sentence(READ, statement.view),
        download=_sentence(DOWNLOAD, statement.download),
        advice=_advice(statement),
        watermark=gettext("Pages and PDFs you receive carry a watermark with your card number "
                          "and today's date.") if statement.watermark else None,
        sign_in=not statement.signed_in and _lacking(statement) in (
            AccessLevel.READERS, AccessLevel.GROUPS))


def _headline(statement: AccessStatement) -> str:
    if statement.may_view and statement.may_download:
        return gettext("You may read and download this document.")
    if statement.may_view:
        return gettext("You may read this document online.")
    return gettext("You may not read this document here.")


def _sentence(table: dict, requirement: Requirement) -> str:
    return str(table[requirement.level]) % {"groups": ", ".join(requirement.groups)}


def _lacking(statement: AccessStatement) -> AccessLevel | None:
    if statement.embargo_until is not None:
        return None
    if not statement.may_view:
        return statement.view.level
    if not statement.may_download:
        return statement.download.level
    return None


def _advice(statement: AccessStatement) -> str | None:
    if statement.embargo_until is not None and not statement.may_view:
        return gettext("Embargoed until %(date)s: it can be read from that day.",
                       date=format_date(statement.embargo_until, "long"))
    level = _lacking(statement)
    if level is None or level not in ADVICE:
        return None
    if level is AccessLevel.READERS and statement.signed_in:
        return None
    groups = statement.view.groups if not statement.may_view else statement.download.groups
    return str(ADVICE[level]) % {"groups": ", ".join(groups)}
