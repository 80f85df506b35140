"""Bounces and complaints reach the suppression list (adapter or signed provider callback); later
sends skip the address; administrators list, add and remove addresses through the API."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from metacrm.flows import channels, service
from metacrm.flows.bounces import hook_secret
from metacrm.flows.channels import DeliveryError
from metacrm.flows.hooks import signature
from metacrm.flows.runner import run_due
from metacrm.flows.tables import outbox, steps

FLOW = {"name": "texter", "object": "lead", "trigger": {"type": "manual"},
        "steps": [{"id": "text", "type": "send_message", "channel": "sms", "body": "Hi {name}"}]}


def _signed(anonymous, channel: str, body: dict, secret: str, age: int = 0):
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()) - age)
    return anonymous.client.post(f"/api/v1/hooks/bounces/{channel}", data=raw, content_type="application/json",
                                 headers={"X-MetaCRM-Timestamp": stamp,
                                          "X-MetaCRM-Signature": signature(secret, stamp, raw)})


def _text(svc, lead_id: int) -> dict:
    run = service.start_workflow(svc, "texter", lead_id)
    while run_due(svc):
        pass
    with svc.engine.connect() as conn:
        return conn.execute(select(steps.c.output).where(steps.c.run_id == run["id"])).scalar_one()


def test_a_bounce_from_the_adapter_suppresses_and_later_sends_skip(standard_pack, admin, monkeypatch):
    svc = standard_pack
    svc.metadata.apply([("workflow", "texter", FLOW)])
    sent: list[str] = []

    class Gateway:
        name = "fake_sms"

        def send(self, message):
            if message.recipient.endswith("0000"):
                raise DeliveryError("number does not exist", bounce="bounce")
            sent.append(message.recipient)
            return None

    monkeypatch.setitem(channels._factories, "sms", lambda settings: Gateway())
    lead = svc.records.create("lead", {"name": "L", "phone": "13800000000", "consent_marketing": True})["id"]
    assert "skipped" not in _text(svc, lead)
    svc_jobs_done(svc)
    with svc.engine.connect() as conn:
        assert conn.execute(select(outbox.c.status)).scalar_one() == "failed"
    listed = admin.get("/suppressions?channel=sms").get_json()["items"]
    assert [(i["address"], i["reason"], i["detail"]) for i in listed] == \
        [("+8613800000000", "bounce", "number does not exist")]
    assert _text(svc, lead)["skipped"] == "suppressed"
    assert sent == []
    assert admin.send("DELETE", f"/suppressions/sms/{listed[0]['address']}").status_code == 200
    assert admin.send("DELETE", f"/suppressions/sms/{listed[0]['address']}").status_code == 404
    assert "skipped" not in _text(svc, lead)  # off the list: it goes out (and bounces) again


def svc_jobs_done(svc) -> None:
    from metacrm.flows import executor

    assert executor.wait_idle(svc, 20)


def test_provider_callbacks_are_signed_and_feed_the_list(standard_pack, admin, make_user, anonymous):
    secret = admin.post("/suppressions/hook-secret", {"channel": "email"}).get_json()["secret"]
    assert secret == hook_secret(standard_pack, "email")
    body = {"events": [{"address": " Gone@Example.com", "type": "bounce", "detail": "550 5.1.1 user unknown"},
                       {"address": "angry@example.com", "type": "complaint"}]}
    assert _signed(anonymous, "email", body, "wrong secret").status_code == 403
    assert _signed(anonymous, "email", body, secret, age=600).status_code == 403  # a replay from 10 minutes ago
    assert _signed(anonymous, "sms", body, secret).status_code == 403  # each channel has its own secret
    bad = _signed(anonymous, "email", {"events": [{"address": "x@example.com", "type": "opened"}]}, secret)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "events.0.type"
    r = _signed(anonymous, "email", body, secret)
    assert r.status_code == 202 and r.get_json() == {"channel": "email", "received": 2, "added": 2}
    assert _signed(anonymous, "email", body, secret).get_json()["added"] == 0  # reported twice: listed once
    items = {i["address"]: i for i in admin.get("/suppressions?channel=email").get_json()["items"]}
    assert items["gone@example.com"]["reason"] == "bounce" and items["angry@example.com"]["reason"] == "complaint"
    assert [i["address"] for i in admin.get("/suppressions?reason=complaint").get_json()["items"]] == ["angry@example.com"]
    assert admin.post("/suppressions", {"channel": "email", "address": "Manual@Example.com"}).status_code == 201
    page = admin.get("/suppressions?limit=2").get_json()
    rest = admin.get(f"/suppressions?limit=2&cursor={page['next_cursor']}").get_json()
    assert [i["address"] for i in page["items"] + rest["items"]] == \
        ["angry@example.com", "gone@example.com", "manual@example.com"]
    assert admin.post("/suppressions", {"channel": "fax", "address": "x"}).status_code == 422
    rep = make_user("rep_s", grants=[("lead", ["read"], "own")])
    assert rep.get("/suppressions").status_code == 403
    assert rep.post("/suppressions", {"channel": "email", "address": "a@example.com"}).status_code == 403
    assert rep.post("/suppressions/hook-secret", {"channel": "email"}).status_code == 403
    assert rep.send("DELETE", "/suppressions/email/gone@example.com").status_code == 403
    assert secret not in admin.get("/suppressions").get_data(as_text=True)
