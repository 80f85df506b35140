"""Clients generated from the live OpenAPI document work unchanged (issue 23).

Generators drop what they cannot type: an array schema without `items` became a response that
openapi-python-client could not parse (KeyError: 'type' after the request succeeded). So every
array in the document, for an admin and for a restricted role, declares its items; and the types
openapi-typescript (a pinned devDependency of frontend/, installed by `npm ci`, no network at test
time) generates from the document compile with strict tsc together with a small client
(tests/api/clients/lead_client.ts) that reads typed ids, fields, users and leads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "frontend" / "node_modules" / ".bin"
CLIENT = Path(__file__).with_name("clients") / "lead_client.ts"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The document does not depend on the database: one back end is enough."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def untyped_arrays(node: Any, path: str = "") -> list[str]:
    """JSON pointers of the array schemas in `node` that declare no `items` (nor `prefixItems`)."""
    found: list[str] = []
    if isinstance(node, dict):
        kind = node.get("type")
        is_array = kind == "array" or (isinstance(kind, list) and "array" in kind)
        if is_array and "items" not in node and "prefixItems" not in node:
            found.append(path or "/")
        for key, value in node.items():
            found += untyped_arrays(value, f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += untyped_arrays(value, f"{path}/{i}")
    return found


def test_the_finder_sees_an_untyped_array():
    doc = {"paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"ok": {"type": "array", "items": {"type": "integer"}},
                                         "bad": {"type": ["array", "null"]}}}}}}}}}}}
    assert untyped_arrays(doc) == ["/paths/~1x/get/responses/200/content/application~1json/schema/properties/bad"]


def _documents(admin: Any, make_user: Any) -> dict[str, dict[str, Any]]:
    rep = make_user("rep", teams=["east"], grants=[("lead", ["read", "create", "update"], "own"),
                                                   ("activity", ["read"], "own")], hidden={"lead": ["budget"]})
    docs = {"admin": admin.get("/openapi.json").json, "rep": rep.get("/openapi.json").json}
    assert "/records/lead" in docs["rep"]["paths"] and "budget" not in \
        docs["rep"]["components"]["schemas"]["lead.create"]["properties"]
    return docs


def test_every_array_declares_its_items(admin, make_user):
    for who, doc in _documents(admin, make_user).items():
        assert untyped_arrays(doc) == [], who


def test_defaulted_and_required_fields_are_not_nullable_in_the_document(admin):
    schemas = admin.get("/openapi.json").json["components"]["schemas"]
    for kind in ("lead.create", "lead.update"):
        props = schemas[kind]["properties"]
        assert None not in props["status"]["enum"] and props["consent_marketing"]["type"] == "boolean"
        assert props["name"]["type"] == "string"
        assert props["city"]["type"] == ["string", "null"] and None in props["city"]["enum"]
        assert props["owner_id"]["type"] == ["integer", "null"]  # null: an unowned record (the pool)


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists() or shutil.which("node") is None:
        message = f"{path} is missing: run `cd frontend && npm ci` (Node.js 20+)"
        if os.environ.get("METACRM_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_openapi_typescript_client_compiles_with_strict_tsc(admin, make_user, tmp_path):
    generate, tsc = _tool("openapi-typescript"), _tool("tsc")
    for who, doc in _documents(admin, make_user).items():
        folder = tmp_path / who
        folder.mkdir()
        (folder / "openapi.json").write_text(json.dumps(doc))
        gen = subprocess.run([str(generate), "openapi.json", "-o", "api.d.ts"], cwd=folder,
                             capture_output=True, text=True, timeout=300)
        assert gen.returncode == 0, gen.stderr
        assert "warn" not in (gen.stdout + gen.stderr).lower() and "⚠" not in gen.stdout + gen.stderr, gen.stderr
        shutil.copy(CLIENT, folder / CLIENT.name)
        check = subprocess.run([str(tsc), "--strict", "--noEmit", "--noUnusedLocals", "--target", "es2022",
                                "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom",
                                CLIENT.name], cwd=folder, capture_output=True, text=True, timeout=300)
        assert check.returncode == 0, f"{who}: {check.stdout}{check.stderr}"


def test_strict_tsc_catches_an_untyped_array(admin, tmp_path):
    """The compile check above can fail: the same client over a document with one untyped array."""
    generate, tsc = _tool("openapi-typescript"), _tool("tsc")
    doc = admin.get("/openapi.json").json
    created = doc["paths"]["/records/lead/bulk"]["post"]["responses"]["201"]
    del created["content"]["application/json"]["schema"]["properties"]["ids"]["items"]
    (tmp_path / "openapi.json").write_text(json.dumps(doc))
    subprocess.run([str(generate), "openapi.json", "-o", "api.d.ts"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    shutil.copy(CLIENT, tmp_path / CLIENT.name)
    check = subprocess.run([str(tsc), "--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
                            "--moduleResolution", "bundler", "--lib", "es2022,dom", CLIENT.name],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert check.returncode != 0 and "lead_client.ts" in check.stdout
