"""Vietnamese analysis: NFC first, folding (đ included) that agrees with the index's own
ASCII folding, tokens, and the Vietnamese alphabetical sort key."""

from __future__ import annotations

import unicodedata

import pytest
import tantivy

from repository.search.analysis import (
    analyze,
    fold,
    fold_words,
    folded_bytes,
    normalize,
    tokenize,
    vietnamese_sort_key,
)
from repository.search.tantivy_backend import FOLDED, _analyzers
from tests.search.corpus import VIWIKI

VIETNAMESE_LETTERS = ("aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợ"
                      "pqrstuùủũúụưừửữứựvxyỳỷỹýỵ")


def test_decomposed_input_becomes_composed():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Du")
    assert decomposed != "Nguyễn Du" and normalize(decomposed) == "Nguyễn Du"
    assert tokenize(decomposed) == ["nguyễn", "du"]


@pytest.mark.parametrize(("text", "folded"), [
    ("Nguyễn Đình Chiểu", "Nguyen Dinh Chieu"), ("đường", "duong"), ("Ở", "O"),
    ("phở bò", "pho bo"), ("ƯỚC", "UOC"), ("İstanbul", "Istanbul"), ("straße", "strasse")])
def test_fold_removes_every_tone_and_vowel_mark(text, folded):
    assert fold(text) == folded


def test_words_keep_an_exact_and_a_folded_form():
    words = analyze("Bán BÀN ban, hà-tĩnh")
    assert [(word.exact, word.folded, word.marked) for word in words] == [
        ("bán", "ban", True), ("bàn", "ban", True), ("ban", "ban", False),
        ("hà", "ha", True), ("tĩnh", "tinh", True)]


def test_python_folding_agrees_with_the_index_analyzer_on_every_vietnamese_letter():
    index_folding = _analyzers()[FOLDED]
    for letter in VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper():
        assert index_folding.analyze(f"x{letter}x") == fold_words(f"x{letter}x"), letter


@pytest.mark.parametrize("article", ["hương sơn", "lê thánh tông", "du lịch việt nam"])
def test_python_tokens_agree_with_the_index_analyzers_on_real_text(article):
    # Vietnamese, Latin and Han text; Khmer or Devanagari vowel signs and IPA letters are where
    # Python and tantivy disagree (the backends analyze query words with the same Python code).
    text = (VIWIKI / f"{article}.txt").read_text(encoding="utf-8")
    analyzers = _analyzers()
    assert analyzers[FOLDED].analyze(text) == fold_words(text)
    exact = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(
        tantivy.Filter.remove_long(80)).filter(tantivy.Filter.lowercase()).build()
    assert exact.analyze(text) == tokenize(text)


def test_folded_bytes_keep_one_byte_per_character():
    text = "Đường Lâm, Ấp Bắc; İstanbul → Ωmega"
    folded = folded_bytes(text)
    assert len(folded) == len(text)
    assert folded.startswith(b"duong lam, ap bac; istanbul")


def test_sort_key_follows_the_vietnamese_alphabet():
    words = ["bạn", "an toàn", "Ăn", "anh", "ân", "bàn", "ban", "bán", "đá", "da", "dê", "ê",
             "e", "ơ", "ô", "o", "ư", "u", "thờ", "thơ", "thở", "1930", "Zalo", "y"]
    assert sorted(words, key=vietnamese_sort_key) == [
        "1930", "an toàn", "anh", "Ăn", "ân", "ban", "bàn", "bán", "bạn", "da", "dê", "đá", "e",
        "ê", "o", "ô", "ơ", "thơ", "thờ", "thở", "u", "ư", "y", "Zalo"]


def test_sort_key_is_ascii_so_a_byte_ordered_field_can_hold_it():
    assert vietnamese_sort_key("Đại Việt sử ký toàn thư").isascii()
    assert vietnamese_sort_key("") < vietnamese_sort_key("a")
