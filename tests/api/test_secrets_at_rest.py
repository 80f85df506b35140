"""Secrets in definitions are encrypted at rest (meta.secret_box): the database holds envelopes only,
the webhook step still signs and authenticates with the real secret, reads show '***', a save of
'***' keeps the stored envelope, rows stored in clear are encrypted by `metadata encrypt-secrets`,
and a secret the current key cannot open is a clear error naming the definition and path."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from metacrm.flows import executor, service
from metacrm.flows.steps.webhook import sign
from metacrm.flows.sweeper import sweep
from metacrm.flows.tables import drafts
from metacrm.meta.packs import canonical_json, checksum
from metacrm.meta.secret_box import PREFIX, SecretBox, revealed
from metacrm.meta.secrets import MASK
from metacrm.store import system
from metacrm.web.admin import _pretty as admin_diff_lines  # the admin console's version diff

SECRET = "wh-signing-secret-42"
TOKEN = "Bearer at-rest-token-99"
NAME = "sealed_hook"


def flow(url: str = "https://hooks.example.com/in", secret: str = SECRET) -> dict:
    return {"name": NAME, "object": "lead", "trigger": {"type": "manual"},
            "steps": [{"id": "call", "type": "webhook", "url": url, "timeout": 3, "secret": secret,
                       "headers": {"Authorization": TOKEN, "X-Trace": "plain"},
                       "retry": {"max_attempts": 1}}]}


def raw_bodies(svc) -> list[str]:
    """Every stored text of the workflow: live row, version history, draft."""
    d, v = system.definitions, system.definition_versions
    with svc.engine.connect() as conn:
        out = list(conn.execute(select(d.c.body).where(d.c.name == NAME)).scalars())
        out += conn.execute(select(v.c.body).where(v.c.name == NAME).order_by(v.c.version)).scalars().all()
        out += [json.dumps(b) for b in conn.execute(select(drafts.c.body).where(drafts.c.workflow == NAME)).scalars()]
    return out


def assert_sealed(svc, count: int) -> None:
    bodies = raw_bodies(svc)
    assert len(bodies) == count
    for body in bodies:
        assert SECRET not in body and "at-rest-token-99" not in body, body
        assert json.loads(body)["steps"][0]["secret"].startswith(PREFIX)
        assert json.loads(body)["steps"][0]["headers"]["Authorization"].startswith(PREFIX)


def plain_secret(svc) -> str:
    doc = svc.registry.current().definitions.get("workflow", NAME)
    return revealed(doc, svc.metadata.box, NAME)["steps"][0]["secret"]


def store_in_clear(svc, doc: dict) -> None:
    """Overwrite the live row and every version with `doc` as it was stored before encryption."""
    d, v = system.definitions, system.definition_versions
    with svc.engine.begin() as conn:
        for table in (d, v):
            conn.execute(update(table).where(table.c.name == NAME)
                         .values(body=canonical_json(doc), checksum=checksum(doc)))
        conn.execute(update(system.meta_state).values(revision=system.meta_state.c.revision + 1))


def test_the_database_holds_envelopes_and_reads_show_a_mask(standard_pack, admin):
    r = admin.send("PUT", f"/definitions/workflow/{NAME}", flow())
    assert r.status_code == 200, r.json
    assert_sealed(standard_pack, 2)  # live row + version 1
    envelope = json.loads(raw_bodies(standard_pack)[0])["steps"][0]["secret"]
    for path in (f"/definitions/workflow/{NAME}", "/definitions/workflow", f"/definitions/workflow/{NAME}/versions/1",
                 f"/workflows/{NAME}/draft"):
        text = admin.get(path).get_data(as_text=True)
        assert SECRET not in text and PREFIX not in text, (path, text[:300])  # not even the envelope
    shown = admin.get(f"/definitions/workflow/{NAME}").json
    assert shown["steps"][0]["secret"] == MASK and shown["steps"][0]["headers"]["Authorization"] == MASK
    assert shown["steps"][0]["headers"]["X-Trace"] == "plain"

    # saved back with '***': nothing changes, the stored envelope is kept as it was
    r = admin.send("PUT", f"/definitions/workflow/{NAME}", shown)
    assert r.status_code == 200 and r.json["changed"] is False
    shown["steps"][0]["url"] = "https://hooks.example.com/other"
    assert admin.send("PUT", f"/definitions/workflow/{NAME}", shown).status_code == 200
    assert_sealed(standard_pack, 3)
    assert json.loads(raw_bodies(standard_pack)[0])["steps"][0]["secret"] == envelope
    assert plain_secret(standard_pack) == SECRET

    # the same secret sent in clear again is no change either (the envelope is reused)
    again = flow(url="https://hooks.example.com/other")
    assert admin.send("PUT", f"/definitions/workflow/{NAME}", again).json["changed"] is False

    # a builder draft is stored sealed too, and publishes with the secret intact
    draft = admin.get(f"/workflows/{NAME}/draft").json["definition"]
    draft["steps"][0]["timeout"] = 5
    r = admin.send("PUT", f"/workflows/{NAME}/draft", {"definition": draft})
    assert r.status_code == 200 and SECRET not in r.get_data(as_text=True)
    assert_sealed(standard_pack, 4)
    assert admin.post(f"/workflows/{NAME}/publish", {}).status_code == 200
    assert plain_secret(standard_pack) == SECRET


class Capture:
    """A local receiver that keeps each request's headers (names in lower case) and body."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                capture.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture():
    c = Capture()
    yield c
    c.close()


