"""GPT-Live calls (docs/protocol.md §13.8): the simulated SIP calls and the WebRTC peer of §11, served by a Live
session. ``POST /v1/live/sessions`` creates a WebRTC one (the data channel carries the Live events).

A ringing call placed with ``POST /_mockrt/calls`` ``{"surface": "live" | "both"}`` sends
``live.transport.incoming`` with its ``live_…`` session id; the application answers on
``/v1/live/sessions/{id}/accept|reject|refer|hangup``. ``accept`` starts a :class:`LiveSession` as the call's ONE
session (:class:`LiveCallSession` adapts it to what a :class:`~mockrt.server.calls.Call` drives: caller audio in,
played audio out, DTMF); the simulated caller of :mod:`mockrt.server.sip` is the primary transport, and
``client.live.sideband`` attaches to the session like to any running Live session (it sees every event, the
caller's reflected audio and ``transport.dtmf.received`` included).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects.live import LiveDialect
from mockrt.core.live.events import LiveClientEvent as C
from mockrt.core.live.events import LiveServerEvent as S
from mockrt.core.live.session import LiveOptions, LiveSession
from mockrt.core.mcp import McpResult
from mockrt.core.outputs import Output, Send
from mockrt.core.turn_taking import VadOptions
from mockrt.server import calls_http, sip, webrtc
from mockrt.server.calls import Call, new_call_id
from mockrt.server.live import LIVE_PREFIXES, hub
from mockrt.server.registry import SessionRecord
from mockrt.server.rest_errors import error_response, protocol_error_response
from mockrt.server.state import MockState

_DIALECT = LiveDialect()
_WIRE = {kind: wire for wire, kind in _DIALECT.client_events.items()}
_ERROR = _DIALECT.server_events[S.ERROR]
_AUDIO = _DIALECT.server_events[S.OUTPUT_AUDIO_DELTA]


class _OutputConfig:
    def __init__(self, fmt: AudioFormat) -> None:
        self.output_format = fmt


class LiveCallSession:
    """A :class:`LiveSession` as a call's session: caller audio goes in as ``session.input_audio.append`` would
    (the same strict path, the same VAD and timeline), the continuous output stream is what the caller hears,
    and every other event reaches the sideband only (a SIP leg has no event channel, §13.8)."""

    def __init__(self, session: LiveSession, events_on_channel: bool = False) -> None:
        self.live = session
        self.session_id = session.session_id
        self.played = bytearray()  # output audio produced and not yet pulled by the caller's line
        self.events_on_channel = events_on_channel  # WebRTC: the data channel carries the events
        self.record: SessionRecord | None = None  # the session's journal (registered when it starts)

    @property
    def closed(self) -> bool:
        return self.live.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self.live.closed = value

    @property
    def dialect(self) -> LiveDialect:
        return _DIALECT

    @property
    def buffer(self) -> Any:
        return self.live.buffer

    @property
    def config(self) -> _OutputConfig:
        return _OutputConfig(self.live.output.format)

    def filter(self, outputs: list[Output]) -> list[Output]:
        """Output audio to the line; other events to the data channel (WebRTC) or dropped (SIP: the sideband got
        its copy); directives kept."""
        kept: list[Output] = []
        for out in outputs:
            if isinstance(out, Send) and out.event.get("type") == _AUDIO:
                self.played += base64.b64decode(out.event["delta"])
            elif self.events_on_channel or not isinstance(out, Send):
                kept.append(out)
        return kept

    def command(self, kind: C, fields: dict[str, Any], now: float) -> list[Output]:
        """A client event into the Live session, with its outputs (unfiltered)."""
        return self.live.receive_text(json.dumps({"type": _WIRE[kind], **fields}), now)

    def start(self) -> list[Output]:
        return []

    def receive_text(self, text: str, now: float) -> list[Output]:
        """A command on the WebRTC data channel (the session has started: no ``session.start``, no audio)."""
        return self.filter(self.live.receive_sideband(text, now))

    def receive_bytes(self, data: bytes, now: float) -> list[Output]:
        return self.filter(self.live.receive_bytes(data, now))

    def poll(self, now: float) -> list[Output]:
        return self.filter(self.live.poll(now))

    def next_deadline(self) -> float | None:
        return self.live.next_deadline()

    def feed_audio(self, data: bytes, now: float) -> list[Output]:
        return self.filter(self.command(C.AUDIO_APPEND, {"audio": base64.b64encode(data).decode("ascii")}, now))

    def pull_audio(self, n_bytes: int, now: float) -> tuple[bytes, list[Output]]:
        outputs = self.poll(now)
        data = bytes(self.played[:n_bytes])
        del self.played[:n_bytes]
        return data, outputs

    def mcp_result(self, result: McpResult, now: float) -> list[Output]:
        """An MCP directive's outcome (a scenario's ``mcp_call``, §13.5), with the outputs it leads to."""
        return self.filter(self.live.mcp_result(result, now))

    def dtmf(self, digit: str, now: float) -> list[Output]:
        """A caller's keypress: ``transport.dtmf.received`` to the sideband (§13.8)."""
        if self.live.sideband is not None:
            self.live.sideband(_DIALECT.render(S.DTMF_RECEIVED, self.live.ids.event(), {"event": digit}))
        return []


