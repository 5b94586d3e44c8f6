"""The whole bad-input corpus: every file ends in success or one typed error, never a traceback.

Each file goes through identify, validate and one page's work (normalize for images; text and a
render for PDFs), as a worker would, two files at a time. The tally by outcome is printed in
the terminal summary.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import identify, images, pdf
from ingest.context import Options, PageContext
from ingest.errors import ALL_ERRORS, IngestError, UnexpectedError
from ingest.limits import Limits
from tests.ingest.conftest import TALLY_KEY
from tests.ingest.helpers import BAD

LIMITS = Limits(seconds=15, memory_mb=1024)
PER_FILE_SECONDS = 3 * LIMITS.seconds  # three guarded steps at most
OPTIONS = Options(limits=LIMITS, dpi=72)  # a small render is enough to prove the page decodes
ALLOWED = {"ok"} | {error.code for error in ALL_ERRORS} - {UnexpectedError.code}
EXPECTED = {
    "pdf/qpdf/bad1.pdf": "corrupt",
    "pdf/pypdf/crazyones.pdf": "ok",
    "pdf/pypdf/libreoffice-writer-password.pdf": "encrypted",
    "pdf/pypdf/encryption/r6-owner-password.pdf": "ok",
    "pdf/pypdf/Seige_of_Vicksburg_Sample_OCR.pdf": "ok",
    "images/pillow_bad/truncated_jpeg.jpg": "truncated",
    "images/pillow_bad/png_decompression_dos.png": "too-large",
    "images/pillow_bad/decompression_bomb.gif": "unsupported",
    "images/pillow_bad/broken_exif_dpi.jpg": "ok",  # bad EXIF must not lose a good image
    "pdf/py-pdf-sample-files/files.json": "unsupported",
}


@dataclass(frozen=True)
class Outcome:
    name: str
    code: str
    message: str
    seconds: float


def check_file(path: Path) -> Outcome:
    """What a worker does with one upload, reduced to its outcome."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        try:
            _ingest_first_page(path, Path(work))
            code, message = "ok", ""
        except IngestError as error:
            code, message = error.code, error.message
        except Exception as error:  # the test fails on these: reported, not raised, from a pool
            code, message = "UNCAUGHT", f"{type(error).__name__}: {error}"
    return Outcome(str(path.relative_to(BAD)), code, message, time.monotonic() - started)


def _ingest_first_page(path: Path, work: Path) -> None:
    found = identify.identify(path, LIMITS)
    identify.validate(found, LIMITS)
    ctx = PageContext(work_dir=work, source=path, kind=found.kind, options=OPTIONS)
    if found.is_pdf:
        pdf.page_text(ctx)
        pdf.render_page(ctx)
    else:
        images.normalize(ctx)


@pytest.fixture(scope="module")
def outcomes(request) -> list[Outcome]:
    files = sorted(path for path in BAD.rglob("*") if path.is_file())
    with ProcessPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(check_file, files))
    request.config.stash[TALLY_KEY] = Counter(outcome.code for outcome in found)
    return found


def test_the_corpus_is_there(outcomes):
    assert len(outcomes) >= 150


def test_every_file_ends_in_success_or_a_typed_error(outcomes):
    strays = [f"{o.name}: {o.code} {o.message}" for o in outcomes if o.code not in ALLOWED]
    assert not strays, "\n".join(strays)


def test_every_refusal_says_why(outcomes):
    assert all(len(outcome.message) > 15 for outcome in outcomes if outcome.code != "ok")


def test_every_file_finishes_within_the_limit(outcomes):
    slow = [f"{o.name}: {o.seconds:.1f}s" for o in outcomes if o.seconds > PER_FILE_SECONDS]
    assert not slow, "\n".join(slow)


@pytest.mark.parametrize(("name", "code"), sorted(EXPECTED.items()))
def test_known_files_end_as_expected(outcomes, name, code):
    (outcome,) = [outcome for outcome in outcomes if outcome.name == name]
    assert outcome.code == code, outcome.message
