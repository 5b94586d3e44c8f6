"""Groups: the list and creating one; a group's page with its title, members and deletion."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from repository import groups
from viewer.admin.common import actor, attempt, bp, done
from viewer.admin.forms import GroupEditForm, GroupForm, MemberForm
from viewer.extensions import db_session


@bp.route("/groups", methods=["GET", "POST"])
def group_list():
    form = GroupForm()
    if form.validate_on_submit() and attempt(
            form, groups.create_group, actor(), name=form.name.data, title=form.title.data,
            description=form.description.data or ""):
        return done(_("The group %(name)s was created.", name=form.name.data.strip().lower()),
                    "admin.group", name=form.name.data.strip().lower())
    return render_template("admin/groups.html", groups=groups.list_groups(db_session()),
                           form=form)


@bp.get("/groups/<name>")
def group(name: str):
    return _group_page(groups.get_group(db_session(), name))


@bp.post("/groups/<name>")
def group_update(name: str):
    found = groups.get_group(db_session(), name)
    form = GroupEditForm()
    if form.validate_on_submit() and attempt(
            form, groups.update_group, actor(), found, title=form.title.data,
            description=form.description.data or ""):
        return done(_("The group %(name)s was saved.", name=name), "admin.group", name=name)
    return _group_page(found, edit_form=form)


@bp.post("/groups/<name>/members")
def add_member(name: str):
    found = groups.get_group(db_session(), name)
    form = MemberForm()
    if form.validate_on_submit() and attempt(
            form, groups.add_member, actor(), found, form.username.data):
        return done(_("%(user)s is now a member of %(name)s.",
                      user=form.username.data.strip().lower(), name=name),
                    "admin.group", name=name)
    return _group_page(found, member_form=form)


@bp.post("/groups/<name>/members/<username>/remove")
def remove_member(name: str, username: str):
    found = groups.get_group(db_session(), name)
    if attempt(None, groups.remove_member, actor(), found, username):
        flash(_("%(user)s is no longer a member of %(name)s.", user=username, name=name), "info")
    return redirect(url_for("admin.group", name=name))


@bp.post("/groups/<name>/delete")
def delete_group(name: str):
    found = groups.get_group(db_session(), name)
    if attempt(None, groups.delete_group, actor(), found):
        return done(_("The group %(name)s was deleted.", name=name), "admin.group_list")
    return redirect(url_for("admin.group", name=name))


def _group_page(found, edit_form=None, member_form=None):
    edit_form = edit_form or GroupEditForm(
        formdata=None, data={"title": found.title, "description": found.description})
    return render_template("admin/group.html", group=found, edit_form=edit_form,
                           member_form=member_form or MemberForm(formdata=None))
