"""Signing in and out, registering, approving registrations, and the reader's own account page."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import (
    AnonymousUserMixin,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from repository import accounts
from repository.models import AccountStatus, User
from viewer.extensions import db_session, limiter, login_manager
from viewer.i18n import safe_next

bp = Blueprint("auth", __name__)


# -- who is signed in -----------------------------------------------------------------------

class Account(UserMixin):
    """The signed-in user as flask-login sees it; other attributes are the User row's."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return accounts.session_id(self.user)

    @property
    def is_active(self) -> bool:
        return self.user.status is AccountStatus.ACTIVE

    def __getattr__(self, name: str):
        if name == "user":  # not set yet (copying, unpickling): do not recurse
            raise AttributeError(name)
        return getattr(self.user, name)


class Anonymous(AnonymousUserMixin):
    user = None
    is_staff = False
    role = None
    locale = None
    username = ""
    display_name = ""


@bp.record_once
def _configure_login(_state) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    # Flash a plain string: a lazy one would be stored in the session cookie as Markup.
    login_manager.localize_callback = str
    login_manager.anonymous_user = Anonymous
    login_manager.user_loader(load_user)


def load_user(value: str) -> Account | None:
    """Sessions carry "id:token"; a new password changes the token and ends old sessions."""
    user = accounts.user_for_session(db_session(), value, library_now().date())
    return Account(user) if user is not None else None


def library_now() -> datetime:
    """Now in the library's time zone, whose calendar decides when an account expires."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def staff_required(view):
    """Anonymous visitors are sent to sign in; signed-in readers get 403."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


ROLE_LABELS = {"admin": _l("Administrator"), "staff": _l("Staff"), "reader": _l("Reader")}
ACCOUNT_STATUS_LABELS = {
    "pending": _l("Awaiting approval"), "active": _l("Active"), "disabled": _l("Disabled"),
}


@bp.context_processor
def _labels() -> dict:
    return {"role_labels": ROLE_LABELS, "account_status_labels": ACCOUNT_STATUS_LABELS}


def explain(exc: accounts.Explained) -> str:
    """The error's message in the reader's language."""
    return _(exc.message, **exc.params)


# -- forms ----------------------------------------------------------------------------------

# WTForms has no Vietnamese catalogue: every validator carries a message of ours.
REQUIRED = _l("Please fill in this field.")
TOO_LONG = _l("This is too long: at most %(max)d characters.")
PASSWORD_TOO_SHORT = _l("The password must have at least %(min)d characters.")
PASSWORDS_DIFFER = _l("The two passwords are not the same.")


def _required() -> InputRequired:
    return InputRequired(message=REQUIRED)


def _at_most(length: int) -> Length:
    return Length(max=length, message=TOO_LONG)


def _new_password() -> list:
    return [_required(), Length(min=accounts.PASSWORD_MIN_LENGTH, message=PASSWORD_TOO_SHORT),
            _at_most(accounts.PASSWORD_MAX_LENGTH)]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[_required(), _at_most(64)])
    password = PasswordField(_l("Password"), validators=[
        _required(), _at_most(accounts.PASSWORD_MAX_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[_required(), _at_most(32)],
                           description=_l("3 to 32 characters: letters a-z, digits, dot, "
                                          "hyphen or underscore."))
    display_name = StringField(_l("Full name"), validators=[Optional(), _at_most(255)])
    email = EmailField(_l("Email address"), validators=[_required(), _at_most(255)])
    card_number = StringField(_l("Library card number"), validators=[Optional(), _at_most(64)],
                              description=_l("If you have one; the staff will check it."))
    password = PasswordField(_l("Password"), validators=_new_password(),
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        _required(), EqualTo("password", message=PASSWORDS_DIFFER)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required()])
    new_password = PasswordField(_l("New password"), validators=_new_password(),
                                 description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        _required(), EqualTo("new_password", message=PASSWORDS_DIFFER)])


class ApproveForm(FlaskForm):
    expires_on = DateField(_l("Library card valid until"), validators=[Optional()])


def _show_error(form: FlaskForm, exc: accounts.Explained) -> None:
    db_session().rollback()
    field = form._fields.get(exc.field or "")
    if field is not None:
        field.errors = [*field.errors, explain(exc)]
    else:
        form.form_errors.append(explain(exc))


