"""OpenAPI paths of the member programme (api/benefits.py): benefits, redemptions, coupons, points."""

from __future__ import annotations

from typing import Any

from .benefits import CODES, REDEEM, SPEND, SWITCH
from .openapi_records import ok, operation

ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
IDEM = {"name": "Idempotency-Key", "in": "header", "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": "A replay answers the first call's result; another body with the same key is 409."}
REDEMPTION = {"type": "object", "required": ["redemption_id", "benefit", "member", "qty", "status"], "properties": {
    "redemption_id": {"type": "integer"}, "benefit": {"type": "string"}, "member": {"type": "integer"},
    "qty": {"type": "integer"}, "status": {"enum": ["reserved", "consumed", "released", "expired", "reversed"]},
    "expires_at": {"type": ["string", "null"]}}}
LEFT = {"type": "object", "properties": {
    "key": {"type": "string"}, "label": {"type": "object"}, "requires_code": {"type": "boolean"},
    "enabled": {"type": "boolean"}, "active": {"type": "boolean"}, "total_left": {"type": ["integer", "null"]},
    "member_left": {"type": ["integer", "null"]}, "period": {"type": ["string", "null"]},
    "resets_at": {"type": ["string", "null"]}}}
POINTS = {"type": "object", "required": ["balance"], "properties": {
    "balance": {"type": "integer"}, "expiring_soon": {"type": "integer"},
    "lots": {"type": "array", "items": {"type": "object"}}}}
SPENT = {"type": "object", "required": ["spend_id"], "properties": {
    "spend_id": {"type": "integer"}, "qty": {"type": "integer"}, "balance": {"type": "integer"},
    "status": {"type": "string"}}}
REFUSALS = ("409: benefit_disabled, benefit_not_active, quota_exhausted, member_limit_reached (resets_at), "
            "not_eligible (the rule's failing part as field), reservation_expired, idempotency_key_reused")


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _items(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": item}}}


def benefit_paths() -> dict[str, Any]:
    settle = {action: {"post": operation(
        f"benefit_{action}", "benefits", summary, ok("Redemption", REDEMPTION), (401, 403, 404, 409),
        params=[KEY, _path_id("redemption_id")])} for action, summary in (
        ("confirm", "Consume a reservation (payment); 409 reservation_expired after its TTL"),
        ("release", "Give a reservation back (checkout abandoned)"),
        ("reverse", "Give a consumed redemption back (refund): every counter it moved moves back"))}
    return {
        "/benefits": {"get": operation("list_benefits", "benefits", "Benefits with their switch and counters",
                                       ok("Benefits", _items({"type": "object"})), (401, 403))},
        "/benefits/{key}/redemptions": {"post": operation(
            "benefit_redeem", "benefits", "Consume or reserve a benefit for a member. " + REFUSALS,
            ok("Redemption", REDEMPTION), (400, 401, 403, 404, 409, 415, 422), REDEEM, params=[KEY, IDEM],
            status="201")},
        **{f"/benefits/{{key}}/redemptions/{{redemption_id}}/{a}": item for a, item in settle.items()},
        "/benefits/{key}/codes": {"post": operation(
            "benefit_codes", "benefits", "A batch of coupon codes (administrators)",
            ok("Codes", {"type": "object", "properties": {"codes": {"type": "array", "items": {"type": "string"}}}}),
            (400, 401, 403, 404, 415, 422), CODES, params=[KEY], status="201")},
        "/benefits/{key}/enabled": {"put": operation(
            "benefit_switch", "benefits", "Switch a benefit on or off (administrators): effective from the next call",
            ok("Switched", {"type": "object", "properties": {"key": {"type": "string"},
                                                             "enabled": {"type": "boolean"}}}),
            (400, 401, 403, 404, 415, 422), SWITCH, params=[KEY])},
        "/benefits/{key}/ledger": {"get": operation(
            "benefit_ledger", "benefits", "Latest redemptions and audit lines (administrators)",
            ok("Ledger", {"type": "object"}), (401, 403, 404), params=[KEY])},
        "/members/{member_id}/benefits": {"get": operation(
            "member_benefits", "benefits", "What a member has left of each benefit, or that it is disabled",
            ok("Benefits", _items(LEFT)), (401, 403, 404), params=[_path_id("member_id")])},
        "/members/{member_id}/points": {"get": operation(
            "member_points", "benefits", "Points balance, open lots, what expires within 30 days",
            ok("Points", POINTS), (401, 403, 404), params=[_path_id("member_id")])},
        "/members/{member_id}/points/spend": {"post": operation(
            "points_spend", "benefits", "Spend points, earliest-expiring lots first (409 insufficient_points, "
            "points_negative)", ok("Spent", SPENT), (400, 401, 403, 404, 409, 415, 422), SPEND,
            params=[_path_id("member_id"), IDEM], status="201")},
        "/members/{member_id}/points/spends/{spend_id}/refund": {"post": operation(
            "points_refund", "benefits", "Re-credit the lots a spend used", ok("Refunded", SPENT),
            (401, 403, 404), params=[_path_id("member_id"), _path_id("spend_id")])},
    }
