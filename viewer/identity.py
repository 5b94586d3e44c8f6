"""Who is asking: the request's account and address, as the access policy's Identity."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from repository.access import Identity, Policy
from viewer.extensions import parts


def current_identity() -> Identity:
    if "identity" not in g:
        address = request.remote_addr
        if current_user.is_authenticated:
            g.identity = Identity.of_user(current_user, address)
        else:
            g.identity = Identity.anonymous(address)
    return g.identity


def policy() -> Policy:
    return parts().policy
