"""Building published items with page images for the IIIF tests, and reading the answers."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.files import add_file
from repository.models import AccessLevel, Collection, FileRole, ItemStatus, Page
from tests.backends import SHARED
from viewer import iiif_image
from viewer.extensions import parts

VALIDATOR_ID = "67352ccc-d1b0-11e1-89ae-279075081939"
VALIDATOR_IMAGE = Path(SHARED) / "data" / "iiif" / f"{VALIDATOR_ID}.png"


class BufferedClient(FlaskClient):
    """A test client that closes each response after reading it, as WSGI servers do (images
    are streamed from open cache files, which only the response's close() closes)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def with_iiif(app):
    """The app with the IIIF blueprint (until the factory registers it) and buffered clients."""
    if "iiif_image" not in app.blueprints:
        app.register_blueprint(iiif_image.bp)
    app.test_client_class = BufferedClient
    return app


def checkerboard(path: Path, size=(1000, 800), square=100) -> Path:
    """Red and blue squares, with a green top-left square: orientation is easy to check."""
    image = Image.new("RGB", size, (0, 0, 255))
    for top in range(0, size[1], square):
        for left in range(0, size[0], square):
            if (left // square + top // square) % 2 == 0:
                image.paste((255, 0, 0), (left, top, left + square, top + square))
    image.paste((0, 255, 0), (0, 0, square, square))
    image.save(path)
    return path


STATUS_STEPS = {
    ItemStatus.DRAFT: (),
    ItemStatus.PUBLISHED: (ItemStatus.PUBLISHED,),
    ItemStatus.WITHDRAWN: (ItemStatus.PUBLISHED, ItemStatus.WITHDRAWN),
}


def add_page_item(app, master: Path, *, uid: str | None = None, status=ItemStatus.PUBLISHED,
                  derivative: Path | None = None, rule: RuleChange | None = None) -> str:
    """A new item in an open collection, with one page whose MASTER is ``master`` (a PNG),
    maybe a JPEG DERIVATIVE and a ``rule`` of its own; returns the page's uid."""
    with app.app_context(), parts().db.session() as session:
        item = items.create_item(session, open_collection(session), [Statement("title", "Ảnh")])
        with Image.open(master) as image:
            width, height = image.size
        page = Page(item=item, sequence=1, width=width, height=height,
                    **({"uid": uid} if uid else {}))
        session.add(page)
        add_file(session, parts().store, item, FileRole.MASTER, master,
                 media_type="image/png", extension="png", page=page)
        if derivative is not None:
            add_file(session, parts().store, item, FileRole.DERIVATIVE, derivative,
                     media_type="image/jpeg", extension="jpg", page=page)
        if rule is not None:
            set_rule(session, None, rule, item=item)
        for step in STATUS_STEPS[status]:
            items.change_status(session, item, step, reason="test")
        session.flush()
        return page.uid


def open_collection(session, slug: str = "anh") -> Collection:
    """The collection everyone may read (created on first use)."""
    found = session.scalar(select(Collection).where(Collection.slug == slug))
    if found is not None:
        return found
    collection = collections.create_collection(session, slug=slug, title="Ảnh")
    set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN),
             collection=collection)
    return collection


def image_of(response) -> Image.Image:
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    image = Image.open(io.BytesIO(response.data))
    image.load()
    return image
