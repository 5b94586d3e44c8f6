"""The reader's query language, parsed forgivingly into a small typed tree; it never raises.

Words are all required; ``"a phrase"``; ``a OR b`` (binds tighter than the implicit AND);
``-word`` or ``-"phrase"`` excludes; ``title:``, ``creator:``, ``subject:`` limit a word or phrase
to a field; ``year:1930..1945`` (or ``year:1930``, ``year:..1945``, ``year:1930-1945``) limits
the date. Anything odd (an unbalanced quote, a lone ``-`` or ``OR``, a runaway 10 KB paste) is
repaired or dropped and reported as a :class:`QueryNote`, so the reader still gets results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cached_property

from repository.search.analysis import Word, analyze, fold, normalize

MAX_QUERY_CHARS = 500
MAX_ATOMS = 24
MAX_PHRASE_WORDS = 12

FIELD_NAMES = {
    "title": "title", "nhande": "title", "tieude": "title",
    "creator": "creator", "author": "creator", "tacgia": "creator",
    "subject": "subject", "chude": "subject",
    "year": "year", "nam": "year", "date": "year",
}
"""Field prefixes the reader may type (folded, so "tác giả" needs no marks: ``tacgia:``)."""


@dataclass(frozen=True)
class Term:
    """One word, in any searchable field or only in ``field``; ``source`` is what was typed."""

    word: Word
    field: str | None = None
    source: str = dc_field(default="", compare=False)

    @property
    def text(self) -> str:
        """What the reader typed (a backend may split it with its own analyzer)."""
        return self.source or self.word.exact


@dataclass(frozen=True)
class Phrase:
    """Consecutive words, in any searchable field or only in ``field``."""

    words: tuple[Word, ...]
    field: str | None = None
    source: str = dc_field(default="", compare=False)

    @property
    def text(self) -> str:
        """What the reader typed (a backend may split it with its own analyzer)."""
        return self.source or " ".join(word.exact for word in self.words)


@dataclass(frozen=True)
class YearRange:
    """Items dated from ``start`` to ``end`` inclusive (either may be open)."""

    start: int | None
    end: int | None


Atom = Term | Phrase | YearRange


@dataclass(frozen=True)
class QueryNote:
    """Something in the query that was repaired or ignored; ``code`` is stable, ``text`` English."""

    code: str
    text: str


@dataclass(frozen=True)
class ParsedQuery:
    """All ``required`` groups must match (each group is an OR of atoms); no ``excluded`` may."""

    required: tuple[tuple[Atom, ...], ...] = ()
    excluded: tuple[Atom, ...] = ()
    notes: tuple[QueryNote, ...] = dc_field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        """Nothing to match: the search lists everything the reader may see."""
        return not self.required and not self.excluded

    @cached_property
    def text_atoms(self) -> tuple[Term | Phrase, ...]:
        """The required words and phrases not limited to a field: what page text can match."""
        return tuple(atom for group in self.required for atom in group
                     if isinstance(atom, Term | Phrase) and atom.field is None)

    @cached_property
    def plain_words(self) -> tuple[Word, ...]:
        """The required single words not limited to a field, in typed order: when there are
        several, an item holding them as a phrase ("nguyen du" as an author) ranks higher."""
        return tuple(group[0].word for group in self.required
                     if len(group) == 1 and isinstance(group[0], Term) and group[0].field is None)


@dataclass
class _Chunk:
    negated: bool
    field_name: str | None
    value: str
    quoted: bool


_CHUNK = re.compile(
    r'(?P<neg>[-\u2212]?)(?:(?P<field>[^\W\d_]\w*):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
_YEAR_RANGE = re.compile(r"^(\d{1,4})?\s*(?:\.\.|-|–)\s*(\d{1,4})?$")
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"',
                               "\u00bb": '"'})
_OR_WORDS = {"OR", "|", "||", "HOẶC"}
_AND_WORDS = {"AND", "&", "&&", "VÀ"}


def parse_query(text: str) -> ParsedQuery:
    """Parse what the reader typed; never raises, whatever ``text`` holds."""
    notes: list[QueryNote] = []
    cleaned = _clean(text, notes)
    items = [_to_item(chunk, notes) for chunk in _chunks(cleaned)]
    required, excluded = _assemble([item for item in items if item is not None], notes)
    return ParsedQuery(tuple(required), tuple(excluded), tuple(_unique(notes)))


def _clean(text: str, notes: list[QueryNote]) -> str:
    text = normalize(str(text)).translate(_SMART_QUOTES).replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        text = cut.rsplit(None, 1)[0] if " " in cut.strip() else cut
        notes.append(QueryNote("shortened", f"Only the first {MAX_QUERY_CHARS} characters "
                                            "of the query were used."))
    if text.count('"') % 2:
        last = text.rindex('"')
        text = text[:last] + " " + text[last + 1:]
        notes.append(QueryNote("unbalanced_quote", "An unbalanced quote mark was ignored."))
    return text


def _chunks(text: str) -> list[_Chunk]:
    chunks = []
    for match in _CHUNK.finditer(text):
        if match.group("phrase") is not None:
            value, quoted = match.group("phrase"), True
        else:
            value, quoted = match.group("word") or "", False
        field_name = match.group("field")
        if (not quoted and field_name is None and value.endswith(":")
                and fold(value[:-1]).lower() in FIELD_NAMES):
            field_name, value = value[:-1], ""  # "title:" with nothing after it
        if field_name and fold(field_name).lower() not in FIELD_NAMES:
            value, field_name = f"{field_name} {value}", None  # "http://x", "a:b": plain words
        chunks.append(_Chunk(bool(match.group("neg")), field_name, value, quoted))
    return chunks


_OR = object()
_NOT = object()


def _to_item(chunk: _Chunk, notes: list[QueryNote]) -> tuple[bool, Atom] | object | None:
    """An (excluded, atom) pair, the OR or NOT marker, or None for something dropped."""
    if not chunk.quoted and not chunk.negated and chunk.field_name is None:
        if chunk.value in _OR_WORDS:
            return _OR
        if chunk.value in _AND_WORDS:
            return None
        if chunk.value == "NOT":
            return _NOT
    field_name = FIELD_NAMES.get(fold(chunk.field_name).lower()) if chunk.field_name else None
    if field_name == "year":
        atom: Atom | None = _year_range(chunk.value, notes)
    else:
        atom = _word_atom(chunk.value, field_name, notes)
    if atom is None:
        if chunk.value.strip() in ("-", "\u2212", "") and (chunk.negated or chunk.value):
            notes.append(QueryNote("lone_operator", "A lone '-' was ignored."))
        elif chunk.field_name and not chunk.value.strip():
            notes.append(QueryNote("empty_field", f"'{chunk.field_name}:' had no word after it."))
        return None
    return (chunk.negated, atom)


def _word_atom(value: str, field_name: str | None, notes: list[QueryNote]) -> Atom | None:
    words = analyze(value)
    if not words:
        return None
    if len(words) == 1:
        return Term(words[0], field_name, value)
    if len(words) > MAX_PHRASE_WORDS:
        notes.append(QueryNote("long_phrase", f"A phrase was cut to {MAX_PHRASE_WORDS} words."))
        return Phrase(tuple(words[:MAX_PHRASE_WORDS]), field_name)
    return Phrase(tuple(words), field_name, value)


def _year_range(value: str, notes: list[QueryNote]) -> YearRange | None:
    value = value.strip()
    if value.isdigit() and len(value) <= 4:
        return YearRange(int(value), int(value))
    match = _YEAR_RANGE.match(value)
    if match and (match.group(1) or match.group(2)):
        start, end = (int(group) if group else None for group in match.groups())
        if start is not None and end is not None and start > end:
            start, end = end, start
        return YearRange(start, end)
    notes.append(QueryNote("bad_year", f"'year:{value}' is not a year or a range like "
                                       "year:1930..1945; it was ignored."))
    return None


def _assemble(items: list, notes: list[QueryNote]) -> tuple[list, list]:
    """Join atoms linked by OR into groups; apply NOT; drop operators without operands."""
    required: list[list[Atom]] = []
    excluded: list[Atom] = []
    join_next = negate_next = False
    count = 0
    for position, item in enumerate(items):
        if item is _OR:
            join_next = _or_has_operands(items, position, required, join_next, notes)
            continue
        if item is _NOT:
            negate_next = True
            continue
        negated, atom = item
        count += 1
        if count > MAX_ATOMS:
            notes.append(QueryNote("too_many_words", f"Only the first {MAX_ATOMS} words or "
                                                     "phrases were used."))
            break
        if negated or negate_next:
            excluded.append(atom)
        elif join_next:
            required[-1].append(atom)
        else:
            required.append([atom])
        join_next = negate_next = False
    return [tuple(group) for group in required], excluded


def _or_has_operands(items: list, position: int, required: list, join_next: bool,
                     notes: list[QueryNote]) -> bool:
    previous = items[position - 1] if position else None
    following = items[position + 1] if position + 1 < len(items) else None
    if (isinstance(previous, tuple) and not previous[0] and required
            and isinstance(following, tuple) and not following[0]):
        return True
    notes.append(QueryNote("lone_operator", "An 'OR' without a word on each side was ignored."))
    return join_next


def _unique(notes: list[QueryNote]) -> list[QueryNote]:
    seen, unique = set(), []
    for note in notes:
        if note not in seen:
            seen.add(note)
            unique.append(note)
    return unique
