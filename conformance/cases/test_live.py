"""GPT-Live on its primary WebSocket (docs/protocol.md §13): the start, strict config, acknowledgements, the
continuous output stream, an audio turn, fixtures and close. Runs against the mock and, with ``OPENAI_API_KEY``,
against ``wss://api.openai.com/v1/live/sessions`` (``--target openai --dialect live``)."""

from __future__ import annotations

import base64
import json
import ssl
from typing import Any

from conformance import Ctx, case
from conformance.audio import tone
from conformance.calls import http_base, post
from conformance.checks import CaseFailure, expect, expect_equal
from conformance.client import Session, Transcript

Json = dict[str, Any]
LIVE = ("live",)
START: Json = {"type": "session.start", "event_id": "evt_live_start",
               "session": {"model": "gpt-live-1", "instructions": "Reply with one short sentence."}}


def _is(etype: str, cid: str | None = None) -> Any:
    return lambda e: e.get("type") == etype and (cid is None or e.get("client_event_id") == cid)


def started(ctx: Ctx, **session: Any) -> tuple[Session, Json]:
    """A started Live session and its ``session.started``."""
    s = ctx.connect(expect_created=False)
    s.send({**START, "session": {**START["session"], **session}})
    event = s.until("session.started")[-1]
    return s, event


def _error_for(s: Session, cid: str) -> Json:
    event = s.until("error", where=lambda e: (e.get("error") or {}).get("client_event_id") == cid)[-1]
    expect_equal(event.get("client_event_id"), cid, "error event client_event_id")
    error: Json = event["error"]
    return error


@case(id="live/start/started", section="§13.2, §13.3", level="must", dialects=LIVE,
      description="session.start → session.started with the resolved session, echoing the start's event_id",
      requirement="Send session.start first and wait for session.started, whose session is the resolved "
                  "configuration (id, model, status active, expires_at) [D].")
def test_live_started(ctx: Ctx) -> None:
    _, event = started(ctx)
    expect_equal(event.get("client_event_id"), "evt_live_start", "session.started client_event_id")
    session = event["session"]
    expect_equal(session.get("model"), "gpt-live-1", "session.model")
    expect_equal(session.get("status"), "active", "session.status")
    expect(isinstance(session.get("id"), str) and session["id"], "session.id is a non-empty string")
    expect(isinstance(session.get("expires_at"), int), "session.expires_at is an integer")


@case(id="live/start/strict", section="§13.2", level="must", dialects=LIVE,
      description="an unknown field in session.start is an error naming it, with the event's id; no start",
      requirement="The Live session config is strict: unknown fields are errors, and error.client_event_id "
                  "echoes the command's event_id [D].")
def test_live_strict(ctx: Ctx) -> None:
    s = ctx.connect(expect_created=False)
    s.send({"type": "session.start", "event_id": "evt_bad_start",
            "session": {"model": "gpt-live-1", "bogus_field": 1}})
    error = _error_for(s, "evt_bad_start")
    expect_equal(error.get("code"), "unknown_parameter", "error.code")
    expect_equal(error.get("param"), "session.bogus_field", "error.param")
    s.send(START)
    s.until("session.started")


@case(id="live/start/first", section="§13.2", level="should", dialects=LIVE,
      description="a command before session.start is refused with an error carrying its event_id",
      requirement="session.start must come first on a primary WebSocket [D]; the error wording is not documented.")
def test_live_start_first(ctx: Ctx) -> None:
    s = ctx.connect(expect_created=False)
    s.send({"type": "session.input_audio.mute", "event_id": "evt_too_early"})
    _error_for(s, "evt_too_early")


@case(id="live/update/acks", section="§13.2", level="must", dialects=LIVE,
      description="session.update → session.updated; the delegation type cannot change (error with the id)",
      requirement="session.update changes delegation settings and triggers, acknowledged with session.updated; "
                  "the delegation type cannot change [D].")
def test_live_update(ctx: Ctx) -> None:
    s, _ = started(ctx)
    s.send({"type": "session.update", "event_id": "evt_upd", "session": {"triggers": []}})
    s.until("session.updated", where=_is("session.updated", "evt_upd"))
    s.send({"type": "session.update", "event_id": "evt_upd_type",
            "session": {"delegation": {"type": "responses", "responses": {"model": "gpt-5"}}}})
    _error_for(s, "evt_upd_type")


@case(id="live/context/acks", section="§13.4, §13.5", level="must", dialects=LIVE,
      description="mute/unmute and the three context appends are acknowledged with their ids, start_ms <= end_ms",
      requirement="Each command is acknowledged by its own event echoing event_id as client_event_id; .appended "
                  "carries start_ms/end_ms on the session timeline [D].")
