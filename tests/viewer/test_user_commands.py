"""``khoso user``: accounts from the command line, audited as the system."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from repository import accounts
from repository.models import AccountStatus, AuditEvent, Role
from viewer.commands.users import users_cli

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def find(app, username: str):
    with app.extensions["khoso"].db.session() as session:
        return accounts.find_user(session, username)


def test_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(users_cli, [
        "create", "Librarian", "--role", "staff", "--email", "thu@example.vn",
        "--card", "tv-1", "--expires", "2030-01-31", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created staff librarian" in result.output
    assert PASSWORD not in result.output
    user = find(app, "librarian")
    assert (user.role, user.status, user.card_number) == (Role.STAFF, AccountStatus.ACTIVE, "TV-1")
    assert user.expires_on.isoformat() == "2030-01-31"


def test_create_asks_twice_without_echoing(app, runner):
    result = runner.invoke(users_cli, ["create", "admin2", "--role", "admin"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output
    assert find(app, "admin2").role is Role.ADMIN


@pytest.mark.parametrize(("arguments", "message"), [
    (["create", "x", "--role", "reader", "--password-stdin"], "A username has 3 to 32"),
    (["create", "reader1", "--role", "reader", "--password-stdin"], "at least 10"),
    (["create", "reader1", "--role", "boss", "--password-stdin"], "Invalid value"),
])
def test_create_explains_refusals(runner, arguments, message):
    result = runner.invoke(users_cli, arguments, input="short\n")
    assert result.exit_code != 0
    assert message in result.output


def test_create_refuses_a_taken_name(runner):
    runner.invoke(users_cli, ["create", "reader1", "--role", "reader", "--password-stdin"],
                  input=PASSWORD)
    result = runner.invoke(users_cli, ["create", "READER1", "--role", "reader",
                                       "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 1
    assert "This username is already taken" in result.output


def test_list_set_role_disable_enable(app, runner):
    for name, role in (("boss", "admin"), ("reader1", "reader")):
        runner.invoke(users_cli, ["create", name, "--role", role, "--password-stdin"],
                      input=PASSWORD)
    listing = runner.invoke(users_cli, ["list"]).output.splitlines()
    assert listing == ["boss\tadmin\tactive\t-\t-\t-", "reader1\treader\tactive\t-\t-\t-"]
    assert runner.invoke(users_cli, ["list", "--role", "admin"]).output.startswith("boss\t")

    assert runner.invoke(users_cli, ["set-role", "reader1", "staff"]).exit_code == 0
    assert runner.invoke(users_cli, ["disable", "reader1"]).exit_code == 0
    assert find(app, "reader1").status is AccountStatus.DISABLED
    assert runner.invoke(users_cli, ["enable", "reader1"]).exit_code == 0
    user = find(app, "reader1")
    assert (user.role, user.status) == (Role.STAFF, AccountStatus.ACTIVE)
    with app.extensions["khoso"].db.session() as session:
        actions = session.execute(select(AuditEvent.action, AuditEvent.actor_name)
                                  .where(AuditEvent.target_id == str(user.id))
                                  .order_by(AuditEvent.id)).all()
    assert actions == [("user.create", "system"), ("user.role", "system"),
                       ("user.status", "system"), ("user.status", "system")]


def test_unknown_users_and_the_last_admin(runner):
    result = runner.invoke(users_cli, ["disable", "nobody"])
    assert result.exit_code == 1 and "No account named 'nobody'" in result.output
    runner.invoke(users_cli, ["create", "boss", "--role", "admin", "--password-stdin"],
                  input=PASSWORD)
    result = runner.invoke(users_cli, ["set-role", "boss", "reader"])
    assert result.exit_code == 1
    assert "At least one active administrator must remain." in result.output
