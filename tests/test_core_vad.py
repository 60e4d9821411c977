"""Server VAD on real speech fixtures through the session core (docs/protocol.md §4.8, §5.5, §5.7, §5.10, §5.11;
docs/vad.md §5). Time is audio time: no clock is involved except where the protocol uses one (idle timeout)."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockrt.core.transcription import Transcript, TranscriptionRequest
from tests.audio_fixtures import load_noise, load_speech
from tests.harness import FAST, SLOW, Harness, error_of, only, types

RATE = 24000


def _stream(h: Harness, pcm: np.ndarray, chunk_ms: float = 20.0) -> list[dict[str, Any]]:
    """Append ``pcm`` (24 kHz int16) in ``chunk_ms`` chunks; return the events it caused."""
    step = max(1, int(RATE * chunk_ms / 1000))
    got: list[dict[str, Any]] = []
    for i in range(0, len(pcm), step):
        got += h.send({"type": "input_audio_buffer.append",
                       "audio": base64.b64encode(pcm[i: i + step].astype("<i2").tobytes()).decode()})
    return got


def _silence(ms: int) -> np.ndarray:
    return np.zeros(RATE * ms // 1000, dtype=np.int16)


def _td(dialect: str, **td: Any) -> dict[str, Any]:
    return {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": td}}}
            if dialect == "ga" else {"turn_detection": td}}


def test_vad_turn_on_speech(dialect: str) -> None:
    clip = load_speech("weather")
    h = Harness(dialect, pacing=FAST)
    got = _stream(h, np.concatenate([clip.pcm, _silence(500)]))
    names = types(got)
    added = "conversation.item.added" if dialect == "ga" else "conversation.item.created"
    assert names[:4] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                         "input_audio_buffer.committed", added]
    assert "response.created" in names and "response.done" in names
    started, stopped, committed = got[0], got[1], got[2]
    (speech_start, speech_end), = clip.utterances
    assert abs(started["audio_start_ms"] - (speech_start - 300)) <= 40
    assert abs(stopped["audio_end_ms"] - (speech_end + 200)) <= 60
    assert started["item_id"] == stopped["item_id"] == committed["item_id"]
    item = next(e for e in got if e["type"] == added)["item"]
    assert item["id"] == committed["item_id"] and item["content"] == [{"type": "input_audio", "transcript": None}]
    # The committed audio is exactly the turn: from the buffer start to audio_end_ms.
    part = h.session.conversation.find(item["id"]).content[0]  # type: ignore[union-attr]
    assert part.audio_ms == pytest.approx(stopped["audio_end_ms"], abs=1)


def test_two_utterances_make_two_turns_with_growing_offsets() -> None:
    clip = load_speech("two_utterances")
    h = Harness("ga", pacing=FAST)
    got = _stream(h, np.concatenate([clip.pcm, _silence(500)]), chunk_ms=100)
    starts = [e for e in got if e["type"] == "input_audio_buffer.speech_started"]
    stops = [e for e in got if e["type"] == "input_audio_buffer.speech_stopped"]
    assert len(starts) == len(stops) == 2
    assert starts[1]["audio_start_ms"] >= stops[0]["audio_end_ms"]  # the second buffer starts after the first
    for (s, e), st_ev, sp_ev in zip(clip.utterances, starts, stops, strict=True):
        assert abs(st_ev["audio_start_ms"] - max(s - 300, 0)) <= 300  # clamped at the previous commit
        assert abs(sp_ev["audio_end_ms"] - (e + 200)) <= 60


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=40))
def test_events_do_not_depend_on_chunking(sizes: list[int]) -> None:
    pcm = np.concatenate([load_speech("two_utterances").pcm, _silence(400)])

    def run(chunks: list[int]) -> list[dict[str, Any]]:
        h = Harness("ga", pacing=FAST)
        got, pos, i = [], 0, 0
        while pos < len(pcm):
            n = chunks[i % len(chunks)]
            got += h.send({"type": "input_audio_buffer.append",
                           "audio": base64.b64encode(pcm[pos: pos + n].astype("<i2").tobytes()).decode()})
            pos, i = pos + n, i + 1
        return [e for e in got if e["type"].startswith("input_audio_buffer.")]

    assert run(sizes) == run([480])


def test_no_speech_started_on_quiet_noise() -> None:
    for kind in ("white", "pink", "hum"):
        h = Harness("ga", pacing=FAST)
        got = _stream(h, load_noise(kind, -40), chunk_ms=100)
        assert "input_audio_buffer.speech_started" not in types(got), kind


def test_barge_in_cancels_the_response(dialect: str) -> None:
    h = Harness(dialect, pacing=SLOW)
    h.user_text("tell me a story")
    h.send({"type": "response.create"})
    h.advance(0.1)
    clip = load_speech("lights")
    got = _stream(h, clip.pcm[: RATE * 2])
    started = types(got).index("input_audio_buffer.speech_started")
    done = only(got, "response.done")
    assert types(got).index("response.done") > started
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}


def test_no_barge_in_when_interrupt_response_is_false() -> None:
    h = Harness("ga", pacing=SLOW)
    h.send(_td("ga", type="server_vad", interrupt_response=False))
    h.user_text("tell me a story")
    rid = only(h.send({"type": "response.create"}), "response.created")["response"]["id"]
    got = _stream(h, np.concatenate([load_speech("lights").pcm, _silence(400)]))
    assert "input_audio_buffer.speech_started" in types(got)
    assert not any(e["type"] == "response.done" and e["response"]["status"] == "cancelled" for e in got)
    # The turn ended while the first response still ran: the automatic response loses the race (§5.7).
    if h.session.active_id == rid:
        err = next(e for e in got if e["type"] == "error")["error"]
        assert err["code"] == "conversation_already_has_active_response" and err["event_id"] is None


def test_create_response_false_commits_without_a_response() -> None:
    h = Harness("ga", pacing=FAST)
    h.send(_td("ga", type="server_vad", create_response=False))
    got = _stream(h, np.concatenate([load_speech("weather").pcm, _silence(400)]))
    assert "input_audio_buffer.committed" in types(got)
    assert "response.created" not in types(got)


def test_turn_detection_null_means_manual_commit_only(dialect: str) -> None:
    h = Harness(dialect, pacing=FAST)
    h.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
           if dialect == "ga" else {"type": "session.update", "session": {"turn_detection": None}})
    got = _stream(h, np.concatenate([load_speech("weather").pcm, _silence(400)]))
    assert got == []
    assert only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")


def test_manual_commit_mid_speech_uses_the_announced_item_id() -> None:
    h = Harness("ga", pacing=FAST)
    clip = load_speech("weather")
    got = _stream(h, clip.pcm[: RATE * 2])
    started = only(got, "input_audio_buffer.speech_started")
    committed = only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")
    assert committed["item_id"] == started["item_id"]
    rest = _stream(h, np.concatenate([clip.pcm[RATE * 2:], _silence(400)]))
    assert all(e.get("item_id") != started["item_id"] for e in rest)


def test_semantic_vad_waits_per_eagerness() -> None:
    pcm = np.concatenate([load_speech("weather").pcm, _silence(9000)])
    ends: dict[str, int] = {}
    for eagerness in ("high", "medium", "low"):
        h = Harness("ga", pacing=FAST)
        h.send(_td("ga", type="semantic_vad", eagerness=eagerness, create_response=False))
        h.session.set_turn_complete_hint(False)  # looks incomplete: the documented maximum wait
        got = _stream(h, pcm, chunk_ms=100)
        ends[eagerness] = only(got, "input_audio_buffer.speech_stopped")["audio_end_ms"]
    (_, speech_end), = load_speech("weather").utterances
    assert abs(ends["high"] - (speech_end + 2000)) <= 60
    assert abs(ends["medium"] - (speech_end + 4000)) <= 60
    assert abs(ends["low"] - (speech_end + 8000)) <= 60
    h = Harness("ga", pacing=FAST)
    h.send(_td("ga", type="semantic_vad", eagerness="high", create_response=False))
    got = _stream(h, pcm, chunk_ms=100)  # no cue: the turn counts as complete, a quarter of the maximum
    assert abs(only(got, "input_audio_buffer.speech_stopped")["audio_end_ms"] - (speech_end + 500)) <= 60


def test_g711_input_is_heard_on_its_own_time_base(dialect: str) -> None:
    clip = load_speech("weather")
    h = Harness(dialect, pacing=FAST)
    h.send({"type": "session.update", "session": {"type": "realtime",
                                                  "audio": {"input": {"format": {"type": "audio/pcmu"}}}}}
           if dialect == "ga" else {"type": "session.update", "session": {"input_audio_format": "g711_ulaw"}})
    data = clip.ulaw + b"\xff" * 8 * 500
    got: list[dict[str, Any]] = []
    for i in range(0, len(data), 160):
        got += h.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(data[i: i + 160]).decode()})
    (speech_start, speech_end), = clip.utterances
    assert abs(only(got, "input_audio_buffer.speech_started")["audio_start_ms"] - (speech_start - 300)) <= 40
    assert abs(only(got, "input_audio_buffer.speech_stopped")["audio_end_ms"] - (speech_end + 200)) <= 60


def test_idle_timeout_fires_once_after_playback() -> None:
    h = Harness("ga", pacing=FAST)
    h.send(_td("ga", type="server_vad", idle_timeout_ms=5000))
    h.user_text("hi")
    h.send({"type": "response.create"})
    assert h.run_until_idle() == []
    done = next(e for e in h.events if e["type"] == "response.done")
    played_ms = sum(p.audio_ms for p in h.session.conversation.find(done["response"]["output"][0]["id"]).content)  # type: ignore[union-attr]
    deadline = h.session.next_deadline()
    assert deadline == pytest.approx(h.now + (played_ms + 5000) / 1000)
    h.append_ms(1000)  # silence in real time; not enough to reach the deadline on audio time
    got = h.advance(deadline - h.now)
    assert types(got)[:4] == ["input_audio_buffer.timeout_triggered", "input_audio_buffer.committed",
                              "conversation.item.added", "conversation.item.done"]
    assert "response.created" in types(got)
    trig = got[0]
    assert trig["audio_end_ms"] == 1000 and trig["item_id"] == got[1]["item_id"]
    h.run_until_idle()


def test_idle_timeout_on_audio_time() -> None:
    h = Harness("ga", pacing=FAST)
    h.send(_td("ga", type="server_vad", idle_timeout_ms=5000))
    h.user_text("hi")
    h.send({"type": "response.create"})
    h.run_until_idle()
    got = _stream(h, _silence(20000), chunk_ms=1000)  # a client streaming silence faster than real time
    names = types(got)
    # Once per response: each timeout creates a response, whose end re-arms the timer.
    triggers = [i for i, n in enumerate(names) if n == "input_audio_buffer.timeout_triggered"]
    assert len(triggers) == 2
    assert "response.done" in names[triggers[0]: triggers[1]]
    first = got[triggers[0]]
    assert first["audio_end_ms"] - first["audio_start_ms"] == 5000


class LabelTranscriber:
    """A transcriber that knows what the fixture says (a scenario would provide this)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.requests: list[TranscriptionRequest] = []

    def transcribe(self, request: TranscriptionRequest) -> Transcript:
        self.requests.append(request)
        return Transcript(self.text)


