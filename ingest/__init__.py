"""Ingest: the pipeline that turns uploaded scans and PDFs into pages, text and a searchable PDF.

The stages, in the order an orchestrator calls them (each takes a ``context.PageContext`` or a
file and returns a path or a small result; failures are ``errors.IngestError`` subclasses):
``identify.identify`` → ``identify.validate`` → per page: for a PDF ``pdf.page_text``, then
``pdf.render_page`` (for the viewer, and for OCR where ``pdf.needs_ocr``) → ``images.normalize``
→ ``images.make_derivatives`` → ``images.clean_for_ocr`` → ``ocr.ocr_page`` (scanned pages
only) → ``pdf.page_pdf``; then ``pdf.assemble`` and ``describe.describe`` for the item.
"""
