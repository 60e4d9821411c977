"""GPT-Live calls (docs/protocol.md §13.8): the simulated SIP calls and the WebRTC peer of §11, served by a Live
session. ``POST /v1/live/sessions`` creates a WebRTC one (the data channel carries the Live events), and
``POST /v1/live/sessions/{id}/fork`` a WebRTC fork of a stored session (the same fork as the WebSocket one's).

A ringing call placed with ``POST /_mockrt/calls`` ``{"surface": "live" | "both"}`` sends
``live.transport.incoming`` with its ``live_…`` session id; the application answers on
``/v1/live/sessions/{id}/accept|reject|refer|hangup``. ``accept`` starts a :class:`LiveSession` as the call's ONE
session (:class:`LiveCallSession` adapts it to what a :class:`~mockrt.server.calls.Call` drives: caller audio in,
played audio out, DTMF); the simulated caller of :mod:`mockrt.server.sip` is the primary transport, and
``client.live.sideband`` attaches to the session like to any running Live session (it sees every event, the
caller's reflected audio and ``transport.dtmf.received`` included).

``POST /v1/live/sessions`` with a ``sip`` transport places an outbound call instead (:class:`OutboundLeg`): the
session starts at once, the far end is simulated like an inbound caller and driven by the admin API
(``POST /_mockrt/calls/{id}/ring|answer|fail``, :mod:`mockrt.server.sip`), and ``transport.ringing`` /
``.answered`` / ``.failed`` reach the sideband only. A WebRTC session applies its frontend's data channel
permissions (``client.data_channel``, with an ``info`` notice) and sends ``live.transport.connected``.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockrt.audio import b64
from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects.live import FORK_CONFIG, LiveDialect
from mockrt.core.live.events import LiveClientEvent as C
from mockrt.core.live.events import LiveServerEvent as S
from mockrt.core.live.session import LiveOptions, LiveSession, LiveSnapshot
from mockrt.core.mcp import McpResult
from mockrt.core.outputs import Output, Send
from mockrt.core.turn_taking import VadOptions
from mockrt.server import calls_http, sip, webrtc
from mockrt.server.calls import Call, new_call_id
from mockrt.server.live import LIVE_PREFIXES, hub
from mockrt.server.registry import SessionRecord
from mockrt.server.rest_errors import error_response, protocol_error_response
from mockrt.server.state import MockState
from mockrt.server.webhooks import WebhookSender

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
        self.media = True  # False while an outbound leg rings: no line, the output stream goes nowhere
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
        """Output audio to the line; other events to the data channel (WebRTC, as its ``allowed_server_events``
        permit) or dropped (SIP: the sideband got its copy); directives kept."""
        kept: list[Output] = []
        cfg = self.live.config
        for out in outputs:
            if isinstance(out, Send) and out.event.get("type") == _AUDIO:
                if self.media:
                    self.played += b64.decode_strict(out.event["delta"])
            elif not isinstance(out, Send) or (self.events_on_channel and (
                    cfg is None or _DIALECT.data_channel_allows(cfg, out.event))):
                kept.append(out)
        return kept

    def command(self, kind: C, fields: dict[str, Any], now: float) -> list[Output]:
        """A client event into the Live session, with its outputs (unfiltered)."""
        return self.live.receive_text(json.dumps({"type": _WIRE[kind], **fields}), now)

    def start(self) -> list[Output]:
        return []

    def receive_text(self, text: str, now: float) -> list[Output]:
        """A command on the WebRTC data channel (the session has started: no ``session.start``, no audio); one
        its ``allowed_client_events`` do not list is refused with an ``error`` (§13.8)."""
        cfg = self.live.config
        if cfg is not None and cfg.client is not None:
            try:
                event = json.loads(text)
            except ValueError:
                event = None
            if isinstance(event, dict) and isinstance(event.get("type"), str) and not \
                    _DIALECT.data_channel_accepts(cfg, event["type"]):
                cid = event.get("event_id")
                return self.filter([self.live.refuse(errors.live_event_not_permitted(event["type"]),
                                                     cid if isinstance(cid, str) else None)])
        return self.filter(self.live.receive_sideband(text, now))

    def receive_bytes(self, data: bytes, now: float) -> list[Output]:
        return self.filter(self.live.receive_bytes(data, now))

    def poll(self, now: float) -> list[Output]:
        return self.filter(self.live.poll(now))

    def next_deadline(self) -> float | None:
        return self.live.next_deadline()

    def feed_audio(self, data: bytes, now: float) -> list[Output]:
        return self.filter(self.command(C.AUDIO_APPEND, {"audio": b64.encode(data)}, now))

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


async def _control(request: Request, *, pending: bool = False) -> tuple[MockState, Call, dict[str, Any]] | Response:
    """Auth, the call by its ``live_…`` id, the JSON body (possibly empty); ``pending``: still ringing."""

    def by_session(state: MockState) -> Call | Response:
        session_id = request.path_params["session_id"]
        call = _find(state, session_id)
        return call if call is not None else protocol_error_response(404, errors.live_session_not_found(session_id))

    return await calls_http.control(request, by_session, pending=pending)


def _new_session(state: MockState, session_id: str, media: bool = False,
                 fork_of: LiveSnapshot | None = None) -> LiveSession:
    cfg = state.config
    brain, transcriber = state.brain_for_new_session()
    options = LiveOptions(
        dialect=_DIALECT, seed=state.session_seed(), brain=brain, transcriber=transcriber,
        vad=VadOptions(detector=cfg.vad, end_includes_silence=cfg.vad_end_includes_silence),
        time_scale=cfg.time_scale, max_buffer_ms=cfg.max_buffer_ms,
        max_duration_s=cfg.max_session_s or 3600.0, created_at=int(time.time()), sip=True, media=media,
        fork_of=fork_of, max_recording_bytes=cfg.journal_max_bytes)
    session = LiveSession(options, asyncio.get_running_loop().time())
    session.session_id = session_id  # the pending call's id stays the session's (§13.8)
    return session


async def accept(request: Request) -> Response:
    """``POST /v1/live/sessions/{id}/accept`` ``{"session": {"type": "live", "model", …}}``: the Live session
    starts with that config (checked as strictly as ``session.start``'s; SIP negotiates the audio format, so
    ``audio.format`` is refused) and the caller starts talking."""
    found = await _control(request, pending=True)
    if isinstance(found, Response):
        return found
    state, call, body = found
    config = body.get("session")
    if not isinstance(config, dict):
        return protocol_error_response(400, errors.missing_required_parameter("session"))
    if config.get("type") != "live":
        return protocol_error_response(400, errors.live_sip_not_live(config.get("type")))
    if _has_format(config):
        return protocol_error_response(400, errors.live_call_audio_format())
    session_id = request.path_params["session_id"]
    started = _start(state, request, session_id, {k: v for k, v in config.items() if k != "type"})
    if isinstance(started, Response):
        return started
    _run(state, call, *started)
    sip.answered(state, call)
    return Response(status_code=200)


def _start(state: MockState, request: Request, session_id: str, config: dict[str, Any], on_channel: bool = False,
           media: bool = False, fork_of: LiveSnapshot | None = None) -> tuple[LiveCallSession, list[Output]] | Response:
    """A started Live session for a call (registered: journal, admin API, inspector; a fork of ``fork_of``:
    ``config`` holds the overrides), or HTTP 400 with the error ``session.start`` would have answered (then nothing
    is registered; ``media``: a ``MediaSessionConfig``, §13.8)."""
    live = _new_session(state, session_id, media, fork_of)
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
    cfg = live.config
    if on_channel and cfg is not None and cfg.client is not None:  # the frontend learns its permissions (§13.8)
        outputs.append(live.notice("data_channel_permissions", _permissions(cfg.client["data_channel"])))
    return adapter, outputs


def _permissions(data_channel: dict[str, Any]) -> str:
    """The ``info`` message naming what a frontend's data channel may send and receive [U: the wording]."""
    def listed(value: Any, describe: Callable[[Any], str]) -> str:
        if not isinstance(value, list):
            return "all events"
        return ", ".join(describe(v) for v in value) or "no events"
    sends = listed(data_channel.get("allowed_client_events"), str)
    receives = listed(data_channel.get("allowed_server_events"), lambda sel: sel["type"] + (
        f" ({sel['response_event']})" if "response_event" in sel else ""))
    return f"Data channel permissions applied: it may send {sends}; it receives {receives} (errors and " \
           f"notices always)."


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
    return await _webrtc_session(request, None)


