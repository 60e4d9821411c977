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
from mockrt.core.turn_taking import VadOptions
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


def _media(session: dict[str, Any], time_scale: float = 0, detector: str = "webrtc") -> LiveSession:
    s = LiveSession(LiveOptions(seed=5, time_scale=time_scale, media=True, vad=VadOptions(detector=detector)),
                    now=0.0)
    started = _events(s.receive_text(json.dumps({"type": "session.start", "session": {
        "model": "gpt-live-1", **session}}), 0.0))
    assert started[0]["type"] == "session.started", started
    return s


def _append(s: LiveSession, pcm: bytes) -> list[dict[str, Any]]:
    return _events(s.receive_text(json.dumps({"type": "session.input_audio.append",
                                              "audio": base64.b64encode(pcm).decode()}), 0.0))


def test_wake_policy_and_idle_timeout_on_audio_time() -> None:
    """A speech wake policy: inference sleeps until speech (``session.resumed``), a turn heard asleep gets no
    answer, ``idle_timeout_s`` of timeline without speech pauses it (``session.paused``), the next speech wakes
    it again; usage splits active and paused seconds. Unpaced: the input audio is the clock."""
    s = _media({"wake_policy": {"type": "speech", "vad_threshold": 0.5}, "idle_timeout_s": 2})
    silence = bytes(24000 * 2)  # one second
    events = _append(s, silence * 3)
    assert not [e for e in events if e["type"] in ("session.resumed", "session.paused")]
    assert s.asleep and s._usage()["paused_seconds"] == 3
    speech = load_speech("weather").pcm.astype("<i2").tobytes()
    events = _append(s, speech + silence * 2)
    kinds = [e["type"] for e in events]
    assert kinds.count("session.resumed") == 1
    assert kinds.index("session.resumed") < kinds.index("session.input_transcript.delta")
    assert "session.output_transcript.delta" in kinds  # awake: the turn is answered
    events = _append(s, silence * 8)  # the reply ends, then 2 s of nobody speaking
    paused = [e for e in events if e["type"] == "session.paused"]
    assert len(paused) == 1 and s.asleep
    before = s.output.position_ms
    events = _append(s, speech + silence * 2)
    kinds = [e["type"] for e in events]
    assert kinds.count("session.resumed") == 1 and "session.output_transcript.delta" in kinds
    usage = s._usage()
    assert usage["active_seconds"] + usage["paused_seconds"] == usage["seconds"]
    assert usage["paused_seconds"] >= 3 + (before - s._last_active_ms) // 1000 - 1


def test_asleep_turns_are_not_answered_and_idle_needs_a_wake_policy() -> None:
    s = _media({"wake_policy": {"type": "speech", "vad_threshold": 0.9}}, detector="energy")
    speech = (load_speech("weather").pcm * 0.1).astype("<i2").tobytes()  # a turn at 0.5, too quiet to wake at 0.9
    events = _append(s, speech + bytes(24000 * 4))
    kinds = {e["type"] for e in events}
    assert s.turns.pending_item_id is None and s.buffer.start_ms > 0  # the turn was detected, and dropped
    assert "session.resumed" not in kinds and "session.output_transcript.delta" not in kinds
    assert "session.input_transcript.delta" not in kinds
    low = _media({"wake_policy": {"type": "speech", "vad_threshold": 0.5}}, detector="energy")
    kinds = {e["type"] for e in _append(low, speech + bytes(24000 * 4))}
    assert {"session.resumed", "session.input_transcript.delta", "session.output_transcript.delta"} <= kinds
    plain = _media({"idle_timeout_s": 1})  # without a wake policy nothing could wake it: no pause
    events = _append(plain, bytes(24000 * 2 * 5))
    assert not [e for e in events if e["type"] == "session.paused"] and "paused_seconds" not in plain._usage()


