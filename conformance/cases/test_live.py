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


# -- Decisions (§13.5) --------------------------------------------------------------------------------------------

QUESTIONS: list[Json] = [
    {"type": "choice", "name": "cabin", "instructions": "What should the car's cabin do for the driver?",
     "choices": [{"value": "temperature_up"}, {"value": "temperature_down"}, {"value": "none"}]},
    {"type": "predicate", "name": "needs_search", "instructions": "The driver asked for something to be looked up."},
]
DECISIONS: Json = {"type": "decisions", "decisions": {"model": "gpt-6-luna", "questions": QUESTIONS}}


def _answers_fit(event: Json, questions: list[Json]) -> None:
    """A decision.event's Decision answers every question, in order (an answer or a refusal)."""
    inner = event.get("event") or {}
    expect_equal(inner.get("type"), "decision.completed", "decision.event event.type")
    answers = (inner.get("decision") or {}).get("answers")
    if not isinstance(answers, list) or len(answers) != len(questions):
        raise CaseFailure(f"one answer per question ({len(questions)}), got {answers}")
    for q, a in zip(questions, answers, strict=True):
        expect(a.get("type") in (q["type"], "refusal"), f"answer to {q['name']!r} is a {q['type']} or a refusal: {a}")
        expect_equal(a.get("name"), q["name"], "answers come in question order, with the question's name")


@case(id="live/decisions/items", section="§13.5", level="must", dialects=LIVE,
      description="decision.item.create → .created (an id, the command's id echoed), .delete → .deleted; bad "
                  "role, an unknown item: errors",
      requirement="decision.item.create appends an input item to the session's shared Decision context and "
                  "decision.item.delete removes one; each is acknowledged with client_event_id [D]; the errors' "
                  "codes are not documented [U].")
def test_live_decision_items(ctx: Ctx) -> None:
    s, _ = started(ctx, delegation=DECISIONS)
    s.send({"type": "decision.item.create", "event_id": "evt_item_bad",
            "item": {"type": "message", "role": "narrator", "content": "x"}})
    _error_for(s, "evt_item_bad")
    s.send({"type": "decision.item.create", "event_id": "evt_item",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "I'm cold."}]}})
    created = s.until("decision.item.created", where=_is("decision.item.created", "evt_item"))[-1]
    item_id = (created.get("item") or {}).get("id")
    expect(isinstance(item_id, str) and item_id, f"the created item has an id, got {created}")
    s.send({"type": "decision.item.delete", "event_id": "evt_del_unknown", "item_id": "item_never_created"})
    _error_for(s, "evt_del_unknown")
    s.send({"type": "decision.item.delete", "event_id": "evt_del", "item_id": item_id})
    deleted = s.until("decision.item.deleted", where=_is("decision.item.deleted", "evt_del"))[-1]
    expect_equal(deleted.get("item_id"), item_id, "decision.item.deleted item_id")


@case(id="live/decisions/create", section="§13.5", level="should", dialects=LIVE, timeout=20.0,
      description="decision.create → session.delegation.created (decisions, its event_id) → decision.event naming "
                  "it, answers in order",
      requirement="decision.create evaluates the configured questions on the conversation and Decision items; the "
                  "result arrives as decision.event with the delegation's id and the Decision API's answers in "
                  "question order [D]; that the delegation event echoes the create's event_id is inferred [U].")
def test_live_decision_create(ctx: Ctx) -> None:
    s, _ = started(ctx, delegation=DECISIONS)
    s.send({"type": "decision.item.create", "event_id": "evt_ctx",
            "item": {"type": "message", "role": "user", "content": "Please turn the temperature up, I'm freezing."}})
    s.until("decision.item.created", where=_is("decision.item.created", "evt_ctx"))
    s.send({"type": "decision.create", "event_id": "evt_decide"})
    created = s.until("session.delegation.created")[-1]
    delegation = created.get("delegation") or {}
    expect_equal(delegation.get("target"), "decisions", "session.delegation.created delegation.target")
    expect_equal(created.get("client_event_id"), "evt_decide", "session.delegation.created client_event_id")
    decided = s.until("decision.event", where=lambda e: e.get("type") == "decision.event"
                      and e.get("delegation_id") == delegation.get("id"))[-1]
    _answers_fit(decided, QUESTIONS)


@case(id="live/decisions/event-id-reuse", section="§13.5", level="must", dialects=LIVE, timeout=20.0,
      description="a second decision.create with the same event_id is an error carrying that id",
      requirement="decision.create requires an event_id; reusing an event_id is rejected for the lifetime of the "
                  "session [D: DecisionCreateEvent]; the error's code is not documented [U].")
