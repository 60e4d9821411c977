"""Calls: WebRTC, the output audio buffer, SIP (simulated on the mock) and the sideband (docs/protocol.md §11)."""

from __future__ import annotations

import json
import ssl
import time
from typing import Any

from conformance import Ctx, case
from conformance.calls import VIDEO_ONLY_OFFER, WebRTCCall, get, http_base, post
from conformance.checks import CaseFailure, expect, expect_equal, expect_match
from conformance.client import Session, Transcript

WEBRTC_TARGETS = ("mock", "openai", "url")
MOCKRT_TARGETS = ("mock", "url")  # error codes are [U] (§11): judged where mockrt's answers are the spec
SESSION = {"type": "realtime", "model": "gpt-realtime", "instructions": "Reply with one short sentence."}


def _base(ctx: Ctx) -> tuple[str, dict[str, str], ssl.SSLContext | None]:
    """The REST base of the target, its authorization header and TLS context (``--ca``)."""
    endpoint = ctx.target.endpoint(ctx.dialect)
    headers = {k: v for k, v in endpoint.headers.items() if k.lower() == "authorization"}
    return http_base(endpoint.url), headers, endpoint.tls


def _call(ctx: Ctx) -> WebRTCCall:
    base, headers, tls = _base(ctx)
    call = WebRTCCall(base, headers, ctx.dialect, tls=tls)
    ctx.sessions.append(call)  # type: ignore[arg-type]  # quacks like a Session for the run's bookkeeping
    answer = call.open(SESSION)
    expect_equal(answer.status, 201, f"status of POST /v1/realtime/calls ({answer.text[:200]})")
    return call


@case(id="calls/webrtc/create", section="§11.1", dialects=("ga",), targets=WEBRTC_TARGETS, timeout=30,
      description="a multipart SDP offer gets 201, an SDP answer, a Location, and session.created on oai-events",
      requirement="POST /v1/realtime/calls → 201 application/sdp answer with an audio section and Location "
                  "/v1/realtime/calls/{call_id}; events travel on the 'oai-events' data channel [D].")
def test_webrtc_create(ctx: Ctx) -> None:
    call = _call(ctx)
    expect_match(call.location, r"/v1/realtime/calls/[A-Za-z0-9_]+", "Location header")
    created = call.until("session.created")
    expect_equal(created["session"].get("instructions"), SESSION["instructions"], "session.instructions")


@case(id="calls/webrtc/output-audio-buffer", section="§11.2, §11.1", dialects=("ga",), targets=WEBRTC_TARGETS,
      timeout=40,
      description="response audio plays as media between output_audio_buffer.started and .stopped; no audio deltas",
      requirement="output_audio_buffer.started {response_id} when playback starts, output_audio_buffer.stopped after "
                  "response.done once the audio has been played; audio is the media track, not events [D].")
def test_output_audio_buffer(ctx: Ctx) -> None:
    call = _call(ctx)
    call.until("session.created")
    call.send({"type": "response.create"})
    stopped = call.until("output_audio_buffer.stopped", timeout=30)
    types = [e.get("type") for e in call.history]
    expect("output_audio_buffer.started" in types and "response.done" in types,
           f"output_audio_buffer.started and response.done precede .stopped, saw {types[-12:]}")
    started = call.history[types.index("output_audio_buffer.started")]
    done = call.history[types.index("response.done")]
    expect_equal(started["response_id"], done["response"]["id"], "output_audio_buffer.started.response_id")
    expect_equal(stopped["response_id"], done["response"]["id"], "output_audio_buffer.stopped.response_id")
    deltas = [e["type"] for e in call.history if str(e.get("type")).endswith("audio.delta")]
    expect(not deltas, f"no audio deltas on the data channel, got {deltas[:3]}")
    expect(call.audio_frames > 0, "the caller received the assistant's audio track")


@case(id="calls/webrtc/clear", section="§11.2", dialects=("ga",), targets=WEBRTC_TARGETS, timeout=40, level="should",
      description="output_audio_buffer.clear while audio plays → .cleared, the item truncated, no .stopped",
      requirement="The client's output_audio_buffer.clear cuts playback and is answered by output_audio_buffer.cleared "
                  "{response_id} [D]; the assistant item is truncated at the played position [D][U: order].")
def test_output_audio_clear(ctx: Ctx) -> None:
    call = _call(ctx)
    call.until("session.created")
    call.send({"type": "response.create"})
    started = call.until("output_audio_buffer.started")
    call.send({"type": "output_audio_buffer.clear"})
    cleared = call.until("output_audio_buffer.cleared")
    expect_equal(cleared["response_id"], started["response_id"], "output_audio_buffer.cleared.response_id")
    truncated = call.until("conversation.item.truncated")
    expect(truncated["audio_end_ms"] >= 0, "audio_end_ms is the played position")
    time.sleep(0.5)
    expect("output_audio_buffer.stopped" not in [e.get("type") for e in call.history],
           "a cleared buffer does not also report stopped")


@case(id="calls/webrtc/bad-offer", section="§11.1", dialects=("ga",), targets=MOCKRT_TARGETS,
      description="an offer that is not SDP or has no audio is refused with 400 and the error object",
      requirement="Malformed SDP and an offer without an audio section are client errors (400, error object) [D]"
                  "[U: codes and messages].")
