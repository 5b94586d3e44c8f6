"""The IIIF Image API 3.0 server through HTTP: info.json, each parameter family and its errors,
the access policy, the derivative cache, ETags and size limits."""

from __future__ import annotations

import shutil
import threading

import pytest
from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy import select, update

from repository import accounts
from repository.access import Action, Policy
from repository.access_rules import RuleChange
from repository.models import AccessLevel, FileRole, ItemFile, ItemStatus, Page, Role
from tests.conftest import make_test_app
from tests.iiif.helpers import add_page_item, checkerboard, image_of, with_iiif
from viewer import iiif_image
from viewer.extensions import parts

GREEN, RED, BLUE = (0, 255, 0), (255, 0, 0), (0, 0, 255)
PASSWORD = "correct horse battery"
MAX_AREA = 2_000_000


LIMITS = {"IIIF_MAX_AREA": MAX_AREA, "IIIF_MAX_WIDTH": 3000, "IIIF_MAX_HEIGHT": 3000}


@pytest.fixture
def app(tmp_path, database_url):
    application = with_iiif(make_test_app(tmp_path, database_url, **LIMITS))
    yield application
    application.extensions["khoso"].db.dispose()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, sqlite_template):
    """One app and page for the tests that only read (parameters and their errors)."""
    folder = tmp_path_factory.mktemp("iiif")
    shutil.copy(sqlite_template, folder / "khoso.sqlite3")
    application = with_iiif(
        make_test_app(folder, f"sqlite:///{folder / 'khoso.sqlite3'}", **LIMITS))
    page = add_page_item(application, checkerboard(folder / "board.png"))
    yield application.test_client(), page
    application.extensions["khoso"].db.dispose()


@pytest.fixture
def reader(shared):
    return shared[0]


@pytest.fixture
def page(shared):
    return shared[1]


@pytest.fixture
def board(tmp_path):
    """1000×800: 100 px squares, red where (column + row) is even, else blue; (0, 0) green."""
    return checkerboard(tmp_path / "board.png")


@pytest.fixture
def uid(app, board) -> str:
    return add_page_item(app, board)


def cache(app):
    return app.extensions["iiif_image"].cache


def get(client, uid, params="full/max/0/default.png", **kwargs):
    return client.get(f"/iiif/3/{uid}/{params}", **kwargs)


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


# -- info.json and the base URI ---------------------------------------------------------------

def test_info_json_describes_the_image(reader, page):
    response = reader.get(f"/iiif/3/{page}/info.json")
    info = response.json
    assert response.mimetype == "application/json"
    assert "json-ld#context" in response.headers["Link"]
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["id"] == f"http://localhost/iiif/3/{page}"
    assert (info["type"], info["protocol"], info["profile"]) == (
        "ImageService3", "http://iiif.io/api/image", "level2")
    assert (info["width"], info["height"]) == (1000, 800)
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2]}]
    assert info["sizes"][-1] == {"width": 1000, "height": 800}
    assert info["sizes"][0] == {"width": 250, "height": 200}
    assert (info["maxWidth"], info["maxHeight"], info["maxArea"]) == (3000, 3000, MAX_AREA)
    assert {"gray", "bitonal"} <= set(info["extraQualities"])
    assert {"mirroring", "rotationArbitrary", "sizeUpscaling"} <= set(info["extraFeatures"])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.cache_control.public


def test_info_json_is_json_ld_when_asked(reader, page):
    response = reader.get(f"/iiif/3/{page}/info.json", headers={"Accept": "application/ld+json"})
    assert response.headers["Content-Type"] == (
        'application/ld+json;profile="http://iiif.io/api/image/3/context.json"')
    assert "Accept" in response.vary


def test_info_json_answers_not_modified(reader, page):
    etag = reader.get(f"/iiif/3/{page}/info.json").headers["ETag"]
    response = reader.get(f"/iiif/3/{page}/info.json", headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_base_uri_redirects_to_info_json(reader, page):
    response = reader.get(f"/iiif/3/{page}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/iiif/3/{page}/info.json"


# -- region -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("region", "size", "colour_at_origin"), [
    ("full", (1000, 800), GREEN),
    ("square", (800, 800), BLUE),            # centred: starts at x = 100
    ("100,0,200,100", (200, 100), BLUE),
    ("200,100,100,100", (100, 100), BLUE),
    ("900,700,500,500", (100, 100), RED),    # clipped at the image's edge
    ("pct:10,0,20,12.5", (200, 100), BLUE),
])
def test_region(reader, page, region, size, colour_at_origin):
    image = image_of(get(reader, page, f"{region}/max/0/default.png"))
    assert image.size == size
    assert image.convert("RGB").getpixel((5, 5)) == colour_at_origin