async def fork(request: Request) -> Response:
    """``POST /v1/live/sessions/{id}/fork`` ``{"transport": {"type": "webrtc", "sdp"}, "session"?: overrides}``
    (the SDK's ``sessions.fork``, §13.6): a WebRTC session that starts from the stored one's state, exactly as
    the fork WebSocket's (the same :class:`LiveSession` ``fork_of``); the overrides are ``client``,
    ``delegation`` (Responses) and ``store``, omitted or ``{}`` to inherit; the answer is ``SessionForkResponse``."""
    return await _webrtc_session(request, request.path_params["session_id"])


async def _webrtc_session(request: Request, source: str | None) -> Response:
    """A new Live session on a WebRTC peer: created from ``session`` (``source`` None) or forked from the stored
    session ``source`` with the overrides in ``session``."""
    state: MockState = request.app.state.mock
    key = calls_http._credential(request)
    if not state.keys.standard_ok(key):
        return calls_http._unauthorized(key)
    fork_of: LiveSnapshot | None = None
    if source is not None:
        fork_of = hub(state).fork_source(source)
        if fork_of is None:
            return protocol_error_response(404, errors.live_session_not_found(source))
    if not webrtc.available():
        return error_response(501, "WebRTC needs the 'calls' extra (aiortc).", "not_implemented")
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        return protocol_error_response(400, errors.invalid_json(str(exc)[:200]))
    if not isinstance(body, dict):
        return protocol_error_response(400, errors.not_an_object())
    transport, config = body.get("transport"), body.get("session")
    if fork_of is not None and config is None:
        config = {}  # omitted: inherit every setting
    if not isinstance(config, dict):
        return protocol_error_response(400, errors.missing_required_parameter("session"))
    if fork_of is None and isinstance(transport, dict) and transport.get("type") == "sip":
        return await dial(state, request, transport, config)
    if not isinstance(transport, dict) or transport.get("type") != "webrtc" or not isinstance(
            transport.get("sdp"), str):
        return protocol_error_response(400, errors.missing_required_parameter("transport.sdp"))
    if _has_format(config):
        return protocol_error_response(400, errors.live_call_audio_format())
    if fork_of is not None:
        try:
            config = FORK_CONFIG.check(config, "session")
        except errors.ProtocolError as err:
            return protocol_error_response(400, err)
        if "client" in config:  # frontend permissions: a WebRTC fork's own (the WebSocket fork refuses them)
            fork_of = dataclasses.replace(fork_of, config=copy.deepcopy(fork_of.config))
            fork_of.config.client = config.pop("client")
    try:
        webrtc.check_offer(transport["sdp"])
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    call = state.calls.add(Call(new_call_id(state.rest_ids), "webrtc", int(time.time())))
    session_id = "live_" + call.id.removeprefix("rtc_")
    call.sip["live_session_id"] = session_id  # the id the Live controls (hangup) name the call by
    started = _start(state, request, session_id, config, True, media=True, fork_of=fork_of)
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
    _notify(state, call, "live.transport.connected", {"session_id": session_id, "type": "webrtc"})
    return JSONResponse({"session": {"id": session_id}, "transport": {"type": "webrtc", "sdp": answer}})


