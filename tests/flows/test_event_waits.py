"""Waits for an event with a timeout, the events API, and the signed inbound webhook trigger."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from metacrm.api.app import create_app
from metacrm.auth import accounts
from metacrm.auth.tokens import create_token
from metacrm.flows.executor import shutdown
from metacrm.flows.hooks import hook_secret, signature
from metacrm.flows.runner import run_due
from metacrm.flows.runs import utcnow
from metacrm.store.users import ensure_user

REPLY = {
    "name": "await_reply", "object": "lead", "trigger": {"type": "manual"},
    "steps": [
        {"id": "listen", "type": "wait", "event": "reply", "timeout": {"amount": 3, "unit": "day"},
         "on_timeout": "silent", "next": "replied"},
        {"id": "replied", "type": "update_record", "set": {"status": "contacted"}, "next": "done"},
        {"id": "silent", "type": "update_record", "set": {"status": "unqualified"}, "next": "done"},
        {"id": "done", "type": "end"},
    ],
}
HOOKED = {"name": "from_hook", "object": "lead", "trigger": {"type": "webhook"},
          "steps": [{"id": "mark", "type": "update_record", "set": {"status": "contacted"}}]}


@pytest.fixture
def api(standard_pack):
    app = create_app(standard_pack.settings, standard_pack)
    app.config["TESTING"] = True
    with standard_pack.engine.begin() as conn:
        uid = ensure_user(conn, "boss")
        accounts.set_admin(conn, uid, True)
        _, token = create_token(conn, uid, "test")
    standard_pack.metadata.apply([("workflow", "await_reply", REPLY), ("workflow", "from_hook", HOOKED)])

    def call(method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        return app.test_client().open("/api/v1" + path, method=method, data=data, content_type="application/json",
                                      headers=headers if headers is not None else {"Authorization": f"Bearer {token}"})

    yield call
    shutdown(standard_pack, 30)


def _drain(svc, now=None):
    """Run due steps until none is left, waiting for the in-process executor's thread as well."""
    from metacrm.flows.executor import wait_idle

    while True:
        while run_due(svc, now=now):
            pass
        assert wait_idle(svc, 20)
        if not run_due(svc, now=now):
            return


def test_event_wakes_the_wait_and_the_timeout_takes_the_other_branch(api, standard_pack):
    svc = standard_pack
    a = svc.records.create("lead", {"name": "A", "status": "new"})
    b = svc.records.create("lead", {"name": "B", "status": "new"})
    ra = api("POST", "/workflows/await_reply/start", {"record_id": a["id"]}).get_json()["id"]
    rb = api("POST", "/workflows/await_reply/start", {"record_id": b["id"]}).get_json()["id"]
    _drain(svc)
    assert api("GET", f"/runs/{ra}").get_json()["status"] == "waiting"
    woken = api("POST", "/workflow-events", {"object": "lead", "record_id": a["id"], "event": "reply"}).get_json()
    assert woken["woken"] == [ra]
    _drain(svc)
    assert svc.records.get("lead", a["id"])["status"] == "contacted"
    run_a = api("GET", f"/runs/{ra}").get_json()
    assert run_a["status"] == "completed" and "received" in run_a["steps"][0]["output"]
    _drain(svc, utcnow() + timedelta(days=2))
    assert svc.records.get("lead", b["id"])["status"] == "new"  # not before the timeout
    _drain(svc, utcnow() + timedelta(days=3, minutes=1))
    assert svc.records.get("lead", b["id"])["status"] == "unqualified"
    run_b = api("GET", f"/runs/{rb}").get_json()
    assert [s["node"] for s in run_b["steps"]] == ["listen", "silent", "done"]
    assert "timed_out" in run_b["steps"][0]["output"]


def test_inbound_webhook_needs_a_fresh_valid_signature(api, standard_pack):
    svc = standard_pack
    lead = svc.records.create("lead", {"name": "C", "status": "new"})
    body = json.dumps({"record_id": lead["id"], "key": "order-1"}).encode()
    secret = hook_secret(svc, "from_hook")
    assert api("POST", "/workflows/from_hook/hook-secret").get_json()["secret"] == secret
    stamp = str(int(time.time()))
    bad = api("POST", "/hooks/workflows/from_hook", raw=body,
              headers={"X-MetaCRM-Timestamp": stamp, "X-MetaCRM-Signature": signature("wrong", stamp, body)})
    assert bad.status_code == 403
    old = str(int(time.time()) - 3600)
    stale = api("POST", "/hooks/workflows/from_hook", raw=body,
                headers={"X-MetaCRM-Timestamp": old, "X-MetaCRM-Signature": signature(secret, old, body)})
    assert stale.status_code == 403
    good = api("POST", "/hooks/workflows/from_hook", raw=body,
               headers={"X-MetaCRM-Timestamp": stamp, "X-MetaCRM-Signature": signature(secret, stamp, body)})
    assert good.status_code == 202, good.get_json()
    again = api("POST", "/hooks/workflows/from_hook", raw=body,
                headers={"X-MetaCRM-Timestamp": stamp, "X-MetaCRM-Signature": signature(secret, stamp, body)})
    assert again.get_json()["run"]["id"] == good.get_json()["run"]["id"]  # once per key
    _drain(svc)
    assert svc.records.get("lead", lead["id"])["status"] == "contacted"
    other = api("POST", "/hooks/workflows/await_reply", raw=body, headers={
        "X-MetaCRM-Timestamp": stamp, "X-MetaCRM-Signature": signature(hook_secret(svc, "await_reply"), stamp, body)})
    assert other.status_code == 403  # not a webhook-triggered workflow
