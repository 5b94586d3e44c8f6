"""parse_hocr: words and lines with boxes and confidences, from hOCR as Tesseract writes it."""

from __future__ import annotations

import json

from ingest.hocr import parse_hocr

SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta name='ocr-system' content='tesseract'/>
</head><body>
 <div class='ocr_page' id='page_1' title='image "p.png"; bbox 0 0 1200 800; ppageno 0'>
  <div class='ocr_carea' id='block_1_1' title="bbox 100 90 900 300">
   <p class='ocr_par' id='par_1_1' lang='vie' title="bbox 100 90 900 300">
    <span class='ocr_header' id='line_1_1' title="bbox 100 90 700 140; baseline 0 -8">
     <span class='ocrx_word' id='word_1_1' title='bbox 100 90 260 140; x_wconf 96'>Thư</span>
     <span class='ocrx_word' id='word_1_2' title='bbox 280 90 450 140; x_wconf 91'>viện</span>
    </span>
    <span class='ocr_line' id='line_1_2' title="bbox 100 200 900 300; baseline 0 -8">
     <span class='ocrx_word' id='word_1_3' title='bbox 100 200 300 300; x_wconf 60.5'
      ><strong>Hà</strong></span>
     <span class='ocrx_word' id='word_1_4' title='bbox 320 200 900 300; x_wconf 80'>Nội&amp;</span>
     <span class='ocrx_word' id='word_1_5' title='bbox 910 200 920 300; x_wconf 10'> </span>
    </span>
   </p>
  </div>
 </div>
</body></html>
"""


def test_words_carry_text_box_and_confidence():
    page = parse_hocr(SAMPLE)
    assert (page.width, page.height) == (1200, 800)
    assert page.words[0] == {"text": "Thư", "bbox": [100, 90, 260, 140], "conf": 96.0}
    assert [word["text"] for word in page.words] == ["Thư", "viện", "Hà", "Nội&"]


def test_lines_join_their_words_header_lines_included():
    page = parse_hocr(SAMPLE)
    assert page.lines == [
        {"text": "Thư viện", "bbox": [100, 90, 700, 140], "conf": 93.5},
        {"text": "Hà Nội&", "bbox": [100, 200, 900, 300], "conf": 70.25},
    ]
    assert page.text == "Thư viện\nHà Nội&"
    assert page.confidence == 81.88


def test_the_structure_is_json():
    page = parse_hocr(SAMPLE.encode("utf-8"))
    assert json.loads(json.dumps(page.to_json()))["size"] == [1200, 800]


def test_an_empty_page_has_no_words():
    page = parse_hocr("<div class='ocr_page' title='bbox 0 0 10 10'></div>")
    assert page.words == [] and page.lines == [] and page.confidence == 0.0
