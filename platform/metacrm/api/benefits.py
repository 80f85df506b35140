"""`/api/v1/benefits`: redeem member benefits and coupons on the ledger, see what is left, switch them.

Redeeming needs the update verb on `member` and the member inside the caller's data scope (a
member outside it is as unknown as a missing one: 422, no leak). Refusals are 409 problem+json
with the benefit's code (`benefit_disabled`, `benefit_not_active`, `quota_exhausted`,
`member_limit_reached` with `resets_at`, `not_eligible` naming the rule's failing part,
`reservation_expired`, `idempotency_key_reused`); a refused call leaves only its audit line.
Switching, code batches and the ledger are for administrators.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from ..engines import benefits as engine
from ..engines import coupons, points
from ..errors import Conflict, NotFound, Problem, ValidationError
from ..store import limits
from ..store.db import reading
from .access import object_for
from .context import admin_only, principal, services, snapshot
from .errors import localized
from .jsonio import int_arg
from .pipelines import checked

bp = Blueprint("benefits", __name__)

MEMBER_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
REDEEM = {"type": "object", "required": ["member", "qty"], "additionalProperties": False, "properties": {
    "member": {"type": "integer"}, "qty": {"type": "integer"},
    "mode": {"enum": ["consume", "reserve"], "default": "consume",
             "description": "consume: one phase; reserve: hold until confirm, release or the TTL."},
    "ref_object": {"type": "string", "maxLength": 64}, "ref_id": {"type": ["string", "integer"]},
    "code": {"type": "string", "minLength": 1, "maxLength": 64}}}
CODES = {"type": "object", "required": ["count"], "additionalProperties": False, "properties": {
    "count": {"type": "integer", "minimum": 1, "maximum": coupons.MAX_BATCH},
    "cap": {"type": "integer", "minimum": 1}, "campaign": {"type": "string", "maxLength": 64},
    "member": MEMBER_ID}}
SPEND = {"type": "object", "required": ["qty"], "additionalProperties": False, "properties": {
    "qty": {"type": "integer", "minimum": 1, "maximum": 10**12}, "ref": {"type": "string", "maxLength": 200}}}
SWITCH = {"type": "object", "required": ["enabled"], "additionalProperties": False,
          "properties": {"enabled": {"type": "boolean"}}}


PUBLIC_KEYS = ("key", "label", "description", "enabled", "timezone", "valid_from", "valid_to", "per_member_limit",
               "requires_code", "offer", "stackable_with")
"""What readers who are not administrators see of a definition (no rules, costs, budgets or campaigns)."""


@bp.errorhandler(engine.Refused)
def _refused(exc: engine.Refused) -> Response:
    response = localized(exc.status, exc.code, exc.message, [p.to_dict() for p in exc.problems])
    if exc.resets_at is not None:  # member_limit_reached: when the member's period starts again
        body = json.loads(response.get_data())
        body["resets_at"] = engine.iso(exc.resets_at)
        response.set_data(json.dumps(body, ensure_ascii=False))
    return response


def _idempotency_key() -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 200:
        raise ValidationError("an Idempotency-Key header (1 to 200 characters) is required",
                              [Problem("Idempotency-Key", "required", "")])
    return key


def _member_in_scope(conn: Any, snap: Any, member: Any) -> None:
    """Update on member, and the member inside the caller's scope; otherwise it is unknown (422)."""
    who = principal()
    obj, _ = object_for(snap, who, engine.MEMBER, "update")
    table = snap.tables[obj.name]
    row = None
    if isinstance(member, int) and not isinstance(member, bool) and 0 < member < 2**63:
        row = conn.execute(select(table.c.id, table.c.owner_id).where(
            table.c.id == member, table.c.deleted_at.is_(None))).first()
    if row is None or not who.sees_owner(obj.name, row.owner_id):
        raise ValidationError("no such member", [Problem("member", "unknown_member", str(member)[:32])])