def test_input_transcription_after_commit(dialect: str) -> None:
    clip = load_speech("weather")
    transcriber = LabelTranscriber(clip.labels["text"])
    h = Harness(dialect, pacing=FAST, transcriber=transcriber)
    cfg = {"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe"}}}} \
        if dialect == "ga" else {"input_audio_transcription": {"model": "gpt-4o-mini-transcribe"}}
    h.send({"type": "session.update", "session": cfg})
    got = _stream(h, np.concatenate([clip.pcm, _silence(400)]))
    completed = only(got, "conversation.item.input_audio_transcription.completed")
    item_id = only(got, "input_audio_buffer.committed")["item_id"]
    assert completed["item_id"] == item_id and completed["transcript"] == clip.labels["text"]
    deltas = "".join(e["delta"] for e in got if e["type"] == "conversation.item.input_audio_transcription.delta")
    assert deltas.strip() == clip.labels["text"]
    assert completed["usage"]["type"] == "tokens"
    assert transcriber.requests[0].audio_ms == pytest.approx(only(got, "input_audio_buffer.speech_stopped")[
        "audio_end_ms"], abs=1)
    reply = "".join(e["delta"] for e in got if e["type"].endswith("audio_transcript.delta"))
    assert "Paris" in reply  # the default reply refers to what the user said