def test_live_context_acks(ctx: Ctx) -> None:
    s, _ = started(ctx)
    s.send({"type": "session.input_audio.mute", "event_id": "evt_mute"})
    s.until("session.input_audio.muted", where=_is("session.input_audio.muted", "evt_mute"))
    s.send({"type": "session.input_audio.unmute", "event_id": "evt_unmute"})
    s.until("session.input_audio.unmuted", where=_is("session.input_audio.unmuted", "evt_unmute"))
    for kind in ("instructions", "thinking", "commentary"):
        cid = f"evt_{kind}"
        s.send({"type": f"session.{kind}.append", "event_id": cid, "content": "The caller's name is Ada.",
                "delegation_id": None})
        ack = s.until(f"session.{kind}.appended", where=_is(f"session.{kind}.appended", cid))[-1]
        expect(0 <= ack["start_ms"] <= ack["end_ms"], f"{kind}.appended: 0 <= start_ms <= end_ms, got {ack}")


@case(id="live/output/continuous", section="§13.4", level="must", dialects=LIVE,
      description="output audio flows without input (silence included) in the session format, in whole samples",
      requirement="session.output_audio.delta is a continuous stream, silence included, in the configured "
                  "format [D].")
def test_live_continuous_output(ctx: Ctx) -> None:
    s, _ = started(ctx)
    deltas = [e for e in s.until("session.output_audio.delta") if e.get("type") == "session.output_audio.delta"]
    deltas += [e for e in s.until("session.output_audio.delta")[-1:]]
    for d in deltas:
        audio = base64.b64decode(d["delta"])
        expect(len(audio) > 0 and len(audio) % 2 == 0, f"pcm16 deltas hold whole samples, got {len(audio)} bytes")


@case(id="live/audio/turn", section="§13.4", level="should", dialects=LIVE, timeout=30.0,
      description="a spoken turn: input then output transcript deltas (start_ms <= end_ms), then usage",
      requirement="Input and output transcript deltas carry start_ms/end_ms on the session timeline; the model "
                  "answers a spoken turn; session.usage.updated reports cumulative seconds [D].")
def test_live_audio_turn(ctx: Ctx) -> None:
    clip = ctx.clip("lights")
    s, _ = started(ctx)
    audio = clip.pcm16 + bytes(24000 * 2 * 3)
    for k in range(0, len(audio), 4800):
        s.send({"type": "session.input_audio.append", "audio": base64.b64encode(audio[k:k + 4800]).decode("ascii")})
    seen = s.until("session.output_transcript.delta")
    inputs = [e for e in seen if e.get("type") == "session.input_transcript.delta"]
    expect(inputs, "input transcript deltas precede the reply")
    for e in inputs + seen[-1:]:
        expect(0 <= e["start_ms"] <= e["end_ms"], f"{e['type']}: 0 <= start_ms <= end_ms, got {e}")
    expect(seen[-1]["start_ms"] >= inputs[0]["start_ms"], "the reply starts after the caller's turn began")
    s.until("session.usage.updated")


@case(id="live/fixture/play", section="§13.6", level="must", dialects=LIVE, timeout=15.0,
      description="a 500 ms fixture: .playing then .played, both echoing the play's event_id; appends are "
                  "refused while it plays",
      requirement="fixture.playing acknowledges acceptance and fixture.played reports the drain; context appends "
                  "are rejected while a fixture is active [D].")
def test_live_fixture(ctx: Ctx) -> None:
    s, _ = started(ctx)
    s.send({"type": "session.output_audio.fixture.play", "event_id": "evt_fixture",
            "audio": base64.b64encode(tone(500)).decode("ascii")})
    s.until("session.output_audio.fixture.playing", where=_is("session.output_audio.fixture.playing", "evt_fixture"))
    s.send({"type": "session.thinking.append", "event_id": "evt_busy", "content": "x", "delegation_id": None})
    _error_for(s, "evt_busy")
    s.until("session.output_audio.fixture.played", where=_is("session.output_audio.fixture.played", "evt_fixture"))


@case(id="live/close", section="§13.2", level="must", dialects=LIVE,
      description="session.close → session.closed (close_requested, final session and usage) with the id",
      requirement="The terminal session.closed event has the close reason, final session and usage [D].")
def test_live_close(ctx: Ctx) -> None:
    s, _ = started(ctx)
    s.send({"type": "session.close", "event_id": "evt_close"})
    closed = s.until("session.closed")[-1]
    expect_equal(closed.get("reason"), "close_requested", "session.closed reason")
    expect_equal(closed.get("client_event_id"), "evt_close", "session.closed client_event_id")
    expect(isinstance(closed["usage"].get("seconds"), int | float), "session.closed usage.seconds is a number")


