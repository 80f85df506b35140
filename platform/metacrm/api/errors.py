"""The one place errors become HTTP responses: RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import MetaCRMError
from ..messages import LANGUAGES, language_of, message

PROBLEM_TYPE = "https://metacrm.dev/problems/"


def problem_response(status: int, code: str, title: str, errors: list[dict[str, Any]] | None = None,
                     detail: str | None = None) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "code": code,
                            "errors": errors or []}
    if detail is not None:
        body["detail"] = detail
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def caller_language() -> str:
    """The logged-in user's language, else the best of Accept-Language, else English."""
    who = g.get("principal") if has_request_context() else None
    if who is not None and getattr(who, "language", None):
        return language_of(who.language)
    if has_request_context():
        return language_of(request.accept_languages.best_match(LANGUAGES))
    return "en"


def localized(status: int, code: str, title: str, errors: list[dict[str, Any]]) -> Response:
    """Messages from the catalogue in the caller's language. English keeps the specific message each
    layer wrote; Chinese gets the catalogue text, with the specific English text kept in `detail`."""
    language = caller_language()
    if language == "en":
        return problem_response(status, code, title, errors)
    out = [{**e, "message": message(e.get("code", ""), language, e.get("message")), "detail": e.get("message")}
           for e in errors]
    return problem_response(status, code, message(code, language, title) or title, out, detail=title)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MetaCRMError)
    def _metacrm(exc: MetaCRMError) -> Response:
        return localized(exc.status, exc.code, exc.message, [p.to_dict() for p in exc.problems])

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return localized(exc.code or 500, code, exc.description or exc.name or "error", [])

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug, not bad input: log it, and still answer in the API's error format.
        app.logger.exception("unhandled error")
        return localized(500, "internal_error", "internal server error", [])
