"""What the indexer receives: one document per item (Dublin Core) and one per page (its text).

Both carry the access facts the search filter needs (see :mod:`repository.search.filters`);
their principal strings are opaque here, made by the access policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@dataclass(frozen=True)
class PageDocument:
    """The text of one page of an item; ``number`` is the page's sequence, from 1."""

    item_id: int
    number: int
    text: str
    metadata_principals: frozenset[str] = frozenset()
    view_principals: frozenset[str] = frozenset()
    embargo_until: date | None = None


@dataclass(frozen=True)
class ItemDocument:
    """One item's searchable description, its facets and who may find it or read its pages.

    ``metadata_principals``: who may find the item and see its metadata; ``view_principals``:
    who may also search and see its page text; ``embargo_until``: hidden from everyone (but
    staff) before that day. Empty principals mean nobody: deny by default.
    """

    item_id: int
    title: str
    creators: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    description: str = ""
    other_metadata: tuple[str, ...] = ()
    """Other Dublin Core values worth finding (publisher, contributor, coverage…), not fielded."""
    year: int | None = None
    collection: str = ""
    type: str = ""
    languages: tuple[str, ...] = ()
    access: str = ""
    """The access level's label, for the access facet (e.g. "open", "readers", "onsite")."""
    metadata_principals: frozenset[str] = frozenset()
    view_principals: frozenset[str] = frozenset()
    embargo_until: date | None = None

    @property
    def decade(self) -> str | None:
        """The decade facet value: "1930" for 1930-1939."""
        return None if self.year is None else str(self.year // 10 * 10)

    def page(self, number: int, text: str) -> PageDocument:
        """A page of this item with the item's access."""
        return PageDocument(self.item_id, number, text, self.metadata_principals,
                            self.view_principals, self.embargo_until)

    def same_access(self, page: PageDocument) -> bool:
        """True when ``page`` is guarded exactly like the item itself."""
        return (page.metadata_principals == self.metadata_principals
                and page.view_principals == self.view_principals
                and page.embargo_until == self.embargo_until)

    @classmethod
    def from_dublin_core(cls, item_id: int, values: Mapping[str, Iterable[str]],
                         **facts) -> ItemDocument:
        """Build from Dublin Core ``values`` (element → values); ``facts`` are the other fields.

        The year is the first four-digit year in the first ``date`` value that has one.
        """
        def all_of(element: str) -> tuple[str, ...]:
            return tuple(value for value in values.get(element, ()) if value)

        searched_too = ("publisher", "contributor", "coverage", "source", "relation",
                        "identifier")
        return cls(
            item_id=item_id,
            title=" — ".join(all_of("title")),
            creators=all_of("creator"),
            subjects=all_of("subject"),
            description="\n".join(all_of("description")),
            other_metadata=tuple(value for element in searched_too for value in all_of(element)),
            year=next((int(match.group(1)) for value in all_of("date")
                       if (match := _YEAR.search(value))), None),
            type=next(iter(all_of("type")), ""),
            languages=all_of("language"),
            **facts,
        )