class CallPrimary:
    """The :class:`~mockrt.server.live.Primary` of a Live session on a call: sideband commands run on the
    call's session and their outputs go where the call sends them."""

    def __init__(self, call: Call, adapter: LiveCallSession) -> None:
        self.call, self.adapter = call, adapter

    def apply(self, action: Callable[[Any, float], list[Output]]) -> None:
        if self.call.live:
            self.call.push(self.adapter.filter(action(self.adapter.live, self.call.now())))


def _find(state: MockState, session_id: str) -> Call | None:
    for call in state.calls.calls.values():
        if call.sip.get("live_session_id") == session_id:
            return call
    return None


async def _control(request: Request) -> tuple[MockState, Call, dict[str, Any]] | Response:
    """Auth, the pending call by its ``live_…`` id, the JSON body (possibly empty)."""

    def by_session(state: MockState) -> Call | Response:
        session_id = request.path_params["session_id"]
        call = _find(state, session_id)
        return call if call is not None else protocol_error_response(404, errors.live_session_not_found(session_id))

    return await calls_http.control(request, by_session)


def _new_session(state: MockState, session_id: str) -> LiveSession:
    cfg = state.config
    brain, transcriber = state.brain_for_new_session()
    options = LiveOptions(
        dialect=_DIALECT, seed=state.session_seed(), brain=brain, transcriber=transcriber,
        vad=VadOptions(detector=cfg.vad, end_includes_silence=cfg.vad_end_includes_silence),
        time_scale=cfg.time_scale, max_buffer_ms=cfg.max_buffer_ms,
        max_duration_s=cfg.max_session_s or 3600.0, created_at=int(time.time()), sip=True)
    session = LiveSession(options, asyncio.get_running_loop().time())
    session.session_id = session_id  # the pending call's id stays the session's (§13.8)
    return session


async def accept(request: Request) -> Response:
    """``POST /v1/live/sessions/{id}/accept`` ``{"session": {"type": "live", "model", …}}``: the Live session
    starts with that config (checked as strictly as ``session.start``'s; SIP negotiates the audio format, so
    ``audio.format`` is refused) and the caller starts talking."""
    found = await _control(request)
    if isinstance(found, Response):
        return found
    state, call, body = found
    refusal = calls_http._pending(call)
    if refusal is not None:
        return refusal
    config = body.get("session")
    if not isinstance(config, dict):
        return protocol_error_response(400, errors.missing_required_parameter("session"))
    if config.get("type") != "live":
        return protocol_error_response(400, errors.live_sip_not_live(config.get("type")))
    if _has_format(config):
        return protocol_error_response(400, errors.live_call_audio_format())
    session_id = request.path_params["session_id"]
    started = _start(state, request, session_id, {k: v for k, v in config.items() if k != "type"}, False)
    if isinstance(started, Response):
        return started
    _run(state, call, *started)
    sip.answered(state, call)
    return Response(status_code=200)


def _start(state: MockState, request: Request, session_id: str, config: dict[str, Any],
           on_channel: bool) -> tuple[LiveCallSession, list[Output]] | Response:
    """A started Live session for a call (registered: journal, admin API, inspector), or HTTP 400 with the error
    ``session.start`` would have answered (then nothing is registered)."""
    live = _new_session(state, session_id)
    adapter = LiveCallSession(live, on_channel)
    now = asyncio.get_running_loop().time()
    adapter.record = state.open_live(live, request.url.path, request.headers.get("user-agent", ""), now)
    outputs = adapter.command(C.START, {"session": config}, now)
    for out in outputs:
        if isinstance(out, Send) and out.event.get("type") == _ERROR:
            state.registry.discard(adapter.record)  # the call keeps ringing: the accept that succeeds is the session
            error = out.event["error"]
            return protocol_error_response(400, errors.ProtocolError(
                str(error.get("message")), str(error.get("code") or "invalid_value"), error.get("param")))
    return adapter, outputs


