"""Dublin Core: the fifteen elements, their labels in Vietnamese and English, and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from repository.errors import N_, InvalidInput
from repository.models import DC_ELEMENTS

# The order in which an item page shows its description.
DISPLAY_ORDER = (
    "title", "creator", "contributor", "date", "publisher", "subject", "description", "type",
    "format", "language", "coverage", "source", "relation", "identifier", "rights",
)

_QUALIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,63}$")
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
MAX_VALUE_LENGTH = 100_000


@dataclass(frozen=True)
class Statement:
    """One Dublin Core value as entered: ``dc.element.qualifier = value`` in a language."""

    element: str
    value: str
    qualifier: str | None = None
    language: str | None = None

    @classmethod
    def parse_field(cls, field: str, value: str, language: str | None = None) -> Statement:
        """Build from a column name such as ``dc.date.issued``, ``title`` or ``dc:creator``."""
        name = field.strip().lower().replace(":", ".")
        if name.startswith("dc."):
            name = name[3:]
        element, _, qualifier = name.partition(".")
        return cls(element=element, value=value, qualifier=qualifier or None, language=language)


def validate(statement: Statement) -> Statement:
    """Return the statement cleaned (NFC-agnostic trim), or raise InvalidInput saying why."""
    element = statement.element.strip().lower()
    if element not in DC_ELEMENTS:
        raise InvalidInput(N_("'%(element)s' is not a Dublin Core element"),
                           element=statement.element)
    if statement.qualifier and not _QUALIFIER.match(statement.qualifier):
        raise InvalidInput(N_("'%(qualifier)s' is not a valid qualifier"),
                           qualifier=statement.qualifier)
    if statement.language and not _LANGUAGE.match(statement.language):
        raise InvalidInput(N_("'%(language)s' is not a language tag (use vi, en, fr ...)"),
                           language=statement.language)
    value = statement.value.strip()
    if not value:
        raise InvalidInput(N_("The value of '%(element)s' is empty"), element=element)
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidInput(N_("The value of '%(element)s' is longer than %(limit)d characters"),
                           element=element, limit=MAX_VALUE_LENGTH)
    if "\x00" in value:
        raise InvalidInput(N_("The value of '%(element)s' contains a NUL character"),
                           element=element)
    return Statement(element, value, statement.qualifier or None,
                     statement.language.lower() if statement.language else None)

