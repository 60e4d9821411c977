"""SIP calls, simulated (docs/protocol.md §11): there is no phone network here, so the admin API places the call.

``POST /_mockrt/calls`` ``{"from", "to", "sip_headers": [{"name", "value"}], "audio_file", "dtmf": [{"digit",
"at_ms"}], "surface": "realtime" | "live" | "both", "legacy_live_webhook": bool}`` creates a ringing call and sends
``realtime.call.incoming`` and/or ``live.transport.incoming`` (docs/protocol.md §13.8; with
``legacy_live_webhook`` also the deprecated ``live.call.incoming`` that existing subscriptions still get) to
``--webhook-url`` (signed, :mod:`mockrt.server.webhooks`); when no delivery succeeds after the retries the call
is dropped. The application answers over REST (:mod:`mockrt.server.calls_http`, or
:mod:`mockrt.server.live_calls` for the Live API). After ``accept`` the caller talks: the WAV (resolved inside
``--fixtures-dir``, like every file named over HTTP) is sent as telephone audio would be, G.711 µ-law at 8 kHz,
then line silence; DTMF digits arrive at their ``at_ms``; the assistant's audio is played to the caller in real
time (scaled by ``time_scale``) and kept in :attr:`Call.heard` (``GET /_mockrt/calls/{call_id}/audio.wav``, 8 kHz,
as the caller heard it; the inspector's ``output.wav`` of the call's session serves it too).

The far end of an outbound GPT-Live call (docs/protocol.md §13.8) is simulated the same way: ``POST
/_mockrt/calls/{id}/ring``, ``/answer`` ``{"audio_file", "dtmf"}`` (then it talks like an inbound caller) and
``/fail`` ``{"code", "message"}``; ``{id}`` is the ``rtc_…`` call id or the ``live_…`` session id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import wave
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockrt.audio import g711
from mockrt.audio.resample import StreamResampler
from mockrt.inspector.buffers import wav_bytes
from mockrt.scenarios.loader import FILE_REFUSED, _regular_file
from mockrt.server.calls import PHONE_RATE, Call, new_call_id
from mockrt.server.rest_errors import error_response, invalid_value, not_found
from mockrt.server.state import MockState
from mockrt.server.webhooks import WebhookSender

logger = logging.getLogger("mockrt.calls")

FRAME_MS = 20
DTMF_DIGITS = frozenset("0123456789*#ABCD")
MIN_FRAME_S = 0.001
"""The shortest wall time between two frames of the simulated line (``time_scale`` 0 or tiny)."""


def _problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    problems = [f"unknown field {key!r}" for key in body
                if key not in ("from", "to", "sip_headers", "audio_file", "dtmf", "surface", "legacy_live_webhook")]
    if not isinstance(body.get("legacy_live_webhook", False), bool):
        problems.append("'legacy_live_webhook' must be a boolean")
    if body.get("surface", "realtime") not in ("realtime", "live", "both"):
        problems.append("'surface' must be one of 'realtime', 'live', 'both'")
    for key in ("from", "to", "audio_file"):
        if key in body and not isinstance(body[key], str):
            problems.append(f"{key!r} must be a string")
    headers = body.get("sip_headers", [])
    if not isinstance(headers, list) or not all(
            isinstance(h, dict) and set(h) == {"name", "value"} and all(isinstance(v, str) for v in h.values())
            for h in headers):
        problems.append("'sip_headers' must be a list of {\"name\": str, \"value\": str}")
    dtmf = body.get("dtmf", [])
    if not isinstance(dtmf, list) or not all(
            isinstance(d, dict) and set(d) <= {"digit", "at_ms"} and d.get("digit") in DTMF_DIGITS
            and isinstance(d.get("at_ms", 0), int | float) and d.get("at_ms", 0) >= 0 for d in dtmf):
        problems.append("'dtmf' must be a list of {\"digit\": one of 0-9 * # A-D, \"at_ms\": number >= 0}")
    return problems


class FarEnd(Protocol):
    """The far end of an outbound call (:class:`mockrt.server.live_calls.OutboundLeg`); each step answers a
    refusal reason, or ``None`` when done."""

    status: str

    def ring(self) -> str | None: ...

    def answer(self) -> str | None: ...

    async def fail(self, code: str, message: str) -> str | None: ...


def read_caller_wav(path: Path) -> bytes:
    """A mono 16-bit WAV at any rate as 8 kHz G.711 µ-law, what a phone line carries."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError("expected mono 16-bit PCM")
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    return g711.ulaw_encode(StreamResampler(rate, PHONE_RATE).process(pcm))


