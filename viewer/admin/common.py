"""The administration blueprint, its staff-only guard, and the few helpers every admin view
shares: who is acting, turning domain errors into form messages, commit-flash-redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from repository import accounts
from repository.errors import RepositoryError
from repository.models import Role, User
from viewer.auth import staff_required
from viewer.extensions import db_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@staff_required
def staff_only() -> None:
    """Every route of the blueprint is for staff (readers 403, visitors to sign in)."""


def actor() -> User:
    return current_user.user


def is_admin() -> bool:
    return current_user.role is Role.ADMIN


def explain(exc: RepositoryError) -> str:
    """A domain error's message in the reader's language."""
    if isinstance(exc, accounts.Explained):
        return _(exc.message, **exc.params)
    return _(exc.template, **exc.params)


def attempt(form: FlaskForm | None, change: Callable[..., Any], *args: Any,
            **kwargs: Any) -> bool:
    """Run one service call and commit. A refusal rolls the unit of work back and becomes a
    message: on the form's field the error names, else on the form, else a flashed error."""
    session = db_session()
    try:
        change(session, *args, **kwargs)
        session.commit()
    except RepositoryError as exc:
        session.rollback()
        _show(form, getattr(exc, "field", None), explain(exc))
        return False
    return True


def _show(form: FlaskForm | None, field_name: str | None, message: str) -> None:
    if form is None:
        flash(message, "error")
        return
    field = form._fields.get(field_name or "")
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def done(message: str, endpoint: str, **values: Any):
    flash(message, "info")
    return redirect(url_for(endpoint, **values))


def valid(field) -> object:
    """A filter field's value, or None when it did not validate (filters never fail)."""
    return None if field.errors else field.data


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def page_url(number: int) -> str:
    """The current page's address with the same filters and another page number."""
    args = request.args.to_dict()
    args["page"] = str(number)
    return url_for(request.endpoint, **(request.view_args or {}), **args)
