"""Account services: creating, registering, approving, signing in, throttling, auditing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from repository import accounts, audit
from repository.db import Database
from repository.errors import NotFound
from repository.models import AccountStatus, AuditEvent, LoginFailure, Role, User

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
LIMITS = {"max_failures": 3, "window": 600}


class CountingHasher(PasswordHasher):
    """A cheap argon2 profile that counts the password checks made with it."""

    def __init__(self, **params) -> None:
        super().__init__(**{"time_cost": 1, "memory_cost": 8, "parallelism": 1, **params})
        self.verified = 0

    def verify(self, hash, password) -> bool:  # noqa: A002 - argon2's own parameter name
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> CountingHasher:
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "DEFAULT_HASHER", hasher)
    return hasher


@pytest.fixture
def session(any_database_url):
    database = Database(any_database_url)
    with database.sessionmaker() as db_session:
        yield db_session
    database.dispose()


def make_user(session, username="alice", role=Role.READER, **values) -> User:
    user = accounts.create_user(session, username=username, password=PASSWORD, role=role,
                                **values)
    session.commit()
    return user


def sign_in(session, username="alice", password=PASSWORD, address="203.0.113.5", now=NOW,
            **options) -> User:
    return accounts.authenticate(session, username, password, address, now,
                                 **{**LIMITS, **options})


def events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# -- creating accounts ----------------------------------------------------------------------

def test_passwords_are_hashed_with_argon2id():
    hashed = accounts.hash_password(PASSWORD, hasher=PasswordHasher())
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert PasswordHasher().verify(hashed, PASSWORD)


def test_create_user_normalizes_and_audits(session):
    admin = make_user(session, "admin", Role.ADMIN)
    user = accounts.create_user(
        session, username="  Alice.Nguyen ", password=PASSWORD, role="reader",
        email=" Alice@Example.VN ", card_number=" tv-2024-001 ", display_name=" Nguyễn Thị A ",
        expires_on=date(2026, 1, 1), actor=admin)
    session.commit()
    assert (user.username, user.email, user.card_number, user.display_name) == (
        "alice.nguyen", "alice@example.vn", "TV-2024-001", "Nguyễn Thị A")
    assert (user.role, user.status) == (Role.READER, AccountStatus.ACTIVE)
    [event] = [e for e in events(session, "user.create") if e.target_id == str(user.id)]
    assert (event.actor_id, event.actor_name, event.target_type) == (admin.id, "admin", "user")
    assert event.old is None
    assert event.new == {
        "username": "alice.nguyen", "email": "alice@example.vn", "card_number": "TV-2024-001",
        "display_name": "Nguyễn Thị A", "role": "reader", "status": "active",
        "expires_on": "2026-01-01"}


@pytest.mark.parametrize(("values", "field"), [
    ({"username": "ab"}, "username"),
    ({"username": "x" * 33}, "username"),
    ({"username": "nguyễn"}, "username"),
    ({"username": "an nguyen"}, "username"),
    ({"username": "-anna"}, "username"),
    ({"password": "short"}, "password"),
    ({"password": "x" * 1025}, "password"),
    ({"username": "longusername", "password": "LongUsername"}, "password"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"card_number": "TV 001"}, "card_number"),
    ({"display_name": "n" * 256}, "display_name"),
])
def test_create_user_rejects_values_that_break_the_rules(session, values, field):
    arguments = {"username": "alice", "password": PASSWORD, "role": Role.READER, **values}
    with pytest.raises(accounts.AccountInputError) as raised:
        accounts.create_user(session, **arguments)
    assert raised.value.field == field
    assert str(raised.value)  # a sentence a person can act on
    assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(("values", "field"), [
    ({"username": "ALICE"}, "username"),
    ({"email": "ALICE@example.vn"}, "email"),
    ({"card_number": "tv-1"}, "card_number"),
])
def test_create_user_refuses_taken_names(session, values, field):
    make_user(session, email="alice@example.vn", card_number="TV-1")
    arguments = {"username": "bob", "password": PASSWORD, "role": Role.READER, **values}
    with pytest.raises(accounts.AccountConflict) as raised:
        accounts.create_user(session, **arguments)
    assert raised.value.field == field


@pytest.mark.parametrize(("actor_role", "new_role", "allowed"), [
    (Role.ADMIN, Role.ADMIN, True),
    (Role.ADMIN, Role.STAFF, True),
    (Role.STAFF, Role.READER, True),
    (Role.STAFF, Role.STAFF, False),
    (Role.STAFF, Role.ADMIN, False),
    (Role.READER, Role.READER, False),
])
def test_who_may_create_which_accounts(session, actor_role, new_role, allowed):
    actor = make_user(session, "actor", actor_role)
    create = lambda: accounts.create_user(  # noqa: E731
        session, username="newcomer", password=PASSWORD, role=new_role, actor=actor)
    if allowed:
        assert create().role is new_role
    else:
        with pytest.raises(accounts.AccountForbidden):
            create()


# -- registration and approval --------------------------------------------------------------

def test_registration_makes_a_pending_reader(session):
    user = accounts.register_reader(session, username="reader1", password=PASSWORD,
                                    email="reader1@example.vn", card_number="TV-9")
    session.commit()
    assert (user.role, user.status) == (Role.READER, AccountStatus.PENDING)
    [event] = events(session, "user.register")
    assert (event.actor_id, event.target_id) == (user.id, str(user.id))
    assert accounts.pending_registrations(session) == [user]


def test_registration_needs_an_email_address(session):
    with pytest.raises(accounts.AccountInputError) as raised:
        accounts.register_reader(session, username="reader1", password=PASSWORD, email=" ")
    assert raised.value.field == "email"


def test_registration_reports_a_taken_username(session):
    make_user(session, "reader1")
    with pytest.raises(accounts.AccountConflict) as raised:
        accounts.register_reader(session, username="reader1", password=PASSWORD,
                                 email="other@example.vn")
    assert raised.value.field == "username"


@pytest.mark.parametrize("values", [{"email": "Known@Example.vn"}, {"card_number": "tv-7"}])
def test_registration_does_not_reveal_a_known_email_or_card(session, values):
    make_user(session, "known", email="known@example.vn", card_number="TV-7")
    arguments = {"username": "newcomer", "password": PASSWORD, "email": "new@example.vn",
                 **values}
    assert accounts.register_reader(session, **arguments) is None
    session.commit()
    assert accounts.find_user(session, "newcomer") is None


def test_approve_activates_sets_expiry_and_is_audited(session):
    staff = make_user(session, "librarian", Role.STAFF)
    reader = accounts.register_reader(session, username="reader1", password=PASSWORD,
                                      email="r@example.vn")
    session.commit()
    accounts.approve(session, staff, reader, expires_on=date(2026, 6, 30))
    session.commit()
    assert (reader.status, reader.expires_on) == (AccountStatus.ACTIVE, date(2026, 6, 30))
    [event] = events(session, "user.approve")
    assert (event.actor_name, event.target_id) == ("librarian", str(reader.id))
    assert event.old == {"status": "pending", "expires_on": None}
    assert event.new == {"status": "active", "expires_on": "2026-06-30"}
    with pytest.raises(accounts.AccountConflict):
        accounts.approve(session, staff, reader)


def test_readers_cannot_approve(session):
    other = make_user(session, "other")
    reader = accounts.register_reader(session, username="reader1", password=PASSWORD,
                                      email="r@example.vn")
    with pytest.raises(accounts.AccountForbidden):
        accounts.approve(session, other, reader)


def test_reject_removes_the_registration_and_keeps_the_record(session):
    staff = make_user(session, "librarian", Role.STAFF)
    reader = accounts.register_reader(session, username="reader1", password=PASSWORD,
                                      email="r@example.vn")
    session.commit()
    reader_id = reader.id
    accounts.reject(session, staff, reader)
    session.commit()
    assert session.get(User, reader_id) is None
    [event] = audit.history(session, "user", reader_id)[1:]
    assert (event.action, event.old["username"], event.new) == ("user.reject", "reader1", None)
    with pytest.raises(NotFound):
        accounts.pending_registration(session, reader_id)


# -- signing in -----------------------------------------------------------------------------

def test_sign_in_returns_the_user_and_notes_the_time(session):
    user = make_user(session)
    assert sign_in(session, username=" Alice ") is user
    assert user.last_login_at == NOW


def test_wrong_password_and_unknown_user_look_the_same(session, cheap_hashing):
    make_user(session)
    before = cheap_hashing.verified
    with pytest.raises(accounts.InvalidCredentials) as wrong:
        sign_in(session, password="not the password")
    with pytest.raises(accounts.InvalidCredentials) as unknown:
        sign_in(session, username="nobody-here")
    assert type(wrong.value) is type(unknown.value)
    assert str(wrong.value) == str(unknown.value)
    # An unknown account costs a password check too, so timing does not tell them apart.
    assert cheap_hashing.verified - before == 2


def test_failures_are_stored_without_names_or_addresses(session):
    make_user(session)
    with pytest.raises(accounts.InvalidCredentials):
        sign_in(session, password="wrong password", address="203.0.113.5")
    keys = list(session.scalars(select(LoginFailure.key)))
    assert len(keys) == 2
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in keys)
    assert not any("alice" in key or "203.0.113.5" in key for key in keys)


def fail(session, times: int, **where) -> None:
    for _ in range(times):
        with pytest.raises(accounts.InvalidCredentials):
            sign_in(session, password="wrong password", **where)


@pytest.mark.parametrize("known", [True, False])
def test_too_many_failures_for_one_account_throttle_it(session, known):
    if known:
        make_user(session)
    for number in range(3):
        fail(session, 1, address=f"198.51.100.{number}", now=NOW + timedelta(seconds=number))
    with pytest.raises(accounts.LoginThrottled) as raised:
        sign_in(session, address="192.0.2.200", now=NOW + timedelta(seconds=60))
    # Free again when the first counted failure leaves the 600-second window.
    assert raised.value.retry_after == 540
    assert raised.value.minutes == 9
    if known:
        assert sign_in(session, address="192.0.2.200", now=NOW + timedelta(seconds=601))


def test_too_many_failures_from_one_address_throttle_it(session):
    make_user(session)
    for name in ("bob", "carol", "dave"):
        fail(session, 1, username=name, address="203.0.113.9")
    with pytest.raises(accounts.LoginThrottled):
        sign_in(session, address="203.0.113.9")
    assert sign_in(session, address="203.0.113.10")


def test_throttled_attempts_do_not_check_the_password(session, cheap_hashing):
    make_user(session)
    fail(session, 3)
    before = cheap_hashing.verified
    with pytest.raises(accounts.LoginThrottled):
        sign_in(session)
    assert cheap_hashing.verified == before


def test_success_forgives_the_accounts_earlier_failures(session):
    make_user(session)
    fail(session, 2, address="198.51.100.1")
    sign_in(session, address="198.51.100.2")
    fail(session, 2, address="198.51.100.3")
    assert sign_in(session, address="198.51.100.4")


@pytest.mark.parametrize(("changes", "error"), [
    ({"status": AccountStatus.PENDING}, accounts.AccountPending),
    ({"status": AccountStatus.DISABLED}, accounts.AccountDisabled),
    ({"expires_on": date(2025, 2, 28)}, accounts.AccountExpired),
])
def test_inactive_accounts_say_why_only_to_the_right_password(session, changes, error):
    make_user(session, **changes)
    with pytest.raises(accounts.InvalidCredentials):
        sign_in(session, password="wrong password")
    with pytest.raises(error):
        sign_in(session)


def test_an_account_is_valid_on_its_last_day(session):
    make_user(session, expires_on=NOW.date())
    assert sign_in(session)


def test_hashes_are_upgraded_when_the_parameters_change(session):
    user = make_user(session)
    old_hash = user.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    sign_in(session, hasher=stronger)
    assert user.password_hash != old_hash
    assert "m=16,t=2,p=1" in user.password_hash
    assert not stronger.check_needs_rehash(user.password_hash)


# -- sessions and passwords -----------------------------------------------------------------

def test_session_ids_name_current_active_accounts_only(session):
    user = make_user(session, expires_on=date(2025, 12, 31))
    value = accounts.session_id(user)
    today = NOW.date()
    assert accounts.user_for_session(session, value, today) is user
    assert accounts.user_for_session(session, f"{user.id}:wrong", today) is None
    for garbage in ("", "abc", f"{user.id}", f"{user.id}:", ":token", "x:y"):
        assert accounts.user_for_session(session, garbage, today) is None
    assert accounts.user_for_session(session, value, date(2026, 1, 1)) is None
    accounts.set_status(session, None, user, AccountStatus.DISABLED)
    assert accounts.user_for_session(session, value, today) is None


def test_change_password_ends_other_sessions(session):
    user = make_user(session)
    old_session = accounts.session_id(user)
    accounts.change_password(session, user, "a brand new secret", current_password=PASSWORD)
    session.commit()
    assert accounts.user_for_session(session, old_session, NOW.date()) is None
    assert accounts.user_for_session(session, accounts.session_id(user), NOW.date()) is user
    assert sign_in(session, password="a brand new secret")
    [event] = events(session, "user.password")
    assert (event.actor_id, event.old, event.new) == (user.id, None, None)


def test_change_password_checks_the_current_one(session):
    user = make_user(session)
    with pytest.raises(accounts.AccountInputError) as raised:
        accounts.change_password(session, user, "a brand new secret",
                                 current_password="not it at all")
    assert raised.value.field == "current_password"


# -- administrative changes -----------------------------------------------------------------

def test_status_and_role_changes_are_audited(session):
    admin = make_user(session, "admin", Role.ADMIN)
    user = make_user(session)
    accounts.set_status(session, admin, user, "disabled")
    accounts.set_role(session, admin, user, Role.STAFF)
    accounts.set_expiry(session, admin, user, date(2027, 1, 1))
    session.commit()
    changes = [(e.action, e.old, e.new) for e in audit.history(session, "user", user.id)][1:]
    assert changes == [
        ("user.status", {"status": "active"}, {"status": "disabled"}),
        ("user.role", {"role": "reader"}, {"role": "staff"}),
        ("user.expiry", {"expires_on": None}, {"expires_on": "2027-01-01"}),
    ]


def test_staff_manage_readers_only(session):
    staff = make_user(session, "librarian", Role.STAFF)
    admin = make_user(session, "admin", Role.ADMIN)
    reader = make_user(session, "reader1")
    accounts.set_status(session, staff, reader, AccountStatus.DISABLED)
    with pytest.raises(accounts.AccountForbidden):
        accounts.set_status(session, staff, admin, AccountStatus.DISABLED)
    with pytest.raises(accounts.AccountForbidden):
        accounts.set_role(session, staff, reader, Role.STAFF)


def test_the_last_administrator_stays(session):
    admin = make_user(session, "admin", Role.ADMIN)
    with pytest.raises(accounts.AccountConflict):
        accounts.set_role(session, None, admin, Role.STAFF)
    with pytest.raises(accounts.AccountConflict):
        accounts.set_status(session, None, admin, AccountStatus.DISABLED)
    make_user(session, "second", Role.ADMIN)
    accounts.set_status(session, None, admin, AccountStatus.DISABLED)
    assert admin.status is AccountStatus.DISABLED


def test_audit_record_without_actor_is_the_system(session):
    event = audit.record(session, None, "thing.change", "thing", 7,
                         old={"when": date(2025, 1, 2), "role": Role.STAFF, "tags": ("a",)},
                         new={"when": datetime(2025, 1, 2, 3, 4, tzinfo=UTC)})
    session.commit()
    assert (event.actor_id, event.actor_name, event.target_id) == (None, "system", "7")
    assert event.old == {"when": "2025-01-02", "role": "staff", "tags": ["a"]}
    assert event.new == {"when": "2025-01-02T03:04:00+00:00"}
    assert audit.changed({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})
