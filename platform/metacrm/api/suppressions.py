"""`/api/v1/suppressions`: the addresses workflow messages never go to (administrators), and
`/api/v1/hooks/bounces/<channel>`: providers report bounces and complaints there, signed.

See flows/bounces.py for the list's rules and the signature.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..errors import BadRequest, Problem
from ..flows import bounces, hooks
from .context import admin_only, public, services
from .jsonio import int_arg, json_body

bp = Blueprint("suppressions", __name__)


@bp.get("/suppressions")
@admin_only
def list_suppressions() -> Any:
    """?channel=email&reason=bounce&q=part-of-address&limit=100&cursor=<next_cursor>."""
    args = request.args
    after = None
    if args.get("cursor"):
        channel, sep, address = args["cursor"].partition(":")
        if not sep:
            raise BadRequest("cursor is the next_cursor of the previous page", [Problem("cursor", "invalid_parameter", "channel:address")])
        after = (channel, address)
    return jsonify(bounces.listing(services(), channel=args.get("channel") or None, reason=args.get("reason") or None,
                                   search=(args.get("q") or "")[:320] or None, limit=int_arg("limit", 100, 1, 1000),
                                   after=after))


@bp.post("/suppressions")
@admin_only
def add_suppression() -> Any:
    """Body {channel, address, reason?}: reason manual (default), unsubscribe, bounce or complaint."""
    body = json_body()
    return jsonify(bounces.add(services(), body.get("channel"), body.get("address"), body.get("reason", "manual"))), 201


@bp.delete("/suppressions/<channel>/<path:address>")
@admin_only
def remove_suppression(channel: str, address: str) -> Any:
    return jsonify(bounces.remove(services(), channel, address))


@bp.post("/suppressions/hook-secret")
@admin_only
def bounce_hook_secret() -> Any:
    """Body {channel}: the bounce callback's path and signing secret (an admin action, never a read)."""
    channel = bounces.channel_of(json_body().get("channel"))
    return jsonify({"path": f"/api/v1/hooks/bounces/{channel}", "secret": bounces.hook_secret(services(), channel),
                    "signature": hooks.SIGNATURE_HELP})


@bp.post("/hooks/bounces/<channel>")
@public
def bounce_hook(channel: str) -> Any:
    svc = services()
    bounces.verify(svc, channel, request.headers.get("X-MetaCRM-Timestamp", ""),
                   request.headers.get("X-MetaCRM-Signature", ""), request.get_data(cache=True))
    return jsonify(bounces.report(svc, channel, json_body())), 202