def _notify(state: MockState, call: Call, etype: str, data: dict[str, Any]) -> None:
    """One signed webhook to ``--webhook-url`` (none configured: nothing), delivered with retries in the
    background while the call lasts."""
    cfg = state.config
    if cfg.webhook_url:
        sender = WebhookSender(cfg.webhook_url, cfg.webhook_secret, cfg.webhook_retry_s)
        event = sender.envelope(etype, data)

        async def deliver() -> None:
            await sender.deliver(event)
        sip.keep(call, asyncio.get_running_loop().create_task(deliver()))


class OutboundLeg:
    """The simulated far end of an outbound SIP call (§13.8), driven by the admin API: it rings, answers (media
    starts: the far end talks like an inbound caller, :func:`mockrt.server.sip.answered`) or fails. Each step is
    announced to sideband observers only; a failure ends the call."""

    def __init__(self, state: MockState, call: Call, adapter: LiveCallSession) -> None:
        self.state, self.call, self.adapter = state, call, adapter
        self.status = "dialing"

    def _pending(self) -> str | None:
        if self.call.ended.is_set():
            return "the call has ended"
        return None if self.status in ("dialing", "ringing") else f"the leg has already {self.status}"

    def ring(self) -> str | None:
        refusal = self._pending() or (None if self.status == "dialing" else "the leg is already ringing")
        if refusal is None:
            self.status = "ringing"
            self.adapter.live.to_sideband(S.TRANSPORT_RINGING, {"session_id": self.adapter.session_id})
        return refusal

    def answer(self) -> str | None:
        refusal = self._pending()
        if refusal is None:
            self.status = "answered"
            self.adapter.media = True
            self.adapter.live.to_sideband(S.TRANSPORT_ANSWERED, {"session_id": self.adapter.session_id})
            sip.answered(self.state, self.call)
        return refusal

    async def fail(self, code: str, message: str) -> str | None:
        refusal = self._pending()
        if refusal is None:
            self.status = "failed"
            self.adapter.live.to_sideband(S.TRANSPORT_FAILED, {
                "session_id": self.adapter.session_id,
                "error": {"type": "call_error", "code": code, "message": message}})
            await self.call.end(f"outbound call failed: {code}")
        return refusal


