"""Reading: the IIIF manifest and content search, the PDF with ranges and watermarks, originals,
the viewer page and the item page's access statement, each right asked of the policy."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from repository.models import FileRole
from repository.reading import PageRef, PageWords, canvas_boxes
from tests.conftest import make_test_app
from tests.iiif.helpers import BufferedClient
from tests.viewer.reader_helpers import CARD, PASSWORD, TITLE, Book, reading_library
from viewer import reader, vendor
from viewer.extensions import parts


@dataclass
class Library:
    app: object
    books: dict[str, Book]

    def client(self, username: str | None = None, english: bool = True):
        client = self.app.test_client()
        if english:
            client.get("/lang/en?next=/")
        if username:
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, username
        return client


@pytest.fixture(scope="module")
def library(tmp_path_factory, sqlite_template):
    work = tmp_path_factory.mktemp("reader")
    shutil.copy(sqlite_template, work / "khoso.sqlite3")
    app = make_test_app(work, f"sqlite:///{work / 'khoso.sqlite3'}")
    for blueprint in (reader.bp, vendor.bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)
    app.test_client_class = BufferedClient
    with app.app_context(), parts().db.session() as session:
        books = reading_library(session, parts().store, work)
    yield Library(app, books)
    app.extensions["khoso"].db.dispose()


def url(library: Library, name: str, path: str) -> str:
    return path.format(handle=library.books[name].handle)


# -- IIIF Presentation 3.0 --------------------------------------------------------------------

def test_manifest_is_valid_presentation_3(library):
    prezi = pytest.importorskip("iiif_prezi3", reason="pip install iiif-prezi3")
    for name in ("open", "view-only"):
        document = library.client().get(url(library, name, "/iiif/3/{handle}/manifest")).json
        manifest = prezi.Manifest(**document)
        assert len(manifest.items) == 3


def test_manifest_has_labels_canvases_search_and_pdf(library):
    response = library.client().get(url(library, "open", "/iiif/3/{handle}/manifest"))
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.json
    assert document["@context"] == "http://iiif.io/api/presentation/3/context.json"
    assert document["label"] == {"vi": [TITLE], "en": ["Gazetteer"]}
    assert [(canvas["width"], canvas["height"]) for canvas in document["items"]] == [
        (600, 850), (1200, 700), (600, 850)]
    image = document["items"][1]["items"][0]["items"][0]["body"]
    assert image["service"][0]["id"].endswith(f"/iiif/3/{library.books['open'].uids[1]}")
    assert image["service"][0]["type"] == "ImageService3"
    assert document["service"] == [{"id": document["id"].replace("/manifest", "/search"),
                                    "type": "SearchService2"}]
    assert document["rendering"][0]["format"] == "application/pdf"
    labels = {entry["label"]["en"][0] for entry in document["metadata"]}
    assert {"Creator", "Date", "Language"} <= labels


def test_manifest_offers_the_pdf_only_when_anyone_may_download_it(library):
    response = library.client().get(url(library, "view-only", "/iiif/3/{handle}/manifest"))
    assert response.status_code == 200 and "rendering" not in response.json


def test_manifest_of_open_item_is_shared_and_restricted_one_private(library):
    shared = library.client().get(url(library, "open", "/iiif/3/{handle}/manifest"))
    assert shared.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in shared.headers["Cache-Control"]
    path = url(library, "readers", "/iiif/3/{handle}/manifest")
    assert library.client().get(path).status_code == 401
    private = library.client("docgia").get(path)
    assert private.status_code == 200
    assert "private" in private.headers["Cache-Control"] and "Cookie" in private.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in private.headers
    assert library.client("docgia").get(
        url(library, "staff", "/iiif/3/{handle}/manifest")).status_code == 403


def test_manifest_answers_304_and_plain_json_on_request(library):
    client = library.client()
    path = url(library, "open", "/iiif/3/{handle}/manifest")
    first = client.get(path)
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    plain = client.get(path, headers={"Accept": "application/json"})
    assert plain.mimetype == "application/json"


def test_manifest_route_is_not_taken_by_the_image_routes(library):
    adapter = library.app.url_map.bind("localhost")
    assert adapter.match("/iiif/3/abcdefghjkmn/manifest")[0] == "reader.iiif_manifest"
    uid = library.books["open"].uids[0]
    assert adapter.match(f"/iiif/3/{uid}/info.json")[0] == "iiif_image.info"


# -- IIIF Content Search 2.0 and word boxes ---------------------------------------------------

@pytest.mark.parametrize("query", ["Tiên Du", "tien du", "TIEN DU"])
def test_content_search_finds_word_boxes_with_or_without_tone_marks(library, query):
    response = library.client().get(url(library, "open", "/iiif/3/{handle}/search"),
                                    query_string={"q": query})
    assert response.status_code == 200
    document = response.json
    assert document["@context"] == "http://iiif.io/api/search/2/context.json"
    assert document["type"] == "AnnotationPage"
    canvas = f"/iiif/3/{library.books['open'].handle}/canvas/{library.books['open'].uids[1]}"
    targets = {item["body"]["value"]: item["target"] for item in document["items"]}
    assert targets["Tiên"].endswith(f"{canvas}#xywh=453,176,88,32")
    assert all(item["motivation"] == "supplementing" for item in document["items"])
    quote = document["annotations"][0]["items"][0]["target"]["selector"][0]
    assert quote["type"] == "TextQuoteSelector" and quote["exact"].lower().startswith("tiên")


def test_content_search_without_hits_and_ignored_parameters(library):
    client = library.client()
    path = url(library, "open", "/iiif/3/{handle}/search")
    assert client.get(path, query_string={"q": "khongcotu"}).json["items"] == []
    answer = client.get(path, query_string={"q": "làng", "motivation": "painting"}).json
    assert answer["ignored"] == ["motivation"] and answer["items"]
    assert library.client().get(url(library, "staff", "/iiif/3/{handle}/search"),
                                query_string={"q": "làng"}).status_code == 401


def test_words_of_a_page_for_the_viewer(library):
    client = library.client()
    matched = client.get(url(library, "open", "/items/{handle}/pages/2/words"),
                         query_string={"q": "nguyen du"}).json
    assert [word["text"] for word in matched["words"]] == ["Du", "Nguyễn", "Du"]
    everything = client.get(url(library, "open", "/items/{handle}/pages/2/words")).json
    assert len(everything["words"]) == 29 and everything["width"] == 1200
    assert client.get(url(library, "open", "/items/{handle}/pages/9/words")).status_code == 404


def test_word_boxes_are_scaled_to_the_canvas():
    page = PageRef(1, "u", 1, "1", width=600, height=350)
    source = PageWords(1200, 700, (("Tiên", 453, 176, 541, 208),))
    (box,) = canvas_boxes(source.words, source, page)
    assert (box.x, box.y, box.w, box.h) == (226, 88, 44, 16)


# -- the PDF: ranges, validators, names, rights, watermark ------------------------------------

def test_pdf_is_streamed_with_ranges_and_validators(library):
    client = library.client()
    path = url(library, "open", "/items/{handle}/document.pdf")
    whole = client.get(path)
    assert whole.status_code == 200 and whole.data.startswith(b"%PDF")
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert whole.headers["Cache-Control"].startswith("public")
    assert whole.headers["Content-Disposition"].startswith("inline;")
    size = len(whole.data)
    part = client.get(path, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == whole.data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    etag = whole.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    refused = client.get(path, headers={"Range": f"bytes={size + 10}-"})
    assert refused.status_code == 416 and refused.headers["Content-Range"] == f"bytes */{size}"


def test_pdf_download_keeps_its_vietnamese_name(library):
    response = library.client().get(url(library, "open", "/items/{handle}/document.pdf"),
                                    query_string={"download": "1"})
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('Địa chí tỉnh.pdf')}" in disposition
    assert "filename*=UTF-8''%C4%90%E1%BB%8Ba%20ch%C3%AD%20t%E1%BB%89nh.pdf" in disposition


def test_pdf_of_restricted_item_is_private(library):
    response = library.client("docgia").get(url(library, "readers",
                                                "/items/{handle}/document.pdf"))
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]


def test_view_only_reader_gets_pages_but_never_the_whole_file(library):
    book = library.books["view-only"]
    paths = [url(library, "view-only", path) for path in (
        "/items/{handle}/document.pdf", "/items/{handle}/pdf-view",
        f"/items/{{handle}}/original/{book.files[FileRole.ORIGINAL]}")]
    tile = f"/iiif/3/{book.uids[0]}/full/200,/0/default.jpg"
    for username, refusal in ((None, 401), ("docgia", 403)):
        client = library.client(username)
        assert [client.get(path).status_code for path in paths] == [refusal] * 3
        assert client.get(tile).status_code == 200
        assert client.get(url(library, "view-only", "/items/{handle}/read")).status_code == 200
    member = library.client("nghiencuu")
    assert [member.get(path).status_code for path in paths] == [200, 200, 200]


def test_watermarked_pdf_carries_the_card_number_and_date(library):
    client = library.client("docgia")
    path = url(library, "watermark", "/items/{handle}/document.pdf")
    response = client.get(path)
    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert CARD in text and "Dia chi tinh Bac Ninh" in text
    assert re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 3
    assert "private" in response.headers["Cache-Control"]
    again = client.get(path, headers={"Range": "bytes=0-99"})
    assert again.status_code == 206 and again.headers["ETag"] == response.headers["ETag"]
    assert again.data == response.data[:100]
    assert library.client().get(path).status_code == 401
    staff = library.client("thuthu").get(path)
    assert CARD not in PdfReader(io.BytesIO(staff.data)).pages[0].extract_text()


def test_watermarked_item_gives_no_unstamped_original(library):
    book = library.books["watermark"]
    response = library.client("docgia").get(
        url(library, "watermark", f"/items/{{handle}}/original/{book.files[FileRole.ORIGINAL]}"))
    assert response.status_code == 403


def test_original_is_an_attachment_with_its_uploaded_name(library):
    book, other = library.books["open"], library.books["view-only"]
    client = library.client()
    response = client.get(f"/items/{book.handle}/original/{book.files[FileRole.ORIGINAL]}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote('bản gốc.png')}" in response.headers["Content-Disposition"]
    for file_id in (other.files[FileRole.ORIGINAL], book.files[FileRole.PDF], 999999):
        assert client.get(f"/items/{book.handle}/original/{file_id}").status_code == 404


def test_large_open_downloads_may_be_presigned_redirects(library, monkeypatch):
    store = library.app.extensions["khoso"].store
    monkeypatch.setattr(store, "presign", lambda key, expires: f"https://s3.example/{key}?sig")
    monkeypatch.setitem(library.app.config, "READER_PRESIGN_MIN_BYTES", 0)
    client = library.client("docgia")
    download = client.get(url(library, "open", "/items/{handle}/document.pdf?download=1"))
    assert download.status_code == 302
    assert download.headers["Location"].startswith("https://s3.example/items/")
    inline = client.get(url(library, "open", "/items/{handle}/document.pdf"))
    assert inline.status_code == 200   # pdf.js reads ranges from the portal (connect-src)
    stamped = client.get(url(library, "watermark", "/items/{handle}/document.pdf?download=1"))
    assert stamped.status_code == 200
    private = client.get(url(library, "readers", "/items/{handle}/document.pdf?download=1"))
    assert private.status_code == 200


# -- the viewer page and the item page ---------------------------------------------------------

def test_reader_page_opens_at_the_asked_page_without_inline_script(library):
    client = library.client()
    page = client.get(url(library, "open", "/items/{handle}/read?page=2&q=tien")).get_data(
        as_text=True)
    assert 'data-page="2"' in page and 'data-query="tien"' in page
    assert "/static/vendor/openseadragon/openseadragon.min.js" in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attrs or 'type="application/json"' in attrs
                           for attrs in scripts)
    assert library.books["open"].uids[1] in page
    assert "document.pdf?download=1" in page
    clamped = client.get(url(library, "open", "/items/{handle}/read?page=99"))
    assert 'data-page="3"' in clamped.get_data(as_text=True)
    view_only = client.get(url(library, "view-only", "/items/{handle}/read"))
    assert "document.pdf" not in view_only.get_data(as_text=True)


def test_reader_page_refused_explains_how_to_get_access(library):
    anonymous = library.client().get(url(library, "readers", "/items/{handle}/read"))
    body = anonymous.get_data(as_text=True)
    assert anonymous.status_code == 401
    assert "Sign in to read" in body and "register for one" in body
    assert library.books["readers"].uids[0] not in body
    staff_only = library.client("docgia").get(url(library, "staff", "/items/{handle}/read"))
    assert staff_only.status_code == 403
    assert "Ask a librarian" in staff_only.get_data(as_text=True)


def test_item_page_has_read_button_manifest_and_download_only_when_allowed(library):
    client = library.client()
    page = client.get(url(library, "open", "/items/{handle}")).get_data(as_text=True)
    handle = library.books["open"].handle
    assert f'href="/items/{handle}/read"' in page and "3 pages" in page
    assert f"/iiif/3/{handle}/manifest" in page
    assert "document.pdf?download=1" in page and "Open to all" in page
    view_only = client.get(url(library, "view-only", "/items/{handle}")).get_data(as_text=True)
    assert "document.pdf" not in view_only
    assert "Members of Nhà nghiên cứu may download the PDF." in view_only
    restricted = client.get(url(library, "readers", "/items/{handle}")).get_data(as_text=True)
    assert "/read\"" not in restricted and "Sign in to read" in restricted


def test_watermark_is_announced(library):
    page = library.client("docgia").get(url(library, "watermark", "/items/{handle}"))
    assert "carry a watermark with your card number" in page.get_data(as_text=True)


def test_viewer_libraries_are_served_from_node_modules(library):
    client = library.client()
    for name in ("openseadragon/openseadragon.min.js", "pdfjs/pdf.min.mjs",
                 "pdfjs/pdf.worker.min.mjs"):
        response = client.get(f"/static/vendor/{name}")
        if response.status_code == 404:
            pytest.skip("node_modules missing: run npm ci")
        assert response.mimetype == "text/javascript", name


def test_inline_pdf_is_the_original_with_its_page_tree_appended(library):
    client = library.client()
    original = client.get(url(library, "open", "/items/{handle}/document.pdf?download=1")).data
    inline = client.get(url(library, "open", "/items/{handle}/document.pdf")).data
    assert inline.startswith(original) and len(inline) - len(original) < 4000
    pages = PdfReader(io.BytesIO(inline)).pages
    assert len(pages) == 3 and "Trang 3" in pages[2].extract_text()
    assert inline.rstrip().endswith(b"%%EOF") and b"/Prev" in inline[len(original):]
