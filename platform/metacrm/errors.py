"""One root error with a stable code and a list of field problems.

Every layer raises these; the API turns them into problem+json in exactly one place, and the
CLI prints them. `status` is the HTTP status the error stands for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (`field`, a JSON pointer or field name), what and why."""

    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class MetaCRMError(Exception):
    """Root of every error MetaCRM raises on purpose."""

    code = "error"
    status = 400

    def __init__(self, message: str, problems: Iterable[Problem] = (), *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems)
        if code:
            self.code = code

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message,
                "errors": [p.to_dict() for p in self.problems]}

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message] + [f"  {p.field or '/'}: {p.message} [{p.code}]" for p in self.problems]
        return "\n".join(lines)


class BadRequest(MetaCRMError):
    """A request the API cannot read: malformed JSON, a bad query argument, characters that are not text."""

    code = "bad_request"
    status = 400


class Unauthorized(MetaCRMError):
    """No valid login or API token."""

    code = "unauthorized"
    status = 401


class UnsupportedMediaType(MetaCRMError):
    """A body in a content type the endpoint does not take (JSON, or multipart for uploads)."""

    code = "unsupported_media_type"
    status = 415


class PreconditionRequired(MetaCRMError):
    """A write that must name the version it changes (If-Match) did not."""

    code = "precondition_required"
    status = 428


class ValidationError(MetaCRMError):
    """Input that breaks a schema or a rule: nothing was written."""

    code = "validation_failed"
    status = 422


class DefinitionError(ValidationError):
    """A definition (schema file or API document) is invalid."""

    code = "invalid_definition"


class NotFound(MetaCRMError):
    code = "not_found"
    status = 404


class Conflict(MetaCRMError):
    """The write lost a race (stale version) or breaks a uniqueness rule."""

    code = "conflict"
    status = 409


class DestructiveChange(MetaCRMError):
    """A definition change would lose data; refused unless forced."""

    code = "destructive_change"
    status = 409


class PermissionDenied(MetaCRMError):
    code = "permission_denied"
    status = 403


class TooManyRequests(MetaCRMError):
    """Too many attempts (failed logins): wait `retry_after` seconds (the API sends Retry-After)."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, problems: Iterable[Problem] = (), *, retry_after: int = 60) -> None:
        super().__init__(message, problems)
        self.retry_after = retry_after


class ServiceUnavailable(MetaCRMError):
    code = "service_unavailable"
    status = 503