def _resolve(state: MockState, ref: str) -> Path | None:
    root_dir = state.config.fixtures_dir
    if root_dir is None:
        return None
    root = Path(root_dir).resolve()
    target = (root / ref).resolve()
    return target if target.is_relative_to(root) and _regular_file(target) else None


async def place_call(request: Request) -> Response:
    """``POST /_mockrt/calls``: a ringing SIP call; 201 ``{"call_id", "status"}``."""
    state: MockState = request.app.state.mock
    try:
        body = await request.json()
    except ValueError as exc:
        return invalid_value([f"the body is not JSON: {exc}"])
    problems = _problems(body)
    if problems:
        return invalid_value(problems)
    audio = await _caller_audio(state, body)
    if isinstance(audio, Response):
        return audio
    call = state.calls.add(Call(new_call_id(state.rest_ids), "sip", 0))
    caller, callee = body.get("from", "+15550100"), body.get("to", "+15550199")
    sip_headers = [{"name": "From", "value": f"<sip:{caller}@mockrt.invalid>"},
                   {"name": "To", "value": f"<sip:{callee}@sip.api.openai.com>"},
                   {"name": "Call-ID", "value": f"{call.id}@mockrt.invalid"},
                   *body.get("sip_headers", [])]
    live_id = "live_" + call.id.removeprefix("rtc_")  # the same pending call, as the Live API names it (§13.8)
    call.sip.update({"from": caller, "to": callee, "sip_headers": sip_headers, "audio": audio,
                     "dtmf": sorted(body.get("dtmf", []), key=lambda d: d.get("at_ms", 0)),
                     "webhook": None, "live_session_id": live_id})
    cfg = state.config
    if cfg.webhook_url:
        sender = WebhookSender(cfg.webhook_url, cfg.webhook_secret, cfg.webhook_retry_s)
        surface = body.get("surface", "realtime")
        events = [sender.envelope("realtime.call.incoming", {"call_id": call.id, "sip_headers": sip_headers})
                  for _ in range(surface != "live")]
        events += [sender.envelope("live.transport.incoming", {"session_id": live_id, "sip_headers": sip_headers,
                                                               "type": "sip"}) for _ in range(surface != "realtime")]
        events += [sender.envelope("live.call.incoming", {"session_id": live_id, "sip_headers": sip_headers})
                   for _ in range(surface != "realtime" and body.get("legacy_live_webhook", False))]
        keep(call, asyncio.get_running_loop().create_task(_notify(call, sender, events)))
    return JSONResponse({"call_id": call.id, "live_session_id": live_id, "status": call.status}, status_code=201)


async def _caller_audio(state: MockState, body: dict[str, Any]) -> bytes | Response:
    """The caller's ``audio_file`` as line audio (none: b""), or the refusal."""
    if "audio_file" not in body:
        return b""
    if state.config.fixtures_dir is None:
        return invalid_value(["'audio_file': audio files cannot be referenced over HTTP unless mockrt runs "
                              "with --fixtures-dir"], "audio_file")
    path = _resolve(state, body["audio_file"])
    if path is None:
        return invalid_value([f"'audio_file': {body['audio_file']!r} {FILE_REFUSED}"], "audio_file")
    try:
        return await run_in_threadpool(read_caller_wav, path)
    except (ValueError, EOFError, wave.Error) as exc:
        return invalid_value([f"'audio_file': {exc}"], "audio_file")


