"""Where a query's words are in a text: HTML snippets and hOCR word boxes, folded like the index.

Snippets are found in :func:`~repository.search.analysis.folded_bytes` of the stored text (one
byte per character, so offsets point into the original), one regular expression per word or
phrase: each starts with a literal, which the regex engine finds at C speed. The same
functions serve every backend and the viewer, so highlighting is alike everywhere.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

from repository.search.analysis import fold_words, folded_bytes
from repository.search.query import ParsedQuery, Phrase, Term

SNIPPET_CHARS = 220
MAX_MATCHES_PER_WORD = 16
"""Enough to choose a passage: a very common word needs no more on one page."""
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")

Match = tuple[int, int, int]
"""(start, end, index of the atom) of one place where the query matched."""


@lru_cache(maxsize=1024)
def _atom_regex(atom: Term | Phrase) -> re.Pattern[bytes] | None:
    words = (atom.word,) if isinstance(atom, Term) else atom.words
    folded = [word.folded for word in words]
    if not all(word.isascii() for word in folded):
        return None  # letters outside the byte table (Greek, Cyrillic…) are not highlighted
    body = rb"[^a-z0-9]+".join(re.escape(word.encode()) for word in folded)
    return re.compile(body + rb"(?![a-z0-9])")


class Highlighter:
    """A query's words and phrases compiled once, for every snippet of a results page."""

    def __init__(self, query: ParsedQuery) -> None:
        self._regexes = [(index, regex) for index, atom in enumerate(query.text_atoms)
                         if (regex := _atom_regex(atom)) is not None]

    def matches(self, text: str) -> list[Match]:
        """Every place in ``text`` where a query word or phrase is, in text order."""
        if not self._regexes:
            return []
        haystack = folded_bytes(text)
        found = []
        for index, regex in self._regexes:
            for match in itertools.islice(regex.finditer(haystack), MAX_MATCHES_PER_WORD):
                start = match.start()
                if start == 0 or haystack[start - 1] not in _WORD_BYTES:
                    found.append((start, match.end(), index))
        found.sort(key=lambda match: (match[0], -match[1]))
        return _without_overlaps(found)

    def snippet(self, text: str, max_chars: int = SNIPPET_CHARS) -> str | None:
        """The best passage of ``text`` as safe HTML, query words in ``<mark>``; None if no
        word is there. The best passage holds the most different words, then most matches."""
        matches = self.matches(text)
        if not matches:
            return None
        first, last = _best_window(matches, max_chars)
        start, end = _expand(text, matches[first][0], matches[last][1], max_chars)
        return _render(text, start, end, matches[first:last + 1])

    def mark(self, text: str) -> str:
        """All of ``text`` as safe HTML, every query word in ``<mark>`` (for short titles)."""
        return _render(text, 0, len(text), self.matches(text))


def find_matches(text: str, query: ParsedQuery) -> list[Match]:
    """Every place in ``text`` where one of the query's words or phrases is, in text order."""
    return Highlighter(query).matches(text)


def _without_overlaps(matches: list[Match]) -> list[Match]:
    kept: list[Match] = []
    for match in matches:
        if not kept or match[0] >= kept[-1][1]:
            kept.append(match)
    return kept


def make_snippet(text: str, query: ParsedQuery, max_chars: int = SNIPPET_CHARS) -> str | None:
    """The best passage of ``text`` for ``query`` (see :meth:`Highlighter.snippet`)."""
    return Highlighter(query).snippet(text, max_chars)


def mark_all(text: str, query: ParsedQuery) -> str:
    """All of ``text`` as safe HTML with every query word in ``<mark>`` (for short titles)."""
    return Highlighter(query).mark(text)


def _best_window(matches: list[Match], max_chars: int) -> tuple[int, int]:
    """The run of matches within ``max_chars`` with the most distinct atoms, then most matches."""
    best, best_score = (0, 0), (0, 0)
    counts = [0] * (max(atom for _, _, atom in matches) + 1)
    distinct, last = 0, -1
    for first, (start, _, atom) in enumerate(matches):
        while last + 1 < len(matches) and (last < first
                                           or matches[last + 1][1] - start <= max_chars):
            last += 1
            counts[matches[last][2]] += 1
            distinct += counts[matches[last][2]] == 1
        score = (distinct, last - first + 1)
        if score > best_score:
            best, best_score = (first, last), score
        counts[atom] -= 1
        distinct -= counts[atom] == 0
    return best


def _expand(text: str, start: int, end: int, max_chars: int) -> tuple[int, int]:
    """Grow [start, end) to about ``max_chars``, on both sides, stopping at spaces."""
    spare = max(0, max_chars - (end - start))
    new_start = max(0, start - spare // 2)
    new_end = min(len(text), end + spare - spare // 2)
    if new_start > 0:
        space = text.find(" ", new_start, start)
        new_start = space + 1 if space != -1 else new_start
    if new_end < len(text):
        space = text.rfind(" ", end, new_end)
        new_end = space if space != -1 else new_end
    return new_start, new_end


_OPEN, _CLOSE = "\x02", "\x03"
_CONTROL = re.compile("[\x02\x03]")


def _render(text: str, start: int, end: int, matches: list[Match]) -> str:
    """``text[start:end]`` escaped once, with sentinels around matches turned into ``<mark>``."""
    pieces, position = [], start
    for match_start, match_end, _ in matches:
        if match_start < position or match_end > end:
            continue
        pieces += [text[position:match_start], _OPEN, text[match_start:match_end], _CLOSE]
        position = match_end
    pieces.append(text[position:end])
    if _OPEN in text[start:end] or _CLOSE in text[start:end]:
        pieces = [_CONTROL.sub("", piece) if len(piece) > 1 else piece for piece in pieces]
    body = "".join(pieces)
    body = html.escape(" ".join(body.split())).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


WordBox = tuple[str, float, float, float, float]
"""One hOCR word: (text, x0, y0, x1, y1)."""


def match_word_boxes(words: Sequence[WordBox], query: ParsedQuery) -> list[WordBox]:
    """The words of one page (in reading order) that the query's words and phrases match.

    A pure function for the viewer: each word is folded as the index folds it, so "nguyen du"
    lights up "Nguyễn Du,"; a phrase lights up only words in sequence, across line breaks.
    """
    stream = [(index, token) for index, (text, *_) in enumerate(words)
              for token in fold_words(text)]
    tokens = [token for _, token in stream]
    hit_words: set[int] = set()
    for atom in query.text_atoms:
        needle = [atom.word.folded] if isinstance(atom, Term) else [w.folded for w in atom.words]
        for offset in range(len(tokens) - len(needle) + 1):
            if tokens[offset:offset + len(needle)] == needle:
                hit_words.update(index for index, _ in stream[offset:offset + len(needle)])
    return [words[index] for index in sorted(hit_words)]
