"""``khoso token``: API tokens for staff scripts: create (shown once), list, revoke."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from repository import accounts, api_tokens
from repository.errors import RepositoryError
from viewer.extensions import parts

token_cli = AppGroup("token", help="API tokens for staff scripts: create, list, revoke.")


@token_cli.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (\"nightly OAI check\").")
@click.option("--expires-days", type=click.IntRange(1, api_tokens.MAX_EXPIRES_DAYS),
              help="Stop working after this many days (default: until revoked).")
def create(username: str, name: str, expires_days: int | None) -> None:
    """Make a token for the staff account USERNAME and print it (it is not shown again)."""
    try:
        with parts().db.session() as session:
            user = accounts.get_user(session, username)
            token, secret = api_tokens.create_token(session, user, name=name,
                                                    expires_days=expires_days)
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc
    expiry = token.expires_at.date().isoformat() if token.expires_at else "never"
    click.echo(f"token {token.id} for {username} (expires: {expiry}); keep it secret, it is "
               "shown only now:", err=True)
    click.echo(secret)


@token_cli.command("list")
@click.option("--user", "username", help="Only this account's tokens.")
def list_tokens(username: str | None) -> None:
    """Print the tokens: id, account, name, created, last used, expires, state."""
    with parts().db.session() as session:
        user = accounts.get_user(session, username) if username else None
        for token in api_tokens.list_tokens(session, user):
            state = "revoked" if token.revoked else "active"
            click.echo("\t".join([str(token.id), token.user.username, token.name or "-",
                                  _date(token.created_at), _date(token.last_used_at),
                                  _date(token.expires_at), state]))


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Stop the token TOKEN_ID (from ``khoso token list``) from working."""
    try:
        with parts().db.session() as session:
            api_tokens.revoke_token(session, token_id)
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked token {token_id}")


def _date(value) -> str:
    return value.date().isoformat() if value else "-"
