"""The admin REST API under the reserved prefix ``/_mockrt/`` (ecosystem.md §1.2, WireMock's admin API).

``GET  /_mockrt/health``                      status and live session count
``GET  /_mockrt/sessions``                    live and recent sessions
``GET  /_mockrt/sessions/{id}/journal``       the journal (``?format=jsonl`` for JSON lines)
``PUT  /_mockrt/scenario``                    load a scenario (YAML or JSON body); ``DELETE`` resets it
``PUT  /_mockrt/faults``                      faults for new sessions; ``DELETE`` clears them
``PUT  /_mockrt/sessions/{id}/faults``        faults for a live session, now
``POST /_mockrt/reset``                       no scenario, no faults, empty journals

When ``admin_token`` is configured every admin route requires ``Authorization: Bearer <admin_token>``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mockrt.control import as_faults, set_session_faults
from mockrt.core.faults import Faults
from mockrt.scenarios import ScenarioError, load_scenario
from mockrt.server.state import MockState

PREFIX = "/_mockrt"


def _state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


def _denied(request: Request) -> Response | None:
    token = _state(request).config.admin_token
    if token and request.headers.get("authorization", "") != f"Bearer {token}":
        return JSONResponse({"error": {"message": "Admin token required.", "type": "invalid_request_error",
                                       "param": None, "code": "admin_unauthorized"}}, status_code=401)
    return None


def _bad_request(problems: list[str]) -> JSONResponse:
    return JSONResponse({"error": {"message": "\n".join(problems), "type": "invalid_request_error",
                                   "param": None, "code": "invalid_value"}, "problems": problems}, status_code=400)


async def health(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    return JSONResponse({"status": "ok", "live_sessions": _state(request).active_sessions})


async def sessions(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    return JSONResponse({"sessions": [r.summary() for r in _state(request).registry.all()]})


async def journal(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    record = _state(request).registry.get(request.path_params["session_id"])
    if record is None:
        return JSONResponse({"error": {"message": "No such session.", "type": "invalid_request_error",
                                       "param": "session_id", "code": "not_found"}}, status_code=404)
    entries = [e.to_dict() for e in list(record.journal)]
    if request.query_params.get("format") == "jsonl":
        return PlainTextResponse("".join(json.dumps(e) + "\n" for e in entries), media_type="application/x-ndjson")
    return JSONResponse({"session": record.summary(), "entries": entries})


async def scenario(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    state = _state(request)
    if request.method == "DELETE":
        state.set_scenario(None)
        return JSONResponse({"scenario": None})
    if request.method == "GET":
        return JSONResponse({"scenario": state.scenario.name if state.scenario else None})
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        loaded = load_scenario(body if "\n" in body else body + "\n")
    except ScenarioError as err:
        return _bad_request(err.problems)
    state.set_scenario(loaded)
    return JSONResponse({"scenario": loaded.name})


async def _faults_body(request: Request) -> Faults | JSONResponse:
    try:
        raw: Any = await request.json()
        return as_faults(raw) or Faults()
    except (ValueError, TypeError) as exc:
        return _bad_request([str(exc)])


async def faults(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    state = _state(request)
    if request.method == "DELETE":
        state.set_faults(None)
        return JSONResponse({"faults": None})
    value = await _faults_body(request)
    if isinstance(value, JSONResponse):
        return value
    state.set_faults(value)
    return JSONResponse({"faults": "set"})


async def session_faults(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    record = _state(request).registry.live.get(request.path_params["session_id"])
    if record is None or record.connection is None:
        return JSONResponse({"error": {"message": "No such live session.", "type": "invalid_request_error",
                                       "param": "session_id", "code": "not_found"}}, status_code=404)
    value = await _faults_body(request)
    if isinstance(value, JSONResponse):
        return value
    record.connection.apply(lambda session, now: set_session_faults(session, value))
    return JSONResponse({"faults": "set", "session": record.id})


async def reset(request: Request) -> Response:
    if (denied := _denied(request)) is not None:
        return denied
    _state(request).reset()
    return JSONResponse({"reset": True})


routes = [
    Route(f"{PREFIX}/health", health),
    Route(f"{PREFIX}/sessions", sessions),
    Route(PREFIX + "/sessions/{session_id}/journal", journal),
    Route(f"{PREFIX}/scenario", scenario, methods=["GET", "PUT", "POST", "DELETE"]),
    Route(f"{PREFIX}/faults", faults, methods=["PUT", "POST", "DELETE"]),
    Route(PREFIX + "/sessions/{session_id}/faults", session_faults, methods=["PUT", "POST"]),
    Route(f"{PREFIX}/reset", reset, methods=["POST"]),
]
