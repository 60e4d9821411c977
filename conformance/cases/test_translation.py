"""Translation sessions: ``/v1/realtime/translations`` (docs/protocol.md §10), run as the ``translation`` dialect."""

from __future__ import annotations

import base64
from typing import Any

from websockets.exceptions import ConnectionClosed

from conformance import Ctx, case
from conformance.audio import silence
from conformance.checks import CaseFailure, expect, expect_equal, expect_keys
from conformance.client import Session

Json = dict[str, Any]

TRANSLATION = ("translation",)
OPENAI_STYLE = ("mock", "openai", "url")
FRAME_MS = 200
BYTES_PER_MS = 48  # 24 kHz pcm16 mono


def _append(s: Session, audio: bytes, chunk_ms: int = FRAME_MS) -> None:
    step = chunk_ms * BYTES_PER_MS
    for start in range(0, len(audio), step):
        s.send({"type": "session.input_audio_buffer.append",
                "audio": base64.b64encode(audio[start:start + step]).decode("ascii")})


def _speech(ctx: Ctx, name: str = "lights", tail_ms: int = 1600) -> bytes:
    """A speech clip followed by silence (translation wants audio appended continuously, §10.3)."""
    return ctx.clip(name).pcm16 + silence(tail_ms)


def _close(s: Session) -> list[Json]:
    """``session.close``, then everything up to and including ``session.closed``."""
    s.send({"type": "session.close"})
    return s.until("session.closed", timeout=20.0)


def _of(events: list[Json], etype: str) -> list[Json]:
    return [e for e in events if e.get("type") == etype]


def _text(events: list[Json], etype: str) -> str:
    return "".join(str(e.get("delta", "")) for e in _of(events, etype))


def _alive(s: Session) -> None:
    """The session still answers: a ``session.update`` gets ``session.updated``."""
    s.send({"type": "session.update", "session": {"audio": {"output": {"language": "es"}}}})
    s.expect("session.updated")


@case(id="translation/session/created", section="§10.2, §10.1",
      description="the first event is session.created with a translation session object for the requested model",
      requirement="session.created comes first with {id: sess_…, type: translation, model, expires_at, audio: {input, "
                  "output}} [D].", dialects=TRANSLATION, targets=OPENAI_STYLE)
def test_translation_created(ctx: Ctx) -> None:
    session = ctx.connect().created["session"]
    expect_keys(session, ("id", "type", "model", "expires_at", "audio"), "translation session")
    expect_equal(session["type"], "translation", "session.type")
    expect_equal(session["model"], ctx.target.model("translation"), "session.model")
    expect(str(session["id"]).startswith("sess_"), f"session.id looks like sess_…: {session['id']!r}")


@case(id="translation/session/update", section="§10.2",
      description="session.update changes the output language and source transcription; model cannot change",
      requirement="Updates may change audio.output.language, audio.input.transcription and noise_reduction; "
                  "session.updated carries the whole session; type and model are set at creation [D].",
      dialects=TRANSLATION, targets=OPENAI_STYLE)
def test_translation_update(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "session": {"audio": {
        "output": {"language": "de"}, "input": {"transcription": {"model": "gpt-4o-transcribe"}}}}})
    audio = s.expect("session.updated")["session"]["audio"]
    expect_equal(audio["output"].get("language"), "de", "session.audio.output.language")
    expect_equal((audio["input"].get("transcription") or {}).get("model"), "gpt-4o-transcribe",
                 "session.audio.input.transcription.model")
    s.send({"type": "session.update", "event_id": "model_change", "session": {"model": "gpt-realtime"}})
    s.expect_error(event_id="model_change")
    s.send({"type": "session.update", "session": {}})
    audio = s.expect("session.updated")["session"]["audio"]
    expect_equal(audio["output"].get("language"), "de", "the rejected update changed nothing")


@case(id="translation/audio/frames", section="§10.3, §10.4",
      description="audio appended in 50 ms chunks is consumed in 200 ms frames: elapsed_ms never runs ahead of it",
      requirement="Translation consumes 200 ms engine frames; shorter chunks wait until a frame is full. elapsed_ms "
                  "is derived from the translation frame and advances in 200 ms steps [D].",
      dialects=TRANSLATION, targets=OPENAI_STYLE, timeout=30.0)
def test_translation_frames(ctx: Ctx) -> None:
    s = ctx.connect()
    audio = _speech(ctx, tail_ms=3000)
    _append(s, audio, chunk_ms=50)
    appended_ms = len(audio) // BYTES_PER_MS
    events = s.until("session.output_audio.delta", timeout=20.0)
    events += s.until("session.output_transcript.delta", timeout=20.0)
    for event in events:
        if "elapsed_ms" in event and event["elapsed_ms"] is not None:
            ms = event["elapsed_ms"]
            expect(isinstance(ms, int) and ms % FRAME_MS == 0, f"{event['type']}: elapsed_ms in 200 ms steps: {ms}")
            expect(ms <= appended_ms, f"{event['type']}: elapsed_ms {ms} is ahead of the {appended_ms} ms appended")
    _close(s)


@case(id="translation/output/deltas", section="§10.4, §10.5",
      description="speech is answered with translated transcript and pcm16 audio deltas; no source transcript "
                  "unless asked for",
      requirement="session.output_transcript.delta and session.output_audio.delta (base64 pcm16, format pcm16, "
                  "sample_rate, channels) stream back; session.input_transcript.delta only when "
                  "audio.input.transcription is configured; elapsed_ms never decreases [D].",
      dialects=TRANSLATION, targets=OPENAI_STYLE, timeout=30.0)