@pytest.mark.parametrize("region", [
    "0,0,0,10", "1000,0,10,10", "0,800,10,10", "pct:0,0,0,10", "pct:100,0,10,10", "-1,0,5,5",
    "0,0,5", "0,0,5,5,5", "pct:a,0,1,1", "Full", "squares", "",
])
def test_bad_region_is_a_bad_request(reader, page, region):
    assert get(reader, page, f"{region}/max/0/default.png").status_code in (400, 404)
    if region:  # an empty segment does not even route
        assert get(reader, page, f"{region}/max/0/default.png").status_code == 400


# -- size -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "expected"), [
    ("max", (1000, 800)),
    ("500,", (500, 400)),
    (",400", (500, 400)),
    ("300,300", (300, 300)),
    ("!500,500", (500, 400)),
    ("pct:25", (250, 200)),
    ("333,", (333, 266)),
    ("^1500,", (1500, 1200)),
    ("^pct:150", (1500, 1200)),
    ("^!2000,1000", (1250, 1000)),
    ("^max", (1581, 1264)),                  # as large as maxArea allows
    ("^300,", (300, 240)),                   # ^ allows, but does not require, enlarging
])
def test_size(reader, page, size, expected):
    image = image_of(get(reader, page, f"full/{size}/0/default.png"))
    assert image.size == expected
    assert near(image.convert("RGB").getpixel((1, 1)), GREEN)


@pytest.mark.parametrize("size", [
    "1500,", ",801", "1001,800", "pct:101", "!2000,2000", "0,", ",0", "0,0", "pct:0", "!500,",
    "full", "^", "max,", "500", "a,b", "^^500,",
])
def test_bad_size_is_a_bad_request(reader, page, size):
    assert get(reader, page, f"full/{size}/0/default.png").status_code == 400


@pytest.mark.parametrize("size", ["^2000,", "^3001,10", "^pct:10000", "^999999999,"])
def test_sizes_beyond_the_limits_are_refused(reader, page, size):
    renders = cache(reader.application).renders
    assert get(reader, page, f"full/{size}/0/default.jpg").status_code == 400
    assert cache(reader.application).renders == renders


# -- rotation ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("rotation", "size", "green_at"), [
    ("0", (1000, 800), (5, 5)),
    ("90", (800, 1000), (795, 5)),
    ("180", (1000, 800), (995, 795)),
    ("270", (800, 1000), (5, 995)),
    ("!0", (1000, 800), (995, 5)),
    ("!90", (800, 1000), (795, 995)),
    ("360", (1000, 800), (5, 5)),
])
def test_rotation_and_mirroring(reader, page, rotation, size, green_at):
    image = image_of(get(reader, page, f"full/max/{rotation}/default.png")).convert("RGB")
    assert image.size == size
    assert image.getpixel(green_at) == GREEN


def test_arbitrary_rotation_expands_on_a_transparent_or_white_ground(reader, page):
    png = image_of(get(reader, page, "full/500,/45/default.png"))
    assert png.mode == "RGBA" and 636 <= png.width == png.height <= 638   # (500 + 400) / √2
    assert png.getpixel((0, 0))[3] == 0
    jpeg = image_of(get(reader, page, "full/500,/45/default.jpg"))
    assert jpeg.size == png.size and near(jpeg.getpixel((2, 2)), (255, 255, 255))


@pytest.mark.parametrize("rotation", ["361", "-90", "0123", "90.", "abc", "!!0", "1e2", ""])
def test_bad_rotation_is_a_bad_request(reader, page, rotation):
    assert get(reader, page, f"full/max/{rotation}/default.png").status_code in (400, 404)
    if rotation:
        assert get(reader, page, f"full/max/{rotation}/default.png").status_code == 400


# -- quality and format -----------------------------------------------------------------------