def finish(svc, run_id: int, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep(svc)
        executor.wait_idle(svc, 10)
        run = service.get_run(svc, run_id)
        if run["status"] in ("completed", "failed"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def test_the_webhook_signs_and_authenticates_with_the_real_secret(standard_pack, admin, capture):
    svc = standard_pack
    svc.metadata.apply([("workflow", NAME, flow(capture.url))])
    assert_sealed(svc, 2)
    lead = svc.records.create("lead", {"name": "Sealed"})
    run = finish(svc, service.start_workflow(svc, NAME, lead["id"])["id"])
    executor.shutdown(svc)
    assert run["status"] == "completed", run.get("error")
    [(headers, body)] = capture.requests
    assert headers["authorization"] == TOKEN and headers["x-trace"] == "plain"
    assert headers["x-metacrm-signature"] == sign(SECRET, headers["x-metacrm-timestamp"], body)
    assert SECRET not in json.dumps(run, default=str) and "at-rest-token-99" not in json.dumps(run, default=str)
    text = admin.get(f"/runs/{run['id']}").get_data(as_text=True)
    assert SECRET not in text and "at-rest-token-99" not in text and PREFIX not in text, text


def test_a_secret_sealed_under_another_key_is_a_clear_error(standard_pack, admin, capture):
    svc = standard_pack
    svc.metadata.apply([("workflow", NAME, flow(capture.url))])
    old = SecretBox("the-previous-secret-key")  # as if METACRM_SECRET_KEY had changed since
    doc = flow(capture.url)
    doc["steps"][0]["secret"] = old.seal(SECRET)
    store_in_clear(svc, doc)

    # a save of the masked document cannot keep what it cannot read: 422 naming the path, not 500
    shown = admin.get(f"/definitions/workflow/{NAME}").json
    r = admin.send("PUT", f"/definitions/workflow/{NAME}", shown)
    assert r.status_code == 422, r.json
    [problem] = r.json["errors"]
    assert problem["code"] == "secret_unreadable" and problem["field"] == f"workflow/{NAME}#/steps/0/secret"
    assert "another secret key" in problem["message"]

    # a run fails at once (no retry, nothing sent) naming the workflow, the step and the path
    lead = svc.records.create("lead", {"name": "Rotated"})
    run = finish(svc, service.start_workflow(svc, NAME, lead["id"])["id"])
    executor.shutdown(svc)
    assert run["status"] == "failed" and run["error"]["code"] == "secret_unreadable", run["error"]
    assert f"workflow/{NAME}" in run["error"]["message"] and "step call#/secret" in run["error"]["message"]
    assert "another secret key" in run["error"]["message"]
    assert capture.requests == []

    # sending the secret again seals it under the current key
    shown["steps"][0]["secret"] = SECRET
    assert admin.send("PUT", f"/definitions/workflow/{NAME}", shown).status_code == 200
    assert plain_secret(svc) == SECRET


def test_secrets_stored_in_clear_are_encrypted_by_the_migration(standard_pack, run, monkeypatch):
    svc = standard_pack
    svc.metadata.apply([("workflow", NAME, flow())])
    changed = flow()
    changed["steps"][0]["url"] = "https://hooks.example.com/v2"
    svc.metadata.apply([("workflow", NAME, changed)])
    store_in_clear(svc, changed)  # rows written before secrets were encrypted
    with svc.engine.begin() as conn:
        conn.execute(drafts.insert().values(workflow=NAME, body=changed, base_version=2,
                                            updated_at=datetime.now(UTC)))
    assert any(SECRET in b for b in raw_bodies(svc))

    monkeypatch.setenv("METACRM_SECRET_KEY", svc.settings.secret_key)
    out = run("metadata", "encrypt-secrets").output
    assert "encrypted the secrets of 4 stored definition(s)" in out, out
    assert_sealed(svc, 4)
    bodies = raw_bodies(svc)
    # one secret, one envelope across the history: a history diff shows no change of secret
    assert len({json.loads(b)["steps"][0]["secret"] for b in bodies[:3]}) == 1
    diff = "\n".join(admin_diff_lines(bodies[2], bodies[1]))
    assert f'"secret": "{MASK}"' in diff and "changed" not in diff and PREFIX not in diff
    other = json.loads(bodies[2])
    other["steps"][0]["secret"] = svc.metadata.box.seal("a-new-secret-value")
    diff = "\n".join(admin_diff_lines(canonical_json(other), bodies[2]))
    assert f'"secret": "{MASK} (changed)"' in diff and "a-new-secret-value" not in diff and PREFIX not in diff
    assert plain_secret(svc) == SECRET
    assert "no secret is stored in clear" in run("metadata", "encrypt-secrets").output

    # `metadata export --with-secrets` decrypts; the default export masks
    run("metadata", "export", "--with-secrets", str(svc.settings.instance_dir / "clear"))
    exported = (svc.settings.instance_dir / "clear" / "workflows" / f"{NAME}.json").read_text()
    assert json.loads(exported)["steps"][0]["secret"] == SECRET

    # a stored envelope the current key cannot open is reported by name and path (exit status 2)
    doc = json.loads(bodies[0])
    doc["steps"][0]["secret"] = SecretBox("the-previous-secret-key").seal(SECRET)
    store_in_clear(svc, doc)
    out = run("metadata", "encrypt-secrets", code=2).output
    assert f"workflow/{NAME}#/steps/0/secret" in out and "another secret key" in out, out


def test_fields_named_like_secrets_are_data_not_secrets(standard_pack, admin):
    """A field called `token` or `password` (its schema, a step's `set`, a webhook `body`, a merge
    policy) is neither masked nor encrypted: only secret values of a definition are."""
    svc = standard_pack
    obj = {"$id": "acct", "title": "Account key", "x-label": {"en": "Account key"}, "type": "object",
           "properties": {"name": {"x-field": "text", "maxLength": 50}, "token": {"x-field": "text", "maxLength": 50},
                          "password": {"x-field": "text", "maxLength": 50}}}
    wf = {"name": "set_token", "object": "acct", "trigger": {"type": "manual"},
          "steps": [{"id": "put", "type": "update_record", "set": {"token": "literal-value", "password": "pw-value"}}]}
    assert admin.send("PUT", "/definitions/object/acct", obj).status_code == 200
    assert admin.send("PUT", "/definitions/workflow/set_token", wf).status_code == 200
    shown = admin.get("/definitions/object/acct").json
    assert shown["properties"]["token"] == obj["properties"]["token"]
    assert admin.get("/definitions/workflow/set_token").json["steps"][0]["set"] == wf["steps"][0]["set"]
    d = system.definitions
    with svc.engine.connect() as conn:
        bodies = conn.execute(select(d.c.body).where(d.c.name.in_(["acct", "set_token"]))).scalars().all()
    assert len(bodies) == 2 and not any(PREFIX in b for b in bodies)
    record = svc.records.create("acct", {"name": "K"})
    run = finish(svc, service.start_workflow(svc, "set_token", record["id"])["id"])
    executor.shutdown(svc)
    assert run["status"] == "completed", run.get("error")
    after = svc.records.get("acct", record["id"])
    assert (after["token"], after["password"]) == ("literal-value", "pw-value")
