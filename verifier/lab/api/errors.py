"""Error answers of the emulator: an HTTP status and the JSON body python-ovh maps to its exceptions."""

from __future__ import annotations

from typing import Any


class ApiFailure(Exception):
    """An error answer: HTTP status and JSON body."""

    def __init__(self, status: int, message: str, error_code: str | None = None, cls: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.cls = cls

    def body(self) -> dict[str, Any]:
        reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
        out: dict[str, Any] = {"message": self.message}
        if self.error_code:
            out["errorCode"] = self.error_code
            out["httpCode"] = f"{self.status} {reasons.get(self.status, '')}".strip()
        elif self.cls:
            out["class"] = self.cls
        return out


def bad(message: str) -> ApiFailure:
    return ApiFailure(400, message, cls="Client::BadRequest")


def not_found(message: str) -> ApiFailure:
    return ApiFailure(404, message, cls="Client::NotFound")


def conflict(message: str) -> ApiFailure:
    return ApiFailure(409, message, cls="Client::Conflict")
