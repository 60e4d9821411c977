"""GPT-Live endpoints (docs/protocol.md §13): the primary WebSocket ``/v1/live/sessions``, forks
(``/v1/live/sessions/{id}/fork``) and sideband attach (``/v1/live/sessions/{id}/attach``), all run by the same
transport loop as the Realtime sessions, and a stored session's recording (``GET …/{id}/content``). The REST
routes that start a session on a call (WebRTC creation and fork, SIP accept) are :mod:`mockrt.server.live_calls`'.
Every route is also served under Azure's ``/openai/v1/live/sessions`` (§13.1).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from mockrt.core import errors
from mockrt.core.dialects.live import LiveDialect
from mockrt.core.live.recording import LiveRecording
from mockrt.core.live.session import LiveOptions, LiveSession, LiveSnapshot
from mockrt.core.outputs import Close, Output, Send
from mockrt.core.turn_taking import VadOptions
from mockrt.server import calls_http, handshake
from mockrt.server.connection import Connection
from mockrt.server.deadline import loop_clock
from mockrt.server.rest_errors import protocol_error_response
from mockrt.server.state import MockState

LIVE_PREFIXES = ("/v1/live/sessions", "/openai/v1/live/sessions")
MAX_STORED = 256
_DIALECT = LiveDialect()


class Primary(Protocol):
    """Where a running Live session's commands are applied and its outputs sent: the primary WebSocket's
    :class:`Connection`, or a SIP call's (:mod:`mockrt.server.live_calls`)."""

    def apply(self, action: Callable[[Any, float], list[Output]]) -> None: ...


@dataclass
class LiveHub:
    """The server's Live sessions: running ones (for sideband attach and forks) and stored ones (``store:
    true``, for forks after the original closed; the most recent :data:`MAX_STORED`), with the recordings of
    the stored ones that closed (for ``content``; the most recent within ``recording_budget`` bytes)."""

    running: dict[str, tuple[LiveSession, Primary]] = field(default_factory=dict)
    stored: OrderedDict[str, LiveSnapshot] = field(default_factory=OrderedDict)
    recordings: OrderedDict[str, LiveRecording] = field(default_factory=OrderedDict)
    recording_budget: int = 256 * 1024 * 1024

    def fork_source(self, session_id: str) -> LiveSnapshot | None:
        live = self.running.get(session_id)
        if live is not None and live[0].config is not None and live[0].config.store:
            return live[0].snapshot()
        return self.stored.get(session_id)

    def store(self, session: LiveSession) -> None:
        if session.config is not None and session.config.store:
            self.stored[session.session_id] = session.snapshot()
            while len(self.stored) > MAX_STORED:
                self.stored.popitem(last=False)
        if session.recording is not None:
            self.recordings[session.session_id] = session.recording
            total = sum(r.size for r in self.recordings.values())
            while len(self.recordings) > MAX_STORED or total > self.recording_budget:
                total -= self.recordings.popitem(last=False)[1].size

    def recording(self, session_id: str) -> LiveRecording | bool:
        """The finalized recording of a stored session; ``True`` while that session still runs, ``False`` when
        there is none (unknown id, ``store: false``, or dropped from the budget)."""
        live = self.running.get(session_id)
        if live is not None and live[0].recording is not None:
            return live[0].recording if live[0].closed else True
        return self.recordings.get(session_id, False)


def is_live_path(path: str) -> bool:
    """A Live WebSocket path (primary, fork or attach): admitted under ``--max-sessions`` like the Realtime ones."""
    return any(path == p or path.startswith(p + "/") for p in LIVE_PREFIXES)


def hub(state: MockState) -> LiveHub:
    hub = getattr(state, "live_hub", None)
    if hub is None:
        hub = LiveHub(recording_budget=state.config.recent_max_bytes)
        state.live_hub = hub  # type: ignore[attr-defined]
    return hub


async def _authorized(ws: WebSocket, state: MockState) -> bool:
    """API key in the ``Authorization`` header (§13.1); the model comes in ``session.start``, not the URL."""
    headers = {k.lower(): v for k, v in ws.headers.items()}
    cred = handshake.find_credential(headers, dict(ws.query_params), list(ws.scope.get("subprotocols") or []))
    if state.keys.standard_ok(cred.key):
        return True
    err = errors.invalid_api_key(cred.key) if cred.key else errors.missing_auth()
    await ws.send_denial_response(protocol_error_response(401, err))
    return False


async def _not_found(ws: WebSocket, session_id: str) -> None:
    await ws.send_denial_response(protocol_error_response(404, errors.live_session_not_found(session_id)))


