"""Partners in the portal: staff pages, the ``khoso partner`` and ``khoso harvest``
commands, and the "Partner libraries" section of the search page."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from repository import accounts
from repository.models import Role
from tests.oai.conftest import oai_app
from tests.oai.recorded import recorded_feeds
from viewer import partners
from viewer.commands.harvest import commands

PASSWORD = "correct horse battery"
partner_cli, harvest_command, oai_cli = commands


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(tmp_path, database_url):
    application = oai_app(tmp_path, database_url, HARVEST_TIMEOUT=10)
    if "partners" not in application.blueprints:
        application.register_blueprint(partners.bp)
    with application.extensions["khoso"].db.session() as session:
        for username, role in (("thuthu", Role.STAFF), ("docgia", Role.READER)):
            accounts.create_user(session, username=username, password=PASSWORD, role=role)
    yield application
    application.extensions["khoso"].db.dispose()


@pytest.fixture
def feeds():
    with recorded_feeds() as (base, _):
        yield base


def signed_in(app, username):
    client = app.test_client()
    client.get("/lang/en")
    if username:
        assert client.post("/login", data={"username": username,
                                           "password": PASSWORD}).status_code == 302
    return client


def test_only_staff_see_the_partner_pages(app):
    assert signed_in(app, None).get("/admin/partners").status_code == 302
    assert signed_in(app, "docgia").get("/admin/partners").status_code == 403
    assert signed_in(app, "thuthu").get("/admin/partners").status_code == 200


def test_staff_add_harvest_and_pause_a_partner(app, feeds):
    client = signed_in(app, "thuthu")
    added = client.post("/admin/partners", data={"name": "Thư viện mẫu",
                                                 "base_url": f"{feeds}/good/oai"},
                        follow_redirects=True)
    assert "The partner Thư viện mẫu was added." in added.get_data(as_text=True)
    refused = client.post("/admin/partners", data={"name": "x", "base_url": "ftp://x"})
    assert "is not an http:// or https:// address" in refused.get_data(as_text=True)
    harvested = client.post("/admin/partners/1/harvest", follow_redirects=True)
    assert "Harvest of Thư viện mẫu: 1 added, 3 updated, 0 deleted." in harvested.get_data(
        as_text=True)
    found = client.get("/search?q=sample+title").get_data(as_text=True)
    assert "Partner libraries" in found and "from Thư viện mẫu" in found
    assert 'href="http://test.example.com/publication/1585322"' in found
    client.post("/admin/partners/1/enabled")
    assert "Partner libraries" not in client.get("/search?q=sample+title").get_data(as_text=True)


def test_a_failed_harvest_shows_its_error(app, feeds):
    client = signed_in(app, "thuthu")
    client.post("/admin/partners", data={"name": "Hỏng", "base_url": f"{feeds}/broken/oai"})
    page = client.post("/admin/partners/1/harvest", follow_redirects=True).get_data(
        as_text=True)
    assert "Harvest of Hỏng failed: the response is not well-formed XML" in page
    assert page.count("not well-formed XML") == 2  # the message and the table's last error


def test_the_commands_add_list_and_harvest(app, feeds):
    runner = app.test_cli_runner()
    for name, path in (("Hỏng", "broken"), ("Mẫu", "good")):
        result = runner.invoke(partner_cli, ["add", name, f"{feeds}/{path}/oai"])
        assert result.exit_code == 0, result.output
    failed = runner.invoke(harvest_command, [])
    assert failed.exit_code == 1
    assert "Hỏng: failed: the response is not well-formed XML" in failed.output
    assert "Mẫu: 1 added, 3 updated, 0 deleted, 1 skipped" in failed.output
    assert runner.invoke(harvest_command, ["--partner", "Mẫu"]).exit_code == 0
    assert runner.invoke(harvest_command, ["--partner", "Không có"]).exit_code == 1
    listed = runner.invoke(partner_cli, ["list"]).output
    assert "Mẫu\t" in listed and "1 records" in listed and "not well-formed" in listed
    assert runner.invoke(partner_cli, ["add", "Mẫu", f"{feeds}/good/oai"]).exit_code == 1
    assert "exposed 0" in runner.invoke(oai_cli, ["sync"]).output
