"""Snippets and word boxes: folded like the index, HTML-safe, phrase-aware."""

from __future__ import annotations

import unicodedata

from repository.search import match_word_boxes, parse_query
from repository.search.highlight import make_snippet, mark_all


def test_snippet_marks_words_typed_without_marks():
    html = make_snippet("Làng cổ Đường Lâm ở Sơn Tây.", parse_query("duong lam"))
    assert html == "Làng cổ <mark>Đường</mark> <mark>Lâm</mark> ở Sơn Tây."


def test_snippet_escapes_html_and_keeps_marks_outside_the_escaping():
    html = make_snippet("<b>bán</b> & <script>x</script>", parse_query("ban script"))
    assert html == ("&lt;b&gt;<mark>bán</mark>&lt;/b&gt; &amp; &lt;<mark>script</mark>&gt;x"
                    "&lt;/<mark>script</mark>&gt;")


def test_snippet_marks_whole_words_only():
    assert make_snippet("thành phố", parse_query("anh")) is None
    assert make_snippet("nhà thanh", parse_query("thanh")) == "nhà <mark>thanh</mark>"


def test_snippet_marks_a_phrase_as_one_passage():
    html = make_snippet("Chữ tài chữ mệnh khéo là ghét nhau", parse_query('"chu tai chu menh"'))
    assert html.startswith("<mark>Chữ tài chữ mệnh</mark>")


def test_snippet_is_a_window_around_the_best_passage():
    text = "mở đầu " * 80 + "Nguyễn Du viết Truyện Kiều" + " kết thúc" * 80
    html = make_snippet(text, parse_query("nguyen du kieu"), max_chars=120)
    assert html.startswith("…") and html.endswith("…") and len(html) < 220
    assert "<mark>Nguyễn</mark> <mark>Du</mark>" in html and "<mark>Kiều</mark>" in html


def test_fields_and_exclusions_are_not_marked_in_page_text():
    assert make_snippet("Kiều và thơ", parse_query("title:kieu -tho")) is None


def test_mark_all_for_titles():
    assert mark_all("Truyện Kiều", parse_query("kieu")) == "Truyện <mark>Kiều</mark>"
    assert mark_all("A < B", parse_query("zzz")) == "A &lt; B"


def test_word_boxes_use_the_same_folding():
    words = [("Nguyễn", 10, 10, 60, 20), ("Du,", 62, 10, 80, 20), ("viết", 82, 10, 110, 20),
             (unicodedata.normalize("NFD", "Kiều."), 10, 30, 50, 40), ("Du", 52, 30, 70, 40)]
    assert match_word_boxes(words, parse_query("nguyen du")) == [words[0], words[1], words[4]]
    assert match_word_boxes(words, parse_query('"nguyen du"')) == [words[0], words[1]]
    assert match_word_boxes(words, parse_query("KIỀU")) == [words[3]]
    assert match_word_boxes(words, parse_query("title:kieu")) == []


def test_word_boxes_follow_a_phrase_across_a_line_break():
    words = [("Đồng", 0, 0, 1, 1), ("bằng", 0, 0, 1, 1), ("sông", 0, 2, 1, 3),
             ("Cửu", 0, 2, 1, 3), ("Long", 0, 2, 1, 3), ("sông", 0, 4, 1, 5)]
    assert match_word_boxes(words, parse_query('"dong bang song cuu long"')) == words[:5]