@pytest.mark.parametrize(("quality", "mode"), [
    ("default", "RGB"), ("color", "RGB"), ("gray", "L"), ("bitonal", "1"),
])
def test_quality(reader, page, quality, mode):
    image = image_of(get(reader, page, f"full/max/0/{quality}.png"))
    assert image.mode == mode
    if quality == "bitonal":
        assert {value for _, value in image.convert("L").getcolors()} <= {0, 255}


@pytest.mark.parametrize("quality", ["grey", "native", "Default", "colour", ""])
def test_bad_quality_is_a_bad_request(reader, page, quality):
    assert get(reader, page, f"full/max/0/{quality}.png").status_code == 400


@pytest.mark.parametrize(("extension", "pillow_name", "media_type"), [
    ("jpg", "JPEG", "image/jpeg"), ("png", "PNG", "image/png"), ("webp", "WEBP", "image/webp"),
    ("gif", "GIF", "image/gif"), ("tif", "TIFF", "image/tiff"),
])
def test_formats(reader, page, extension, pillow_name, media_type):
    if extension not in reader.application.extensions["iiif_image"].formats:
        pytest.skip(f"this Pillow cannot write {extension}")
    response = get(reader, page, f"full/200,/0/default.{extension}")
    assert response.mimetype == media_type
    assert image_of(response).format == pillow_name


@pytest.mark.parametrize(("params", "status"), [
    ("full/max/0/default.jp2", 501), ("full/max/0/default.pdf", 501),
    ("full/max/0/default.bmp", 400), ("full/max/0/default.JPG", 400),
    ("full/max/0/default", 400), ("full/max/0/.jpg", 400),
])
def test_unknown_and_unsupported_formats(reader, page, params, status):
    assert get(reader, page, params).status_code == status


def test_image_links_to_its_canonical_form_and_profile(reader, page):
    response = get(reader, page, "pct:0,0,50,50/500,/0/default.png")
    assert f'<http://localhost/iiif/3/{page}/0,0,500,400/max/0/default.png>;rel="canonical"' \
        in response.headers["Link"]
    assert '<http://iiif.io/api/image/3/level2.json>;rel="profile"' in response.headers["Link"]


# -- the access policy ------------------------------------------------------------------------

class PagesForStaffOnly(Policy):
    """Everyone may find the items, only staff may view their pages."""

    def can(self, identity, action, item):
        if action is Action.VIEW_PAGES and not identity.is_staff:
            return False
        return super().can(identity, action, item)


@pytest.fixture
def sign_in(app, client, monkeypatch):
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

    def sign_in_as(role: Role) -> None:
        with app.app_context(), parts().db.session() as session:
            accounts.create_user(session, username=role.value, password=PASSWORD, role=role)
        response = client.post("/login", data={"username": role.value, "password": PASSWORD})
        assert response.status_code == 302
    return sign_in_as


def test_unknown_identifier_is_not_found(reader, page):
    assert reader.get("/iiif/3/00000000-0000-0000-0000-000000000000/info.json").status_code \
        == 404
    assert get(reader, "a/b").status_code == 404


@pytest.mark.parametrize("params", ["info.json", "full/max/0/default.jpg"])
def test_draft_pages_are_not_found_by_readers(app, client, board, sign_in, params):
    draft = add_page_item(app, board, status=ItemStatus.DRAFT)
    assert client.get(f"/iiif/3/{draft}/{params}").status_code == 404
    sign_in(Role.READER)
    assert client.get(f"/iiif/3/{draft}/{params}").status_code == 404


def test_staff_see_draft_pages_privately(app, client, board, sign_in):
    draft = add_page_item(app, board, status=ItemStatus.DRAFT)
    sign_in(Role.STAFF)
    response = client.get(f"/iiif/3/{draft}/full/max/0/default.jpg")
    assert response.status_code == 200
    assert response.cache_control.private and not response.cache_control.public
    assert "Cookie" in response.vary
    assert "Access-Control-Allow-Origin" not in response.headers


def test_withdrawn_pages_are_gone(app, client, board):
    withdrawn = add_page_item(app, board, status=ItemStatus.WITHDRAWN)
    assert client.get(f"/iiif/3/{withdrawn}/info.json").status_code == 410


