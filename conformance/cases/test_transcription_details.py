"""Transcription details: log probabilities, diarized segments, the model list (docs/protocol.md §4.12, §5.11)."""

from __future__ import annotations

from typing import Any

from conformance import Ctx, case
from conformance.checks import expect, expect_equal
from conformance.client import Session
from conformance.wire import canonical

from ._common import manual

Json = dict[str, Any]

LOGPROBS = "item.input_audio_transcription.logprobs"
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
SEGMENT = "conversation.item.input_audio_transcription.segment"


def _transcribe_clip(ctx: Ctx, s: Session) -> tuple[str, list[Json]]:
    """Commit the weather clip; the events up to its ``completed``."""
    s.append(ctx.clip("weather").pcm16)
    s.send({"type": "input_audio_buffer.commit"})
    item_id = str(s.until("input_audio_buffer.committed")[-1]["item_id"])
    events = s.until(COMPLETED, where=lambda e: e.get("item_id") == item_id, timeout=15.0)
    return item_id, events


def _check_logprobs(value: Any, where: str) -> list[str]:
    expect(isinstance(value, list) and value, f"{where}: a non-empty logprobs list, got {value!r:.200}")
    tokens: list[str] = []
    for entry in value:
        expect(isinstance(entry, dict) and isinstance(entry.get("token"), str)
               and isinstance(entry.get("logprob"), (int, float)) and entry["logprob"] <= 0
               and isinstance(entry.get("bytes"), list), f"{where}: {{token, logprob <= 0, bytes}}: {entry!r:.200}")
        expect_equal(bytes(entry["bytes"]), entry["token"].encode("utf-8"), f"{where}: bytes are the token's UTF-8")
        tokens.append(entry["token"])
    return tokens


@case(id="transcription/logprobs", section="§5.11, §4.3",
      description="include item.input_audio_transcription.logprobs puts logprobs on deltas and on completed",
      requirement="With include [\"item.input_audio_transcription.logprobs\"] and a gpt-4o-(mini-)transcribe model, "
                  "transcription delta and completed events carry logprobs: [{token, logprob, bytes}] [D].",
      level="should", timeout=30.0)
def test_transcription_logprobs(ctx: Ctx) -> None:
    s = manual(ctx, transcription={"model": "gpt-4o-mini-transcribe"}, extra={"include": [LOGPROBS]})
    _, events = _transcribe_clip(ctx, s)
    for event in events:
        if canonical(event["type"]) == DELTA and event.get("delta"):
            _check_logprobs(event.get("logprobs"), "delta.logprobs")
    tokens = _check_logprobs(events[-1].get("logprobs"), "completed.logprobs")
    expect_equal("".join(tokens).strip(), str(events[-1].get("transcript", "")).strip(),
                 "completed.logprobs tokens spell the transcript")


@case(id="transcription/logprobs/not-included", section="§5.11",
      description="without the include, transcription events carry no logprobs",
      requirement="Log probabilities are opt-in: without include they are absent or null [D].", level="should",
      timeout=30.0)
def test_transcription_no_logprobs(ctx: Ctx) -> None:
    s = manual(ctx, transcription={"model": "gpt-4o-mini-transcribe"})
    _, events = _transcribe_clip(ctx, s)
    for event in events:
        if canonical(event["type"]) in (DELTA, COMPLETED):
            expect(event.get("logprobs") is None, f"{event['type']} without include has no logprobs: {event!r:.200}")


@case(id="transcription/diarize/segments", section="§5.11",
      description="gpt-4o-transcribe-diarize sends speaker segments with start < end within the item's audio",
      requirement="The diarizing model sends conversation.item.input_audio_transcription.segment {id, item_id, "
                  "content_index, text, speaker, start, end} (seconds), then completed [D: SDK type].",
      level="should", dialects=("ga",), timeout=30.0)
def test_diarize_segments(ctx: Ctx) -> None:
    s = manual(ctx, transcription={"model": "gpt-4o-transcribe-diarize"})
    item_id, events = _transcribe_clip(ctx, s)
    segments = [e for e in events if canonical(e["type"]) == SEGMENT]
    expect(segments, f"segment events before completed: {[e['type'] for e in events]}")
    duration_s = ctx.clip("weather").duration_ms / 1000.0
    for seg in segments:
        expect_equal(seg.get("item_id"), item_id, "segment.item_id")
        expect(isinstance(seg.get("speaker"), str) and seg["speaker"], f"segment.speaker: {seg!r:.200}")
        start, end = seg.get("start"), seg.get("end")
        expect(isinstance(start, (int, float)) and isinstance(end, (int, float)) and 0 <= start < end,
               f"segment 0 <= start < end: {seg!r:.200}")
        assert isinstance(start, (int, float)) and isinstance(end, (int, float))
        expect(end - start <= duration_s + 0.05, f"a segment lies within the item's {duration_s:.2f} s: {seg!r:.200}")
    expect_equal(len({seg.get("id") for seg in segments}), len(segments), "segment ids are distinct")


@case(id="transcription/model/unknown", section="§4.12, §6.1",
      description="an unknown transcription model is refused with invalid_value at its path",
      requirement="audio.input.transcription.model (beta: input_audio_transcription.model) must be one of the "
                  "service's transcription models; otherwise an error event, the session unchanged [I].",
      level="should")
def test_unknown_transcription_model(ctx: Ctx) -> None:
    s = manual(ctx)
    path = ("session.audio.input.transcription.model" if ctx.ga
            else "session.input_audio_transcription.model")
    s.send({"type": "session.update", "session": _transcription_update(ctx, {"model": "gpt-nope-transcribe"})})
    s.expect_error(code="invalid_value", param=path)
    s.send({"type": "session.update", "session": _transcription_update(ctx, {"model": "gpt-4o-transcribe"})})
    s.expect("session.updated")


def _transcription_update(ctx: Ctx, transcription: Json) -> Json:
    if ctx.ga:
        return {"type": "realtime", "audio": {"input": {"transcription": transcription}}}
    return {"input_audio_transcription": transcription}
