"""Framing and envelope errors, and robustness against arbitrary input (docs/protocol.md §1.8, §2, §6.2)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import Harness, error_of, only


def test_invalid_json() -> None:
    h = Harness("ga")
    err = error_of(h.send_raw("{not json"))
    assert err["code"] == "invalid_json" and err["param"] is None and err["event_id"] is None
    assert err["message"].startswith("Invalid event: failed to parse JSON value.")


def test_binary_frame() -> None:
    h = Harness("ga")
    events = h.receive_bytes(b"\x00\x01")
    err = error_of(events)
    assert err == {"type": "invalid_request_error", "code": "invalid_event",
                   "message": "Expected a text WebSocket message; binary frames are not supported.",
                   "param": None, "event_id": None}


def test_missing_type_and_non_objects() -> None:
    h = Harness("ga")
    assert error_of(h.send({"event_id": "x"}))["message"] == "The 'type' field is missing."
    assert error_of(h.send({"event_id": "x"}))["event_id"] == "x"
    assert error_of(h.send_raw("[1,2]"))["code"] == "invalid_event"
    assert error_of(h.send_raw('"str"'))["code"] == "invalid_event"


def test_unknown_type_lists_the_accepted_ones() -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "ping", "event_id": "p"}))
    assert err["param"] == "type" and err["code"] == "invalid_value" and err["event_id"] == "p"
    assert err["message"].startswith("Invalid value: 'ping'. Supported values are: 'session.update', 'session.close'")
    assert err["message"].endswith("'response.create', and 'response.cancel'.")
    assert "output_audio_buffer.clear" not in err["message"]


def test_unknown_top_level_parameter() -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "input_audio_buffer.clear", "bogus": True}))
    assert err["code"] == "unknown_parameter" and err["param"] == "bogus"


def test_event_id_is_validated() -> None:
    h = Harness("ga")
    assert error_of(h.send({"type": "input_audio_buffer.clear", "event_id": 5}))["param"] == "event_id"
    err = error_of(h.send({"type": "input_audio_buffer.clear", "event_id": "x" * 513}))
    assert err["param"] == "event_id" and err["event_id"] == "x" * 513


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
TYPES = ["session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
         "conversation.item.create", "conversation.item.truncate", "conversation.item.delete",
         "conversation.item.retrieve", "response.create", "response.cancel", "bogus", 7]
near_events = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={
        "event_id": st.text(max_size=8) | st.integers(),
        "session": json_values | st.fixed_dictionaries({"type": st.sampled_from(["realtime", "transcription"])},
                                                       optional={"instructions": json_values,
                                                                 "audio": json_values, "tools": json_values}),
        "item": json_values | st.fixed_dictionaries({"type": st.sampled_from(["message", "function_call"])},
                                                    optional={"role": json_values, "content": json_values}),
        "audio": st.text(max_size=16) | json_values,
        "response": json_values,
        "item_id": json_values,
        "content_index": json_values,
        "audio_end_ms": json_values,
    },
)
frames = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=40),
    json_values.map(json.dumps),
    near_events.map(json.dumps),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames, min_size=1, max_size=8), st.sampled_from(["ga", "beta"]))
def test_arbitrary_frames_never_break_a_session(batch: list[Any], dialect: str) -> None:
    h = Harness(dialect)
    for frame in batch:
        events = h.receive_bytes(frame) if isinstance(frame, bytes) else h.send_raw(frame)
        h.run_until_idle()
        for e in events:
            if e["type"] == "error":
                err = e["error"]
                assert set(err) == {"type", "code", "message", "param", "event_id"}
                assert isinstance(err["message"], str) and err["message"]
        assert not h.closes or h.closes[0].code == 1000  # only session.close may close
        if h.closes:
            return
    # A valid turn still works afterwards.
    h.send({"type": "session.update", "session": {"type": "realtime"} if dialect == "ga" else {}})
    if h.session.active_id is not None:
        h.send({"type": "response.cancel"})
    h.user_text("still there?")
    got = h.send({"type": "response.create", "response": h.text_modality()}) + h.run_until_idle()
    assert only(got, "response.done")["response"]["status"] in ("completed", "incomplete")
