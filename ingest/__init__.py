"""Ingest: the pipeline that turns uploaded scans and PDFs into pages, text and a searchable PDF.

The stages, in the order an orchestrator calls them (each takes a ``context.PageContext`` or a
file and returns a path or a small result; failures are ``errors.IngestError`` subclasses):
``identify.identify`` → ``identify.validate`` → per page: for a PDF ``pdf.page_text``, then
``pdf.render_page`` (for the viewer, and for OCR where ``pdf.needs_ocr``) → ``images.normalize``
→ ``images.make_derivatives`` → ``images.clean_for_ocr`` (the three in one guarded child on one
decode: ``images.prepare``) → ``ocr.ocr_page`` (scanned pages only) → ``pdf.page_pdf``; then
``pdf.assemble`` and ``describe.describe`` for the item.

Around the stages: ``pipeline`` is the orchestrator of one page and one item; ``services`` plans a
batch into draft items and task rows; ``work`` moves a task row through its states (exactly-once,
recovery); ``results`` stores what a page or item became; ``tasks`` holds the task bodies, the
Huey queue and a serial executor; ``cli`` and ``web`` are the ways in; ``review`` the review queue.
"""
