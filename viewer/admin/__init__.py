"""Administration in the browser for staff and administrators: accounts, groups, the
collection tree, rights of collections and items, reading rooms, and the audit log.

Register with ``app.register_blueprint(admin.bp)``; every route lives under /admin."""

from viewer.admin import (  # noqa: F401 - importing the views attaches their routes to bp
    audit,
    collections,
    dashboard,
    groups,
    labels,
    reading_rooms,
    rights,
    users,
)
from viewer.admin.common import bp

__all__ = ["bp"]
