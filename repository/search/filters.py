"""The search filter of one identity: who is asking, as opaque principals the policy produced.

Invenio-style needs/provides: a document lists the principals that may find it (and read its
pages); an identity provides principals; they meet when the two sets share one. Backends
translate the filter *into* their query, so that counts, facets, paging and snippets only ever
see what the reader may see; the Python predicates here are the reference semantics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from repository.search.documents import ItemDocument, PageDocument


@dataclass(frozen=True)
class AccessFilter:
    """``principals`` the identity provides (e.g. {"any", "readers", "group:3"}); ``bypass``
    for staff, who see everything; ``today`` decides embargoes."""

    principals: frozenset[str] = frozenset({"any"})
    bypass: bool = False
    today: date = field(default_factory=date.today)

    @classmethod
    def staff(cls, today: date | None = None) -> AccessFilter:
        """A filter that lets everything through (staff and indexing checks)."""
        return cls(frozenset(), bypass=True, today=today or date.today())

    def may_find(self, document: ItemDocument | PageDocument) -> bool:
        """May the identity find this document and see its metadata?"""
        if self.bypass:
            return True
        embargoed = document.embargo_until is not None and document.embargo_until > self.today
        return bool(document.metadata_principals & self.principals) and not embargoed

    def may_read(self, document: ItemDocument | PageDocument) -> bool:
        """May the identity also search and see the page text?"""
        if self.bypass:
            return True
        return self.may_find(document) and bool(document.view_principals & self.principals)
