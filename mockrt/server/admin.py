"""The admin REST API under the reserved prefix ``/_mockrt/`` (like WireMock's admin API).

``GET  /_mockrt/health``                      status and live session count
``GET  /_mockrt/sessions``                    live and recent sessions
``GET  /_mockrt/sessions/{id}/journal``       the journal (``?format=jsonl`` for JSON lines)
``PUT  /_mockrt/scenario``                    load a scenario (YAML or JSON body); ``DELETE`` resets it
``PUT  /_mockrt/faults``                      faults for new sessions; ``DELETE`` clears them
``PUT  /_mockrt/sessions/{id}/faults``        faults for a live session, now
``POST /_mockrt/reset``                       no scenario, no faults, empty journals

The routes are relative to the ``/_mockrt`` mount (:func:`mockrt.server.app.create_app`), which applies the one
admin authorisation check (:mod:`mockrt.server.auth`); the request policy (:mod:`mockrt.server.policy`) has
already refused foreign hosts and origins, simple content types and oversized bodies. A scenario body is parsed,
validated and its files read off the event loop, with audio files confined to ``--fixtures-dir``.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mockrt.core.faults import Faults
from mockrt.scenarios import ScenarioError
from mockrt.scenarios.loader import load_untrusted
from mockrt.server.actions import FaultsError, as_faults, set_session_faults
from mockrt.server.policy import ADMIN_PREFIX
from mockrt.server.rest_errors import invalid_value, not_found
from mockrt.server.state import MockState

PREFIX = ADMIN_PREFIX


def _state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "live_sessions": _state(request).active_sessions})


async def sessions(request: Request) -> Response:
    return JSONResponse({"sessions": [r.summary() for r in _state(request).registry.all()]})


async def journal(request: Request) -> Response:
    record = _state(request).registry.get(request.path_params["session_id"])
    if record is None:
        return not_found()
    entries = [e.to_dict() for e in list(record.journal)]
    if request.query_params.get("format") == "jsonl":
        return PlainTextResponse("".join(json.dumps(e) + "\n" for e in entries), media_type="application/x-ndjson")
    return JSONResponse({"session": record.summary(), "entries": entries})


async def scenario(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.set_scenario(None)
        return JSONResponse({"scenario": None})
    if request.method == "GET":
        return JSONResponse({"scenario": state.scenario.name if state.scenario else None})
    try:
        body = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        return invalid_value(["the body is not UTF-8 text"])
    try:
        loaded = await run_in_threadpool(load_untrusted, body, state.config.fixtures_dir)
    except ScenarioError as err:
        return invalid_value(err.problems)
    state.set_scenario(loaded)
    return JSONResponse({"scenario": loaded.name})


async def _faults_body(request: Request) -> Faults | JSONResponse:
    try:
        raw = await request.json()
    except ValueError as exc:
        return invalid_value([f"the body is not JSON: {exc}"])
    try:
        return as_faults(raw) or Faults()
    except FaultsError as err:
        return invalid_value(err.problems, param=err.problems[0].split(":")[0])
    except (ValueError, TypeError) as exc:
        return invalid_value([str(exc)])


async def faults(request: Request) -> Response:
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
    record = _state(request).registry.live.get(request.path_params["session_id"])
    if record is None or record.connection is None or record.session is None:  # faults: Realtime sessions only
        return not_found("No such live session.")
    value = await _faults_body(request)
    if isinstance(value, JSONResponse):
        return value
    record.connection.apply(lambda session, now: set_session_faults(session, value))
    return JSONResponse({"faults": "set", "session": record.id})


async def reset(request: Request) -> Response:
    _state(request).reset()
    return JSONResponse({"reset": True})


routes = [
    Route("/health", health),
    Route("/sessions", sessions),
    Route("/sessions/{session_id}/journal", journal),
    Route("/scenario", scenario, methods=["GET", "PUT", "POST", "DELETE"]),
    Route("/faults", faults, methods=["PUT", "POST", "DELETE"]),
    Route("/sessions/{session_id}/faults", session_faults, methods=["PUT", "POST"]),
    Route("/reset", reset, methods=["POST"]),
]
"""Relative to the ``/_mockrt`` mount."""