# -- signing in and out ---------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    next_path = safe_next(request.args.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_path or url_for("public.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, next_path)
    config = current_app.config
    try:
        user = accounts.authenticate(
            db_session(), form.username.data, form.password.data, request.remote_addr,
            library_now(), max_failures=config["LOGIN_MAX_FAILURES"],
            window=config["LOGIN_FAILURE_WINDOW"], pepper=config["SECRET_KEY"].encode())
    except accounts.LoginThrottled as exc:
        message = ngettext("Too many failed sign-in attempts. Please wait %(num)d minute "
                           "and try again.", "Too many failed sign-in attempts. Please wait "
                           "%(num)d minutes and try again.", exc.minutes)
        return _login_page(form, next_path, message, 429, {"Retry-After": str(exc.retry_after)})
    except accounts.InvalidCredentials as exc:
        return _login_page(form, next_path, explain(exc))
    except accounts.AuthenticationError as exc:
        return _login_page(form, next_path, explain(exc), 403)
    _start_session(user, remember=form.remember.data)
    return redirect(next_path or url_for("public.home"))


def _login_page(form: LoginForm, next_path: str, refusal: str | None = None, status: int = 200,
                headers: dict[str, str] | None = None):
    page = render_template("auth/login.html", form=form, next_path=next_path, refusal=refusal)
    return page, status, headers or {}


def _start_session(user: User, remember: bool) -> None:
    """A fresh session for the signed-in user, so that nothing planted before carries over."""
    had_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in \
        request.cookies
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True  # PERMANENT_SESSION_LIFETIME applies
    login_user(Account(user), remember=remember)
    if had_cookie and not remember:
        session["_remember"] = "clear"  # someone else's "keep me signed in" ends here


@bp.post("/logout")
def logout():
    logout_user()
    kept = {key: session[key] for key in ("lang", "_remember") if key in session}
    session.clear()
    session.update(kept)
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))


# -- registration ---------------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            accounts.register_reader(
                db_session(), username=form.username.data, password=form.password.data,
                email=form.email.data, card_number=form.card_number.data,
                display_name=form.display_name.data)
            db_session().commit()
        except (accounts.AccountInputError, accounts.AccountConflict) as exc:
            _show_error(form, exc)
        else:
            # The same words whether or not the email or card already had an account.
            flash(_("Thank you. Your registration has been received. You can sign in once "
                    "the library staff have approved it."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)


@bp.get("/admin/registrations")
@staff_required
def pending():
    registrations = accounts.pending_registrations(db_session())
    return render_template("auth/pending.html", registrations=registrations,
                           today=library_now().date())


@bp.post("/admin/registrations/<int:user_id>/approve")
@staff_required
def approve(user_id: int):
    form = ApproveForm()
    if not form.validate_on_submit():
        flash(_("Please give the card's expiry date as a valid date, or leave it empty."),
              "error")
        return redirect(url_for("auth.pending"))
    user = accounts.pending_registration(db_session(), user_id)
    accounts.approve(db_session(), current_user.user, user, expires_on=form.expires_on.data)
    db_session().commit()
    flash(_("%(name)s can now sign in.", name=user.username), "info")
    return redirect(url_for("auth.pending"))


@bp.post("/admin/registrations/<int:user_id>/reject")
@staff_required
def reject(user_id: int):
    user = accounts.pending_registration(db_session(), user_id)
    accounts.reject(db_session(), current_user.user, user)
    db_session().commit()
    flash(_("The registration of %(name)s was rejected.", name=user.username), "info")
    return redirect(url_for("auth.pending"))


# -- the reader's own account ---------------------------------------------------------------

@bp.get("/account")
@login_required
def account():
    today = library_now().date()
    days_left = (current_user.expires_on - today).days if current_user.expires_on else None
    return render_template("auth/account.html", user=current_user.user, days_left=days_left)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user.user
        try:
            accounts.change_password(db_session(), user, form.new_password.data,
                                     current_password=form.current_password.data)
            db_session().commit()
        except accounts.AccountInputError as exc:
            _show_error(form, exc)
        else:
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(Account(user), remember=remembered in request.cookies)
            flash(_("Your password has been changed. You have been signed out on other "
                    "devices."), "info")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)