def test_media_fields_only_on_media_sessions() -> None:
    s = LiveSession(LiveOptions(seed=1), now=0.0)
    for field_, value in (("idle_timeout_s", 5), ("wake_policy", {"type": "speech"})):
        events = _events(s.receive_text(json.dumps({"type": "session.start", "event_id": "e1", "session": {
            "model": "gpt-live-1", field_: value}}), 0.0))
        assert events[0]["error"]["code"] == "unknown_parameter"
        assert events[0]["error"]["param"] == f"session.{field_}"
    m = LiveSession(LiveOptions(seed=1, media=True), now=0.0)
    events = _events(m.receive_text(json.dumps({"type": "session.start", "session": {
        "model": "gpt-live-1", "wake_policy": {"type": "speech", "vad_threshold": 1.5}}}), 0.0))
    assert events[0]["error"]["param"] == "session.wake_policy.vad_threshold"
    events = _events(m.receive_text(json.dumps({"type": "session.start", "session": {
        "model": "gpt-live-1", "client": {"data_channel": {"allowed_server_events": [
            {"type": "session.output_transcript.delta", "response_event": "response.completed"}]}}}}), 0.0))
    assert events[0]["error"]["param"].endswith("allowed_server_events[0].response_event")
    events = _events(m.receive_text(json.dumps({"type": "session.start", "session": {
        "model": "gpt-live-1", "client": {"data_channel": {"allowed_client_events": ["session.dance"]}}}}), 0.0))
    assert events[0]["error"]["param"] == "session.client.data_channel.allowed_client_events[0]"


@pytest.mark.parametrize(("path", "value", "param"), [
    ("destination", "sip:alice@example.com", "transport.destination"),
    ("destination", "+0123", "transport.destination"),
    ("trunk.caller_number", "15550100", "transport.trunk.caller_number"),
    ("trunk.provider_url", "sip:sip.example.com", "transport.trunk.provider_url"),
    ("trunk.provider_url", "sips:user@sip.example.com", "transport.trunk.provider_url"),
    ("trunk.provider_url", "sips:localhost", "transport.trunk.provider_url"),
    ("trunk.provider_url", "sips:192.168.1.10:5061", "transport.trunk.provider_url"),
    ("trunk.provider_url", "sips:[fe80::1]", "transport.trunk.provider_url"),
    ("trunk.provider_url", "sips:sip.example.com:70000", "transport.trunk.provider_url"),
    ("trunk.auth.username", "  ", "transport.trunk.auth.username"),
    ("trunk.auth.password", "a\r\nb", "transport.trunk.auth.password"),
    ("trunk.auth.type", "basic", "transport.trunk.auth.type"),
])
def test_outbound_sip_transport_checks(path: str, value: str, param: str) -> None:
    from mockrt.core import errors
    from mockrt.core.dialects.live import LiveDialect

    transport: dict[str, Any] = {"type": "sip", "destination": "+15550123", "trunk": {
        "provider_url": "sips:[2606:4700::1111]:5061;transport=tcp", "caller_number": "+15550100",
        "auth": {"type": "digest", "username": "u", "password": "p"}}}
    assert LiveDialect().check_sip_transport(transport) == ("+15550123", "+15550100")
    *parents, leaf = path.split(".")
    node = transport
    for key in parents:
        node = node[key]
    node[leaf] = value
    with pytest.raises(errors.ProtocolError) as refused:
        LiveDialect().check_sip_transport(transport)
    assert refused.value.param == param


def test_a_websocket_fork_of_a_media_session_has_no_wake_policy() -> None:
    s = _media({"wake_policy": {"type": "speech"}, "idle_timeout_s": 3, "store": True})
    fork = LiveSession(LiveOptions(seed=6, time_scale=0, fork_of=s.snapshot()), now=0.0)
    _events(fork.receive_text(json.dumps({"type": "session.start", "session": {}}), 0.0))
    assert fork.config is not None and fork.config.wake_policy is None and not fork.asleep


def test_data_channel_selectors() -> None:
    """``allowed_server_events`` selectors: a plain type, a ``response.event`` with its nested type; errors and
    notices always pass; ``allowed_client_events`` names what the frontend may send (omitted: everything)."""
    from mockrt.core.dialects.live import LiveConfig, LiveDialect

    d = LiveDialect()
    cfg = LiveConfig(model="gpt-live-1", client={"data_channel": {
        "allowed_client_events": [],
        "allowed_server_events": [{"type": "session.started"},
                                  {"type": "response.event", "response_event": "response.completed"}]}})
    assert d.data_channel_allows(cfg, {"type": "session.started"})
    assert not d.data_channel_allows(cfg, {"type": "session.usage.updated"})
    assert d.data_channel_allows(cfg, {"type": "response.event", "event": {"type": "response.completed"}})
    assert not d.data_channel_allows(cfg, {"type": "response.event", "event": {"type": "response.created"}})
    assert d.data_channel_allows(cfg, {"type": "error"}) and d.data_channel_allows(cfg, {"type": "info"})
    assert not d.data_channel_accepts(cfg, "session.close")
    everything = LiveConfig(model="gpt-live-1", client={"data_channel": {"allowed_server_events": "all"}})
    assert d.data_channel_allows(everything, {"type": "session.usage.updated"})
    assert d.data_channel_accepts(everything, "session.close")