async def live_endpoint(ws: WebSocket) -> None:
    """``wss /v1/live/sessions`` and ``/v1/live/sessions/{id}/fork`` (a new session from a stored one)."""
    state: MockState = ws.app.state.mock
    if not await _authorized(ws, state):
        return
    live = hub(state)
    fork_of: LiveSnapshot | None = None
    source = ws.path_params.get("session_id")
    if source is not None:
        fork_of = live.fork_source(source)
        if fork_of is None:
            await _not_found(ws, source)
            return
    await ws.accept()
    cfg = state.config
    loop = asyncio.get_running_loop()
    brain, transcriber = state.brain_for_new_session()
    options = LiveOptions(
        dialect=_DIALECT, seed=state.session_seed(), brain=brain, transcriber=transcriber,
        vad=VadOptions(detector=cfg.vad, end_includes_silence=cfg.vad_end_includes_silence),
        time_scale=cfg.time_scale, max_buffer_ms=cfg.max_buffer_ms,
        max_duration_s=cfg.max_session_s or 3600.0, created_at=int(time.time()), fork_of=fork_of,
        max_recording_bytes=cfg.journal_max_bytes,
    )
    session = LiveSession(options, loop.time())
    record = state.open_live(session, ws.url.path, ws.headers.get("user-agent", ""), loop.time())
    connection = Connection(ws, session, loop_clock(loop), cfg.max_send_buffer, cfg.send_timeout_s, state.mcp_executor)
    record.connection = connection
    live.running[session.session_id] = (session, connection)
    try:
        await connection.run()
    finally:
        state.registry.close(record, connection.close_code)
        live.running.pop(session.session_id, None)
        live.store(session)
        sink = session.sideband
        session.sideband = None
        if sink is not None:
            sink({})  # an empty event: the sideband ends with its session


class SidebandCore:
    """A sideband connection's side of a running Live session (§13.7): it sends commands to the session,
    whose outputs go to the primary connection; it receives a copy of every event (reflected audio included)."""

    def __init__(self, session: LiveSession, primary: Primary) -> None:
        self.primary_session = session
        self.primary = primary
        self.session_id = session.session_id
        self.dialect = _DIALECT
        self.closed = False

    def start(self) -> list[Output]:
        return []

    def receive_text(self, text: str, now: float) -> list[Output]:
        self.primary.apply(lambda session, at: self.primary_session.receive_sideband(text, at))
        return []

    def receive_bytes(self, data: bytes, now: float) -> list[Output]:
        return [Send(_DIALECT.render_error(self.primary_session.ids.event(), errors.binary_frame(), None))]

    def poll(self, now: float) -> list[Output]:
        return []

    def next_deadline(self) -> float | None:
        return None


async def attach_endpoint(ws: WebSocket) -> None:
    """``wss /v1/live/sessions/{id}/attach``: sideband attach to a running session (``client.live.sideband``)."""
    state: MockState = ws.app.state.mock
    if not await _authorized(ws, state):
        return
    session_id = ws.path_params["session_id"]
    running = hub(state).running.get(session_id)
    if running is None:
        await _not_found(ws, session_id)
        return
    session, primary = running
    await ws.accept()
    cfg = state.config
    loop = asyncio.get_running_loop()
    core = SidebandCore(session, primary)
    connection = Connection(ws, core, loop_clock(loop), cfg.max_send_buffer, cfg.send_timeout_s)

    def sink(event: dict[str, Any]) -> None:
        if not event:
            core.closed = True
            connection.queue.put_nowait(Close(1000, "session closed"))
        elif not connection.closed:
            connection.queue.put_nowait(Send(event))

    session.sideband = sink
    try:
        await connection.run()
    finally:
        if session.sideband is sink:
            session.sideband = None


async def content(request: Request) -> Response:
    """``GET /v1/live/sessions/{id}/content`` (the SDK's ``download_recording``, §13.6): the recording of a stored
    session once it has closed, a stereo WAV (caller left, model right, PCM16 24 kHz) [U: the service's format];
    HTTP 404 ``session_not_found`` for an unknown or unstored session, 400 ``session_active`` while it runs."""
    state: MockState = request.app.state.mock
    key = calls_http._credential(request)
    if not state.keys.standard_ok(key):
        return calls_http._unauthorized(key)
    session_id = request.path_params["session_id"]
    found = hub(state).recording(session_id)
    if found is True:
        return protocol_error_response(400, errors.live_recording_not_final(session_id))
    if found is False:
        return protocol_error_response(404, errors.live_session_not_found(session_id))
    return Response(await run_in_threadpool(found.wav), media_type="audio/wav")  # ~0.5 s for 10 min: off the loop


routes: list[BaseRoute] = [
    *(WebSocketRoute(p, live_endpoint) for p in LIVE_PREFIXES),
    *(WebSocketRoute(p + "/{session_id}/fork", live_endpoint) for p in LIVE_PREFIXES),
    *(WebSocketRoute(p + "/{session_id}/attach", attach_endpoint) for p in LIVE_PREFIXES),
    *(Route(p + "/{session_id}/content", content, methods=["GET"]) for p in LIVE_PREFIXES),
]
