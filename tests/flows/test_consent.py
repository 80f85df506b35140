"""Consent and suppression on every channel: no consent or a suppressed address -> skipped, recorded, never sent."""

from __future__ import annotations

from sqlalchemy import func, select

from metacrm.flows.consent import suppress
from metacrm.flows.runner import run_due
from metacrm.flows.tables import outbox, steps

FLOW = {"name": "mailer", "object": "lead", "trigger": {"type": "manual"},
        "steps": [{"id": "email", "type": "send_message", "channel": "email", "body": "Hi {name}"},
                  {"id": "sms", "type": "send_message", "channel": "sms", "body": "Hi {name}"},
                  {"id": "wechat", "type": "send_message", "channel": "wechat", "body": "Hi {name}"},
                  {"id": "receipt", "type": "send_message", "channel": "email", "body": "Your order",
                   "purpose": "transactional"}]}
def contact(i: int) -> dict:
    return {"email": f"a{i}@example.com", "phone": f"1380013800{i}", "wechat_id": f"wx_alpha{i}"}


def _run(svc, values):
    from metacrm.flows import service

    lead = svc.records.create("lead", {"name": "L", **values})
    run = service.start_workflow(svc, "mailer", lead["id"])
    while run_due(svc):
        pass
    with svc.engine.connect() as conn:
        outputs = dict(conn.execute(select(steps.c.step, steps.c.output).where(steps.c.run_id == run["id"])).all())
        sent = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.run_id == run["id"])).scalar_one()
    return outputs, sent


def test_consent_and_suppression_on_every_channel(standard_pack):
    svc = standard_pack
    svc.metadata.apply([("workflow", "mailer", FLOW)])
    outputs, sent = _run(svc, {**contact(1), "consent_marketing": False})
    assert [outputs[c]["skipped"] for c in ("email", "sms", "wechat")] == ["no_consent"] * 3
    assert "skipped" not in outputs["receipt"] and sent == 1  # transactional: no consent needed
    outputs, sent = _run(svc, {**contact(2), "consent_marketing": True})
    assert sent == 4 and not any("skipped" in o for o in outputs.values())
    with svc.engine.begin() as conn:
        assert suppress(conn, "email", "A3@Example.com ", "unsubscribe") is True
        assert suppress(conn, "wechat", "wx_alpha3", "bounce") is True
        assert suppress(conn, "email", "a3@example.com") is False
    outputs, sent = _run(svc, {**contact(3), "consent_marketing": True})
    assert outputs["email"]["skipped"] == "suppressed" and outputs["wechat"]["skipped"] == "suppressed"
    assert outputs["receipt"]["skipped"] == "suppressed"  # a suppressed address gets nothing at all
    assert "skipped" not in outputs["sms"] and sent == 1
