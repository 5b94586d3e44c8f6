"""The OAI-PMH endpoint at /oai (GET and POST): harvesters get what the public may see.

``init_app(app)`` registers the blueprint, exempts it from CSRF (harvesters post forms
without a session) and installs the hook that keeps the exposed records in step with changes.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request, url_for

from repository.oai.provider import ProviderSettings, respond
from repository.oai.records import sync_after_commit
from repository.oai.tokens import TokenSigner
from viewer.extensions import csrf, db_session, parts

bp = Blueprint("oai", __name__)

CONTENT_TYPE = "text/xml; charset=utf-8"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)
    khoso = app.extensions["khoso"]
    sync_after_commit(khoso.db.sessionmaker, khoso.policy,
                      on_error=lambda exc: app.logger.error("OAI-PMH sync failed: %s", exc))


@bp.route("/oai", methods=["GET", "POST"])
def endpoint():
    pairs = [*request.args.items(multi=True), *request.form.items(multi=True)]
    body = respond(db_session(), parts().policy, settings(), pairs)
    return Response(body, content_type=CONTENT_TYPE)


def settings() -> ProviderSettings:
    """The provider's settings from configuration, completed from the request's host."""
    config = current_app.config
    host = request.host.split(":", 1)[0] if not request.host.startswith("[") else "localhost"
    return ProviderSettings(
        base_url=url_for("oai.endpoint", _external=True),
        repository_name=config.get("OAI_REPOSITORY_NAME")
        or f"{config['SITE_NAME']} · {config['LIBRARY_NAME']}",
        admin_email=config.get("OAI_ADMIN_EMAIL") or _fallback_email(host),
        repository_identifier=config.get("OAI_REPOSITORY_IDENTIFIER") or host,
        signer=TokenSigner(config["SECRET_KEY"]),
        item_url=lambda handle: url_for("public.item", handle=handle, _external=True),
        page_size=int(config.get("OAI_PAGE_SIZE", 100)),
    )


def _fallback_email(host: str) -> str:
    """Identify must name an address; set OAI_ADMIN_EMAIL. Until then, one that says so."""
    return f"thuvien@{host}" if "." in host else f"thuvien@{host}.invalid"
