"""A parsed query and an access filter as SQL for the PostgreSQL backend: conditions,
ranking expressions and their bind parameters.

Three tables answer (see :mod:`repository.search.postgres_backend`): ``search_items`` (the
Dublin Core vectors, alias ``i``), ``search_texts`` (each item's page words without positions,
alias ``t``) and ``search_pages`` (each page's vectors with positions, alias ``p``).
A word matches an item through its metadata or through ``search_texts`` — one row per item,
so the commonest word costs as much as the rarest. Only a phrase needs the pages' positions.
"""

# SQL here is assembled from fixed fragments; every value (words, principals, dates, facet
# values) travels as a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from repository.search.backend import FACETS
from repository.search.filters import AccessFilter
from repository.search.query import Atom, ParsedQuery, Phrase, Term, YearRange

FIELD_WEIGHTS = {"title": "A", "creator": "B", "subject": "C"}
TEXT_LEVELS = (0.1, 0.25, 0.5)
"""Shares of an item's pages holding a word that ``search_texts`` marks (``level_lexeme``)."""


def level_lexeme(folded: str, level: int) -> str:
    """The mark of a word on at least ``TEXT_LEVELS[level - 1]`` of an item's pages. A
    lexeme with "#" is never a typed word: the analyzer splits on it."""
    return f"{folded}#{level}"


def exact_lexeme(exact: str) -> str:
    """The mark of a word present with its marks (``exact`` differs from its folded form)."""
    return f"{exact}#x"


