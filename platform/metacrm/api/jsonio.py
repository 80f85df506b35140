"""Strict request input: JSON bodies, query arguments, version preconditions.

Everything a client can get wrong becomes a 4xx problem here: malformed or non-UTF-8 JSON,
NaN/Infinity, a body of the wrong JSON type, numbers out of range, bad integers in the URL.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from ..errors import BadRequest, PreconditionRequired, Problem, UnsupportedMediaType
from ..meta.jsonvalue import INT_MAX, INT_MIN, UNSTORABLE_TEXT, unstorable

__all__ = ["INT_MAX", "INT_MIN", "UNSTORABLE_TEXT", "bool_arg", "check_list", "if_match_version", "int_arg",
           "json_body", "parse_json"]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unstorable(value: Any) -> str | None:
    """What in a parsed document the databases cannot store (`meta.jsonvalue.unstorable`: U+0000 or a
    lone surrogate in text, an integer beyond 64 bits, nesting past MAX_JSON_DEPTH)."""
    found = unstorable(value)
    return None if found is None else found[1]


def parse_json(text: str | bytes, where: str = "body") -> Any:
    """JSON without NaN/Infinity (Python's json accepts them; JSON does not) and without values the
    databases cannot store (see `_unstorable`)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"the {where} is not valid JSON", [Problem(where, "invalid_json", str(exc)[:200])]) from None
    problem = _unstorable(value)
    if problem:
        raise BadRequest(f"the {where} holds a value that cannot be stored", [Problem(where, "unstorable", problem)])
    return value


def json_body(expect: type | tuple[type, ...] = dict) -> Any:
    """The request's JSON body, of the expected JSON type."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("send the body as application/json",
                                   [Problem("Content-Type", "unsupported_media_type", mimetype or "none")])
    data = parse_json(request.get_data(cache=True))
    if not isinstance(data, expect):
        kind = "an object" if expect is dict else "an array" if expect is list else "JSON"
        raise BadRequest(f"the body must be {kind}", [Problem("", "type", f"expected {kind}")])
    return data


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,19}", raw) or not low <= int(raw) <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}",
                         [Problem(name, "invalid_parameter", f"a whole number from {low} to {high}")])
    return int(raw)


def bool_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"'{name}' must be true or false", [Problem(name, "invalid_parameter", "true or false")])


_ETAG = re.compile(r'\s*(?:W/)?"?([0-9]{1,9})"?\s*')


def if_match_version() -> int:
    """The record version a write expects, from `If-Match: "<version>"` (428 when missing)."""
    raw = request.headers.get("If-Match")
    if raw is None:
        raise PreconditionRequired("send If-Match with the record's ETag to change it",
                                   [Problem("If-Match", "required", 'If-Match: "<version>" from the ETag')])
    found = _ETAG.fullmatch(raw)
    if not found:
        raise BadRequest("If-Match must be the record's ETag", [Problem("If-Match", "invalid", raw[:50])])
    return int(found.group(1))


def check_list(value: Any, where: str, item: type, limit: int) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
        raise BadRequest(f"'{where}' must be a list", [Problem(where, "type", f"a list of {item.__name__}")])
    if len(value) > limit:
        raise BadRequest(f"'{where}' is too long", [Problem(where, "max_items", f"at most {limit} items")])
    return value
