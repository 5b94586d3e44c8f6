"""Collections: the tree and creating one; a collection's page (titles, place in the tree,
default rights) and its items, whose rights can be changed several at a time."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from repository import collection_admin, collections, item_rights
from repository.access_rules import set_rule
from repository.groups import all_groups
from repository.models import ItemStatus
from viewer.admin.common import actor, attempt, bp, done, page_number
from viewer.admin.forms import (
    BulkRuleForm,
    CollectionEditForm,
    CollectionForm,
    MoveForm,
    bulk_form,
    options,
    rule_form,
)
from viewer.extensions import db_session


@bp.route("/collections", methods=["GET", "POST"])
def collection_tree():
    tree = collection_admin.collection_tree(db_session())
    form = CollectionForm()
    form.parent.choices = options([("", _("(top of the tree)")), *_places(tree)])
    if form.validate_on_submit() and attempt(
            form, collections.create_collection, slug=form.slug.data.strip(),
            title=form.title.data, title_en=form.title_en.data or None,
            description=form.description.data or "", parent_slug=form.parent.data or None,
            actor=actor()):
        return done(_("The collection %(slug)s was created.", slug=form.slug.data.strip()),
                    "admin.collection", slug=form.slug.data.strip())
    return render_template("admin/collections.html", tree=tree, form=form)


def _places(tree, exclude: set[int] = frozenset()) -> list[tuple[str, str]]:
    return [(node.collection.slug, "— " * node.depth + node.collection.title)
            for node in tree if node.collection.id not in exclude]


@bp.get("/collections/<slug>")
def collection(slug: str):
    return _collection_page(collections.get_collection(db_session(), slug))


@bp.post("/collections/<slug>")
def collection_update(slug: str):
    found = collections.get_collection(db_session(), slug)
    form = CollectionEditForm()
    if form.validate_on_submit() and attempt(
            form, collection_admin.rename_collection, actor(), found, title=form.title.data,
            title_en=form.title_en.data, description=form.description.data or "",
            description_en=form.description_en.data or ""):
        return done(_("The collection %(slug)s was saved.", slug=slug), "admin.collection",
                    slug=slug)
    return _collection_page(found, edit_form=form)


@bp.post("/collections/<slug>/move")
def collection_move(slug: str):
    found = collections.get_collection(db_session(), slug)
    form = _move_form(found)
    if form.validate_on_submit() and attempt(form, _move, found, form.parent.data):
        return done(_("The collection %(slug)s was moved.", slug=slug), "admin.collection",
                    slug=slug)
    return _collection_page(found, move_form=form)


def _move(session, found, parent_slug: str) -> None:
    parent = collections.get_collection(session, parent_slug) if parent_slug else None
    collection_admin.move_collection(session, actor(), found, parent)


@bp.post("/collections/<slug>/rights")
def collection_rights(slug: str):
    found = collections.get_collection(db_session(), slug)
    form = rule_form(all_groups(db_session()))
    if form.validate_on_submit() and attempt(form, _set_default, found, form.change()):
        return done(_("The default rights of %(slug)s were saved.", slug=slug),
                    "admin.collection", slug=slug)
    return _collection_page(found, rights_form=form)


def _set_default(session, collection, change) -> None:
    set_rule(session, actor(), change, collection=collection)


@bp.post("/collections/<slug>/rights/remove")
def collection_rights_remove(slug: str):
    found = collections.get_collection(db_session(), slug)
    if attempt(None, collection_admin.remove_collection_rule, actor(), found):
        flash(_("%(slug)s now follows the rights of the collection above it.", slug=slug),
              "info")
    return redirect(url_for("admin.collection", slug=slug))


def _move_form(found, bound: bool = True) -> MoveForm:
    session = db_session()
    tree = collection_admin.collection_tree(session)
    exclude = collection_admin.subtree_ids(session, found)
    form = MoveForm(**({} if bound else {"formdata": None}),
                    data={"parent": found.parent.slug if found.parent else ""})
    form.parent.choices = options([("", _("(top of the tree)")), *_places(tree, exclude)])
    return form


def _collection_page(found, edit_form=None, move_form=None, rights_form=None):
    session = db_session()
    in_force = item_rights.collection_rights_in_force(session, found)
    return render_template(
        "admin/collection.html", collection=found, ancestors=collection_admin.ancestors(found),
        in_force=in_force,
        edit_form=edit_form or CollectionEditForm(formdata=None, obj=found),
        move_form=move_form or _move_form(found, bound=False),
        rights_form=rights_form or rule_form(all_groups(session), in_force.rule, bound=False))


# -- the items of a collection, and their rights in bulk ------------------------------------

@bp.get("/collections/<slug>/items")
def collection_items(slug: str):
    found = collections.get_collection(db_session(), slug)
    return _items_page(found, bulk_form(all_groups(db_session())))


@bp.post("/collections/<slug>/items")
def collection_items_rights(slug: str):
    found = collections.get_collection(db_session(), slug)
    form: BulkRuleForm = bulk_form(all_groups(db_session()))
    handles = request.form.getlist("handles")
    if form.validate_on_submit():
        if form.follow.data and attempt(form, item_rights.follow_collection, actor(), found,
                                        handles):
            return done(ngettext("%(num)d item now follows the collection's rights.",
                                 "%(num)d items now follow the collection's rights.",
                                 len(set(handles))), "admin.collection_items", slug=slug)
        if not form.follow.data and attempt(form, item_rights.set_rules_of, actor(), found,
                                            handles, form.change()):
            return done(ngettext("%(num)d item was given its own rights.",
                                 "%(num)d items were given their own rights.",
                                 len(set(handles))), "admin.collection_items", slug=slug)
    return _items_page(found, form, selected=set(handles))


def _items_page(found, form, selected=frozenset()):
    status = request.args.get("status")
    listing = collection_admin.collection_items(
        db_session(), found, page=page_number(),
        status=ItemStatus(status) if status in {s.value for s in ItemStatus} else None)
    return render_template("admin/collection_items.html", collection=found, listing=listing,
                           form=form, selected=selected, status=status)
