"""Input audio transcription, in conversation and in transcription sessions (docs/protocol.md §3.4, §4.5, §4.6, §4.12,
§5.11)."""

from __future__ import annotations

import math
from typing import Any

from conformance import Ctx, case
from conformance.checks import expect, expect_equal, expect_keys, expect_subset
from conformance.client import Session
from conformance.wire import canonical

from ._common import manual

Json = dict[str, Any]

OPENAI_STYLE = ("mock", "openai", "url")


def _commit_clip(ctx: Ctx, s: Session, name: str = "weather") -> tuple[str, list[Json]]:
    clip = ctx.clip(name)
    s.append(clip.pcm16)
    s.send({"type": "input_audio_buffer.commit"})
    events = s.until("input_audio_buffer.committed")
    return str(events[-1]["item_id"]), events


def _completed(s: Session, item_id: str) -> tuple[Json, list[Json]]:
    events = s.until("conversation.item.input_audio_transcription.completed",
                     where=lambda e: e.get("item_id") == item_id, timeout=15.0)
    return events[-1], events


@case(id="transcription/conversation/completed", section="§5.11, §3.4",
      description="with input transcription on, a committed item gets transcription events for its id",
      requirement="Transcription starts at commit; deltas then completed {item_id, content_index, transcript} per "
                  "item, matched by item_id; GA deltas carry obfuscation; the user item's own events keep "
                  "transcript null [D][V].", timeout=20.0)
def test_conversation_transcription(ctx: Ctx) -> None:
    s = manual(ctx, transcription={"model": "whisper-1"})
    item_id, _ = _commit_clip(ctx, s)
    completed, events = _completed(s, item_id)
    expect_equal(completed.get("content_index"), 0, "completed.content_index")
    expect(isinstance(completed.get("transcript"), str) and completed["transcript"].strip(),
           f"a non-empty transcript: {completed.get('transcript')!r}")
    for event in events:
        etype = canonical(event["type"])
        if etype == "conversation.item.input_audio_transcription.delta":
            expect_equal(event.get("item_id"), item_id, "delta.item_id")
            if ctx.ga:
                expect(isinstance(event.get("obfuscation"), str), f"GA transcription delta obfuscation: {event}")
        if etype in ("conversation.item.added", "conversation.item.done") and event["item"]["id"] == item_id:
            expect_equal(event["item"]["content"][0].get("transcript"), None,
                         f"{event['type']}: the item keeps transcript null (§5.11)")
    deltas = "".join(str(e.get("delta", "")) for e in events
                     if canonical(e["type"]) == "conversation.item.input_audio_transcription.delta")
    if deltas:
        expect_equal(deltas.strip(), completed["transcript"].strip(), "concatenated deltas vs transcript")


@case(id="transcription/conversation/usage", section="§4.12",
      description="transcription usage: duration (whole seconds, rounded up) for whisper-1, tokens otherwise",
      requirement="whisper-1: {type: duration, seconds: ceil(audio s)} (5058 ms → 6) [V]; gpt-4o(-mini)-transcribe: "
                  "{type: tokens, total = input + output, input_token_details.audio_tokens} [V].",
      level="should", timeout=30.0)
def test_transcription_usage(ctx: Ctx) -> None:
    clip = ctx.clip("weather")
    s = manual(ctx, transcription={"model": "whisper-1"})
    item_id, _ = _commit_clip(ctx, s)
    usage = _completed(s, item_id)[0].get("usage")
    expect_equal(usage, {"type": "duration", "seconds": math.ceil(clip.duration_ms / 1000)}, "whisper-1 usage")
    s.update(transcription={"model": "gpt-4o-mini-transcribe"})
    item_id, _ = _commit_clip(ctx, s)
    usage = _completed(s, item_id)[0].get("usage")
    expect(isinstance(usage, dict) and usage.get("type") == "tokens", f"token usage: {usage}")
    assert isinstance(usage, dict)
    expect_equal(usage.get("total_tokens"), usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
                 "total = input + output")
    expect((usage.get("input_token_details") or {}).get("audio_tokens", 0) > 0, f"audio input tokens: {usage}")


def _created_type(ctx: Ctx) -> str:
    return "session.created" if ctx.ga else "transcription_session.created"


@case(id="transcription/session/created", section="§4.5, §4.6, §1.1",
      description="?intent=transcription opens a transcription session with its own default shape",
      requirement="GA: session.created with session {type transcription, object realtime.transcription_session, "
                  "audio.input {format pcm 24 kHz, transcription null, noise_reduction null, turn_detection server_vad "
                  "0.5/300/200}, include null} [V]; beta: transcription_session.created [R] with the §4.6 object.",
      targets=OPENAI_STYLE)
def test_transcription_session_created(ctx: Ctx) -> None:
    s = ctx.connect(intent="transcription", model=None)
    expect_equal(s.created["type"], _created_type(ctx), "first event")
    session = s.created["session"]
    if ctx.ga:
        expect_keys(session, ("type", "object", "id", "expires_at", "audio", "include"), "session")
        expect_subset(session, {"type": "transcription", "object": "realtime.transcription_session", "include": None,
                                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                                                    "transcription": None, "noise_reduction": None,
                                                    "turn_detection": {"type": "server_vad", "threshold": 0.5,
                                                                       "prefix_padding_ms": 300,
                                                                       "silence_duration_ms": 200}}}}, "session")
        td = session["audio"]["input"]["turn_detection"]
        expect(not {"idle_timeout_ms", "create_response", "interrupt_response"} & set(td),
               f"a transcription session's turn_detection has no response keys [V]: {sorted(td)}")
    else:
        expect_keys(session, ("id", "object", "input_audio_format", "input_audio_transcription", "turn_detection",
                              "input_audio_noise_reduction", "include", "modalities", "client_secret"), "session")
        expect_subset(session, {"object": "realtime.transcription_session", "input_audio_format": "pcm16"}, "session")


@case(id="transcription/session/transcribe", section="§4.5, §5.11, §2.11",
      description="a transcription session transcribes a commit and never creates responses or rate limits",
      requirement="GA session.update {type transcription, audio.input.transcription} / beta "
                  "transcription_session.update → the updated session; a commit yields transcription events; "
                  "transcription sessions never create responses and send no rate_limits.updated [V].",
      targets=OPENAI_STYLE, timeout=20.0)
def test_transcription_session(ctx: Ctx) -> None:
    s = ctx.connect(intent="transcription", model=None)
    model = {"model": "gpt-4o-mini-transcribe"}
    if ctx.ga:
        s.send({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {
            "transcription": model, "turn_detection": None}}}})
        session = s.expect("session.updated")["session"]
        expect_subset(session, {"type": "transcription", "audio": {"input": {
            "transcription": {**model, "language": None, "prompt": None}, "turn_detection": None}}}, "session")
    else:
        s.send({"type": "transcription_session.update", "session": {"input_audio_transcription": model,
                                                                    "turn_detection": None}})
        session = s.expect("transcription_session.updated")["session"]
        expect_subset(session, {"input_audio_transcription": model, "turn_detection": None}, "session")
    item_id, _ = _commit_clip(ctx, s)
    completed, _ = _completed(s, item_id)
    expect(completed.get("transcript"), "a transcript")
    s.expect_quiet("after the transcription")
    types = {canonical(e["type"]) for e in s.history}
    expect(not types & {"response.created", "rate_limits.updated"}, f"no responses or rate limits: {sorted(types)}")