def test_translation_output(ctx: Ctx) -> None:
    s = ctx.connect()
    _append(s, _speech(ctx))
    events = _close(s)
    expect(_text(events, "session.output_transcript.delta").strip(), "a translated transcript")
    audio = _of(events, "session.output_audio.delta")
    expect(audio, "translated audio deltas")
    total = 0
    for event in audio:
        size = len(base64.b64decode(event["delta"]))
        expect(size % 2 == 0, f"an audio delta holds whole pcm16 samples: {size} bytes")
        total += size
        expect(event.get("format") in (None, "pcm16"), f"audio delta format: {event.get('format')!r}")
        expect(event.get("sample_rate") in (None, 24000), f"audio delta sample_rate: {event.get('sample_rate')!r}")
    expect(total > 0, "the translated audio is not empty")
    expect(not _of(events, "session.input_transcript.delta"), "no source transcript without audio.input.transcription")
    elapsed = [e["elapsed_ms"] for e in events if e.get("elapsed_ms") is not None]
    expect(elapsed == sorted(elapsed), f"elapsed_ms never decreases: {elapsed[:20]}")


@case(id="translation/output/source-transcript", section="§10.4",
      description="with audio.input.transcription configured, the source transcript streams as deltas",
      requirement="session.input_transcript.delta is emitted only when audio.input.transcription is configured [D].",
      dialects=TRANSLATION, targets=OPENAI_STYLE, timeout=30.0)
def test_translation_source_transcript(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "session": {"audio": {"input": {
        "transcription": {"model": "gpt-4o-transcribe"}}}}})
    s.expect("session.updated")
    _append(s, _speech(ctx))
    events = _close(s)
    expect(_text(events, "session.input_transcript.delta").strip(), "a source transcript")
    expect(_text(events, "session.output_transcript.delta").strip(), "and the translation")


@case(id="translation/close/flush", section="§10.5",
      description="session.close flushes the pending input and the remaining output, then session.closed",
      requirement="The server flushes pending input audio and emits any remaining translated output before "
                  "closing the session: session.closed is the last event [D].",
      dialects=TRANSLATION, targets=OPENAI_STYLE, timeout=30.0)
def test_translation_close(ctx: Ctx) -> None:
    clip = ctx.clip("lights")
    end_ms = clip.utterances[-1][1]
    s = ctx.connect()
    _append(s, clip.pcm16[: end_ms * BYTES_PER_MS], chunk_ms=FRAME_MS)  # cut where the speech ends
    events = _close(s)
    expect(_text(events, "session.output_transcript.delta").strip(),
           "the speech that was still going on at the close is translated and flushed")
    try:
        extra = s.next(timeout=2.0)
    except CaseFailure:
        return  # nothing more within the wait: fine
    except ConnectionClosed:  # the server closed the socket: fine
        return
    raise CaseFailure(f"an event after session.closed: {extra!r:.300}")


@case(id="translation/bad-input/realtime-events", section="§10.3, §3.2",
      description="realtime-only events (response.create, input_audio_buffer.commit) are errors; the session lives",
      requirement="A translation session has no response.create and no commit: an unknown event type is an error "
                  "event echoing the event_id, and the session goes on [D].",
      dialects=TRANSLATION, targets=OPENAI_STYLE)
def test_translation_realtime_events(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "response.create", "event_id": "not_here_1"})
    s.expect_error(event_id="not_here_1", param="type")
    s.send({"type": "input_audio_buffer.commit", "event_id": "not_here_2"})
    s.expect_error(event_id="not_here_2", param="type")
    _alive(s)


@case(id="translation/bad-input/fields", section="§10.3, §6.1",
      description="an unknown field on an append, and audio that is not whole pcm16 samples, are errors; the session "
                  "lives",
      requirement="Unknown parameters get unknown_parameter naming them; unsupported audio is a validation error "
                  "[D]; the session continues.", level="should", dialects=TRANSLATION, targets=OPENAI_STYLE)
def test_translation_bad_fields(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.input_audio_buffer.append", "event_id": "extra_1",
            "audio": base64.b64encode(silence(200)).decode("ascii"), "sample_rate": 16000})
    s.expect_error(code="unknown_parameter", param="sample_rate", event_id="extra_1")
    s.send({"type": "session.input_audio_buffer.append", "event_id": "odd_1",
            "audio": base64.b64encode(b"\x00\x01\x02").decode("ascii")})
    s.expect_error(code="invalid_value", event_id="odd_1")
    _alive(s)


@case(id="translation/handshake/model", section="§10.1, §1.4",
      description="a translation socket without a model, or with a realtime model, gets the fatal handshake error",
      requirement="The WebSocket URL requires a model query parameter [D]; the failure forms are §1.4's: error "
                  "missing_model / invalid_model, then close 4000 [U].",
      level="should", dialects=TRANSLATION, targets=OPENAI_STYLE)
def test_translation_model(ctx: Ctx) -> None:
    s = ctx.connect(model=None, expect_created=False)
    s.expect_error(code="missing_model", event_id=None)
    expect_equal(s.wait_closed()[0], 4000, "close code")
    s = ctx.connect(model="gpt-realtime", expect_created=False)
    s.expect_error(code="invalid_model", event_id=None)
    expect_equal(s.wait_closed()[0], 4000, "close code")
