"""API fixtures: an app over the standard pack, users with roles, and clients that send tokens."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from metacrm.api.app import create_app
from metacrm.auth import accounts
from metacrm.auth.tokens import create_token
from metacrm.flows.executor import shutdown
from metacrm.store.services import Services
from metacrm.store.users import ensure_user


class Api:
    """A test client that sends one user's API token and JSON bodies."""

    def __init__(self, client: FlaskClient, token: str | None, user_id: int | None = None) -> None:
        self.client = client
        self.token = token
        self.user_id = user_id

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(headers or {})
        return out

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             **kw: Any) -> Any:
        data = None if body is None else json.dumps(body)
        return self.client.open("/api/v1" + path, method=method, data=data,
                                content_type="application/json" if body is not None else None,
                                headers=self._headers(headers), **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("POST", path, body, **kw)

    def patch(self, path: str, body: Any, version: int | None = None, **kw: Any) -> Any:
        headers = {"If-Match": f'"{version}"'} if version is not None else {}
        return self.send("PATCH", path, body, headers=headers, **kw)

    def upload(self, path: str, content: bytes, filename: str, **form: Any) -> Any:
        """POST a file as multipart `file` with form fields (`object` defaults to lead): imports, previews."""
        data = {"object": "lead", **form, "file": (io.BytesIO(content), filename)}
        return self.client.post("/api/v1" + path, data=data, headers=self._headers(None),
                                content_type="multipart/form-data")

    def delete(self, path: str, version: int | None = None, **kw: Any) -> Any:
        headers = {"If-Match": f'"{version}"'} if version is not None else {}
        return self.send("DELETE", path, None, headers=headers, **kw)


def create_user(svc: Services, username: str, *, admin: bool = False, password: str = "correct horse",
              grants: Iterable[tuple[str, Iterable[str], str]] = (), hidden: dict[str, list[str]] | None = None,
              readonly: dict[str, list[str]] | None = None, teams: Iterable[str] = ()) -> tuple[int, str]:
    """A user with a password, a role of their own holding `grants` (object, verbs, scope), and a token."""
    with svc.engine.begin() as conn:
        uid = ensure_user(conn, username)
        accounts.set_password(conn, uid, password)
        accounts.set_admin(conn, uid, admin)
        grants = list(grants)
        if grants:
            rid = accounts.ensure_role(conn, f"role_{username.replace('.', '_')}")
            for obj, verbs, scope in grants:
                accounts.grant(conn, rid, obj, verbs, scope, (hidden or {}).get(obj, ()),
                               (readonly or {}).get(obj, ()))
            accounts.assign_role(conn, uid, rid)
        for team in teams:
            accounts.add_member(conn, accounts.ensure_team(conn, team), uid)
        _, token = create_token(conn, uid, "test")
    return uid, token


@pytest.fixture
def app(standard_pack: Services) -> Iterator[Flask]:
    app = create_app(standard_pack.settings, standard_pack)
    app.config["TESTING"] = True
    yield app
    # jobs a request queued (202: imports, scans, workflow steps) finish before the database goes
    shutdown(standard_pack, 30)


@pytest.fixture
def make_user(app: Flask, standard_pack: Services) -> Any:
    """make_user(username, **create_user options) -> an Api client holding that user's token."""

    def make(username: str, **kw: Any) -> Api:
        uid, token = create_user(standard_pack, username, **kw)
        return Api(app.test_client(), token, uid)

    return make


@pytest.fixture
def admin(make_user: Any) -> Api:
    return make_user("admin", admin=True)


@pytest.fixture
def anonymous(app: Flask) -> Api:
    return Api(app.test_client(), None)
