"""Input audio buffer with manual commit (docs/protocol.md §2.2–§2.4, §5.6, §6.2, §7)."""

from __future__ import annotations

import base64

import pytest

from tests.harness import Harness, error_of, only, types


def _manual(dialect: str, **options: object) -> Harness:
    h = Harness(dialect, **options)
    td = {"type": "realtime", "audio": {"input": {"turn_detection": None}}} if dialect == "ga" \
        else {"turn_detection": None}
    h.send({"type": "session.update", "session": td})
    return h


def test_append_has_no_ack_and_commit_creates_the_user_item(dialect: str) -> None:
    h = _manual(dialect)
    assert h.append_ms(150, amplitude=0.1) == []
    got = h.send({"type": "input_audio_buffer.commit"})
    expected = ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"] \
        if dialect == "ga" else ["input_audio_buffer.committed", "conversation.item.created"]
    assert types(got) == expected
    committed = got[0]
    assert committed["previous_item_id"] is None
    item = got[1]["item"]
    assert item["id"] == committed["item_id"] and item["role"] == "user"
    assert item["content"] == [{"type": "input_audio", "transcript": None}]  # no bytes in events (§4.7)


def test_commit_rule_is_100ms_since_the_last_commit(h: Harness) -> None:
    err = error_of(h.send({"type": "input_audio_buffer.commit", "event_id": "commit_10"}))
    assert err == {"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty",
                   "message": "Error committing input audio buffer: buffer too small. Expected at least 100ms of "
                              "audio, but buffer only has 0.00ms of audio.", "param": None, "event_id": "commit_10"}
    h.append_ms(50)
    assert "50.00ms" in error_of(h.send({"type": "input_audio_buffer.commit"}))["message"]
    h.append_ms(50)
    only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")
    h.append_ms(99)
    assert "99.00ms" in error_of(h.send({"type": "input_audio_buffer.commit"}))["message"]


def test_silence_commits_fine(h: Harness) -> None:
    h.append_ms(100, amplitude=0.0)
    assert only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")


def test_clear_always_answers_and_empties(h: Harness) -> None:
    assert types(h.send({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    h.append_ms(300)
    assert types(h.send({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    assert error_of(h.send({"type": "input_audio_buffer.commit"}))["code"] == "input_audio_buffer_commit_empty"
    assert h.session.buffer.position_ms == pytest.approx(300)  # the timeline is not reset (§8.3 assumption)


@pytest.mark.parametrize(("fmt_ga", "fmt_beta", "bytes_per_100ms"),
                         [("audio/pcmu", "g711_ulaw", 800), ("audio/pcma", "g711_alaw", 800)])
def test_g711_durations(dialect: str, fmt_ga: str, fmt_beta: str, bytes_per_100ms: int) -> None:
    h = Harness(dialect)
    session = {"type": "realtime", "audio": {"input": {"format": {"type": fmt_ga}, "turn_detection": None}}} \
        if dialect == "ga" else {"input_audio_format": fmt_beta, "turn_detection": None}
    only(h.send({"type": "session.update", "session": session}), "session.updated")
    h.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\xff" * (bytes_per_100ms - 8)).decode()})
    assert "99.00ms" in error_of(h.send({"type": "input_audio_buffer.commit"}))["message"]
    h.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\xff" * 8).decode()})
    only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")


@pytest.mark.parametrize("audio", ["not base64!", "AAA", "AAAA"])
def test_bad_audio_payloads(h: Harness, audio: str) -> None:
    err = error_of(h.send({"type": "input_audio_buffer.append", "event_id": "a1", "audio": audio}))
    assert err["code"] == "invalid_value" and err["param"] == "audio.audio" and err["event_id"] == "a1"
    assert err["message"] == "Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but got " \
                             "an invalid value."
    assert h.session.buffer.buffered_ms == 0


def test_append_type_and_size_checks(h: Harness) -> None:
    err = error_of(h.send({"type": "input_audio_buffer.append", "audio": 5}))
    assert err["code"] == "invalid_type" and err["param"] == "audio"
    err = error_of(h.send({"type": "input_audio_buffer.append"}))
    assert err["code"] == "missing_required_parameter" and err["param"] == "audio"
    huge = "A" * (15 * 1024 * 1024 + 4)
    err = error_of(h.send({"type": "input_audio_buffer.append", "audio": huge}))
    assert err["code"] == "string_above_max_length"
    h.append_ms(120)
    only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")


def test_buffered_audio_is_bounded() -> None:
    h = Harness("ga", max_buffer_ms=1000)
    h.append_ms(900)
    err = error_of(h.append_ms(200))
    assert err["code"] == "input_audio_buffer_full"
    assert h.session.buffer.buffered_ms == pytest.approx(900)  # what was accepted is kept