@pytest.mark.parametrize(("role", "status"), [(None, 401), (Role.READER, 403), (Role.STAFF, 200)])
@pytest.mark.parametrize("params", ["info.json", "full/max/0/default.jpg"])
def test_policy_refusing_pages(app, client, uid, sign_in, role, status, params):
    app.extensions["khoso"].policy = PagesForStaffOnly()
    if role is not None:
        sign_in(role)
    assert client.get(f"/iiif/3/{uid}/{params}").status_code == status
    assert cache(app).renders == 0 or status == 200


def test_open_pages_are_the_same_for_everyone(reader, page, monkeypatch):
    def no_lookup():
        raise AssertionError("an open page needs nobody's identity")
    monkeypatch.setattr(iiif_image, "current_identity", no_lookup)
    response = get(reader, page, "full/100,/0/default.jpg")
    assert response.status_code == 200 and response.cache_control.public
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_watermarked_pages_are_stamped_for_each_reader(app, client, board, sign_in):
    stamped = add_page_item(app, board, rule=RuleChange(
        metadata=AccessLevel.OPEN, view=AccessLevel.OPEN, watermark=True))
    anonymous = get(client, stamped, "full/500,/0/default.png")
    assert image_of(anonymous).convert("RGB").getpixel((497, 397)) == (235, 235, 235)
    assert anonymous.cache_control.private and "Access-Control-Allow-Origin" not in \
        anonymous.headers
    sign_in(Role.READER)
    signed_in = get(client, stamped, "full/500,/0/default.png")
    assert signed_in.status_code == 200
    assert signed_in.headers["ETag"] != anonymous.headers["ETag"]


# -- the derivative cache and conditional requests ------------------------------------------

def test_second_request_is_served_from_the_cache(app, client, uid):
    first = get(client, uid, "0,0,512,512/256,/0/default.jpg")
    second = get(client, uid, "0,0,512,512/256,/0/default.jpg")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert (cache(app).renders, cache(app).hits) == (1, 1)


def test_equivalent_requests_share_one_render(app, client, uid):
    variants = ["full/max/0/default.png", "full/1000,/0/default.png",
                "0,0,1000,800/max/0/default.png", "pct:0,0,100,100/1000,800/0/default.png",
                "full/max/360/default.png"]
    etags = {get(client, uid, params).headers["ETag"] for params in variants}
    assert len(etags) == 1 and cache(app).renders == 1


def test_not_modified_without_rendering(app, client, uid):
    etag = get(client, uid, "full/100,/0/default.jpg").headers["ETag"]
    renders = cache(app).renders
    response = get(client, uid, "full/100,/0/default.jpg", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert cache(app).renders == renders and cache(app).hits == 0
    assert response.headers["ETag"] == etag


def test_concurrent_requests_for_one_tile_render_once(app, uid):
    bodies, errors = [], []

    def fetch():
        try:
            bodies.append(get(app.test_client(), uid, "512,0,488,512/244,/0/default.jpg").data)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(bodies) == 8 and len(set(bodies)) == 1
    assert cache(app).renders == 1


def test_small_sizes_come_from_the_derivative(app, client, tmp_path):
    master = checkerboard(tmp_path / "big.png", size=(2000, 1600), square=200)
    derivative = tmp_path / "web.jpg"
    with Image.open(master) as image:
        image.resize((500, 400)).save(derivative, quality=90)
    page = add_page_item(app, master, derivative=derivative)
    with app.app_context():
        parts().store.delete(page_file(page, FileRole.MASTER).storage_key)
    small = image_of(get(client, page, "full/250,/0/default.png"))   # the derivative suffices
    assert small.size == (250, 200) and near(small.convert("RGB").getpixel((5, 5)), GREEN)
    assert get(client, page, "full/max/0/default.png").status_code == 404   # needs the master


def test_an_unrecorded_page_size_is_read_from_the_master(app, client, uid):
    with app.app_context(), parts().db.session() as session:
        session.execute(update(Page).where(Page.uid == uid).values(width=0, height=0))
    info = client.get(f"/iiif/3/{uid}/info.json").json
    assert (info["width"], info["height"]) == (1000, 800)


def page_file(uid: str, role: FileRole) -> ItemFile:
    with parts().db.session() as session:
        return session.scalar(select(ItemFile).join(Page).where(Page.uid == uid,
                                                                ItemFile.role == role))