def test_default_transcriber_says_it_is_a_placeholder() -> None:
    h = Harness("ga", pacing=FAST)
    h.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": None, "transcription": {"model": "whisper-1"}}}}})
    h.append_ms(1500, amplitude=0.1)
    got = h.send({"type": "input_audio_buffer.commit"})
    completed = only(got, "conversation.item.input_audio_transcription.completed")
    assert "placeholder" in completed["transcript"]
    assert completed["usage"] == {"type": "duration", "seconds": 2}


def test_transcription_failure_event() -> None:
    class Failing:
        def transcribe(self, request: TranscriptionRequest) -> Transcript:
            return Transcript(None)

    h = Harness("ga", pacing=FAST, transcriber=Failing())
    h.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": None, "transcription": {"model": "whisper-1"}}}}})
    h.append_ms(500)
    failed = only(h.send({"type": "input_audio_buffer.commit"}), "conversation.item.input_audio_transcription.failed")
    assert failed["error"]["code"] == "audio_unintelligible"


def test_transcription_session_vad() -> None:
    clip = load_speech("weather")
    h = Harness("ga", kind="transcription", model=None, pacing=FAST, transcriber=LabelTranscriber("hello"))
    h.send({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {
        "transcription": {"model": "gpt-4o-transcribe"}}}}})
    got = _stream(h, np.concatenate([clip.pcm, _silence(400)]))
    assert "input_audio_buffer.committed" in types(got)
    assert "response.created" not in types(got) and "rate_limits.updated" not in types(got)
    assert only(got, "conversation.item.input_audio_transcription.completed")["transcript"] == "hello"
    # The trailing silence after audio_end_ms stays in the buffer (it is the start of the next turn).
    remaining = h.session.buffer.buffered_ms
    assert remaining == pytest.approx(400 - (only(got, "input_audio_buffer.speech_stopped")["audio_end_ms"]
                                             - len(clip.pcm) * 1000 // RATE), abs=1)
    h.send({"type": "input_audio_buffer.clear"})
    assert error_of(h.send({"type": "input_audio_buffer.commit"}))["code"] == "input_audio_buffer_commit_empty"
