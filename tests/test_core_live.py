"""The Live core on a virtual clock (docs/protocol.md §13): output chunking at any utterance alignment,
barge-in, strictness, and unpaced mode."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

from mockrt.audio.formats import AudioFormat
from mockrt.core.live.output import CHUNK_MS, OutputStream
from mockrt.core.live.session import LiveOptions, LiveSession
from mockrt.core.outputs import Send
from mockrt.core.synth import synthesize
from tests.audio_fixtures import load_speech
from tests.protocol_types import validate_live_event


def _events(outputs: list[Any]) -> list[dict[str, Any]]:
    events = [o.event for o in outputs if isinstance(o, Send)]
    for e in events:
        validate_live_event(e)
    return events


@pytest.mark.parametrize("start_ms", [0.0, 33.3, 99.99, 150.5, 250.0])
def test_output_chunks_at_any_alignment(start_ms: float) -> None:
    stream = OutputStream(AudioFormat.PCM16)
    words = ["one", " two", " three"]
    speech = synthesize(words, "marin")
    stream.add(speech, words, start_ms)
    said: list[str] = []
    total = 0
    while stream.position_ms < start_ms + speech.duration_ms + 2 * CHUNK_MS:
        chunk = stream.step()
        assert len(chunk.audio) == CHUNK_MS * 48
        total += np.count_nonzero(np.frombuffer(chunk.audio, "<i2"))
        said += [w for w, _, _ in chunk.words]
    assert said == words and total > 0 and not stream.queue


def _session(time_scale: float = 1.0) -> LiveSession:
    s = LiveSession(LiveOptions(seed=3, time_scale=time_scale), now=0.0)
    _events(s.receive_text(json.dumps({"type": "session.start", "session": {"model": "gpt-live-1"}}), 0.0))
    return s


def test_wall_clock_pacing_and_deadline() -> None:
    s = _session(time_scale=1.0)
    assert s.next_deadline() == pytest.approx(0.1)
    events = _events(s.poll(1.0))
    assert [e["type"] for e in events] == ["session.output_audio.delta"] * 10


def test_unpaced_reply_goes_out_at_once() -> None:
    s = _session(time_scale=0)
    events = _events(s.receive_text(json.dumps({"type": "session.commentary.append", "content": "All done.",
                                                "delegation_id": None}), 0.0))
    text = "".join(e["delta"] for e in events if e["type"] == "session.output_transcript.delta")
    assert text == "All done." and "session.usage.updated" in [e["type"] for e in events]


def test_paced_barge_in_cuts_mid_reply() -> None:
    s = _session(time_scale=1.0)
    _events(s.receive_text(json.dumps({"type": "session.commentary.append", "delegation_id": None,
                                       "content": " ".join(["word"] * 30)}), 0.0))
    silence = bytes(24000 * 2)
    _events(s.receive_text(json.dumps({"type": "session.input_audio.append",
                                       "audio": base64.b64encode(silence).decode()}), 0.0))
    speech = load_speech("lights").pcm.astype("<i2").tobytes()  # speech from 700 ms: at 2700 ms here
    before = _events(s.receive_text(json.dumps({"type": "session.input_audio.append",
                                                "audio": base64.b64encode(speech).decode()}), 0.0))
    later = before + _events(s.poll(30.0))
    words = [e for e in later if e["type"] == "session.output_transcript.delta"]
    cut = [e for e in words if e["delta"].strip() == "word"]  # the 30-word reply (~9 s of speech)
    assert 0 < len(cut) < 30 and all(e["start_ms"] < 2700 + 300 for e in cut)  # nothing after the caller spoke


def test_strict_start_and_errors_echo_ids() -> None:
    s = LiveSession(LiveOptions(seed=1), now=0.0)
    (err,) = _events(s.receive_text(json.dumps({"type": "session.start", "event_id": "e1",
                                                "session": {"model": "gpt-live-1", "x": 1}}), 0.0))
    assert err["error"] == {"type": "invalid_request_error", "code": "unknown_parameter",
                            "message": "Unknown parameter: 'session.x'.", "param": "session.x",
                            "client_event_id": "e1"}
    (err,) = _events(s.receive_text(json.dumps({"type": "session.start", "event_id": "e2",
                                                "session": {"model": "gpt-realtime"}}), 0.0))
    assert err["error"]["param"] == "session.model"
    (err,) = _events(s.receive_text(json.dumps({"type": "session.start", "session": {
        "model": "gpt-live-1", "audio": {"format": {"type": "audio/pcm", "rate": 16000}}}}), 0.0))
    assert "16000" in err["error"]["message"]
    (err,) = _events(s.receive_bytes(b"\x00", 0.0))
    assert err["type"] == "error"