def test_live_decision_event_id_reuse(ctx: Ctx) -> None:
    s, _ = started(ctx, delegation=DECISIONS)
    s.send({"type": "decision.create", "event_id": "evt_decide_once"})
    s.until("decision.event")
    s.send({"type": "decision.create", "event_id": "evt_decide_once"})
    _error_for(s, "evt_decide_once")


@case(id="live/decisions/requires-delegation", section="§13.5", level="should", dialects=LIVE,
      description="decision.create without Decisions delegation is an error with the command's id",
      requirement="decision.create evaluates the Decisions delegation's questions [D]; without that delegation "
                  "there is nothing to evaluate (an error) [U].")
def test_live_decision_requires_delegation(ctx: Ctx) -> None:
    s, _ = started(ctx)
    s.send({"type": "decision.create", "event_id": "evt_decide_no"})
    _error_for(s, "evt_decide_no")


@case(id="live/decisions/trigger", section="§13.5", level="should", dialects=LIVE, timeout=30.0,
      description="an input transcript trigger: a spoken turn yields decision.event with trigger_id and its source "
                  "delta",
      requirement="session.triggers evaluate Decision questions on transcript deltas; decision.event carries "
                  "trigger_id, source_event_id (the delta that fired it) and source_event_type, delegation_id "
                  "null [D]; how often a trigger fires is not documented [U].")
def test_live_decision_trigger(ctx: Ctx) -> None:
    clip = ctx.clip("lights")
    trigger = {"type": "decisions", "event_type": "session.input_transcript.delta",
               "decisions": {"questions": QUESTIONS}}
    s, _ = started(ctx, triggers=[trigger])
    audio = clip.pcm16 + bytes(24000 * 2 * 3)
    for k in range(0, len(audio), 4800):
        s.send({"type": "session.input_audio.append", "audio": base64.b64encode(audio[k:k + 4800]).decode("ascii")})
    seen = s.until("decision.event")
    fired = seen[-1]
    deltas = {e.get("event_id") for e in seen if e.get("type") == "session.input_transcript.delta"}
    expect(isinstance(fired.get("trigger_id"), str) and fired["trigger_id"], f"decision.event trigger_id: {fired}")
    expect(fired.get("source_event_id") in deltas, "source_event_id names an input transcript delta already sent")
    expect_equal(fired.get("source_event_type"), "session.input_transcript.delta", "decision.event source_event_type")
    expect(fired.get("delegation_id") is None, f"a trigger's decision.event has no delegation_id: {fired}")
    _answers_fit(fired, QUESTIONS)


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


def _sideband(ctx: Ctx, session_id: str) -> Session:
    endpoint = ctx.target.endpoint(ctx.dialect)
    url = endpoint.url.split("?")[0] + f"/{session_id}/attach"
    transcript = Transcript(ctx.target.name, ctx.dialect, url, ctx.case.id)
    ctx.transcripts.append(transcript)
    side = Session.open(url, headers=endpoint.headers, subprotocols=endpoint.subprotocols, dialect=ctx.dialect,
                        transcript=transcript, deadline=ctx.deadline, wait_cap=ctx.wait_cap, local=endpoint.local,
                        scale=ctx.scale)
    ctx.sessions.append(side)
    return side


DIAL: Json = {"type": "sip", "destination": "+15550123",
              "trunk": {"provider_url": "sips:sip.example.com", "caller_number": "+15550100",
                        "auth": {"type": "digest", "username": "trunk-user", "password": "secret"}}}


@case(id="live/sip/outbound", section="§13.8, §13.7", level="should", dialects=LIVE, targets=("mock", "url"),
      timeout=30.0, description="an outbound SIP call: the sideband alone sees the leg ring, answer, or fail",
      requirement="POST /v1/live/sessions with a sip transport (E.164 destination, trunk) → {session: {id}, "
                  "transport: {type: sip}}; transport.ringing, transport.answered or transport.failed {error: "
                  "{type: call_error, code, message}} with the session_id, to sideband observers only [D][U: 200].")
