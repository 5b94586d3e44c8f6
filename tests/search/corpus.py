"""The test collection: a few real Vietnamese Wikipedia articles cut into pages, and small
hand-made items for the precise cases (marks, phrases, access, escaping, sorting)."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

from repository.search import ItemDocument, PageDocument

VIWIKI = Path("/work/shared/data/vi-text/viwiki")
OPEN = {"metadata_principals": frozenset({"any"}), "view_principals": frozenset({"any"}),
        "access": "open"}
READERS_ONLY = {"metadata_principals": frozenset({"any"}),
                "view_principals": frozenset({"readers"}), "access": "readers"}
ONSITE_TEXT = {"metadata_principals": frozenset({"any"}),
               "view_principals": frozenset({"onsite"}), "access": "onsite"}
STAFF_ONLY = {"metadata_principals": frozenset({"staff"}),
              "view_principals": frozenset({"staff"}), "access": "staff"}
EMBARGO_DAY = date(2030, 1, 1)

ARTICLES = {  # item id: (file, year, collection, type, languages)
    101: ("du lịch việt nam", 2015, "dia-chi", "sách", ("vi",)),
    102: ("hương sơn", 1938, "dia-chi", "sách", ("vi",)),
    103: ("lê thánh tông", 1942, "lich-su", "báo", ("vi", "fr")),
    104: ("an giang", 1931, "dia-chi", "tạp chí", ("vi",)),
}


def article_pages(name: str, page_chars: int = 1_500) -> list[str]:
    """The article cut into pages at paragraph ends, each about ``page_chars`` long."""
    pages, current = [], ""
    for paragraph in (VIWIKI / f"{name}.txt").read_text(encoding="utf-8").split("\n"):
        current = f"{current}\n{paragraph}" if current else paragraph
        if len(current) >= page_chars:
            pages.append(current)
            current = ""
    return pages + ([current] if current.strip() else [])


def _item(item_id: int, title: str, pages: list[str], **facts) -> tuple[ItemDocument,
                                                                         list[PageDocument]]:
    item = ItemDocument(item_id=item_id, title=title, **facts)
    return item, [item.page(number, text) for number, text in enumerate(pages, start=1)]


def real_articles() -> list[tuple[ItemDocument, list[PageDocument]]]:
    return [_item(item_id, name.title(), article_pages(name), year=year, collection=collection,
                  type=kind, languages=languages, creators=("Wikipedia",), **OPEN)
            for item_id, (name, year, collection, kind, languages) in ARTICLES.items()]


def hand_made() -> list[tuple[ItemDocument, list[PageDocument]]]:
    return [
        _item(201, "Truyện Kiều", [
            "Trăm năm trong cõi người ta, chữ tài chữ mệnh khéo là ghét nhau.",
            "Trải qua một cuộc bể dâu, những điều trông thấy mà đau đớn lòng.",
            "Kiều càng sắc sảo mặn mà, so bề tài sắc lại là phần hơn."],
            creators=("Nguyễn Du",), subjects=("Thơ lục bát",), year=1820,
            collection="van-hoc", type="sách", languages=("vi",), **OPEN),
        _item(202, "Bán hàng ở chợ quê", ["Người bán hàng ngồi ở chợ quê từ sáng sớm."],
              year=1951, collection="doi-song", type="sách", **OPEN),
        _item(203, "Bàn gỗ ở chợ quê", ["Cái bàn gỗ đặt ở chợ quê từ sáng sớm."],
              year=1952, collection="doi-song", type="sách", **OPEN),
        _item(204, "Ban nhạc ở chợ quê", ["Một ban nhạc chơi ở chợ quê từ sáng sớm."],
              year=1953, collection="doi-song", type="sách", **OPEN),
        _item(205, unicodedata.normalize("NFD", "Thơ chữ Nôm của Nguyễn Khuyến"),
              [unicodedata.normalize("NFD", "Nguyễn Khuyến viết bài Thu điếu ở làng Vị Hạ.")],
              year=1900, collection="van-hoc", type="sách", **OPEN),
        _item(206, "Ăn Tết ở làng cổ Đường Lâm", [
            "Làng cổ Đường Lâm ở Sơn Tây có cổng làng và đình Mông Phụ.",
            "Mã nguồn <script>alert('xss')</script> & chữ Nôm không được chạy."],
              year=1999, collection="dia-chi", type="ảnh", **OPEN),
        _item(207, "Âm nhạc dân gian", ["Ca trù và quan họ là âm nhạc dân gian."],
              year=1970, collection="van-hoc", type="sách", **OPEN),
        _item(208, "Địa chí Hà Tĩnh", ["Địa chí tỉnh Hà Tĩnh chép về núi Hồng Lĩnh."],
              year=1935, collection="dia-chi", type="sách", languages=("vi",), **OPEN),
    ]


def guarded() -> list[tuple[ItemDocument, list[PageDocument]]]:
    return [
        _item(301, "Mật bản huyềnbí", ["Trang huyềnbí chỉ nhân viên được xem."],
              year=1930, collection="kho-mat", type="bản thảo", **STAFF_ONLY),
        _item(302, "Bản đồ Hà Tĩnh xưa", ["Toạ độ mậtmã của bản đồ cổ."],
              year=1936, collection="ban-do", type="bản đồ", **ONSITE_TEXT),
        _item(303, "Hồi ký chưa công bố", ["Kýức của người lính năm xưa."],
              year=1975, collection="hoi-ky", type="sách", embargo_until=EMBARGO_DAY, **OPEN),
        _item(304, "Sách bạn đọc", ["Nội dung thưviện dành cho bạn đọc đã đăng ký."],
              year=1960, collection="van-hoc", type="sách", **READERS_ONLY),
    ]


def collection() -> list[tuple[ItemDocument, list[PageDocument]]]:
    return real_articles() + hand_made() + guarded()
