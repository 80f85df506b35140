"""The web app is served at / with a fallback to index.html; /api and /health keep their own answers."""

from metacrm.api.app import create_app


class _Client:
    """A test client whose responses are read and closed at once (file responses hold a handle)."""

    def __init__(self, client):
        self.client = client

    def get(self, path):
        response = self.client.get(path)
        response.get_data()
        response.close()
        return response


def _app(settings, services, dist):
    app = create_app(settings, services)
    app.config["FRONTEND_DIST"] = str(dist)
    return _Client(app.test_client())


def test_serves_index_assets_and_client_routes(tmp_path, settings, services):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>", encoding="utf-8")
    (tmp_path / "assets" / "app-1.js").write_text("console.log(1)", encoding="utf-8")
    client = _app(settings, services, tmp_path)
    root = client.get("/")
    assert root.status_code == 200 and b"id=root" in root.data
    assert "script-src 'self'" in root.headers["Content-Security-Policy"]
    deep = client.get("/o/lead/42")
    assert deep.status_code == 200 and b"id=root" in deep.data
    asset = client.get("/assets/app-1.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    api = client.get("/api/v1/no-such-thing")  # the API answers, never the app's index.html
    assert api.status_code in (401, 404) and api.mimetype == "application/problem+json"
    assert client.get("/health").get_json()["status"] == "ok"
    assert b"id=root" not in client.get("/admin/no-such-view").data  # the admin console's, not the app's
    assert b"id=root" in client.get("/administration-notes").data  # only whole segments are reserved
    assert client.get("/../secret_key").status_code in (200, 404)  # never a file outside dist
    assert b"id=root" in client.get("/%2e%2e/%2e%2e/pyproject.toml").data


def test_missing_build_says_how_to_build(tmp_path, settings, services):
    client = _app(settings, services, tmp_path / "nope")
    page = client.get("/o/lead")
    assert page.status_code == 503
    assert b"npm ci &amp;&amp; npm run build" in page.data and b"make demo" in page.data
