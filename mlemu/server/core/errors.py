"""The Databricks error catalog: one exception type, rendered as ``{"error_code", "message"}``.

Domain code raises :class:`ApiError` (usually through the short helpers below); the wire
layer renders it with the HTTP status Databricks uses for that code. mlflow only looks at
``error_code`` (it discards the status), the SDK looks at both, so both must be right.
"""
from __future__ import annotations

from typing import Any

#: error_code -> HTTP status, as Databricks answers (protocol.md §2.2).
STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "MALFORMED_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_STATE": 400,
    "DIRECTORY_NOT_EMPTY": 400,
    "MAX_BLOCK_SIZE_EXCEEDED": 400,
    "MAX_READ_SIZE_EXCEEDED": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "DIRECTORY_PROTECTED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "ABORTED": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class ApiError(Exception):
    """A request the workspace refuses. Carries the Databricks ``error_code``."""

    def __init__(self, code: str, message: str, status: int | None = None,
                 details: list[dict[str, Any]] | None = None, *, wire_code: str | int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_BY_CODE.get(code, 400)
        self.details = details
        #: What the body's ``error_code`` says when Databricks does not send the name (an
        #: invalid token's body carries the number 403).
        self.wire_code = wire_code if wire_code is not None else code
        self.headers = headers or {}

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error_code": self.wire_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_PARAMETER_VALUE", message)


def not_found(message: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", message)


def already_exists(message: str) -> ApiError:
    return ApiError("RESOURCE_ALREADY_EXISTS", message)


def bad_request(message: str) -> ApiError:
    return ApiError("BAD_REQUEST", message)


def require(value: Any, name: str) -> Any:
    """Raise the Databricks "missing parameter" error when ``value`` is empty."""
    if value is None or value == "" or value == []:
        raise invalid(f"Missing value for required parameter '{name}'.")
    return value
