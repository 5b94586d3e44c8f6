"""The administration home page: what waits for the staff, and links to every tool."""

from __future__ import annotations

from flask import render_template

from repository.admin_overview import overview
from viewer.admin.common import bp
from viewer.extensions import db_session


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html", overview=overview(db_session()))
