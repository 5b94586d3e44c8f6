"""Vietnamese text analysis shared by every search backend: normalize, fold, tokenize, collate.

Text is NFC-normalized first, so that a word typed with combining marks equals the precomposed
one. Two forms of each word are indexed: the *exact* form (lowercase, marks kept) and the
*folded* form (lowercase, every tone and vowel mark removed, đ→d). ``fold`` agrees with the
ASCII folding filter that the tantivy backend runs at index time for every Vietnamese letter
and the common Latin ones (a test holds the two together). No stemming.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Letters that do not decompose into base + marks; the values follow Lucene's ASCII folding.
_SPECIAL_FOLDS = {
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "þ": "th", "Þ": "TH",
    "ı": "i", "ŀ": "l", "Ŀ": "L", "ĳ": "ij", "Ĳ": "IJ", "ſ": "s", "ƀ": "b", "ƚ": "l",
    "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŋ": "n", "Ŋ": "N", "ĸ": "q", "ŉ": "n",
    "ƒ": "f", "Ƒ": "F",
    **{sup: str(digit) for digit, sup in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
    **{sub: str(digit) for digit, sub in enumerate("₀₁₂₃₄₅₆₇₈₉")},
}
# Marks are stripped from Latin letters only: Greek, Japanese kana and others keep theirs.
LATIN_RANGES = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
_TOKEN = re.compile(r"[^\W_]+")
MAX_TOKEN_BYTES = 80
"""Longer runs of letters (in UTF-8) are not words (base64, OCR noise); indexing drops them."""


def normalize(text: str) -> str:
    """NFC form of ``text``: decomposed input (e + combining marks) becomes precomposed."""
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _SPECIAL_FOLDS:
        return _SPECIAL_FOLDS[char]
    if not any(low <= ord(char) <= high for low, high in LATIN_RANGES):
        return char
    decomposed = unicodedata.normalize("NFD", char)
    return "".join(part for part in decomposed if not unicodedata.combining(part)) or char


def fold(text: str) -> str:
    """``text`` without tone and vowel marks (đ→d), NFC first; case is kept.

    Meant for words and queries: it runs in Python, a character at a time.
    """
    normalized = normalize(text)
    if normalized.isascii():
        return normalized
    return "".join(_fold_char(char) for char in normalized)


class Word(NamedTuple):
    """One token of text in its two indexed forms."""

    exact: str
    folded: str

    @property
    def marked(self) -> bool:
        """True when the word carries tone or vowel marks (folding changes it)."""
        return self.exact != self.folded


def _raw_tokens(text: str) -> list[str]:
    # Split before lowercasing and fold before lowercasing, as the tantivy analyzers do:
    # "İ" lowercases to "i" + a combining dot, but folds to "I".
    return [token for token in _TOKEN.findall(normalize(text))
            if len(token.encode()) <= MAX_TOKEN_BYTES]


def analyze(text: str) -> list[Word]:
    """The words of ``text``: NFC, split on anything not a letter or digit, exact and folded."""
    return [_word(token) for token in _raw_tokens(text)]


@lru_cache(maxsize=65536)
def _word(token: str) -> Word:
    # Page text repeats a small vocabulary: each distinct token is folded once.
    return Word(token.lower(), fold(token).lower())


def tokenize(text: str) -> list[str]:
    """The exact tokens of ``text`` (lowercase, marks kept)."""
    return [token.lower() for token in _raw_tokens(text)]


def fold_words(text: str) -> list[str]:
    """The folded tokens of ``text`` (lowercase, no marks)."""
    return [fold(token).lower() for token in _raw_tokens(text)]


# Vietnamese alphabetical order, with the foreign letters f j w z where Latin puts them.
_ALPHABET = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_PRIMARY_CODE = {letter: chr(0x30 + index) for index, letter in enumerate(_ALPHABET)}
# Tones in dictionary order: ngang, huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
_VOWEL_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter


def _split_letter(char: str) -> tuple[str, str]:
    """(letter with its vowel mark, tone rank) of one lowercase character."""
    decomposed = unicodedata.normalize("NFD", char)
    tone = "0"
    base = []
    for part in decomposed:
        if part in _TONE_RANK:
            tone = _TONE_RANK[part]
        elif not unicodedata.combining(part) or part in _VOWEL_MARKS:
            base.append(part)
    return unicodedata.normalize("NFC", "".join(base)), tone


@lru_cache(maxsize=8192)
def _word_keys(word: str) -> tuple[str, str]:
    primary, tones = [], []
    for char in word:
        letter, tone = _split_letter(char)
        # Letters outside the alphabet sort after it, by code point.
        primary.append(_PRIMARY_CODE.get(letter) or "\x7b" + format(ord(char), "06x"))
        tones.append(tone)
    return "".join(primary), "".join(tones)


def vietnamese_sort_key(text: str) -> str:
    """A string whose plain (byte or code point) order is Vietnamese dictionary order.

    Words are compared one by one in the alphabet a ă â b c d đ e ê g h i k l m n o ô ơ p q r s
    t u ư v x y (digits first); tones (none, huyền, hỏi, ngã, sắc, nặng) only break ties.
    The key is ASCII, so a byte-ordered index field sorts by it.
    """
    words = tokenize(text)
    keys = [_word_keys(word) for word in words]
    primary = " ".join(key for key, _ in keys)
    secondary = " ".join(tones for _, tones in keys)
    return primary + "\x01" + secondary


def _byte_fold_tables() -> tuple[object, bytes]:
    """A charmap codec (one byte per character) and a byte table that folds those bytes.

    Bytes 0-127 are ASCII; 128-255 are the lowercase Vietnamese letters with marks, then other
    common Latin ones, each folded to its ASCII letter. Anything else encodes as "?".
    """
    vietnamese = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    others = [chr(code) for code in range(0xDF, 0x180)
              if chr(code) not in vietnamese and chr(code) == chr(code).lower()]
    letters = [char for char in [*vietnamese, *others]
               if len(fold(char)) == 1 and fold(char).isascii() and fold(char) != char][:128]
    padding = 128 - len(letters)
    decoding = "".join(map(chr, range(128))) + "".join(letters) + "\ufffe" * padding
    folding = bytes(range(128)) + bytes(ord(fold(char)) for char in letters) + b"?" * padding
    return codecs.charmap_build(decoding), folding


_CHARMAP, _BYTE_FOLD = _byte_fold_tables()


def folded_bytes(text: str) -> bytes:
    """``text`` lowercased and folded to ASCII, one byte per character (so offsets carry over).

    The fast path for highlighting long page text: letters outside the table become "?".
    """
    # "İ" is the one letter whose lowercase is longer ("i" + a combining dot).
    lowered = text.replace("\u0130", "I").lower()
    if len(lowered) != len(text):
        lowered = "".join(char.lower()[:1] for char in text)
    encoded, _ = codecs.charmap_encode(lowered, "replace", _CHARMAP)
    return encoded.translate(_BYTE_FOLD)