@case(id="live/responses/create", section="§13.5", level="should", dialects=LIVE, timeout=15.0,
      description="Responses delegation: response.item.create + response.create stream a response in "
                  "response.event envelopes",
      requirement="response.create requests a response from the session's Responses backend; the nested "
                  "Responses stream arrives in response.event envelopes [D].")
def test_live_responses_create(ctx: Ctx) -> None:
    s, _ = started(ctx, delegation={"type": "responses", "responses": {"model": "gpt-5-mini"}})
    s.send({"type": "response.item.create", "event_id": "evt_item", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say OK."}]}})
    s.send({"type": "response.create", "event_id": "evt_rc"})
    nested = [e["event"] for e in s.until("response.event", where=lambda e: (e.get("event") or {}).get("type")
                                          == "response.completed") if e.get("type") == "response.event"]
    expect_equal(nested[0].get("type"), "response.created", "the first nested event")
    expect(isinstance(nested[-1].get("response"), dict) and nested[-1]["response"].get("status") == "completed",
           f"response.completed carries the completed response, got {nested[-1]}")


@case(id="live/responses/requires-delegation", section="§13.5", level="must", dialects=LIVE,
      description="response.create without Responses delegation is an error with the command's id",
      requirement="response.create and response.item.create require Responses delegation [D].")
def test_live_responses_require_delegation(ctx: Ctx) -> None:
    s, _ = started(ctx)
    s.send({"type": "response.create", "event_id": "evt_rc_no"})
    _error_for(s, "evt_rc_no")


# -- SIP calls (§13.8): simulated on the mock through its admin API --------------------------------------------


def _admin_call(ctx: Ctx, base: str, body: Json, tls: ssl.SSLContext | None) -> Json:
    answer = post(base + "/_mockrt/calls", json.dumps(body).encode(), {"Content-Type": "application/json"},
                  tls=tls)
    if answer.status in (401, 404):
        ctx.skip("no mockrt admin API here to place a simulated SIP call")
    if answer.status >= 300:
        raise CaseFailure(f"admin API /calls: {answer.status} {answer.text[:300]}")
    placed: Json = answer.json()
    return placed


@case(id="live/sip/dtmf-and-sideband", section="§13.8, §13.7", level="should", dialects=LIVE, targets=("mock", "url"),
      timeout=30.0, description="a simulated SIP call accepted as Live: DTMF both ways on the sideband, then hangup",
      requirement="accept {session: {type: live, model}}; the sideband gets transport.dtmf.received and, for "
                  "transport.dtmf.send, transport.dtmf.sent with client_event_id; hangup ends the call [D][U: 400].")
def test_live_sip(ctx: Ctx) -> None:
    endpoint = ctx.target.endpoint(ctx.dialect)
    base = http_base(endpoint.url)
    headers = {k: v for k, v in endpoint.headers.items() if k.lower() == "authorization"}
    json_headers = {**headers, "Content-Type": "application/json"}
    placed = _admin_call(ctx, base, {"surface": "live", "dtmf": [{"digit": "7", "at_ms": 1500}]}, endpoint.tls)
    session_id = placed["live_session_id"]
    body = json.dumps({"session": {"type": "live", "model": "gpt-live-1"}}).encode()
    accepted = post(f"{base}/v1/live/sessions/{session_id}/accept", body, json_headers, tls=endpoint.tls)
    expect_equal(accepted.status, 200, f"status of accept ({accepted.text[:200]})")
    url = endpoint.url.split("?")[0] + f"/{session_id}/attach"
    transcript = Transcript(ctx.target.name, ctx.dialect, url, ctx.case.id)
    ctx.transcripts.append(transcript)
    side = Session.open(url, headers=endpoint.headers, subprotocols=endpoint.subprotocols, dialect=ctx.dialect,
                        transcript=transcript, deadline=ctx.deadline, wait_cap=ctx.wait_cap, local=endpoint.local,
                        scale=ctx.scale, tls=endpoint.tls)
    ctx.sessions.append(side)
    expect_equal(side.wait("transport.dtmf.received", timeout=10).get("event"), "7", "the caller's keypress")
    side.send({"type": "transport.dtmf.send", "event": "#", "event_id": "evt_live_dtmf"})
    sent = side.wait("transport.dtmf.sent", timeout=10)
    expect_equal((sent.get("event"), sent.get("client_event_id")), ("#", "evt_live_dtmf"), "transport.dtmf.sent")
    hung = post(f"{base}/v1/live/sessions/{session_id}/hangup", b"", json_headers, tls=endpoint.tls)
    expect_equal(hung.status, 200, "hangup")
    again = post(f"{base}/v1/live/sessions/{session_id}/hangup", b"", json_headers, tls=endpoint.tls)
    expect_equal(again.status, 400, "a second hangup")
