"""Helpers for the ingest tests: where the shared data is, pages rendered on the fly, CER."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

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


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance over the reference length, whitespace collapsed."""
    ref = " ".join(unicodedata.normalize("NFC", reference).split())
    hyp = " ".join(unicodedata.normalize("NFC", hypothesis).split())
    return levenshtein(ref, hyp) / max(1, len(ref))


def levenshtein(a: str, b: str) -> int:
    """Exact edit distance, bit-parallel (Myers/Hyyrö), as in bench/ocr_bench.py."""
    if not a:
        return len(b)
    full, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    masks: dict[str, int] = {}
    for index, char in enumerate(a):
        masks[char] = masks.get(char, 0) | (1 << index)
    plus, minus, score = full, 0, len(a)
    for char in b:
        eq = masks.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        ph = minus | (~(xh | plus) & full)
        mh = plus & xh
        score += 1 if ph & top else -1 if mh & top else 0
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        plus = mh | (~(xv | ph) & full)
        minus = ph & xv
    return score