def keep(call: Call, task: asyncio.Task[None]) -> None:
    async def cancel() -> None:
        if task is not asyncio.current_task():
            task.cancel()
    call.on_end.append(cancel)


async def _notify(call: Call, sender: WebhookSender, events: list[dict[str, Any]]) -> None:
    """Both webhooks of the pending call, Realtime's then Live's: the first accept on either API wins (§11,
    §13.8); the call is dropped only when neither was delivered."""
    statuses: list[int | None] = []
    delivered = False
    for event in events:
        delivery = await sender.deliver(event)
        statuses += delivery.statuses
        delivered = delivered or delivery.delivered
    call.sip["webhook"] = statuses
    if not delivered and call.status == "incoming":
        await call.end("webhook not delivered: the call is dropped")


def answered(state: MockState, call: Call) -> None:
    """The application accepted: the caller starts talking (and listening)."""
    keep(call, asyncio.get_running_loop().create_task(_caller(call, state.config.time_scale)))


def frame_period_s(time_scale: float) -> float:
    """Wall seconds between two 20 ms frames of the line: real time scaled by ``time_scale`` (like every pacing
    delay), but never below :data:`MIN_FRAME_S`, so that ``time_scale=0`` (unpaced) cannot spin a line that carries
    silence until someone hangs up."""
    return max(MIN_FRAME_S, FRAME_MS / 1000 * max(0.0, time_scale))


async def _caller(call: Call, time_scale: float = 1.0) -> None:
    """The simulated phone: every frame period (20 ms × ``time_scale``), 20 ms of caller audio in and 20 ms of
    assistant audio out. The caller's audio, its DTMF ``at_ms`` and the recording of what it heard all run on the
    line's own timeline, so a scaled call carries the same audio as a real-time one, only sooner."""
    loop = asyncio.get_running_loop()
    audio: bytes = call.sip.get("audio", b"")  # type: ignore[assignment]
    dtmf: list[dict[str, Any]] = list(call.sip.get("dtmf", []))  # type: ignore[call-overload]
    step = PHONE_RATE * FRAME_MS // 1000  # µ-law: one byte per sample
    silence = g711.ulaw_encode(np.zeros(step, np.int16))
    start = loop.time()
    period = frame_period_s(time_scale)
    tick = 0
    to_session: StreamResampler | None = None
    from_session: StreamResampler | None = None
    while not call.ended.is_set() and call.session is not None:
        elapsed_ms = tick * FRAME_MS
        while dtmf and dtmf[0].get("at_ms", 0) <= elapsed_ms:
            call.dtmf(str(dtmf.pop(0)["digit"]))
        chunk = audio[tick * step:(tick + 1) * step] or silence
        chunk = chunk + silence[len(chunk):]
        fmt_in = call.session.buffer.format
        if to_session is None or to_session.dst_rate != fmt_in.rate:
            to_session = StreamResampler(PHONE_RATE, fmt_in.rate)
        call.feed_audio(fmt_in.encode(to_session.process(g711.ulaw_decode(chunk))))
        if call.session is None or call.ended.is_set():
            break
        fmt_out = call.session.config.output_format
        if from_session is None or from_session.src_rate != fmt_out.rate:
            from_session = StreamResampler(fmt_out.rate, PHONE_RATE)
        played = call.pull_audio(fmt_out.bytes_per_ms * FRAME_MS)
        call.keep_heard(g711.ulaw_encode(from_session.process(fmt_out.decode(played))) if played else silence)
        tick += 1
        wait = start + tick * period - loop.time()
        await asyncio.sleep(max(0.0, wait))


def find(state: MockState, call_id: str) -> Call | None:
    """A call by its ``rtc_…`` id or by the ``live_…`` id of the Live session it serves."""
    call = state.calls.get(call_id)
    return call if call is not None else next(
        (c for c in state.calls.calls.values() if c.sip.get("live_session_id") == call_id), None)


