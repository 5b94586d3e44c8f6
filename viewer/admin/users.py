"""Accounts: the list with filters, creating an account, and editing one (name, card,
expiry, enabled or disabled, and — for administrators — the role)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from repository import account_admin, accounts
from repository.account_admin import AccountChange, UserQuery
from repository.models import AccountStatus, Role
from viewer.admin.common import actor, attempt, bp, done, is_admin, page_number, valid
from viewer.admin.forms import NewAccountForm, UserFilter, account_form
from viewer.extensions import db_session


@bp.get("/users")
def users():
    filters = UserFilter(request.args)
    filters.validate()
    role, status, text = (valid(filters.role), valid(filters.status), valid(filters.q))
    query = UserQuery(role=Role(role) if role else None,
                      status=AccountStatus(status) if status else None, text=text or "")
    found = account_admin.find_users(db_session(), query, page=page_number())
    return render_template("admin/users.html", filters=filters, listing=found)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    found = account_admin.get_account(db_session(), user_id)
    may_manage = account_admin.may_manage(actor(), found)
    form = account_form(found, may_change_role=is_admin())
    if may_manage and form.validate_on_submit() and attempt(
            form, account_admin.update_account, actor(), found, _account_change(form)):
        return done(_("The account %(name)s was saved.", name=found.username),
                    "admin.user", user_id=user_id)
    return render_template("admin/user.html", user=found, form=form, may_manage=may_manage)


def _account_change(form) -> AccountChange:
    role = getattr(form, "role", None)
    return AccountChange(
        display_name=form.display_name.data or "", card_number=form.card_number.data or None,
        expires_on=form.expires_on.data, status=AccountStatus(form.status.data),
        role=Role(role.data) if role is not None else None)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewAccountForm()
    if not is_admin():
        del form.role
    if form.validate_on_submit() and attempt(form, _create, form):
        return done(_("The account %(name)s was created.", name=form.username.data.lower()),
                    "admin.users", q=form.username.data.strip().lower())
    return render_template("admin/user_new.html", form=form)


def _create(session, form: NewAccountForm) -> None:
    role = getattr(form, "role", None)
    accounts.create_user(
        session, username=form.username.data, password=form.password.data,
        role=role.data if role is not None else Role.READER, email=form.email.data or None,
        card_number=form.card_number.data or None, display_name=form.display_name.data or "",
        expires_on=form.expires_on.data, actor=actor())
