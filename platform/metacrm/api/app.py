"""The Flask application factory. No app exists at import time; each process builds its own."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import __version__
from ..config import Settings
from ..engines.wiring import build_services
from ..errors import Problem, ServiceUnavailable
from ..store.services import Services
from ..web import spa
from ..web.admin import init_admin
from .errors import register_error_handlers
from .routes import register_api

MAX_CONTENT_LENGTH = 10 * 1024 * 1024


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    services = services or build_services(settings)
    app = Flask("metacrm")
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
                      FRONTEND_DIST=settings.frontend_dist)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep field order (Flask 3 ignores JSON_SORT_KEYS)
    app.extensions["metacrm"] = services
    register_error_handlers(app)
    register_api(app)
    app.register_blueprint(spa.bp)  # the web app; registered before / below so it answers /
    init_admin(app, services)  # the admin console at /admin

    @app.get("/")
    def root() -> Any:
        snap = services.registry.current()
        return jsonify({
            "name": "MetaCRM", "version": __version__,
            "links": {"health": "/health", "api": "/api/v1"},
            "objects": [{"name": o.name, "label": dict(o.label)} for o in snap.objects.values()],
            "metadata_revision": snap.revision,
        })

    @app.get("/health")
    def health() -> Any:
        try:
            with services.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise ServiceUnavailable("the database does not answer",
                                     [Problem("database", "unavailable", type(exc).__name__)]) from None
        return jsonify({"status": "ok", "database": services.engine.dialect.name,
                        "redis": bool(settings.redis_url)})

    return app