def test_bad_offer(ctx: Ctx) -> None:
    base, headers, tls = _base(ctx)
    sdp = {**headers, "Content-Type": "application/sdp"}
    for body, what in ((b"hello", "not SDP"), (VIDEO_ONLY_OFFER.encode(), "no audio section")):
        answer = post(base + "/v1/realtime/calls", body, sdp, tls=tls)
        expect_equal(answer.status, 400, f"status for an offer with {what}")
        error = answer.json().get("error", {})
        expect_equal(error.get("param"), "sdp", f"error.param for an offer with {what}")
        expect(isinstance(error.get("message"), str) and error["message"], "error.message")


@case(id="calls/control/unknown-call", section="§11.3", dialects=("ga",), targets=MOCKRT_TARGETS,
      description="accept/reject/refer/hangup of an unknown call id → 404 with the error object",
      requirement="Control requests name a call by id; an unknown id is 404 [D][U: code].")
def test_unknown_call(ctx: Ctx) -> None:
    base, headers, tls = _base(ctx)
    for action in ("accept", "reject", "refer", "hangup"):
        answer = post(f"{base}/v1/realtime/calls/rtc_unknown_0/{action}", b"{}",
                      {**headers, "Content-Type": "application/json"}, tls=tls)
        expect_equal(answer.status, 404, f"status of {action} on an unknown call")
        expect_equal(answer.json()["error"].get("code"), "call_not_found", f"error.code of {action}")


def _sideband(ctx: Ctx, call_id: str) -> Session:
    endpoint = ctx.target.endpoint(ctx.dialect, model=None, query={"call_id": call_id})
    transcript = Transcript(ctx.target.name, ctx.dialect, endpoint.url, ctx.case.id)
    ctx.transcripts.append(transcript)
    session = Session.open(endpoint.url, headers=endpoint.headers, subprotocols=endpoint.subprotocols,
                           dialect=ctx.dialect, transcript=transcript, deadline=ctx.deadline, wait_cap=ctx.wait_cap,
                           local=endpoint.local, scale=ctx.scale, tls=endpoint.tls)
    ctx.sessions.append(session)
    return session


@case(id="calls/sideband/unknown-call", section="§11.4", dialects=("ga",), targets=MOCKRT_TARGETS, level="should",
      description="a sideband WebSocket for an unknown call id gets one error and is closed",
      requirement="?call_id= attaches to a live call; an unknown id gets the service's error [D][U: code, close].")
def test_sideband_unknown(ctx: Ctx) -> None:
    s = _sideband(ctx, "rtc_unknown_0")
    s.expect_error(code="call_not_found", param="call_id")


def _admin(ctx: Ctx, path: str, body: Any) -> Any:
    base, _, tls = _base(ctx)
    answer = post(base + "/_mockrt" + path, json.dumps(body).encode(), {"Content-Type": "application/json"},
                  tls=tls)
    if answer.status in (401, 404):
        ctx.skip("no mockrt admin API here to place a simulated SIP call")
    if answer.status >= 300:
        raise CaseFailure(f"admin API {path}: {answer.status} {answer.text[:300]}")
    return answer.json()


@case(id="calls/sip/dtmf-and-sideband", section="§11.3, §11.4", dialects=("ga",), targets=MOCKRT_TARGETS, timeout=30,
      description="a simulated SIP call accepted over REST: DTMF and session events on the sideband, then hangup",
      requirement="accept with the session config, control over the sideband, DTMF {event, received_at} (no "
                  "event_id in the SDK model), hangup [D]; after the end the call id is refused [U: status 400].")
def test_sip_dtmf(ctx: Ctx) -> None:
    base, headers, tls = _base(ctx)
    call_id = _admin(ctx, "/calls", {"dtmf": [{"digit": "7", "at_ms": 200}]})["call_id"]
    json_headers = {**headers, "Content-Type": "application/json"}
    accepted = post(f"{base}/v1/realtime/calls/{call_id}/accept", json.dumps(SESSION).encode(), json_headers,
                    tls=tls)
    expect_equal(accepted.status, 200, f"status of accept ({accepted.text[:200]})")
    s = _sideband(ctx, call_id)
    dtmf = s.wait("input_audio_buffer.dtmf_event_received", timeout=10)
    expect_equal(dtmf.get("event"), "7", "dtmf.event")
    expect(isinstance(dtmf.get("received_at"), int), "dtmf.received_at is a unix timestamp")
    s.send({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}})
    s.wait("session.updated", timeout=10)
    hung = post(f"{base}/v1/realtime/calls/{call_id}/hangup", b"", json_headers, tls=tls)
    expect_equal(hung.status, 200, "hangup")
    expect_equal(post(f"{base}/v1/realtime/calls/{call_id}/hangup", b"", json_headers, tls=tls).status, 400,
                 "a second hangup")
    info = get(f"{base}/_mockrt/calls/{call_id}", {}, tls=tls)
    expect_equal(info.json().get("status"), "ended", "the call's status after hangup")

