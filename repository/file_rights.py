"""Which right fetching a stored file needs, by the file's role, under the one access policy.

Page images, text and word boxes are what the page viewer shows: viewing pages is enough. The
whole document (PDF), the file as uploaded and the full-resolution master are downloads. A rule
that asks for a watermark only lets readers have images through the watermarking viewer, so
raw images and PDFs are not handed out to them.
"""

from __future__ import annotations

from repository.access import Action, Identity, Policy
from repository.models import FileRole, Item, ItemFile

FILE_ACTIONS = {
    FileRole.ORIGINAL: Action.DOWNLOAD,
    FileRole.MASTER: Action.DOWNLOAD,
    FileRole.PDF: Action.DOWNLOAD,
    FileRole.DERIVATIVE: Action.VIEW_PAGES,
    FileRole.THUMBNAIL: Action.VIEW_PAGES,
    FileRole.TEXT: Action.VIEW_PAGES,
    FileRole.HOCR: Action.VIEW_PAGES,
}
# Delivered only with a watermark stamped on when the item's rule asks for one.
WATERMARKED_ROLES = frozenset({FileRole.ORIGINAL, FileRole.MASTER, FileRole.PDF,
                               FileRole.DERIVATIVE})


def may_fetch(policy: Policy, identity: Identity, item: Item, stored: ItemFile) -> bool:
    """Whether ``identity`` may have the bytes of ``stored`` (a file of ``item``) as they are."""
    if not policy.can(identity, FILE_ACTIONS[stored.role], item):
        return False
    if identity.is_staff or stored.role not in WATERMARKED_ROLES:
        return True
    return policy.watermark_text(identity, item) is None
