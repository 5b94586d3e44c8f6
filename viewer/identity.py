"""Who is asking: the request's account and address, as the access policy's Identity."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from repository.access import Identity, Policy
from repository.access_rules import is_onsite, reading_room_networks
from viewer.extensions import db_session, parts


def current_identity() -> Identity:
    """The request's identity; on-site when the address is in a reading room's network
    (the address is the client's as far as the configured trusted proxies say)."""
    if "identity" not in g:
        address = request.remote_addr
        onsite = is_onsite(address, reading_room_networks(db_session()))
        if current_user.is_authenticated:
            g.identity = Identity.of_user(current_user.user, address, onsite)
        else:
            g.identity = Identity.anonymous(address, onsite)
    return g.identity


def policy() -> Policy:
    return parts().policy
