"""Session defaults and session.update (docs/protocol.md §2.1, §3.3, §4.2–§4.5, §4.8, §6.1)."""

from __future__ import annotations

import pytest

from mockrt.core.model import DEFAULT_INSTRUCTIONS
from tests.harness import Harness, error_of, only, types


def test_ga_session_created_is_the_documented_default() -> None:
    h = Harness("ga")
    (created,) = h.created
    s = created["session"]
    assert created["type"] == "session.created"
    assert list(s)[:5] == ["type", "object", "id", "model", "output_modalities"]
    assert s["type"] == "realtime" and s["object"] == "realtime.session" and s["id"].startswith("sess_")
    assert len(s["id"]) == len("sess_") + 21
    assert s["model"] == "gpt-realtime"
    assert s["output_modalities"] == ["audio"]
    assert s["instructions"] == DEFAULT_INSTRUCTIONS and "you\u2019re" in s["instructions"]
    assert s["tools"] == [] and s["tool_choice"] == "auto" and s["max_output_tokens"] == "inf"
    assert s["tracing"] is None and s["truncation"] == "auto" and s["prompt"] is None and s["include"] is None
    assert s["expires_at"] == 1_700_000_000 + 3600
    assert s["audio"] == {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": None,
            "noise_reduction": None,
            "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                               "silence_duration_ms": 200, "idle_timeout_ms": None, "create_response": True,
                               "interrupt_response": True},
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
    }


def test_beta_session_created_is_the_documented_default() -> None:
    h = Harness("beta")
    s = h.created[0]["session"]
    assert s["object"] == "realtime.session" and s["modalities"] == ["audio", "text"]
    assert s["voice"] == "alloy" and s["input_audio_format"] == "pcm16" and s["output_audio_format"] == "pcm16"
    assert s["turn_detection"] == {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                   "silence_duration_ms": 200, "create_response": True,
                                   "interrupt_response": True}
    assert s["temperature"] == 0.8 and s["max_response_output_tokens"] == "inf" and s["client_secret"] is None
    assert s["expires_at"] == 1_700_000_000 + 1800


def test_event_ids_are_seeded_and_reproducible() -> None:
    a, b = Harness("ga", seed=3), Harness("ga", seed=3)
    for x in (a, b):
        x.user_text("hello")
    assert a.events == b.events
    assert Harness("ga", seed=4).events != a.events[:1]


def test_ga_update_is_partial_and_answers_the_full_session() -> None:
    h = Harness("ga")
    got = h.send({"type": "session.update", "event_id": "u1",
                  "session": {"type": "realtime", "instructions": "Be brief.",
                              "audio": {"output": {"voice": "marin"}}}})
    s = only(got, "session.updated")["session"]
    assert "u1" not in str(got)  # success events never echo the client event_id (§1.8)
    assert s["instructions"] == "Be brief." and s["audio"]["output"]["voice"] == "marin"
    assert s["audio"]["input"]["turn_detection"]["type"] == "server_vad"  # untouched keys keep their values
    got = h.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                                                        "audio": {"input": {"turn_detection": None}}}})
    s = only(got, "session.updated")["session"]
    assert s["output_modalities"] == ["text"] and s["audio"]["input"]["turn_detection"] is None
    assert s["instructions"] == "Be brief."


def test_ga_update_requires_session_type() -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "session.update", "event_id": "e9", "session": {"instructions": "x"}}))
    assert err == {"type": "invalid_request_error", "code": "missing_required_parameter",
                   "message": "Missing required parameter: 'session.type'.", "param": "session.type",
                   "event_id": "e9"}


def test_rejected_update_is_discarded_whole() -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "session.update", "session": {"type": "realtime", "instructions": "new",
                                                                 "bogus_field": 1}}))
    assert err["code"] == "unknown_parameter" and err["param"] == "session.bogus_field"
    assert err["message"] == "Unknown parameter: 'session.bogus_field'."
    s = only(h.send({"type": "session.update", "session": {"type": "realtime"}}), "session.updated")["session"]
    assert s["instructions"] == DEFAULT_INSTRUCTIONS