@bp.get("/benefits")
def list_benefits() -> Any:
    """Every benefit with its switch, window and counters (readers of members)."""
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        object_for(snap, who, engine.MEMBER, "read")
        items = []
        for key, doc in sorted(snap.definitions.items("benefit")):
            total = limits.counter(conn, engine.total_key(key)) or {}
            shown = doc if who.is_admin else {k: v for k, v in doc.items() if k in PUBLIC_KEYS}
            items.append({**shown, "state": {"enabled": bool(total.get("enabled", doc.get("enabled", True))),
                                           "used": int(total.get("used", 0)), "reserved": int(total.get("reserved", 0)),
                                           "total_quota": total.get("cap")}})
    return jsonify({"items": items})


@bp.post("/benefits/<key>/redemptions")
def redeem(key: str) -> Any:
    """Consume (or reserve) qty for a member, once per Idempotency-Key."""
    svc, who = services(), principal()
    body = checked(REDEEM)
    idem = _idempotency_key()
    ref_id = body.get("ref_id")
    req = engine.Request(key[:64], body["member"], body["qty"], idem, body.get("mode", "consume"),
                         body.get("ref_object"), None if ref_id is None else str(ref_id)[:200], body.get("code"),
                         who.id)
    try:
        with svc.engine.begin() as conn:
            snap = snapshot(conn)
            engine.benefit(snap, req.benefit)
            _member_in_scope(conn, snap, req.member)
            result = engine.redeem(conn, snap, req, svc.settings.timezone)
    except (Conflict, ValidationError) as err:
        engine.write_audit(svc.engine, req.benefit, req.member, req.mode, err.code, idem, who.id)
        raise
    return jsonify(result), 201 if result["status"] in ("consumed", "reserved") else 200


def _settle(key: str, redemption_id: int, action: str) -> Any:
    svc, who = services(), principal()
    try:
        with svc.engine.begin() as conn:
            snap = snapshot(conn)
            row = engine._redemption(conn, key, redemption_id, lock=False)
            try:
                _member_in_scope(conn, snap, row.member_id)
            except ValidationError:
                raise NotFound(f"no redemption {redemption_id}", [Problem("redemption_id", "not_found",
                                                                           str(redemption_id))]) from None
            return jsonify(engine.settle(conn, snap, key, redemption_id, action, svc.settings.timezone, who.id))
    except Conflict as err:
        engine.write_audit(svc.engine, key, None, action, err.code, None, who.id, redemption_id)
        raise


@bp.post("/benefits/<key>/redemptions/<rid:redemption_id>/confirm")
def confirm(key: str, redemption_id: int) -> Any:
    """Consume a reservation (payment); 409 reservation_expired after its TTL."""
    return _settle(key, redemption_id, "confirm")


@bp.post("/benefits/<key>/redemptions/<rid:redemption_id>/release")
def release(key: str, redemption_id: int) -> Any:
    return _settle(key, redemption_id, "release")


@bp.post("/benefits/<key>/redemptions/<rid:redemption_id>/reverse")
def reverse(key: str, redemption_id: int) -> Any:
    """Give a consumed redemption back (a refund): every counter it moved moves back."""
    return _settle(key, redemption_id, "reverse")


@bp.get("/members/<rid:member_id>/benefits")
def member_benefits(member_id: int) -> Any:
    """What a member has left of each benefit this period, or that it is disabled (the member page)."""
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        obj, _ = object_for(snap, who, engine.MEMBER, "read")
        table = snap.tables[obj.name]
        row = conn.execute(select(table.c.owner_id).where(table.c.id == member_id,
                                                          table.c.deleted_at.is_(None))).first()
        if row is None or not who.sees_owner(obj.name, row.owner_id):
            raise NotFound(f"member {member_id} does not exist", [Problem("id", "not_found", str(member_id))])
        return jsonify({"items": engine.member_benefits(conn, snap, member_id, svc.settings.timezone)})


@bp.post("/benefits/<key>/codes")
@admin_only
def make_codes(key: str) -> Any:
    """A batch of coupon codes (administrators)."""
    svc = services()
    body = checked(CODES)
    with svc.engine.begin() as conn:
        snap = snapshot(conn)
        doc = engine.benefit(snap, key)
        if "member" in body:
            engine.member_record(conn, snap, body["member"])  # 422 unknown_member
        made = coupons.generate(conn, doc, body["count"], cap=body.get("cap"), campaign=body.get("campaign"),
                                member_id=body.get("member"))
    return jsonify({"codes": made}), 201


