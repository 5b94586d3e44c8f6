"""Who is calling the API: a bearer token names a staff account; without one, reads see what the
portal shows the same browser (its session or nobody), and writes are refused.

The token is resolved here rather than in flask-login's ``request_loader``: that loader would
accept tokens on every page of the portal, and flask-login prefers the session cookie to the
header, which a CSRF-exempt API must never do for a write.
"""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from repository import api_tokens
from repository.access import Identity
from repository.access_rules import is_onsite, reading_room_networks
from viewer.api.common import bp, unauthorized
from viewer.auth import library_now
from viewer.extensions import db_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@bp.before_request
def authenticate() -> None:
    header = request.headers.get("Authorization")
    if header is None:
        g.api_user = None
        if request.method not in SAFE_METHODS:
            raise unauthorized(_("Changes need a staff API token: send the header "
                                 "Authorization: Bearer <token>."))
        return
    scheme, _space, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized(_("Send the token as: Authorization: Bearer <token>."),
                           "invalid_request")
    session = db_session()
    user = api_tokens.authenticate(session, secret.strip(), library_now().date())
    if user is None:
        raise unauthorized(_("The API token is not valid: it is unknown, revoked or expired."),
                           "invalid_token")
    session.commit()  # the token's last use
    address = request.remote_addr
    g.api_user = user
    g.identity = Identity.of_user(user, address, is_onsite(address, reading_room_networks(session)))
