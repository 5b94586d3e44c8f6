"""Helpers for the ingest tests: where the shared data is, pages rendered on the fly, CER."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ingest.quality import cer  # noqa: F401 - the tests import it from here
from tests.backends import SHARED

DATA = Path(SHARED) / "data"
PILLOW = DATA / "images" / "pillow"
BAD = DATA / "bad-inputs"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
VIETNAMESE = (
    "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam.\n"
    "Thư viện tỉnh lưu giữ nhiều sách báo cũ, bản đồ và tài liệu quý.\n"
    "Năm 1945, tờ báo đầu tiên được in bằng chữ quốc ngữ ở đây.\n"
    "Người đọc có thể tìm kiếm văn bản trên từng trang đã quét."
)


def render_page(text: str, dpi: int = 300, points: int = 12, margin_in: float = 0.5) -> Image.Image:
    """Text set in DejaVu Sans at ``dpi``, one line per line of ``text``, black on white."""
    font = ImageFont.truetype(FONT, round(points * dpi / 72))
    lines = unicodedata.normalize("NFC", text).splitlines()
    margin, pitch = round(margin_in * dpi), round(points * dpi / 72 * 1.6)
    width = max(round(font.getlength(line)) for line in lines) + 2 * margin
    page = Image.new("L", (width, pitch * len(lines) + 2 * margin), 255)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(lines):
        draw.text((margin, margin + number * pitch), line, font=font, fill=0)
    return page

