"""Web security: hostile metadata and OCR text render inert, injection attempts answer
normally, and searches and registrations are rate-limited per address."""

import re

import pytest

from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.models import AccessLevel, ItemStatus, Page
from tests.conftest import make_test_app
from viewer.extensions import parts

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "<a href=\"javascript:alert(1)\">bấm vào</a>",
    "\u202etxt.exe",                       # right-to-left override
    "{{ config.SECRET_KEY }}",             # template injection
    "<iframe src=//evil.example></iframe>",
]
INJECTIONS = ["' OR '1'='1", "1; DROP TABLE items; --", "\" OR \"\"=\"", "%' --", "\\x00",
              "1) UNION SELECT password_hash FROM users --"]


@pytest.fixture
def hostile(app):
    with app.app_context(), parts().db.session() as session:
        collection = collections.create_collection(session, slug="doc-hai",
                                                   title=PAYLOADS[0])
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN),
                 collection=collection)
        item = items.create_item(session, collection, [
            Statement("title", f"Sách độc hại {payload}") for payload in PAYLOADS[:1]] + [
            Statement("description", payload) for payload in PAYLOADS] + [
            Statement("creator", PAYLOADS[1]), Statement("relation", PAYLOADS[3])])
        session.add(Page(item=item, sequence=1, text="độc hại " + " ".join(PAYLOADS)))
        items.change_status(session, item, ItemStatus.PUBLISHED)
        return item.handle


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert not re.search(r"<[^>]+\son(error|load)\s*=", html, re.IGNORECASE)
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE)
    assert "<iframe" not in html and "<svg" not in html
    assert "test-secret" not in html


@pytest.mark.parametrize("path", ["/", "/collections/doc-hai", "/items/{handle}",
                                  "/search?q=độc+hại", "/search?q=alert"])
def test_hostile_values_render_inert(client, hostile, path):
    response = client.get(path.format(handle=hostile))
    assert response.status_code == 200
    assert_inert(response.get_data(as_text=True))


def test_right_to_left_override_is_isolated(client, hostile):
    html = client.get(f"/items/{hostile}").get_data(as_text=True)
    # Each value sits in <bdi>, so a bidi control inside it cannot reorder the page around it.
    assert "<bdi>\u202etxt.exe</bdi>" in html


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_attempts_answer_normally(client, hostile, value):
    for path, args in [("/search", {"q": value}), ("/search", {"sort": value}),
                       ("/search", {"page": value}), ("/search", {"collection": value}),
                       ("/search", {"year": value, "type": value}),
                       ("/collections/doc-hai", {"page": value}),
                       ("/lang/" + value.replace("/", ""), {"next": value})]:
        response = client.get(path, query_string=args)
        assert response.status_code in (200, 302, 404), (path, args, response.status_code)
    for path in (f"/collections/{value}", f"/items/{value}", f"/items/{value}/thumbnail"):
        assert client.get(path).status_code in (404, 308), path


def limited_app(tmp_path, database_url, **limits):
    return make_test_app(tmp_path, database_url, RATELIMIT_ENABLED=True, **limits)


def test_search_is_rate_limited_per_address(tmp_path, database_url):
    app = limited_app(tmp_path, database_url, SEARCH_RATE_LIMIT="3/minute")
    client = app.test_client()
    codes = [client.get("/search?q=sách", environ_base={"REMOTE_ADDR": "198.51.100.7"})
             .status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = client.get("/search?q=sách", environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 200
    refused = client.get("/search?q=sách", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert "Retry-After" in refused.headers
    assert "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
    app.extensions["khoso"].db.dispose()


def test_registration_is_rate_limited(tmp_path, database_url):
    app = limited_app(tmp_path, database_url, REGISTER_RATE_LIMIT="2/hour")
    client = app.test_client()
    codes = [client.post("/register", data={"username": f"ban{n}"}).status_code
             for n in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
    assert client.get("/register").status_code == 200  # reading the form is not limited
    app.extensions["khoso"].db.dispose()
