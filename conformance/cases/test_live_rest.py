"""GPT-Live's REST side (docs/protocol.md §13.6): a stored session's recording (``GET /v1/live/sessions/{id}/content``)
and the WebRTC fork (``POST /v1/live/sessions/{id}/fork``), each on a session started over the primary WebSocket."""

from __future__ import annotations

import base64
import io
import ssl
import time
import wave
from collections.abc import Callable
from typing import Any

import numpy as np

from conformance import Ctx, case
from conformance.audio import tone
from conformance.calls import HttpAnswer, WebRTCCall, get, http_base, post
from conformance.cases.test_live import LIVE, started
from conformance.checks import expect, expect_equal

Json = dict[str, Any]
ALL_TARGETS = ("mock", "openai", "url")
MOCKRT_TARGETS = ("mock", "url")  # the recording's format and the error codes are mockrt's [U] (§13.6)
FINALIZE_S = 10.0
"""How long a closed session's recording (or stored state) may take to become available on a live service."""


def _rest(ctx: Ctx) -> tuple[str, dict[str, str], ssl.SSLContext | None]:
    endpoint = ctx.target.endpoint(ctx.dialect)
    return http_base(endpoint.url), {k: v for k, v in endpoint.headers.items()
                                     if k.lower() in ("authorization", "api-key")}, endpoint.tls


def _poll(request: Callable[[], HttpAnswer], done: Callable[[HttpAnswer], bool]) -> HttpAnswer:
    """``request`` until ``done`` or :data:`FINALIZE_S` (a closed session's recording is finalized asynchronously
    on the service; the mock answers at once)."""
    deadline = time.monotonic() + FINALIZE_S
    while True:
        answer = request()
        if done(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(0.25)


def _stored_and_closed(ctx: Ctx, audio: bytes = b"") -> str:
    """A ``store: true`` session that heard ``audio`` (PCM16 24 kHz) and closed; its id."""
    s, event = started(ctx, store=True)
    if audio:
        s.send({"type": "session.input_audio.append", "audio": base64.b64encode(audio).decode("ascii")})
    s.send({"type": "session.close", "event_id": "evt_rest_close"})
    s.until("session.closed")
    session_id: str = event["session"]["id"]
    return session_id


def _content(ctx: Ctx, session_id: str) -> HttpAnswer:
    base, headers, tls = _rest(ctx)
    return _poll(lambda: get(f"{base}/v1/live/sessions/{session_id}/content", headers, tls=tls),
                 lambda a: a.status == 200)


@case(id="live/content/recording", section="§13.6", level="should", dialects=LIVE, targets=ALL_TARGETS, timeout=30.0,
      description="GET /v1/live/sessions/{id}/content of a stored, closed session answers its recording",
      requirement="The content of a session started with store: true can be downloaded by its id once it has "
                  "closed and its recording has finalized [D: download_recording]; the file format is not "
                  "documented.")
def test_live_content(ctx: Ctx) -> None:
    session_id = _stored_and_closed(ctx, tone(500))
    answer = _content(ctx, session_id)
    expect_equal(answer.status, 200, f"status of GET …/content ({answer.text[:200]})")
    expect(len(answer.body) > 0, "the recording is not empty")


@case(id="live/content/wav", section="§13.6", level="must", dialects=LIVE, targets=MOCKRT_TARGETS, timeout=30.0,
      description="the recording is a stereo 24 kHz WAV: the caller's audio (left) from session.started, the "
                  "output (right)",
      requirement="mockrt serves a stored session's recording as a stereo PCM16 WAV at 24 kHz, the input as "
                  "appended and the continuous output, each on its timeline [U: the service's format].")
def test_live_content_wav(ctx: Ctx) -> None:
    said = tone(1000, freq=300.0)
    answer = _content(ctx, _stored_and_closed(ctx, said))
    expect_equal((answer.status, answer.headers.get("content-type")), (200, "audio/wav"), "status, content type")
    with wave.open(io.BytesIO(answer.body)) as w:
        expect_equal((w.getnchannels(), w.getsampwidth(), w.getframerate()), (2, 2, 24000), "WAV format")
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    heard = np.frombuffer(said, "<i2")
    expect(np.array_equal(frames[: len(heard), 0], heard), "the left channel starts with the appended audio")
    expect(len(frames) >= len(heard), f"the recording covers the input ({len(frames)} frames)")


@case(id="live/rest/unknown-session", section="§13.6", level="should", dialects=LIVE, targets=MOCKRT_TARGETS,
      description="content of an unknown or unstored session, and a REST fork of an unknown one: 404",
      requirement="Only sessions started with store: true can be downloaded or forked [D]; mockrt answers HTTP "
                  "404 session_not_found otherwise [U: status and code].")
def test_live_rest_unknown(ctx: Ctx) -> None:
    base, headers, tls = _rest(ctx)
    s, event = started(ctx, store=False)
    s.send({"type": "session.close"})
    s.until("session.closed")
    for session_id in ("live_conformance_unknown", event["session"]["id"]):
        answer = get(f"{base}/v1/live/sessions/{session_id}/content", headers, tls=tls)
        expect_equal(answer.status, 404, f"status of content of {session_id}")
        expect_equal(answer.json()["error"].get("code"), "session_not_found", "error.code")
    body = b'{"transport": {"type": "webrtc", "sdp": "v=0"}}'
    answer = post(f"{base}/v1/live/sessions/live_conformance_unknown/fork", body,
                  {**headers, "Content-Type": "application/json"}, tls=tls)
    expect_equal(answer.status, 404, f"status of a fork of an unknown session ({answer.text[:200]})")


@case(id="live/fork/rest", section="§13.6, §13.8", level="should", dialects=LIVE, targets=ALL_TARGETS, timeout=40.0,
      description="POST …/{id}/fork: a WebRTC session with a new id from the stored session's configuration; "
                  "hangup ends it",
      requirement="The REST fork answers {session: {id}, transport: {type: webrtc, sdp}}; session.started on the "
                  "data channel carries the new id and the inherited model and instructions [D].")
def test_live_fork_rest(ctx: Ctx) -> None:
    from openai.types.live import SessionForkResponse

    source = _stored_and_closed(ctx)
    _content(ctx, source)  # the service forks "a stored, closed session whose recording has finalized"
    base, headers, tls = _rest(ctx)
    call = WebRTCCall(base, headers, ctx.dialect, tls=tls)
    ctx.sessions.append(call)  # type: ignore[arg-type]  # quacks like a Session for the run's bookkeeping
    answer = call.open_live(f"/v1/live/sessions/{source}/fork", {"session": {}})
    expect_equal(answer.status, 200, f"status of the fork ({answer.text[:200]})")
    forked = SessionForkResponse.model_validate(answer.json())
    expect(forked.session.id != source, "the fork has a new session id")
    session = call.until("session.started")["session"]
    expect_equal(session.get("id"), forked.session.id, "session.started id")
    expect_equal((session.get("model"), session.get("instructions")),
                 ("gpt-live-1", "Reply with one short sentence."), "inherited model and instructions")
    hung = post(f"{base}/v1/live/sessions/{forked.session.id}/hangup", b"", headers, tls=tls)
    expect_equal(hung.status, 200, "hangup of the fork")