@pytest.mark.parametrize(
    ("session", "code", "param", "message"),
    [
        ({"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
         "integer_below_min_value", "session.audio.input.format.rate",
         "Invalid 'session.audio.input.format.rate': integer below minimum value. Expected a value >= 24000, "
         "but got 16000 instead."),
        ({"type": "realtime", "temperature": 0.8}, "unknown_parameter", "session.temperature",
         "Unknown parameter: 'session.temperature'."),
        ({"type": "realtime", "modalities": ["text"]}, "unknown_parameter", "session.modalities",
         "Unknown parameter: 'session.modalities'."),
        ({"type": "realtime", "instructions": 5}, "invalid_type", "session.instructions",
         "Invalid type for 'session.instructions': expected a string, but got an integer instead."),
        ({"type": "realtime", "output_modalities": ["video"]}, "invalid_value", "session.output_modalities[0]",
         "Invalid value: 'video'. Supported values are: 'text' and 'audio'."),
        ({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}}},
         "decimal_above_max_value", "session.audio.input.turn_detection.threshold",
         "Invalid 'session.audio.input.turn_detection.threshold': decimal above maximum value. "
         "Expected a value <= 1.0, but got 1.5 instead."),
        ({"type": "realtime", "max_output_tokens": 5000}, "integer_above_max_value", "session.max_output_tokens",
         "Invalid 'session.max_output_tokens': integer above maximum value. Expected a value <= 4096, "
         "but got 5000 instead."),
        ({"type": "bogus"}, "invalid_value", "session.type",
         "Invalid value: 'session'. Supported values are: 'realtime' and 'transcription'."),
        ({"type": "transcription"}, "invalid_value", "session.type",
         "Passing a transcription session update event to a realtime session is not allowed."),
    ],
)
def test_ga_update_errors(session: dict[str, object], code: str, param: str, message: str) -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "session.update", "session": session}))
    assert (err["code"], err["param"], err["message"]) == (code, param, message)


def test_ga_two_output_modalities_rejected() -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "session.update",
                           "session": {"type": "realtime", "output_modalities": ["audio", "text"]}}))
    assert err["code"] == "invalid_value" and err["param"] == "session.output_modalities"


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"output_modalities": ["text"]}, "unknown_parameter", "session.output_modalities"),
        ({"audio": {}}, "unknown_parameter", "session.audio"),
        ({"type": "realtime"}, "unknown_parameter", "session.type"),
        ({"temperature": 2.0}, "decimal_above_max_value", "session.temperature"),
        ({"voice": "nobody"}, "invalid_value", "session.voice"),
        ({"input_audio_format": "mp3"}, "invalid_value", "session.input_audio_format"),
    ],
)
def test_beta_update_errors(session: dict[str, object], code: str, param: str) -> None:
    h = Harness("beta")
    err = error_of(h.send({"type": "session.update", "session": session}))
    assert (err["code"], err["param"]) == (code, param)


def test_beta_audio_only_modalities_rejected_with_the_service_message() -> None:
    h = Harness("beta")
    err = error_of(h.send({"type": "session.update", "session": {"modalities": ["audio"]}}))
    assert err["message"] == "Invalid modalities: ['audio']. Supported combinations are: ['text'] and " \
                             "['audio', 'text']."


def test_partial_turn_detection_is_completed_with_defaults(dialect: str) -> None:
    h = Harness(dialect)
    td = {"type": "server_vad", "threshold": 0.7}
    session = {"type": "realtime", "audio": {"input": {"turn_detection": td}}} if dialect == "ga" \
        else {"turn_detection": td}
    s = only(h.send({"type": "session.update", "session": session}), "session.updated")["session"]
    got = s["audio"]["input"]["turn_detection"] if dialect == "ga" else s["turn_detection"]
    assert got["threshold"] == 0.7 and got["prefix_padding_ms"] == 300 and got["silence_duration_ms"] == 200
    assert got["create_response"] is True and got["interrupt_response"] is True