def quoted(lexeme: str) -> str:
    """``lexeme`` quoted for tsvector and tsquery input."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def atom_tsquery(atom: Term | Phrase, exact: bool = False, joiner: str = " <-> ") -> str:
    """The tsquery of a word or phrase (``joiner`` " & " asks for the words anywhere)."""
    words = (atom.word,) if isinstance(atom, Term) else atom.words
    weight = ":" + FIELD_WEIGHTS[atom.field] if atom.field in FIELD_WEIGHTS else ""
    return "(" + joiner.join(quoted(word.exact if exact else word.folded) + weight
                             for word in words) + ")"


class SqlQuery:
    """SQL conditions for one parsed query and one access filter, with their parameters."""

    def __init__(self, parsed: ParsedQuery, access: AccessFilter,
                 common_phrases: frozenset[Phrase] = frozenset()) -> None:
        self.parsed = parsed
        self.access = access
        self.common_phrases = common_phrases
        self.params: dict[str, Any] = {"principals": sorted(access.principals),
                                       "today": access.today}
        positive = [atom for group in parsed.required for atom in group
                    if isinstance(atom, Term | Phrase)]
        marked = [atom for atom in positive if any(
            word.marked for word in ((atom.word,) if isinstance(atom, Term) else atom.words))]
        # Ranking counts every word; page text matches only the words not limited to a field.
        self.rank_query = self.param(" | ".join(map(atom_tsquery, positive)) or None)
        self.exact_query = self.param(
            " | ".join(atom_tsquery(atom, exact=True) for atom in marked) or None)
        self.any_query = self.param(" | ".join(map(atom_tsquery, parsed.text_atoms)) or None)
        self.all_query = self._all_words_query()
        # The typed words side by side in title, creator or subject rank higher.
        self.phrase_query = self.param(" <-> ".join(
            quoted(word.folded) + ":ABC" for word in parsed.plain_words) or None
            if len(parsed.plain_words) > 1 else None)

    def param(self, value: Any) -> str | None:
        """A new bind parameter holding ``value``, as ``:name`` (None stays None)."""
        if value is None:
            return None
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _all_words_query(self) -> str | None:
        """Pages with every required group that page text can answer (else None)."""
        groups = [[atom for atom in group if isinstance(atom, Term | Phrase)
                   and atom.field is None] for group in self.parsed.required]
        whole = [group for group, original in zip(groups, self.parsed.required, strict=True)
                 if group and len(group) == len(original)]
        if not whole:
            return self.any_query
        return self.param(" & ".join("(" + " | ".join(map(atom_tsquery, group)) + ")"
                                     for group in whole))

    # Items --------------------------------------------------------------------------------

    def items(self) -> str:
        """The items that match the words and that the reader may find (alias ``i``)."""
        conditions = [" OR ".join(map(self._atom, group)) for group in self.parsed.required]
        conditions += [f"NOT {self._atom(atom)}" for atom in self.parsed.excluded]
        if not self.access.bypass:
            conditions.append("i.find_principals && :principals AND "
                              "(i.embargo_until IS NULL OR i.embargo_until <= :today)")
        return " AND ".join(f"({condition})" for condition in conditions) or "TRUE"

    def facet_filters(self, filters: dict[str, frozenset[str]], alias: str) -> str:
        """Facet values chosen (OR within a facet, AND across facets) on rows of ``alias``."""
        conditions = [f"{alias}.{name} && CAST({self.param(sorted(values))} AS text[])"
                      for name, values in sorted(filters.items()) if name in FACETS]
        return " AND ".join(conditions) or "TRUE"

    def _atom(self, atom: Atom) -> str:
        if isinstance(atom, YearRange):
            low = -1_000_000 if atom.start is None else atom.start
            high = 1_000_000 if atom.end is None else atom.end
            return f"(i.year BETWEEN {int(low)} AND {int(high)})"
        query = self.param(atom_tsquery(atom))
        in_metadata = f"i.meta_folded @@ CAST({query} AS tsquery)"
        if atom.field is not None:
            return f"({in_metadata})"
        words = query if isinstance(atom, Term) else self.param(atom_tsquery(atom, joiner=" & "))
        # Uncorrelated INs: PostgreSQL hashes the matching items once per query.
        in_text = (f"{self._item_readable()}i.item_id IN (SELECT t.item_id FROM "
                   f"{{s}}.search_texts t WHERE t.words @@ CAST({words} AS tsquery))")
        if isinstance(atom, Phrase):  # the words are in the item: are they side by side?
            in_text += " AND " + self._phrase_on_a_page(atom, query)
        return f"({in_metadata} OR ({in_text}))"

    def _phrase_on_a_page(self, atom: Phrase, query: str) -> str:
        """The items with a readable page holding the phrase. The index finds the pages that
        hold its words, then each is checked: cheap for a rare phrase. A common one is on
        an early page of most items: read each item's pages in order until one has it."""
        if atom not in self.common_phrases:
            return (f"i.item_id IN (SELECT p.item_id FROM {{s}}.search_pages p "
                    f"WHERE p.folded @@ CAST({query} AS tsquery) AND {self.page_access()})")
        return (f"EXISTS (SELECT 1 FROM (SELECT * FROM {{s}}.search_pages p "
                f"WHERE p.item_id = i.item_id OFFSET 0) p "
                f"WHERE p.folded @@ CAST({query} AS tsquery) AND {self.page_access()})")

    def _item_readable(self) -> str:
        return "" if self.access.bypass else "i.read_principals && :principals AND "

    def meta_rank(self, alias: str = "i") -> str:
        if self.rank_query is None:
            return "0"
        rank = f"4 * ts_rank({alias}.meta_folded, CAST({self.rank_query} AS tsquery))"
        if self.exact_query:
            rank += f" + 8 * ts_rank({alias}.meta_exact, CAST({self.exact_query} AS tsquery))"
        if self.phrase_query:
            rank += (f" + 8 * ts_rank({alias}.meta_folded, "
                     f"CAST({self.phrase_query} AS tsquery))")
        return rank

    def text_rank(self) -> str:
        """How much the item's readable pages are about the words: for each word, 0.1 per
        level of the share of pages holding it, 0.2 when it is there with the marks typed —
        read from ``search_texts``' index alone, one row per item however common the word."""
        terms = []
        for atom in self.parsed.text_atoms:
            for word in (atom.word,) if isinstance(atom, Term) else atom.words:
                terms += [(level_lexeme(word.folded, level), 0.1)
                          for level in range(1, len(TEXT_LEVELS) + 1)]
                if word.marked:
                    terms.append((exact_lexeme(word.exact), 0.2))
        if not terms:
            return "0"
        has = " + ".join(
            f"{weight} * (i.item_id IN (SELECT t.item_id FROM {{s}}.search_texts t "
            f"WHERE t.words @@ CAST({self.param(quoted(lexeme))} AS tsquery)))::int"
            for lexeme, weight in dict(terms).items())
        readable = ("" if self.access.bypass
                    else "(i.read_principals && CAST(:principals AS text[]))::int * ")
        return f"{readable}({has})"

    # Pages --------------------------------------------------------------------------------

    def page_access(self) -> str:
        if self.access.bypass:
            return "TRUE"
        return ("p.find_principals && :principals AND p.read_principals && :principals AND "
                "(p.embargo_until IS NULL OR p.embargo_until <= :today)")

    def page_match(self, strict: bool) -> str | None:
        """Pages with all the words (``strict``) or any; None when no word is for page text."""
        query = self.all_query if strict else self.any_query
        if query is None:
            return None
        return f"p.folded @@ CAST({query} AS tsquery) AND {self.page_access()}"

    def page_has_all(self) -> str:
        """True for a page (already known to match some word) that has all of them."""
        return f"p.folded @@ CAST({self.all_query} AS tsquery)"

    def page_rank(self) -> str:
        rank = f"ts_rank_cd(p.folded, CAST({self.any_query} AS tsquery), 2)"
        if self.exact_query:
            rank += f" + 2 * ts_rank(p.exact, CAST({self.exact_query} AS tsquery))"
        return rank
