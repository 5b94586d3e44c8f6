"""Reading rooms: their networks decide who counts as on site. List, add, edit, delete."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from repository import reading_rooms
from viewer.admin.common import actor, attempt, bp, done
from viewer.admin.forms import NetworksForm, ReadingRoomForm
from viewer.extensions import db_session


@bp.route("/reading-rooms", methods=["GET", "POST"])
def reading_room_list():
    form = ReadingRoomForm()
    if form.validate_on_submit() and attempt(
            form, reading_rooms.save_reading_room, actor(), form.name.data,
            form.networks.data or ""):
        return done(_("The reading room %(name)s was saved.", name=form.name.data.strip()),
                    "admin.reading_room_list")
    return render_template("admin/reading_rooms.html",
                           rooms=reading_rooms.list_reading_rooms(db_session()), form=form)


@bp.route("/reading-rooms/<int:room_id>", methods=["GET", "POST"])
def reading_room(room_id: int):
    room = reading_rooms.get_reading_room(db_session(), room_id)
    form = NetworksForm(data={"networks": room.networks})
    if form.validate_on_submit() and attempt(
            form, reading_rooms.save_reading_room, actor(), room.name, form.networks.data or ""):
        return done(_("The reading room %(name)s was saved.", name=room.name),
                    "admin.reading_room_list")
    return render_template("admin/reading_room.html", room=room, form=form)


@bp.post("/reading-rooms/<int:room_id>/delete")
def reading_room_delete(room_id: int):
    room = reading_rooms.get_reading_room(db_session(), room_id)
    name = room.name
    if attempt(None, reading_rooms.delete_reading_room, actor(), room):
        flash(_("The reading room %(name)s was deleted.", name=name), "info")
    return redirect(url_for("admin.reading_room_list"))
