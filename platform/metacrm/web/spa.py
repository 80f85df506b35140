"""Serving the built web app (frontend/dist) with a fallback to index.html for client routes.

Every path that is not under /api and not a file of the build answers with the app's
index.html, so deep links such as /o/lead/42 work after a reload. When the build is missing,
a plain page says how to build it instead of a bare 404.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory

bp = Blueprint("spa", __name__)

DEFAULT_DIST = Path(__file__).resolve().parents[3] / "frontend" / "dist"
"""frontend/dist of the source tree (the package is installed editable from platform/)."""

RESERVED = frozenset({"api", "health", "admin"})
"""First path segments the SPA never answers: the API, the health check and the admin console
(Flask-Admin) keep their own answers and 404s."""

# ajv (form validation) compiles validators with new Function, hence 'unsafe-eval'; inline
# scripts and event-handler attributes stay blocked, a second line of defence against XSS.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MetaCRM: web app not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The MetaCRM web app is not built yet</h1>
<p>The server is running, but <code>{dist}</code> does not exist.</p>
<p>Build it with <code>make demo</code>, or by hand:</p>
<pre>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>This needs Node.js 20 or newer. The API works without it: <a href="/api/v1/docs">/api/v1/docs</a>.</p>
</body></html>
"""


def dist_dir() -> Path:
    return Path(current_app.config.get("FRONTEND_DIST") or DEFAULT_DIST)


def _secure(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def app_page(path: str) -> Response:
    if path.split("/", 1)[0] in RESERVED:
        abort(404)
    dist = dist_dir()
    index = dist / "index.html"
    if not index.is_file():
        response = Response(NOT_BUILT.format(dist=escape(str(dist))), status=503, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        return _secure(response)
    if path and (dist / path).is_file() and dist.resolve() in (dist / path).resolve().parents:
        response = send_from_directory(dist, path)
        if path.startswith("assets/"):  # content-hashed names: cache for a year
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return _secure(response)
    response = Response(index.read_bytes(), mimetype="text/html")  # small; read whole, no file handle kept
    response.headers["Cache-Control"] = "no-cache"
    return _secure(response)