async def dial(state: MockState, request: Request, transport: dict[str, Any], config: dict[str, Any]) -> Response:
    """``POST /v1/live/sessions`` ``{"session": MediaSessionConfig, "transport": {"type": "sip", "destination",
    "trunk"}}`` (§13.8): the session starts now and dials; ``{"session": {"id"}, "transport": {"type": "sip"}}``
    (trunk credentials are not returned)."""
    try:
        destination, caller = _DIALECT.check_sip_transport(transport)
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    if _has_format(config):
        return protocol_error_response(400, errors.live_call_audio_format())
    call = state.calls.add(Call(new_call_id(state.rest_ids), "sip", int(time.time())))
    session_id = "live_" + call.id.removeprefix("rtc_")
    call.sip.update({"live_session_id": session_id, "direction": "outbound", "from": caller, "to": destination,
                     "audio": b"", "dtmf": [], "webhook": None})
    started = _start(state, request, session_id, config, media=True)
    if isinstance(started, Response):
        await call.end("bad session config")
        return started
    adapter, outputs = started
    adapter.media = False  # no line until the far end answers
    call.sip["leg"] = OutboundLeg(state, call, adapter)
    _run(state, call, adapter, outputs)
    return JSONResponse({"session": {"id": session_id}, "transport": {"type": "sip"}})


async def reject(request: Request) -> Response:
    """``reject`` ``{"status_code"}``: required, a SIP final response between 300 and 699 (the SDK's doc)."""
    found = await _control(request, pending=True)
    if isinstance(found, Response):
        return found
    _, call, body = found
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
    for name, handler in (("accept", accept), ("reject", reject), ("refer", refer), ("hangup", hangup),
                          ("fork", fork))),
]