@bp.put("/benefits/<key>/enabled")
@admin_only
def switch(key: str) -> Any:
    """Switch a benefit on or off: a new version of its definition, effective from the next call."""
    svc, who = services(), principal()
    body = checked(SWITCH)
    with reading(svc.engine) as conn:
        doc = dict(engine.benefit(snapshot(conn), key))
    doc["enabled"] = body["enabled"]
    svc.metadata.apply([("benefit", key, doc)], actor_id=who.id, note="api: switch")
    return jsonify({"key": key, "enabled": body["enabled"]})


@bp.get("/benefits/<key>/ledger")
@admin_only
def ledger(key: str) -> Any:
    """The benefit's latest redemptions and audit lines, newest first (administrators)."""
    svc = services()
    limit = int_arg("limit", 50, 1, 500)
    with reading(svc.engine) as conn:
        engine.benefit(snapshot(conn), key)
        r, a = engine.redemptions.c, engine.audit.c
        rows = conn.execute(select(r.id, r.member_id, r.qty, r.status, r.code, r.ref_object, r.ref_id, r.campaign,
                                   r.created_at, r.updated_at).where(r.benefit == key)
                            .order_by(r.id.desc()).limit(limit)).all()
        lines = conn.execute(select(a.id, a.member_id, a.action, a.outcome, a.redemption_id, a.actor_id, a.at)
                             .where(a.benefit == key).order_by(a.id.desc()).limit(limit)).all()
        counts = coupons.code_counts(conn, key)
    return jsonify({"redemptions": [_plain(x._mapping) for x in rows], "audit": [_plain(x._mapping) for x in lines],
                    "codes": counts})


def _plain(row: Any) -> dict[str, Any]:
    return {k: (engine.iso(v) if hasattr(v, "astimezone") else v) for k, v in row.items()}



def _readable_member(conn: Any, snap: Any, member_id: int) -> None:
    who = principal()
    obj, _ = object_for(snap, who, engine.MEMBER, "read")
    table = snap.tables[obj.name]
    row = conn.execute(select(table.c.owner_id).where(table.c.id == member_id, table.c.deleted_at.is_(None))).first()
    if row is None or not who.sees_owner(obj.name, row.owner_id):
        raise NotFound(f"member {member_id} does not exist", [Problem("id", "not_found", str(member_id))])


@bp.get("/members/<rid:member_id>/points")
def member_points(member_id: int) -> Any:
    """Balance, open lots (earliest expiry first) and what expires within 30 days."""
    svc = services()
    with reading(svc.engine) as conn:
        _readable_member(conn, snapshot(conn), member_id)
        return jsonify(points.lots_of(conn, member_id))


@bp.post("/members/<rid:member_id>/points/spend")
def spend_points(member_id: int) -> Any:
    """Spend points once per Idempotency-Key: 409 insufficient_points, or points_negative after a claw-back."""
    svc = services()
    body = checked(SPEND)
    idem = _idempotency_key()
    with svc.engine.begin() as conn:
        snap = snapshot(conn)
        _readable_member(conn, snap, member_id)
        _member_in_scope(conn, snap, member_id)
        return jsonify(points.spend(conn, member_id, body["qty"], idem, ref=body.get("ref"))), 201


@bp.post("/members/<rid:member_id>/points/spends/<rid:spend_id>/refund")
def refund_points(member_id: int, spend_id: int) -> Any:
    """Give a spend back to its lots (a lot past expiry is re-credited and expired in the same step)."""
    svc = services()
    with svc.engine.begin() as conn:
        snap = snapshot(conn)
        _readable_member(conn, snap, member_id)
        _member_in_scope(conn, snap, member_id)
        owner = conn.execute(select(points.spends.c.member_id).where(points.spends.c.id == spend_id)).scalar()
        if owner != member_id:
            raise NotFound(f"no spend {spend_id} of member {member_id}", [Problem("spend_id", "not_found",
                                                                                  str(spend_id))])
        return jsonify(points.refund_spend(conn, spend_id))
