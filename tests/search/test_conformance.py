"""The contract every search backend keeps: Vietnamese matching and ranking, the query
language, facets, sorting, paging, forgiving parsing, and access applied inside the query."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

import pytest

from repository.search import AccessFilter, ItemDocument, SearchRequest, Sort
from repository.search.analysis import vietnamese_sort_key
from tests.search.corpus import EMBARGO_DAY, collection

READER = AccessFilter(frozenset({"any", "readers"}))
GUEST = AccessFilter(frozenset({"any"}))
ONSITE = AccessFilter(frozenset({"any", "onsite"}))
STAFF = AccessFilter.staff()


def search(backend, query="", access=READER, **options):
    return backend.search(SearchRequest(query, **options), access)


def ids(result) -> list[int]:
    return [hit.item_id for hit in result.hits]


def all_ids(backend, query, access=READER, **options) -> set[int]:
    return set(ids(search(backend, query, access, per_page=100, **options)))


@pytest.mark.parametrize("typed", [
    "nguyen du", "Nguyễn Du", "NGUYỄN DU", unicodedata.normalize("NFD", "Nguyễn Du"),
    "nguyễn du", "Nguyen Du"])
def test_nguyen_du_is_found_however_it_is_typed(loaded, typed):
    result = search(loaded, typed)
    assert ids(result)[0] == 201
    assert result.hits[0].title == "Truyện Kiều"


def test_decomposed_text_in_the_index_matches_composed_queries(loaded):
    assert 205 in all_ids(loaded, "Nguyễn Khuyến thu điếu")
    assert 205 in all_ids(loaded, "nguyen khuyen")
    hit = next(hit for hit in search(loaded, "thu dieu").hits if hit.item_id == 205)
    assert hit.title == "Thơ chữ Nôm của Nguyễn Khuyến"  # stored NFC
    assert "<mark>Thu</mark> <mark>điếu</mark>" in hit.snippets[0].html


@pytest.mark.parametrize(("query", "expected"), [
    ("duong lam", 206), ("dia chi ha tinh", 208), ("Địa chí Hà Tĩnh", 208),
    ("hong linh", 208), ("am nhac dan gian", 207), ("lang co", 206)])
def test_phone_typing_without_marks_finds_the_right_item_first(loaded, query, expected):
    assert ids(search(loaded, query))[0] == expected


def test_real_articles_are_found_by_words_without_marks(loaded):
    assert 102 in all_ids(loaded, "huong son ha tinh")
    assert 104 in all_ids(loaded, "long xuyen chau doc")


def test_exact_marks_rank_above_folded_matches(loaded):
    assert ids(search(loaded, "bán chợ"))[0] == 202
    assert ids(search(loaded, "bàn chợ"))[0] == 203
    assert {202, 203, 204} <= all_ids(loaded, "ban cho que")


def test_phrase_needs_the_words_in_order_on_one_page(loaded):
    result = search(loaded, '"chu tai chu menh"')
    assert ids(result) == [201]
    assert result.hits[0].pages == (1,)
    assert "<mark>chữ tài chữ mệnh</mark>" in result.hits[0].snippets[0].html
    assert search(loaded, '"menh chu tai"').total == 0
    # "trăm năm" is on page 1 and "bể dâu" on page 2: no page holds the phrase across them
    assert search(loaded, '"nhau trai qua"').total == 0


def test_or_finds_either_word(loaded):
    either = all_ids(loaded, "huyền OR quan họ")
    assert {207} <= either
    left, right = all_ids(loaded, "đàn"), all_ids(loaded, "ca trù")
    assert all_ids(loaded, "đàn OR \"ca trù\"") == left | right


def test_excluded_word_removes_items(loaded):
    market = {"collection": frozenset({"doi-song"})}
    assert all_ids(loaded, "chợ quê", filters=market) == {202, 203, 204}
    assert all_ids(loaded, "chợ quê -nhạc", filters=market) == {202, 203}
    assert all_ids(loaded, 'chợ -"ban nhạc"', filters=market) == {202, 203}
    assert all_ids(loaded, "-chợ", filters=market) == set()


def test_fields_limit_words_to_title_creator_subject(loaded):
    assert all_ids(loaded, "title:kieu") == {201}
    assert all_ids(loaded, 'creator:"nguyen du"') == {201}
    assert all_ids(loaded, "subject:luc bat") == {201}
    assert all_ids(loaded, "tacgia:wikipedia") == {101, 102, 103, 104}
    assert 101 not in all_ids(loaded, "title:nguyen")


def test_year_ranges(loaded):
    assert all_ids(loaded, "year:1930..1945", GUEST) == {102, 103, 104, 208, 302}
    assert all_ids(loaded, "year:1820") == {201}
    assert all_ids(loaded, "year:..1900") == {201, 205}
    assert all_ids(loaded, "year:1951..1952 chợ") == {202, 203}


def test_facets_count_distinct_items_and_stay_disjunctive(loaded):
    result = search(loaded, "", GUEST)
    counts = {value.value: value.count for value in result.facets["collection"]}
    assert counts["dia-chi"] == 5 and counts["van-hoc"] == 4
    assert "kho-mat" not in counts  # a staff-only item is not even counted
    assert {value.value: value.count for value in result.facets["language"]}["fr"] == 1
    filtered = search(loaded, "", GUEST, filters={"collection": frozenset({"dia-chi"})})
    assert filtered.total == 5
    still_listed = {value.value: value for value in filtered.facets["collection"]}
    assert still_listed["dia-chi"].selected and still_listed["van-hoc"].count == 4
    decades = {value.value: value.count for value in filtered.facets["decade"]}
    assert decades == {"1930": 3, "1990": 1, "2010": 1}


def test_facet_filters_combine(loaded):
    filters = {"collection": frozenset({"dia-chi", "lich-su"}), "decade": frozenset({"1940"})}
    assert all_ids(loaded, "", filters=filters) == {103}
    assert all_ids(loaded, "", filters={"type": frozenset({"báo", "ảnh"})}) == {103, 206}


def test_sort_by_title_follows_the_vietnamese_alphabet(loaded):
    titles = [hit.title for hit in search(loaded, "", GUEST, sort=Sort.TITLE, per_page=100).hits]
    assert titles == sorted(titles, key=vietnamese_sort_key)
    assert titles.index("Ăn Tết ở làng cổ Đường Lâm") < titles.index("Âm nhạc dân gian")
    assert titles.index("Âm nhạc dân gian") < titles.index("Bàn gỗ ở chợ quê")
    assert titles.index("Du Lịch Việt Nam") < titles.index("Địa chí Hà Tĩnh")


def test_sort_by_date(loaded):
    market = {"collection": frozenset({"doi-song"})}
    newest = [hit.year for hit in search(loaded, "chợ", sort=Sort.NEWEST, filters=market).hits]
    assert newest == [1953, 1952, 1951]
    oldest = [hit.year for hit in search(loaded, "", sort=Sort.OLDEST, per_page=3).hits]
    assert oldest == [1820, 1900, 1931]


def test_paging_walks_every_item_once(loaded):
    everything = search(loaded, "", READER, sort=Sort.TITLE, per_page=100)
    walked = []
    for page in range(1, everything.total // 4 + 2):
        result = search(loaded, "", READER, sort=Sort.TITLE, per_page=4, page=page)
        assert result.total == everything.total
        assert result.last_page == -(-everything.total // 4)
        walked += ids(result)
    assert walked == ids(everything)
    assert search(loaded, "", per_page=4, page=10_000).hits == ()


@pytest.mark.parametrize(("query", "note"), [
    ('"chu tai chu menh', "unbalanced_quote"), ("-", "lone_operator"),
    ("OR", "lone_operator"), ("kieu OR", "lone_operator"), ("title:", "empty_field"),
    ("year:abc", "bad_year"), ("kiều " * 2_500, "shortened"), ("x" * 10_240, "shortened"),
    ('""""" ((( ::: ---', None), ("\x00\ud800 kieu", None), ("title:kieu OR OR -", None)])
def test_bad_queries_get_an_answer_and_a_note(loaded, query, note):
    result = search(loaded, query)
    assert result.total >= 0
    if note:
        assert note in {found.code for found in result.notes}


def test_restricted_item_is_invisible_in_hits_counts_facets_and_snippets(loaded):
    for access in (GUEST, READER, ONSITE):
        result = search(loaded, "huyềnbí", access)
        assert (result.total, result.hits) == (0, ())
        everything = search(loaded, "", access)
        assert 301 not in all_ids(loaded, "", access)
        assert all(value.value != "kho-mat" for value in everything.facets["collection"])
        assert all(value.value != "staff" for value in everything.facets["access"])
    assert all_ids(loaded, "huyềnbí", STAFF) == {301}


def test_page_text_needs_the_right_to_view_pages(loaded):
    assert search(loaded, "mậtmã", GUEST).total == 0  # words only on the on-site item's page
    found = search(loaded, 'title:"bản đồ hà tĩnh xưa"', GUEST)
    assert ids(found) == [302]  # its metadata is public
    assert found.hits[0].snippets == () and found.hits[0].pages == ()
    onsite = search(loaded, "mậtmã", ONSITE)
    assert ids(onsite) == [302] and "<mark>mậtmã</mark>" in onsite.hits[0].snippets[0].html
    assert search(loaded, "thưviện", GUEST).total == 0
    assert ids(search(loaded, "thưviện", READER)) == [304]


def test_excluding_a_word_of_hidden_page_text_reveals_nothing(loaded):
    assert 302 in all_ids(loaded, "bản đồ -mậtmã", GUEST)
    assert 302 not in all_ids(loaded, "bản đồ -mậtmã", ONSITE)


def test_embargo_hides_an_item_until_its_day(loaded):
    before = AccessFilter(frozenset({"any"}), today=date(2029, 12, 31))
    on_the_day = AccessFilter(frozenset({"any"}), today=EMBARGO_DAY)
    assert search(loaded, "hồi ký kýức", before).total == 0
    assert 303 not in all_ids(loaded, "", before)
    assert ids(search(loaded, "hồi ký kýức", on_the_day)) == [303]
    assert ids(search(loaded, "kýức", AccessFilter.staff(date(2020, 1, 1)))) == [303]


def test_snippets_are_html_escaped(loaded):
    hit = search(loaded, "script chữ nôm").hits[0]
    assert hit.item_id == 206
    html = " ".join(snippet.html for snippet in hit.snippets)
    assert "<script>" not in html and "&lt;<mark>script</mark>&gt;" in html
    assert "&amp;" in html and "&#x27;xss&#x27;" in html


def test_hits_carry_snippets_with_their_page_numbers(loaded):
    hit = search(loaded, "kieu").hits[0]
    assert hit.item_id == 201 and hit.title_html == "Truyện <mark>Kiều</mark>"
    assert [snippet.page for snippet in hit.snippets] == [3]
    assert hit.pages == (3,) and hit.page_count == 1 and hit.best_page == 3
    long_item = next(hit for hit in search(loaded, "an giang").hits if hit.item_id == 104)
    assert long_item.page_count > 3 and len(long_item.snippets) == 3
    assert list(long_item.pages) == sorted(long_item.pages)
    assert {snippet.page for snippet in long_item.snippets} <= set(long_item.pages)


def test_total_counts_items_not_pages(loaded):
    result = search(loaded, "an giang")
    assert result.total == len(all_ids(loaded, "an giang"))
    assert len(set(ids(result))) == len(ids(result))


def test_search_inside_lists_pages_in_order_with_snippets(loaded):
    inside = loaded.search_inside(104, "long xuyen", READER)
    numbers = [page.number for page in inside.pages]
    assert numbers == sorted(numbers) and inside.total == len(numbers) > 1
    assert all("<mark>" in page.snippet for page in inside.pages)
    assert loaded.search_inside(302, "mậtmã", GUEST).total == 0
    assert loaded.search_inside(302, "mậtmã", ONSITE).pages[0].number == 1
    assert loaded.search_inside(301, "huyềnbí", READER).total == 0
    assert loaded.search_inside(201, "-", READER).total == 0


def test_delete_and_reindex_an_item(backend):
    item, pages = next(entry for entry in collection() if entry[0].item_id == 201)
    backend.index(item, pages)
    assert ids(search(backend, "bể dâu")) == [201]
    backend.index(item, [item.page(1, "Trang mới về Lục Vân Tiên.")])
    assert search(backend, "bể dâu").total == 0
    assert ids(search(backend, "luc van tien")) == [201]
    assert backend.search_inside(201, "bể dâu", READER).total == 0
    backend.delete(201)
    assert search(backend, "luc van tien").total == 0 and search(backend, "").total == 0
    backend.delete(201)  # deleting twice is fine


def test_clear_empties_the_index(backend):
    backend.index_many(collection()[:3])
    assert search(backend, "", STAFF).total == 3
    backend.clear()
    assert search(backend, "", STAFF).total == 0


def test_words_of_other_scripts_are_found(backend):
    item = ItemDocument(9, "An Giang", metadata_principals=frozenset({"any"}),
                        view_principals=frozenset({"any"}))
    backend.index(item, [item.page(1, "Tên Khmer: ខេត្តមាត់ជ្រូក; chữ Hán: 安江; Ελλάδα")])
    for word in ("ខេត្តមាត់ជ្រូក", "安江", "ελλάδα"):
        assert ids(search(backend, word)) == [9], word


def test_random_queries_never_raise(loaded):
    rng = random.Random(11)
    alphabet = 'ab đ ươ"-:ORyeartitle.()|*\\\n' + "ẫ" * 3
    for _ in range(100):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert search(loaded, text).total >= 0


def test_an_item_about_a_word_ranks_above_one_that_mentions_it(backend):
    """Neither title holds the word: the ranking comes from the page text alone."""
    def book(item_id, title, pages):
        item = ItemDocument(item_id, title, metadata_principals=frozenset({"any"}),
                            view_principals=frozenset({"any"}))
        return item, [item.page(number, text) for number, text in enumerate(pages, 1)]
    filler = "Mùa xuân năm ấy làng tổ chức hội đình, trai gái đi xem rất đông."
    about = "Nghề gốm Bát Tràng có từ lâu; gốm men lam và gốm men rạn nổi tiếng."
    backend.index_many([
        book(1, "Chuyện làng", [filler] * 9 + [about]),
        book(2, "Làng nghề ven sông", [about] * 8 + [filler] * 2),
        book(3, "Hội làng", [filler] * 10)])
    result = search(backend, "gốm")
    assert ids(result) == [2, 1]
    assert result.hits[0].page_count == 8 and result.hits[1].pages == (10,)
