"""The output audio buffer of a call, on the sans-I/O core with a virtual clock (docs/protocol.md §11.2)."""

from __future__ import annotations

from mockrt.core.playout import Playout
from mockrt.core.responses import Pacing
from tests.harness import Harness, types

FRAME = 960  # 20 ms of pcm16 at 24 kHz


def _call() -> Harness:
    h = Harness("ga", call=True, pacing=Pacing(audio_speed=0))
    h.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}})
    return h


def _play(h: Harness, frames: int) -> tuple[int, list[str]]:
    played, seen = 0, []
    for _ in range(frames):
        data, outputs = h.session.pull_audio(FRAME, h.now)
        h.now += 0.02
        played += len(data)
        seen += types(h._collect(outputs))
    return played, seen


def test_audio_is_played_not_sent_and_brackets_the_response() -> None:
    h = _call()
    events = h.send({"type": "response.create"})
    assert "response.done" in types(events)
    assert "response.output_audio.delta" not in types(events)  # the audio is media in a call
    played, seen = _play(h, 2000)
    assert seen == ["output_audio_buffer.started", "output_audio_buffer.stopped"]
    item = next(e for e in events if e["type"] == "response.output_item.done")["item"]
    assert played > 0 and item["content"][0]["type"] == "output_audio"


def test_clear_truncates_where_playback_stopped() -> None:
    h = _call()
    h.send({"type": "response.create"})
    _play(h, 10)  # 200 ms heard
    events = h.send({"type": "output_audio_buffer.clear"})
    assert types(events) == ["output_audio_buffer.cleared", "conversation.item.truncated"]
    assert events[1]["audio_end_ms"] == 200
    assert _play(h, 50) == (0, [])  # nothing left, no stopped after a clear


def test_clear_with_nothing_playing_and_over_a_websocket() -> None:
    h = _call()
    assert h.send({"type": "output_audio_buffer.clear"}) == []  # nothing ever played
    ws = Harness("ga")
    error = ws.send({"type": "output_audio_buffer.clear"})[0]["error"]
    supported = error["message"].split("Supported values are: ")[1]
    assert error["code"] == "invalid_value" and "output_audio_buffer.clear" not in supported


def test_dtmf_has_no_event_id_and_a_unix_time() -> None:
    h = _call()
    h.now += 3.4
    (event,) = h._collect(h.session.dtmf("#", h.now))
    assert event == {"type": "input_audio_buffer.dtmf_event_received", "event": "#", "received_at": 1_700_000_003}


def test_playout_segments_and_responses() -> None:
    p = Playout()
    p.push("resp_1", "item_1", 0, b"\x01\x00" * 10)
    assert p.pull(8) == (b"\x01\x00" * 4, [("started", "resp_1")])
    p.finish("resp_1", "item_1", 0)
    p.push("resp_2", "item_2", 0, b"\x02\x00" * 2)
    p.finish("resp_2", "item_2", 0)
    data, events = p.pull(100)
    assert len(data) == 16 and events == [("stopped", "resp_1"), ("started", "resp_2"), ("stopped", "resp_2")]
    assert p.clear() is None and p.last_response == "resp_2"


def test_barge_in_clears_playback_and_truncates_at_the_heard_point() -> None:
    import base64

    from tests.audio_fixtures import RATE, load_speech

    h = Harness("ga", call=True, pacing=Pacing(audio_speed=0))  # server VAD on (the GA default)
    h.send({"type": "response.create"})
    _play(h, 25)  # 500 ms heard
    pcm = load_speech("lights").pcm[: RATE * 2]
    got: list[dict[str, object]] = []
    step = RATE // 50
    for i in range(0, len(pcm), step):
        got += h.send({"type": "input_audio_buffer.append",
                       "audio": base64.b64encode(pcm[i:i + step].astype("<i2").tobytes()).decode()})
        if "output_audio_buffer.cleared" in types(got):
            break
    names = types(got)
    assert names.index("input_audio_buffer.speech_started") < names.index("output_audio_buffer.cleared")
    truncated = next(e for e in got if e["type"] == "conversation.item.truncated")
    assert truncated["audio_end_ms"] == 500  # what the caller heard, not what was generated
    assert _play(h, 50) == (0, [])
