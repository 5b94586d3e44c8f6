"""Staff pages for partner libraries at /admin/partners: list, add, pause, harvest now.

Register with ``app.register_blueprint(partners.bp)``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from repository.errors import RepositoryError
from repository.harvest import service
from repository.harvest.client import OAIClient, make_client
from viewer.auth import REQUIRED, TOO_LONG, staff_required
from viewer.extensions import db_session, parts

bp = Blueprint("partners", __name__, url_prefix="/admin/partners")


class PartnerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(message=REQUIRED),
                                               Length(max=128, message=TOO_LONG)])
    base_url = StringField(_l("OAI-PMH address"), validators=[
        InputRequired(message=REQUIRED), Length(max=1024, message=TOO_LONG)],
        description=_l("The partner's OAI-PMH base URL, such as https://thuvien.example.vn/oai"))
    set_spec = StringField(_l("Set"), validators=[Length(max=255, message=TOO_LONG)],
                           description=_l("Optional: harvest only this set of the partner's."))


@bp.before_request
@staff_required
def staff_only() -> None:
    """Every route of the blueprint is for staff (readers 403, visitors to sign in)."""


@bp.route("", methods=["GET", "POST"])
def partner_list():
    form = PartnerForm()
    if form.validate_on_submit() and _add(form):
        flash(_("The partner %(name)s was added.", name=form.name.data.strip()), "info")
        return redirect(url_for("partners.partner_list"))
    return render_template("partners/list.html", form=form,
                           partners=service.list_partners(db_session()))


def _add(form: PartnerForm) -> bool:
    session = db_session()
    try:
        service.add_partner(session, form.name.data, form.base_url.data, form.set_spec.data,
                            actor=current_user.user)
        session.commit()
    except RepositoryError as exc:
        session.rollback()
        form.form_errors.append(_(exc.template, **exc.params))
        return False
    return True


@bp.post("/<int:partner_id>/harvest")
def harvest_now(partner_id: int):
    """Harvest one partner while staff wait (the scheduled job does it unattended)."""
    service.get_partner(db_session(), partner_id)
    outcome = service.harvest_partner(parts().db, partner_id, harvest_client())
    if outcome.ok:
        flash(_("Harvest of %(name)s: %(added)d added, %(updated)d updated, %(deleted)d "
                "deleted.", name=outcome.partner, added=outcome.added,
                updated=outcome.updated, deleted=outcome.deleted), "info")
    else:
        flash(_("Harvest of %(name)s failed: %(error)s", name=outcome.partner,
                error=outcome.error), "error")
    return redirect(url_for("partners.partner_list"))


@bp.post("/<int:partner_id>/enabled")
def toggle(partner_id: int):
    session = db_session()
    partner = service.get_partner(session, partner_id)
    service.set_enabled(session, partner, not partner.enabled, actor=current_user.user)
    session.commit()
    message = (_("Harvesting of %(name)s resumed.", name=partner.name) if partner.enabled
               else _("Harvesting of %(name)s paused.", name=partner.name))
    flash(message, "info")
    return redirect(url_for("partners.partner_list"))


def harvest_client() -> OAIClient:
    config = current_app.config
    return make_client(float(config.get("HARVEST_TIMEOUT", 60)), config["LIBRARY_NAME"])
