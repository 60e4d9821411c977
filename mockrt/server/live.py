"""GPT-Live endpoints (docs/protocol.md §13): the primary WebSocket ``/v1/live/sessions`` run by the same
transport loop as the Realtime sessions, and the REST routes mockrt does not serve yet, answered plainly.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from mockrt.core import errors
from mockrt.core.dialects.live import LiveDialect
from mockrt.core.live.session import LiveOptions, LiveSession
from mockrt.core.turn_taking import VadOptions
from mockrt.server import handshake
from mockrt.server.connection import Connection
from mockrt.server.rest_errors import protocol_error_response
from mockrt.server.state import MockState

LIVE_WS_PATHS = ("/v1/live/sessions", "/openai/v1/live/sessions")
_DIALECT = LiveDialect()


async def live_endpoint(ws: WebSocket) -> None:
    """``wss /v1/live/sessions``: API key in the ``Authorization`` header (§13.1); the model comes in
    ``session.start``, never in the URL."""
    state: MockState = ws.app.state.mock
    cfg = state.config
    headers = {k.lower(): v for k, v in ws.headers.items()}
    cred = handshake.find_credential(headers, dict(ws.query_params), list(ws.scope.get("subprotocols") or []))
    if not state.keys.standard_ok(cred.key):
        err = errors.invalid_api_key(cred.key) if cred.key else errors.missing_auth()
        await ws.send_denial_response(protocol_error_response(401, err))
        return
    await ws.accept()
    loop = asyncio.get_running_loop()
    brain, transcriber = state.brain_for_new_session()
    options = LiveOptions(
        dialect=_DIALECT, seed=state.session_seed(), brain=brain, transcriber=transcriber,
        vad=VadOptions(detector=cfg.vad, end_includes_silence=cfg.vad_end_includes_silence),
        time_scale=cfg.time_scale, max_buffer_ms=cfg.max_buffer_ms,
        max_duration_s=cfg.max_session_s or 3600.0, created_at=int(time.time()),
    )
    session = LiveSession(options, loop.time())
    connection = Connection(ws, session, loop.time, cfg.max_send_buffer, cfg.send_timeout_s)
    await connection.run()


async def not_served(request: Request) -> Response:
    """The Live REST routes that need WebRTC/SIP calls (engineer K's issue 16) or stored sessions: a clear
    error instead of a pretence (§13 "mockrt:")."""
    return protocol_error_response(501, errors.live_not_served(
        f"{request.method} {request.url.path} (Live WebRTC/SIP calls, forks and stored content)"))


routes: list[BaseRoute] = [WebSocketRoute(p, live_endpoint) for p in LIVE_WS_PATHS] + [
    Route("/v1/live/sessions", not_served, methods=["POST"]),
    Route("/v1/live/sessions/{session_id}/{action}", not_served, methods=["GET", "POST"]),
]
