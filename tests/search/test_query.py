"""The forgiving query parser: the language readers type, and no input that makes it raise."""

from __future__ import annotations

import random

import pytest

from repository.search.query import (
    MAX_ATOMS,
    Phrase,
    Term,
    YearRange,
    parse_query,
)


def shape(text: str):
    """The parsed query as plain data: ((kind, words, field), ...) per group, then excluded."""
    def atom(item):
        if isinstance(item, Term):
            return ("term", item.word.exact, item.field)
        if isinstance(item, Phrase):
            return ("phrase", " ".join(word.exact for word in item.words), item.field)
        return ("year", item.start, item.end)
    parsed = parse_query(text)
    return ([[atom(item) for item in group] for group in parsed.required],
            [atom(item) for item in parsed.excluded])


@pytest.mark.parametrize(("text", "required", "excluded"), [
    ("nguyen du", [[("term", "nguyen", None)], [("term", "du", None)]], []),
    ("Nguyễn  DU", [[("term", "nguyễn", None)], [("term", "du", None)]], []),
    ('"truyện kiều" -thơ', [[("phrase", "truyện kiều", None)]], [("term", "thơ", None)]),
    ("a OR b c", [[("term", "a", None), ("term", "b", None)], [("term", "c", None)]], []),
    ("kieu | van", [[("term", "kieu", None), ("term", "van", None)]], []),
    ('title:"truyen kieu" creator:du',
     [[("phrase", "truyen kieu", "title")], [("term", "du", "creator")]], []),
    ("tacgia:du chude:tho nhande:kieu",
     [[("term", "du", "creator")], [("term", "tho", "subject")], [("term", "kieu", "title")]],
     []),
    ("year:1930..1945", [[("year", 1930, 1945)]], []),
    ("year:1945-1930", [[("year", 1930, 1945)]], []),
    ("year:..1900 -year:1850", [[("year", None, 1900)]], [("year", 1850, 1850)]),
    ("ha-tinh", [[("phrase", "ha tinh", None)]], []),
    ("http://x.vn", [[("phrase", "http x vn", None)]], []),
    ("NOT kieu van", [[("term", "van", None)]], [("term", "kieu", None)]),
    ("kieu AND van", [[("term", "kieu", None)], [("term", "van", None)]], []),
    ("“trăm năm”", [[("phrase", "trăm năm", None)]], []),
])
def test_query_language(text, required, excluded):
    assert shape(text) == (required, excluded)


@pytest.mark.parametrize(("text", "code"), [
    ('"unbalanced quote', "unbalanced_quote"), ("-", "lone_operator"), ("OR", "lone_operator"),
    ("kieu OR", "lone_operator"), ("OR kieu", "lone_operator"), ("a OR OR b", "lone_operator"),
    ("a OR -b", "lone_operator"), ("title:", "empty_field"), ("year:abc", "bad_year"),
    ("x " * 6_000, "shortened"), (" ".join(f"w{n}" for n in range(40)), "too_many_words")])
def test_repairs_are_reported(text, code):
    parsed = parse_query(text)
    assert code in {note.code for note in parsed.notes}
    assert all(note.text for note in parsed.notes)


def test_limits_hold_for_huge_input():
    parsed = parse_query("kiều " * 3_000)
    assert len(parsed.required) <= MAX_ATOMS


def test_empty_queries_mean_everything():
    for text in ("", "   ", "-", "OR", '""', "((( )))", "---"):
        assert parse_query(text).is_empty


def test_year_ranges_are_typed():
    assert parse_query("year:1930").required == ((YearRange(1930, 1930),),)


def test_random_input_never_raises():
    rng = random.Random(7)
    alphabet = 'ab đ ươ"-:ORyeartitle.()|*\\\x00\ud800\n\t' + "ẫ" * 3
    for _ in range(2_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        parse_query(text)