def _run(state: MockState, call: Call, adapter: LiveCallSession, outputs: list[Output]) -> None:
    """The started session becomes the call's (registered for sideband attach and forks until the call ends)."""
    live, session_id = adapter.live, adapter.session_id
    running = hub(state)
    running.running[session_id] = (live, CallPrimary(call, adapter))

    async def released() -> None:
        running.running.pop(session_id, None)
        running.store(live)
        sink, live.sideband = live.sideband, None
        if sink is not None:
            sink({})  # the sideband ends with its session

    record = adapter.record

    async def close_record() -> None:
        if record is not None:
            state.registry.close(record, 1000)

    call.on_end.insert(0, close_record)  # the journal closes with the call (as a Realtime call's, calls_http)
    call.on_end.append(released)
    call.start(adapter, record, state.mcp_executor)
    call.push(adapter.filter(outputs))


def _has_format(config: dict[str, Any]) -> bool:
    audio = config.get("audio")
    return isinstance(audio, dict) and (
        "format" in audio or (isinstance(audio.get("output"), dict) and "format" in audio["output"]))


async def create(request: Request) -> Response:
    """``POST /v1/live/sessions`` ``{"session": {...}, "transport": {"type": "webrtc", "sdp"}}`` (§13.8): the
    WebRTC peer of :mod:`mockrt.server.webrtc` around a started Live session; ``{"session": {"id"},
    "transport": {"type": "webrtc", "sdp"}}``. ``session.started`` is the data channel's first event."""
    state: MockState = request.app.state.mock
    key = calls_http._credential(request)
    if not state.keys.standard_ok(key):
        return calls_http._unauthorized(key)
    if not webrtc.available():
        return error_response(501, "WebRTC needs the 'calls' extra (aiortc).", "not_implemented")
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        return protocol_error_response(400, errors.invalid_json(str(exc)[:200]))
    if not isinstance(body, dict):
        return protocol_error_response(400, errors.not_an_object())
    transport, config = body.get("transport"), body.get("session")
    if not isinstance(transport, dict) or transport.get("type") != "webrtc" or not isinstance(
            transport.get("sdp"), str):
        return protocol_error_response(400, errors.missing_required_parameter("transport.sdp"))
    if not isinstance(config, dict):
        return protocol_error_response(400, errors.missing_required_parameter("session"))
    if _has_format(config):
        return protocol_error_response(400, errors.live_call_audio_format())
    # accepted, not modelled (the mock has no idle pause, §13.3): the WebRTC-only settings
    config = {k: v for k, v in config.items() if k not in ("idle_timeout_s", "wake_policy")}
    try:
        webrtc.check_offer(transport["sdp"])
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    call = state.calls.add(Call(new_call_id(state.rest_ids), "webrtc", int(time.time())))
    session_id = "live_" + call.id.removeprefix("rtc_")
    call.sip["live_session_id"] = session_id  # the id the Live controls (hangup) name the call by
    started = _start(state, request, session_id, config, True)
    if isinstance(started, Response):
        await call.end("bad session config")
        return started
    try:
        answer = await webrtc.answer(call, transport["sdp"])
    except errors.ProtocolError as err:
        await call.end("bad offer")
        if started[0].record is not None:  # the session never ran
            state.registry.discard(started[0].record)
        return protocol_error_response(400, err)
    _run(state, call, *started)
    return JSONResponse({"session": {"id": session_id}, "transport": {"type": "webrtc", "sdp": answer}})


async def reject(request: Request) -> Response:
    """``reject`` ``{"status_code"}``: required, a SIP final response between 300 and 699 (the SDK's doc)."""
    found = await _control(request)
    if isinstance(found, Response):
        return found
    _, call, body = found
    refusal = calls_http._pending(call)
    if refusal is not None:
        return refusal
    status = body.get("status_code")
    if status is None:
        return protocol_error_response(400, errors.missing_required_parameter("status_code"))
    if not isinstance(status, int) or isinstance(status, bool) or not 300 <= status <= 699:
        return protocol_error_response(400, errors.live_reject_status())
    call.sip["rejected_with"] = status
    await call.end(f"rejected with SIP {status}", status="rejected")
    return Response(status_code=200)


async def refer(request: Request) -> Response:
    found = await _control(request)
    return found if isinstance(found, Response) else await calls_http.refer(found[1], found[2])


async def hangup(request: Request) -> Response:
    found = await _control(request)
    return found if isinstance(found, Response) else await calls_http.hangup(found[1])


routes = [
    *(Route(prefix, create, methods=["POST"]) for prefix in LIVE_PREFIXES),
    *(Route(prefix + "/{session_id}/" + name, handler, methods=["POST"])
    for prefix in LIVE_PREFIXES
    for name, handler in (("accept", accept), ("reject", reject), ("refer", refer), ("hangup", hangup))),
]