async def far_end(request: Request) -> Response:
    """``POST /_mockrt/calls/{id}/ring|answer|fail``: the far end of an outbound call (§13.8). ``answer``
    takes ``{"audio_file", "dtmf"}`` like a placed call; ``fail`` ``{"code", "message"}``; 409 when the leg
    is past that step."""
    state: MockState = request.app.state.mock
    call = find(state, request.path_params["call_id"])
    leg = cast(FarEnd | None, call.sip.get("leg")) if call is not None else None
    if call is None or leg is None:
        return not_found("No such outbound call.", "call_id")
    step = request.url.path.rsplit("/", 1)[-1]
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return invalid_value([f"the body is not JSON: {exc}"])
    allowed = {"answer": {"audio_file", "dtmf"}, "fail": {"code", "message"}}.get(step, set())
    problems = _problems({k: v for k, v in body.items() if k in ("audio_file", "dtmf")}) if isinstance(
        body, dict) else ["the body must be a JSON object"]
    if isinstance(body, dict):
        problems += [f"unknown field {key!r}" for key in body if key not in allowed]
        problems += [f"{key!r} must be a non-blank string" for key in ("code", "message")
                     if key in body and not (isinstance(body[key], str) and body[key].strip())]
    if problems:
        return invalid_value(problems)
    refusal: str | None
    if step == "ring":
        refusal = leg.ring()
    elif step == "answer":
        audio = await _caller_audio(state, body)
        if isinstance(audio, Response):
            return audio
        if leg.status in ("dialing", "ringing"):
            call.sip.update({"audio": audio, "dtmf": sorted(body.get("dtmf", []), key=lambda d: d.get("at_ms", 0))})
        refusal = leg.answer()
    else:
        refusal = await leg.fail(body.get("code", "no_answer"), body.get("message", "The destination did not answer."))
    if refusal is not None:
        return error_response(409, f"The outbound leg cannot {step}: {refusal}.", "invalid_state", param="call_id")
    return JSONResponse(describe(call))


async def caller_hangup(request: Request) -> Response:
    """``POST /_mockrt/calls/{call_id}/hangup``: the caller (or an outbound call's far end) hangs up."""
    state: MockState = request.app.state.mock
    call = find(state, request.path_params["call_id"])
    if call is None or call.kind != "sip":
        return not_found("No such call.", "call_id")
    if call.ended.is_set():
        return error_response(409, "The call has already ended.", "call_ended", param="call_id")
    await call.end("the caller hung up")
    return JSONResponse(describe(call))


def describe(call: Call) -> dict[str, Any]:
    return {"call_id": call.id, "kind": call.kind, "status": call.status, "ended": call.ended.is_set(),
            "end_reason": call.end_reason, "session_id": call.record.id if call.record else None,
            "from": call.sip.get("from"), "to": call.sip.get("to"), "webhook_statuses": call.sip.get("webhook"),
            "referred_to": call.sip.get("referred_to"), "rejected_with": call.sip.get("rejected_with"),
            "heard_ms": call.heard_ms, "direction": call.sip.get("direction", "inbound"),
            "leg": getattr(call.sip.get("leg"), "status", None)}


async def call_info(request: Request) -> Response:
    state: MockState = request.app.state.mock
    call = find(state, request.path_params["call_id"])
    return JSONResponse(describe(call)) if call is not None else not_found("No such call.", "call_id")


async def caller_audio(request: Request) -> Response:
    """What the caller heard, as a WAV: the SIP line's 8 kHz, or the 24 kHz a WebRTC peer was sent."""
    state: MockState = request.app.state.mock
    call = find(state, request.path_params["call_id"])
    if call is None:
        return not_found("No such call.", "call_id")
    return Response(wav_bytes(call.heard_pcm(), call.heard_format.rate), media_type="audio/wav")


admin_routes = [
    Route("/calls", place_call, methods=["POST"]),
    Route("/calls/{call_id}", call_info, methods=["GET"]),
    Route("/calls/{call_id}/hangup", caller_hangup, methods=["POST"]),
    Route("/calls/{call_id}/audio.wav", caller_audio, methods=["GET"]),
    *(Route(f"/calls/{{call_id}}/{step}", far_end, methods=["POST"]) for step in ("ring", "answer", "fail")),
]
