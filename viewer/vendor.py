"""Front-end libraries installed by npm (package.json), served from node_modules.

Only the files in VENDOR_FILES are reachable: a public path under /static/vendor/ mapped to a
file under node_modules. Register with ``app.register_blueprint(vendor.bp)``; link with
``url_for("vendor.asset", name="chart.js/chart.umd.js")``.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory

from viewer import ROOT

bp = Blueprint("vendor", __name__, url_prefix="/static/vendor")

NODE_MODULES = ROOT / "node_modules"
VENDOR_FILES = {
    "chart.js/chart.umd.js": "chart.js/dist/chart.umd.min.js",
    "chart.js/chart.umd.min.js.map": "chart.js/dist/chart.umd.min.js.map",
    # The page viewer (viewer/reader.py): its own toolbar, so none of OpenSeadragon's images.
    "openseadragon/openseadragon.min.js": "openseadragon/build/openseadragon/openseadragon.min.js",
    "openseadragon/openseadragon.min.js.map":
        "openseadragon/build/openseadragon/openseadragon.min.js.map",
    "pdfjs/pdf.min.mjs": "pdfjs-dist/build/pdf.min.mjs",
    "pdfjs/pdf.worker.min.mjs": "pdfjs-dist/build/pdf.worker.min.mjs",
}
MAX_AGE = 24 * 3600


@bp.get("/<path:name>")
def asset(name: str):
    target = VENDOR_FILES.get(name)
    if target is None:
        abort(404)
    if not (NODE_MODULES / target).is_file():
        current_app.logger.error("%s is missing: run `make install` (npm ci)", target)
        abort(404)
    return send_from_directory(NODE_MODULES, target, max_age=MAX_AGE)
