"""The one place errors become HTTP responses: RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..errors import MetaCRMError

PROBLEM_TYPE = "https://metacrm.dev/problems/"


def problem_response(status: int, code: str, title: str, errors: list[dict[str, Any]] | None = None) -> Response:
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "code": code, "errors": errors or []}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MetaCRMError)
    def _metacrm(exc: MetaCRMError) -> Response:
        return problem_response(exc.status, exc.code, exc.message, [p.to_dict() for p in exc.problems])

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return problem_response(exc.code or 500, code, exc.description or exc.name or "error")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug, not bad input: log it, and still answer in the API's error format.
        app.logger.exception("unhandled error")
        return problem_response(500, "internal_error", "internal server error")
