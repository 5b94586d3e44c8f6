"""One item's rights: the rule in force and where it comes from, what typical visitors may
do, and setting or removing the item's own rule."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from repository import item_rights
from repository.access_rules import remove_item_rule, set_rule
from repository.groups import all_groups
from viewer.admin.common import actor, attempt, bp, done
from viewer.admin.forms import rule_form
from viewer.extensions import db_session
from viewer.identity import policy


@bp.get("/items/<handle>/rights")
def item_rights_page(handle: str):
    return _rights_page(item_rights.get_item(db_session(), handle))


@bp.post("/items/<handle>/rights")
def item_rights_set(handle: str):
    item = item_rights.get_item(db_session(), handle)
    form = rule_form(all_groups(db_session()))
    if form.validate_on_submit() and attempt(form, _set, item, form.change()):
        return done(_("The item's own rights were saved."), "admin.item_rights_page",
                    handle=handle)
    return _rights_page(item, form)


def _set(session, item, change) -> None:
    set_rule(session, actor(), change, item=item)


@bp.post("/items/<handle>/rights/remove")
def item_rights_remove(handle: str):
    item = item_rights.get_item(db_session(), handle)
    if attempt(None, remove_item_rule, actor(), item):
        flash(_("The item now follows its collection's rights."), "info")
    return redirect(url_for("admin.item_rights_page", handle=handle))


def _rights_page(item, form=None):
    session = db_session()
    in_force = item_rights.rights_in_force(session, item)
    return render_template(
        "admin/item_rights.html", item=item, in_force=in_force,
        who_may=item_rights.who_may(policy(), item),
        form=form or rule_form(all_groups(session), in_force.rule, bound=False))