def test_live_sip_outbound(ctx: Ctx) -> None:
    endpoint = ctx.target.endpoint(ctx.dialect)
    base = http_base(endpoint.url)
    headers = {k: v for k, v in endpoint.headers.items() if k.lower() == "authorization"}
    json_headers = {**headers, "Content-Type": "application/json"}

    def dial() -> str:
        body = json.dumps({"session": {"model": "gpt-live-1"}, "transport": DIAL}).encode()
        created = post(f"{base}/v1/live/sessions", body, json_headers, tls=endpoint.tls)
        expect_equal(created.status, 200, f"status of POST /v1/live/sessions ({created.text[:200]})")
        expect_equal(created.json().get("transport"), {"type": "sip"}, "transport (no trunk credentials)")
        session_id: str = created.json()["session"]["id"]
        return session_id

    def far_end(session_id: str, step: str, body: Json | None = None) -> None:
        answer = post(f"{base}/_mockrt/calls/{session_id}/{step}", json.dumps(body or {}).encode(),
                      {"Content-Type": "application/json"}, tls=endpoint.tls)
        if answer.status in (401, 404):
            ctx.skip("no mockrt admin API here to simulate the far end of an outbound call")
        expect_equal(answer.status, 200, f"far end {step} ({answer.text[:200]})")

    session_id = dial()
    side = _sideband(ctx, session_id)
    side.send({"type": "session.thinking.append", "content": "Calling out.", "delegation_id": None,
               "event_id": "evt_live_attached"})
    side.until("session.thinking.appended")  # attached: what the far end does now reaches this sideband
    far_end(session_id, "ring")
    expect_equal(side.wait("transport.ringing", timeout=10).get("session_id"), session_id, "ringing.session_id")
    far_end(session_id, "answer")
    expect_equal(side.wait("transport.answered", timeout=10).get("session_id"), session_id, "answered.session_id")
    hung = post(f"{base}/v1/live/sessions/{session_id}/hangup", b"", json_headers, tls=endpoint.tls)
    expect_equal(hung.status, 200, "hangup")

    failing = dial()
    side = _sideband(ctx, failing)
    side.send({"type": "session.thinking.append", "content": "Calling out.", "delegation_id": None,
               "event_id": "evt_live_attached"})
    side.until("session.thinking.appended")
    far_end(failing, "fail", {"code": "busy_here", "message": "User busy."})
    failed = side.wait("transport.failed", timeout=10)
    expect_equal(failed.get("error"), {"type": "call_error", "code": "busy_here", "message": "User busy."},
                 "transport.failed.error")
    expect_equal(post(f"{base}/v1/live/sessions/{failing}/hangup", b"", json_headers, tls=endpoint.tls).status, 400,
                 "hangup after the failure")


@case(id="live/webrtc/wake-idle-permissions", section="§13.8, §13.3", level="should", dialects=LIVE,
      targets=("mock", "openai", "url"), timeout=60.0,
      description="WebRTC with a speech wake policy, a 1 s idle timeout and a restricted frontend data channel",
      requirement="info {code: data_channel_permissions} on the frontend's channel; speech wakes inference "
                  "(session.resumed), idle_timeout_s without speech pauses it (session.paused); the channel gets "
                  "only its allowed_server_events (error and info aside) and refuses other client events [D][U: "
                  "the refusal's code, the HTTP status].")
def test_live_webrtc_wake_idle_permissions(ctx: Ctx) -> None:
    from conformance.calls import WebRTCCall

    clip = ctx.clip("lights")
    endpoint = ctx.target.endpoint(ctx.dialect)
    headers = {k: v for k, v in endpoint.headers.items() if k.lower() == "authorization"}
    allowed = ["session.started", "session.resumed", "session.paused", "session.input_transcript.delta"]
    call = WebRTCCall(http_base(endpoint.url), headers, ctx.dialect, mic=bytes(4800) + clip.pcm16, tls=endpoint.tls)
    ctx.sessions.append(call)  # type: ignore[arg-type]  # quacks like a Session for the run's bookkeeping
    created = call.open_live("/v1/live/sessions", {"session": {
        "model": "gpt-live-1", "instructions": "Reply with one short sentence.",
        "wake_policy": {"type": "speech"}, "idle_timeout_s": 1,
        "client": {"data_channel": {"allowed_client_events": ["session.instructions.append"],
                                    "allowed_server_events": [{"type": t} for t in allowed]}}}})
    expect(created.status in (200, 201), f"status of POST /v1/live/sessions: {created.status} {created.text[:200]}")
    call.until("session.started")
    expect_equal(call.until("info").get("code"), "data_channel_permissions", "info.code")
    call.until("session.resumed", timeout=20)
    call.until("session.paused", timeout=30)
    call.send({"type": "session.close", "event_id": "evt_live_refused"})
    refused = call.until("error")
    expect_equal(refused.get("client_event_id"), "evt_live_refused", "the refusal's client_event_id")
    others = {str(e.get("type")) for e in call.history} - {*allowed, "info", "error"}
    expect(not others, f"only the allowed server events reach the data channel, also saw {sorted(others)}")
    session_id = created.json()["session"]["id"]
    post(f"{http_base(endpoint.url)}/v1/live/sessions/{session_id}/hangup", b"",
         {**headers, "Content-Type": "application/json"}, tls=endpoint.tls)
