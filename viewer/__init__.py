"""The web face of Khoso: the application factory and the blueprints every browser sees."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the portal. ``test_config`` replaces the instance file and the environment."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "KHOSO_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()),
                template_folder=str(ROOT / "templates"), static_folder="static")

    from viewer.config import load_config
    load_config(app, test_config)
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from viewer import extensions
    extensions.init_app(app)

    from ingest import web as ingest_web
    from viewer import (
        admin,
        api,
        auth,
        delivery,
        errors,
        exports,
        health,
        i18n,
        iiif_image,
        oai,
        partners,
        public,
        reader,
        search,
        security,
        stats,
        vendor,
    )
    security.init_app(app)
    errors.init_app(app)
    for blueprint in (i18n.bp, health.bp, public.bp, search.bp, delivery.bp, auth.bp,
                      admin.bp, iiif_image.bp, partners.bp, api.bp, exports.bp, stats.bp,
                      vendor.bp, ingest_web.bp, reader.bp):
        app.register_blueprint(blueprint)
    extensions.csrf.exempt(api.bp)  # token-authenticated; session cookies never allow writes
    oai.init_app(app)
    return app
