"""The one place where HTTP error bodies are built: the service's error object (docs/protocol.md §6.1) as JSON.

Used by the REST token endpoints, the admin API, the inspector, the request policy and handshake refusals, so every
HTTP error mockrt sends has the same shape: ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from mockrt.core import errors


def error_body(message: str, code: str | None, *, param: str | None = None,
               type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(status: int, message: str, code: str | None, *, param: str | None = None,
                   type: str = "invalid_request_error", headers: Mapping[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    """``status`` with the error object; ``extra`` adds top-level keys (the admin API's ``problems``)."""
    body = {**error_body(message, code, param=param, type=type), **extra}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def protocol_error_response(status: int, err: errors.ProtocolError) -> JSONResponse:
    """A core :class:`~mockrt.core.errors.ProtocolError` as an HTTP error (the REST token endpoints)."""
    return error_response(status, err.message, err.code, param=err.param, type=err.type)


def invalid_value(problems: list[str], param: str | None = None) -> JSONResponse:
    """400 listing every problem (scenario and fault bodies of the admin API)."""
    return error_response(400, "\n".join(problems), "invalid_value", param=param, problems=problems)


def not_found(message: str = "No such session.", param: str | None = "session_id") -> JSONResponse:
    return error_response(404, message, "not_found", param=param)
