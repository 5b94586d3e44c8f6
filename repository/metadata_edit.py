"""Editing an item's Dublin Core field by field, as the API and the CSV bulk edit do.

A field is an (element, qualifier, language) triple, written as a spreadsheet column:
``dc.title[vi]``, ``dc.date.issued``, ``dc.subject``. An edit replaces the values of the fields
it names and leaves the others as they are; every change is audited with the old and new values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from repository import audit
from repository.dublin_core import DISPLAY_ORDER, Statement, validate
from repository.items import replace_metadata
from repository.models import DC_ELEMENTS, Item, User, utcnow

_COLUMN = re.compile(r"^(?:dc[.:])?(?P<element>[a-z]+)(?:\.(?P<qualifier>[A-Za-z0-9]+))?"
                     r"(?:\[(?P<language>[^\]]*)\])?$")


@dataclass(frozen=True)
class Field:
    """One repeatable Dublin Core field of an item."""

    element: str
    qualifier: str | None = None
    language: str | None = None

    @property
    def column(self) -> str:
        name = f"dc.{self.element}" + (f".{self.qualifier}" if self.qualifier else "")
        return name + (f"[{self.language}]" if self.language else "")

    def statement(self, value: str) -> Statement:
        return Statement(self.element, value, self.qualifier, self.language)

    @classmethod
    def of(cls, statement: Statement) -> Field:
        return cls(statement.element, statement.qualifier, statement.language)

    @classmethod
    def parse(cls, column: str) -> Field | None:
        """The field a column name stands for (``dc.title[vi]``, ``title``), or None."""
        match = _COLUMN.match(nfc(column).strip().lstrip("\ufeff").strip())
        if match is None or match["element"].lower() not in DC_ELEMENTS:
            return None
        language = (match["language"] or "").strip().replace("_", "-").lower() or None
        return cls(match["element"].lower(), match["qualifier"], language)

    def sort_key(self) -> tuple:
        order = DISPLAY_ORDER.index(self.element) if self.element in DISPLAY_ORDER else 99
        return order, self.qualifier or "", self.language or ""


def nfc(text: str) -> str:
    """Values typed on a Mac arrive decomposed; store and compare them composed."""
    return unicodedata.normalize("NFC", text)


def statements_of(item: Item) -> list[Statement]:
    """The item's description as statements, in the order the item keeps it."""
    return [Statement(value.element, value.value, value.qualifier, value.language)
            for value in item.dc_values]


def field_values(statements: Iterable[Statement]) -> dict[Field, tuple[str, ...]]:
    values: dict[Field, list[str]] = {}
    for statement in statements:
        values.setdefault(Field.of(statement), []).append(statement.value)
    return {field: tuple(found) for field, found in values.items()}


def merge(statements: Sequence[Statement], replacements: Mapping[Field, Sequence[str]]
          ) -> list[Statement]:
    """``statements`` with the values of each replaced field swapped for the new ones (where the
    field was, or at the end); an empty sequence removes the field. The result is validated."""
    merged: list[Statement] = []
    placed: set[Field] = set()
    for statement in statements:
        field = Field.of(statement)
        if field not in replacements:
            merged.append(statement)
        elif field not in placed:
            placed.add(field)
            merged += [field.statement(value) for value in replacements[field]]
    for field, values in replacements.items():
        if field not in placed:
            merged += [field.statement(value) for value in values]
    return [validate(statement) for statement in merged]


def changed_fields(old: Sequence[Statement], new: Sequence[Statement]
                   ) -> dict[Field, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each field whose values differ: old values → new values."""
    before, after = field_values(old), field_values(new)
    fields = sorted(set(before) | set(after), key=Field.sort_key)
    return {field: (before.get(field, ()), after.get(field, ())) for field in fields
            if before.get(field, ()) != after.get(field, ())}


def update_metadata(session: Session, item: Item, statements: Sequence[Statement],
                    actor: User | None = None) -> dict[Field, tuple[tuple[str, ...], ...]]:
    """Replace the item's description (re-indexed after the commit) and audit the fields that
    changed as ``item.metadata``; nothing is written or recorded when nothing changed."""
    old = statements_of(item)
    changes = changed_fields(old, [validate(statement) for statement in statements])
    if not changes:
        return {}
    replace_metadata(item, statements)
    item.updated_at = utcnow()  # harvesters and API clients see the description changed
    audit.record(session, actor, "item.metadata", "item", item.id,
                 old={field.column: list(values[0]) for field, values in changes.items()},
                 new={field.column: list(values[1]) for field, values in changes.items()})
    return changes
