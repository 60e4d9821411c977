"""Azure Voice Live in the sans-I/O core (docs/protocol.md §12): its client events keep the core's rules — bad
input gets an error and changes nothing, streamed text is bounded like the conversation."""

from __future__ import annotations

from typing import Any

from mockrt.core.dialects import VoiceLive
from mockrt.core.outputs import Send
from mockrt.core.session import RealtimeSession, SessionOptions


def _session(**options: Any) -> RealtimeSession:
    session = RealtimeSession(SessionOptions(dialect=VoiceLive(), seed=1, **options), 0.0)
    session.start()
    return session


def _send(session: RealtimeSession, event: dict[str, Any]) -> list[dict[str, Any]]:
    return [o.event for o in session.receive(event, 1.0) if isinstance(o, Send)]


def _error(events: list[dict[str, Any]]) -> tuple[str, str]:
    assert [e["type"] for e in events] == ["error"], events
    return events[0]["error"]["code"], events[0]["error"]["param"]


def test_bad_voice_live_client_events_are_errors_without_effect() -> None:
    s = _session()
    assert _error(_send(s, {"type": "input_audio.turn.start"})) == ("missing_required_parameter", "turn_id")
    assert _error(_send(s, {"type": "input_audio.turn.append", "turn_id": "t", "audio": 5})) == (
        "invalid_type", "audio")
    assert _error(_send(s, {"type": "input_audio.turn.end", "turn_id": "t"})) == ("invalid_value", "turn_id")
    assert _error(_send(s, {"type": "input_text.delta", "id": "i", "delta": "x", "content_index": -1})) == (
        "integer_below_min_value", "content_index")
    assert _error(_send(s, {"type": "session.avatar.connect", "client_sdp": "v=0"})) == (
        "invalid_request_error", "session.avatar")
    assert _error(_send(s, {"type": "output_audio_buffer.clear", "extra": 1})) == ("unknown_parameter", "extra")
    assert s.input_turn is None and s.input_text == {} and len(s.conversation.items) == 0


def test_streamed_text_is_bounded_like_the_conversation() -> None:
    s = _session(max_items=2)
    assert _send(s, {"type": "input_text.delta", "id": "a", "delta": "one"}) == []
    assert _send(s, {"type": "input_text.delta", "id": "b", "delta": "two"}) == []
    assert _error(_send(s, {"type": "input_text.delta", "id": "c", "delta": "three"}))[0] == "conversation_too_long"
    assert [e["type"] for e in _send(s, {"type": "input_text.done", "id": "a"})] == ["conversation.item.created"]
    assert sorted(s.input_text) == ["b"]


def test_recorded_voice_live_output_replays_at_24khz() -> None:
    """A recorded reply in ``pcm16_16000hz`` / ``pcm16_8000hz`` keeps its duration when replayed (§12)."""
    import numpy as np

    from mockrt.audio.formats import AudioFormat
    from mockrt.recording.replay import audio_samples

    one_second = np.arange(16000, dtype="<i2").tobytes()
    out = audio_samples(one_second, AudioFormat.PCM16_16K)
    assert out is not None and out.shape[0] == 24000 and out[3] == 2  # sample 3 at 24 kHz = sample 2 at 16 kHz
    eight = audio_samples(np.zeros(8000, dtype="<i2").tobytes(), AudioFormat.PCM16_8K)
    assert eight is not None and eight.shape[0] == 24000


def test_mcp_call_and_listing_items_are_not_voice_live_request_items() -> None:
    """Voice Live's request items have only mcp_approval_response among the MCP ones (docs/protocol.md §9.7)."""
    session = _session()
    for item in ({"type": "mcp_call", "id": "mcp_1", "server_label": "s", "name": "n", "arguments": "{}"},
                 {"type": "mcp_list_tools", "server_label": "s", "tools": []}):
        events = _send(session, {"type": "conversation.item.create", "event_id": "evt_mcp", "item": item})
        assert _error(events) == ("invalid_value", "item.type")
    assert not session.conversation.items
