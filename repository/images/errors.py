"""Why an image request cannot be answered; the web layer maps each class to its status."""

from __future__ import annotations

from repository.errors import RepositoryError


class ImageRequestError(RepositoryError):
    """A request for a page image that cannot be answered as asked (HTTP 400)."""


class BadImageRequest(ImageRequestError):
    """The request's syntax is wrong, or its region or size makes no sense for this image."""


class ImageTooLarge(BadImageRequest):
    """The requested output is beyond maxWidth, maxHeight or maxArea of the image service."""


class UnsupportedImageRequest(ImageRequestError):
    """The request is valid IIIF, but asks for a feature this server does not offer (501)."""
