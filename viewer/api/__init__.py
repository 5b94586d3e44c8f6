"""The JSON API (``/api/v1``): collections, items, files, search and ingest batches for scripts
and other systems, under the same access policy as the portal, described by an OpenAPI document.

Register with ``app.register_blueprint(bp)`` and exempt it from CSRF (``csrf.exempt(bp)``): the
API never honours the session cookie for a write, only a bearer token, which a browser does not
send by itself.
"""

from __future__ import annotations

from viewer.api import auth, batches, catalogue, files, openapi, search  # noqa: F401 - routes
from viewer.api.common import bp

__all__ = ["bp"]
