"""Token authentication: valid, revoked, expired, garbage, a demoted or disabled account; the
session cookie never authorises a write; the ``khoso token`` commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from repository import accounts, api_tokens
from repository.errors import PermissionDenied
from repository.models import AccountStatus, AuditEvent, Role, utcnow
from tests.api.library import PASSWORD, bearer, build_library, register_blueprints
from tests.conftest import make_test_app
from viewer.commands.exports import token_cli
from viewer.extensions import parts

BATCHES = "/api/v1/batches"


def edit(client, handle, headers):
    return client.patch(f"/api/v1/items/{handle}/metadata", headers=headers,
                        json={"metadata": [{"element": "subject", "value": "Thơ Nôm"}]})


def test_a_valid_token_is_the_staff_account(app, client, library):
    assert client.get(BATCHES, headers=bearer(library.staff_token)).status_code == 200
    assert edit(client, library.open_items[0], bearer(library.staff_token)).status_code == 200
    with app.app_context(), parts().db.session() as session:
        token = session.get(api_tokens.ApiToken, library.staff_token_id)
        assert token.last_used_at is not None
        assert session.scalar(select(AuditEvent.actor_name).where(
            AuditEvent.action == "item.metadata")) == "thuthu"


@pytest.mark.parametrize("header", [
    "Bearer khoso_not-a-real-token", "Bearer garbage", "Bearer ", "Basic dGh1dGh1OnBhc3M=",
    "Bearer " + "x" * 5000, "bearer\tkhoso_x",
])
def test_garbage_is_refused_with_a_challenge(client, library, header):
    response = client.get(BATCHES, headers={"Authorization": header})
    assert response.status_code == 401 and response.json["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # A bad token is an error even where no token is needed: scripts learn it at once.
    assert client.get("/api/v1/collections",
                      headers={"Authorization": header}).status_code == 401


def test_revoked_token_stops_working(app, client, library):
    with app.app_context(), parts().db.session() as session:
        api_tokens.revoke_token(session, library.staff_token_id)
    response = client.get(BATCHES, headers=bearer(library.staff_token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token_stops_working(app, client, library):
    with app.app_context(), parts().db.session() as session:
        user = accounts.get_user(session, "thuthu")
        _, secret = api_tokens.create_token(session, user, expires_days=1,
                                            now=utcnow() - timedelta(days=2))
    assert client.get(BATCHES, headers=bearer(secret)).status_code == 401


def test_disabled_or_demoted_account_loses_its_rights(app, client, library):
    with app.app_context(), parts().db.session() as session:
        accounts.set_role(session, None, accounts.get_user(session, "thuthu"), Role.READER)
    assert client.get(BATCHES, headers=bearer(library.staff_token)).status_code == 403
    assert edit(client, library.open_items[0], bearer(library.staff_token)).status_code == 403
    with app.app_context(), parts().db.session() as session:
        accounts.set_status(session, None, accounts.get_user(session, "thuthu"),
                            AccountStatus.DISABLED)
    assert client.get(BATCHES, headers=bearer(library.staff_token)).status_code == 401


def test_tokens_are_for_staff_only(app, library):
    with app.app_context(), parts().db.session() as session:
        reader = accounts.get_user(session, "docgia")
        with pytest.raises(PermissionDenied):
            api_tokens.create_token(session, reader)


def test_only_the_hash_is_stored(app, library):
    with app.app_context(), parts().db.session() as session:
        token = session.get(api_tokens.ApiToken, library.staff_token_id)
        assert token.token_hash == api_tokens.hash_token(library.staff_token)
        assert library.staff_token not in token.token_hash


def test_the_session_cookie_never_authorises_a_write(client, library):
    client.post("/login", data={"username": "thuthu", "password": PASSWORD})
    assert client.get(BATCHES).status_code == 200           # reading: as the portal
    response = edit(client, library.open_items[0], {})
    assert response.status_code == 401                       # writing: a token only


def test_writes_with_a_token_need_no_csrf_token(tmp_path, database_url):
    app = register_blueprints(make_test_app(tmp_path, database_url, WTF_CSRF_ENABLED=True))
    library = build_library(app, tmp_path / "sources")
    client = app.test_client()
    assert edit(client, library.open_items[0], bearer(library.staff_token)).status_code == 200
    assert client.post("/login", data={"username": "thuthu",
                                       "password": PASSWORD}).status_code == 400
    app.extensions["khoso"].db.dispose()


def test_token_commands(app, library):
    runner = app.test_cli_runner()
    created = runner.invoke(token_cli, ["create", "thuthu", "--name", "oai check",
                                   "--expires-days", "30"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("khoso_")
    client = app.test_client()
    assert client.get(BATCHES, headers=bearer(secret)).status_code == 200
    listed = runner.invoke(token_cli, ["list", "--user", "thuthu"]).output
    assert "oai check" in listed and "active" in listed and secret not in listed
    token_id = listed.strip().splitlines()[-1].split("\t")[0]
    assert runner.invoke(token_cli, ["revoke", token_id]).exit_code == 0
    assert client.get(BATCHES, headers=bearer(secret)).status_code == 401
    refused = runner.invoke(token_cli, ["create", "docgia"])
    assert refused.exit_code == 1 and "staff" in refused.output
    assert runner.invoke(token_cli, ["revoke", "999"]).exit_code == 1
