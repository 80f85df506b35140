"""`GET /api/v1/region-labels?codes=440300,331000`: names of region values (GB/T 2260 codes) in the
caller's language, for any signed-in user: the web app shows 广东省 深圳市 / Guangdong Shenzhen where a
record stores 440300. A value that is not a known code (free text for places outside the list)
comes back as it is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..errors import Problem, ValidationError
from ..meta.regions import region_label
from .context import principal

bp = Blueprint("regions", __name__)
MAX_CODES = 500


@bp.get("/region-labels")
def region_labels() -> Any:
    who = principal()
    codes = [c.strip() for c in (request.args.get("codes") or "").split(",") if c.strip()]
    if len(codes) > MAX_CODES:
        raise ValidationError(f"at most {MAX_CODES} codes", [Problem("codes", "too_many", f"at most {MAX_CODES}")])
    language = request.args.get("language") or who.language
    return jsonify({"labels": {c[:120]: region_label(c[:120], language) for c in codes}})
