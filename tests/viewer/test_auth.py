"""Signing in and out, registration and approval, throttling, CSRF and sessions, through HTTP."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from repository import accounts
from repository.models import AccountStatus, AuditEvent, Role, User
from tests.conftest import make_test_app

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def client(app):
    """A browser that reads English, so that the assertions do not depend on the catalogue."""
    browser = app.test_client()
    browser.get("/lang/en")
    return browser


def add_user(app, username="alice", role=Role.READER, **values) -> int:
    with app.app_context():
        with app.extensions["khoso"].db.session() as session:
            user = accounts.create_user(session, username=username, password=PASSWORD,
                                        role=role, **values)
        return user.id


def get_user(app, username: str) -> User | None:
    with app.extensions["khoso"].db.session() as session:
        return accounts.find_user(session, username)


def login(client, username="alice", password=PASSWORD, address="127.0.0.1", **fields):
    return client.post("/login", data={"username": username, "password": password, **fields},
                       environ_base={"REMOTE_ADDR": address})


def text(response) -> str:
    return response.get_data(as_text=True)


# -- signing in and out ---------------------------------------------------------------------

def test_login_page_is_a_usable_form(client):
    page = text(client.get("/login"))
    assert 'autocomplete="username"' in page
    assert 'autocomplete="current-password"' in page
    assert '<label for="password">' in page
    assert "<script" not in page and "style=" not in page


def test_sign_in_and_out(app, client):
    add_user(app, display_name="Alice Nguyễn")
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Sign out" in text(client.get("/"))
    page = text(client.get("/account"))
    assert "alice" in page and "Alice Nguyễn" in page
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Faccount")


def test_wrong_password_and_unknown_user_get_the_same_answer(app, client):
    add_user(app)
    wrong = login(client, "alice", "not the password")
    unknown = login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    # The form shows back what was typed; apart from that the pages are the same.
    assert text(wrong).replace('value="alice"', "") == text(unknown).replace('value="nobody"', "")
    assert "The username or password is not correct." in text(wrong)


@pytest.mark.parametrize(("target", "landing"), [
    ("/account", "/account"),
    ("//evil.example", "/"),
    ("//evil.example/account", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_is_followed_only_within_the_site(app, client, target, landing):
    add_user(app)
    response = client.post("/login", query_string={"next": target},
                           data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == landing


def test_cookies_are_http_only_and_same_site(app, client):
    add_user(app)
    response = login(client, remember="y")
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert set(cookies) >= {"session", "remember_token"}
    for header in cookies.values():
        assert "HttpOnly" in header and "SameSite=Lax" in header


def test_signing_in_starts_a_new_session(app, client):
    add_user(app)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"  # the reader's language choice survives
        assert session["_user_id"].startswith(f"{get_user(app, 'alice').id}:")


# -- throttling -----------------------------------------------------------------------------

def test_one_account_is_throttled_whatever_the_address(app, client):
    add_user(app)
    for number in range(5):
        assert login(client, password="wrong password", address=f"198.51.100.{number}"
                     ).status_code == 200
    response = login(client, address="192.0.2.1")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts. Please wait 15 minutes" in text(response)


def test_one_address_is_throttled_whatever_the_account(app, client):
    add_user(app)
    for name in ("bob", "carol", "dave", "erin", "frank"):
        login(client, name, "wrong password", address="203.0.113.7")
    assert login(client, address="203.0.113.7").status_code == 429
    assert login(client, address="203.0.113.8").status_code == 302


# -- registration and approval --------------------------------------------------------------

REGISTRATION = {
    "username": "reader1", "display_name": "Trần Văn B", "email": "reader1@example.vn",
    "card_number": "TV-100", "password": PASSWORD, "confirm": PASSWORD,
}


def test_registration_waits_for_staff_approval(app, client):
    add_user(app, "librarian", Role.STAFF)
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "registration has been received" in text(client.get("/login"))
    reader = get_user(app, "reader1")
    assert (reader.status, reader.role) == (AccountStatus.PENDING, Role.READER)

    refused = login(client, "reader1")
    assert refused.status_code == 403
    assert "awaits approval" in text(refused)

    staff = app.test_client()
    login(staff, "librarian")
    assert "reader1" in text(staff.get("/admin/registrations"))
    response = staff.post(f"/admin/registrations/{reader.id}/approve",
                          data={"expires_on": "2030-12-31"})
    assert response.status_code == 302
    assert get_user(app, "reader1").expires_on == date(2030, 12, 31)
    with app.extensions["khoso"].db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.approve"))
    assert (event.actor_name, event.target_id) == ("librarian", str(reader.id))
    assert (event.old["status"], event.new["status"]) == ("pending", "active")

    assert login(client, "reader1").status_code == 302


def test_approval_needs_a_valid_expiry_date(app, client):
    pending = add_user(app, "waiting", status=AccountStatus.PENDING)
    add_user(app, "librarian", Role.STAFF)
    login(client, "librarian")
    response = client.post(f"/admin/registrations/{pending}/approve",
                           data={"expires_on": "31/12/2030"}, follow_redirects=True)
    assert "valid date" in text(response)
    assert get_user(app, "waiting").status is AccountStatus.PENDING


def test_rejecting_removes_the_registration(app, client):
    add_user(app, "librarian", Role.STAFF)
    client.post("/register", data=REGISTRATION)
    reader_id = get_user(app, "reader1").id
    login(client, "librarian")
    assert client.post(f"/admin/registrations/{reader_id}/reject").status_code == 302
    assert get_user(app, "reader1") is None
    assert client.post(f"/admin/registrations/{reader_id}/reject").status_code == 404


@pytest.mark.parametrize(("changes", "message"), [
    ({"confirm": "something else"}, "The two passwords are not the same."),
    ({"password": "short", "confirm": "short"}, "at least 10"),
    ({"username": "Nguyễn Văn B"}, "A username has 3 to 32 characters"),
    ({"email": "not-an-address"}, "valid email address"),
])
def test_registration_explains_what_to_fix(client, changes, message):
    response = client.post("/register", data={**REGISTRATION, **changes})
    assert response.status_code == 200
    assert message in text(response)


def test_registration_reports_a_taken_username(app, client):
    add_user(app, "reader1")
    response = client.post("/register", data=REGISTRATION)
    assert "This username is already taken" in text(response)


def test_registration_does_not_reveal_a_known_email(app, client):
    add_user(app, "someone", email="reader1@example.vn")
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "registration has been received" in text(client.get("/login"))
    assert get_user(app, "reader1") is None


@pytest.mark.parametrize(("role", "status"), [
    (None, 302), (Role.READER, 403), (Role.STAFF, 200), (Role.ADMIN, 200),
])
def test_only_staff_see_registrations(app, client, role, status):
    if role is not None:
        add_user(app, "visitor", role)
        login(client, "visitor")
    response = client.get("/admin/registrations")
    assert response.status_code == status
    if role is None:
        assert response.headers["Location"] == "/login?next=%2Fadmin%2Fregistrations"


def test_readers_cannot_approve(app, client):
    pending = add_user(app, "waiting", status=AccountStatus.PENDING)
    add_user(app, "visitor")
    login(client, "visitor")
    assert client.post(f"/admin/registrations/{pending}/approve").status_code == 403
    assert get_user(app, "waiting").status is AccountStatus.PENDING


# -- expiry and disabled accounts -----------------------------------------------------------

def test_expired_readers_cannot_sign_in(app, client):
    add_user(app, expires_on=date.today() - timedelta(days=2))
    response = login(client)
    assert response.status_code == 403
    assert "renew your library card" in text(response)


def test_a_disabled_account_loses_its_session(app, client):
    add_user(app)
    login(client)
    assert client.get("/account").status_code == 200
    with app.extensions["khoso"].db.session() as session:
        accounts.set_status(session, None, accounts.find_user(session, "alice"), "disabled")
    assert client.get("/account").status_code == 302


def test_account_page_shows_the_expiry_date(app, client):
    add_user(app, expires_on=date.today() + timedelta(days=10))
    login(client)
    page = text(client.get("/account"))
    assert "Valid until" in page
    assert "10 days left" in page


# -- CSRF -----------------------------------------------------------------------------------

@pytest.fixture
def guarded(tmp_path, database_url):
    application = make_test_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    yield application
    application.extensions["khoso"].db.dispose()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("path", ["/login", "/logout", "/register"])
def test_posts_without_a_token_are_refused(guarded, path):
    browser = guarded.test_client()
    browser.get("/lang/en")
    response = browser.post(path, data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "The form had expired" in text(response)


def test_posts_with_the_token_pass(guarded):
    add_user(guarded)
    browser = guarded.test_client()
    token = csrf_token(text(browser.get("/login")))
    response = browser.post("/login", data={"username": "alice", "password": PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 302
    page = text(browser.get("/account"))
    assert browser.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 302


# -- passwords and sessions -----------------------------------------------------------------

def test_changing_the_password_signs_out_other_sessions(app, client):
    add_user(app)
    other = app.test_client()
    login(client)
    login(other)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a brand new secret",
        "confirm": "a brand new secret"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    assert login(other, password="a brand new secret").status_code == 302


def test_changing_the_password_needs_the_current_one(app, client):
    add_user(app)
    login(client)
    response = client.post("/account/password", data={
        "current_password": "not the password", "new_password": "a brand new secret",
        "confirm": "a brand new secret"})
    assert response.status_code == 200
    assert "The current password is not correct." in text(response)