def test_voice_is_locked_once_assistant_audio_exists(dialect: str) -> None:
    h = Harness(dialect)
    voice = {"type": "realtime", "audio": {"output": {"voice": "echo"}}} if dialect == "ga" else {"voice": "echo"}
    assert types(h.send({"type": "session.update", "session": voice})) == ["session.updated"]
    h.user_text("hi")
    h.send({"type": "response.create"})
    h.run_until_idle()
    same = {"type": "realtime", "audio": {"output": {"voice": "echo"}}} if dialect == "ga" else {"voice": "echo"}
    assert types(h.send({"type": "session.update", "session": same})) == ["session.updated"]
    other = {"type": "realtime", "audio": {"output": {"voice": "sage"}}} if dialect == "ga" else {"voice": "sage"}
    err = error_of(h.send({"type": "session.update", "event_id": "v", "session": other}))
    assert err["code"] == "cannot_update_voice"
    assert err["message"] == "Cannot update a conversation's voice if assistant audio is present."
    assert err["event_id"] == "v"


def test_model_cannot_change() -> None:
    h = Harness("ga")
    err = error_of(h.send({"type": "session.update", "session": {"type": "realtime", "model": "other"}}))
    assert err["param"] == "session.model"
    assert types(h.send({"type": "session.update", "session": {"type": "realtime", "model": "gpt-realtime"}})) \
        == ["session.updated"]


def test_ga_transcription_session() -> None:
    h = Harness("ga", kind="transcription", model=None)
    s = h.created[0]["session"]
    assert s["type"] == "transcription" and s["object"] == "realtime.transcription_session"
    assert s["audio"]["input"]["turn_detection"] == {"type": "server_vad", "threshold": 0.5,
                                                     "prefix_padding_ms": 300, "silence_duration_ms": 200}
    got = h.send({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {
        "transcription": {"model": "gpt-4o-mini-transcribe"}}}}})
    s = only(got, "session.updated")["session"]
    assert s["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe", "language": None,
                                                    "prompt": None}
    err = error_of(h.send({"type": "session.update", "session": {"type": "realtime"}}))
    assert err["message"] == "Passing a realtime session update event to a transcription session is not allowed."
    assert error_of(h.send({"type": "response.create"}))["param"] == "type"


def test_beta_transcription_session() -> None:
    h = Harness("beta", kind="transcription", model=None)
    assert h.created[0]["type"] == "transcription_session.created"
    got = h.send({"type": "transcription_session.update",
                  "session": {"input_audio_transcription": {"model": "whisper-1"}}})
    s = only(got, "transcription_session.updated")["session"]
    assert s["input_audio_transcription"]["model"] == "whisper-1"
    assert "create_response" not in s["turn_detection"]


def test_transcription_session_update_is_unknown_in_a_realtime_session() -> None:
    h = Harness("beta")
    err = error_of(h.send({"type": "transcription_session.update", "session": {}}))
    assert err["code"] == "invalid_value" and err["param"] == "type"


def test_session_expiry_sends_the_error_then_closes_1001(dialect: str) -> None:
    h = Harness(dialect, max_duration_s=120.0)
    assert h.session.next_deadline() == h.now + 120.0
    assert h.advance(119.0) == [] and not h.closes
    err = error_of(h.advance(1.0))
    minutes = 60 if dialect == "ga" else 30
    assert err["code"] == "session_expired"
    assert err["message"] == f"Your session hit the maximum duration of {minutes} minutes."
    assert h.closes[0].code == 1001 and h.closes[0].reason == err["message"]
    assert h.send({"type": "response.create"}) == []  # nothing after the close


def test_session_close_closes_gracefully() -> None:
    h = Harness("ga")
    assert h.send({"type": "session.close"}) == []
    assert h.closes[0].code == 1000
