"""Transcription details and session settings with effect, through the official openai SDK (issue 13;
docs/protocol.md §4.3, §4.12, §4.15, §5.11, §5.14)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from openai import OpenAI

from mockrt.core.model import DEFAULT_INSTRUCTIONS
from mockrt.core.models import REALTIME_MODELS
from mockrt.core.responses import text_tokens
from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event

LOGPROBS = "item.input_audio_transcription.logprobs"
TRANSCRIPTION_END = ("conversation.item.input_audio_transcription.completed",
                     "conversation.item.input_audio_transcription.failed")


@pytest.fixture(autouse=True)
def _fresh(mock: ServerThread) -> Iterator[None]:
    mock.control.reset()
    yield
    mock.control.reset()


def _client(server: ServerThread) -> OpenAI:
    return OpenAI(base_url=server.http_url + "/v1", api_key="sk-anything")


def _tone(ms: int, rate: int = 24000) -> str:
    t = np.arange(int(rate * ms / 1000)) / rate
    return base64.b64encode((0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()).decode()


def _recv(conn: Any) -> dict[str, Any]:
    raw: dict[str, Any] = conn.recv().to_dict()
    validate_server_event(raw, "ga")
    return raw


def _until(conn: Any, types: tuple[str, ...]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        event = _recv(conn)
        events.append(event)
        if event["type"] in types:
            return events
        assert event["type"] != "error", event


def _configure(conn: Any, session: dict[str, Any]) -> dict[str, Any]:
    assert _recv(conn)["type"] == "session.created"
    conn.session.update(session={"type": "realtime", **session})
    updated = _recv(conn)
    assert updated["type"] == "session.updated", updated
    return updated["session"]  # type: ignore[no-any-return]


def _transcribed_turn(conn: Any, ms: int = 500) -> list[dict[str, Any]]:
    conn.input_audio_buffer.append(audio=_tone(ms))
    conn.input_audio_buffer.commit()
    return _until(conn, TRANSCRIPTION_END)


def _manual(model: str, **extra: Any) -> dict[str, Any]:
    return {"audio": {"input": {"turn_detection": None, "transcription": {"model": model}}}, **extra}


# -- transcription ---------------------------------------------------------------------------------------------


def test_logprobs_on_deltas_and_completed_when_included(mock: ServerThread) -> None:
    mock.control.load_scenario({"transcripts": ["turn the lights on"]})
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        session = _configure(conn, _manual("gpt-4o-transcribe", include=[LOGPROBS]))
        assert session["include"] == [LOGPROBS]
        events = _transcribed_turn(conn)
    deltas = [e for e in events if e["type"] == "conversation.item.input_audio_transcription.delta"]
    completed = events[-1]
    assert completed["transcript"] == "turn the lights on"
    assert "".join(d["delta"] for d in deltas) == "turn the lights on"
    for delta in deltas:
        (prob,) = delta["logprobs"]
        assert prob["token"] == delta["delta"] and bytes(prob["bytes"]) == delta["delta"].encode()
        assert prob["logprob"] < 0
    assert [p["token"] for p in completed["logprobs"]] == [d["delta"] for d in deltas]
    assert completed["usage"]["type"] == "tokens"


def test_no_logprobs_without_include_and_duration_usage_for_whisper(mock: ServerThread) -> None:
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _configure(conn, _manual("whisper-1"))
        events = _transcribed_turn(conn, ms=1200)
    assert all("logprobs" not in e for e in events)
    assert events[-1]["usage"] == {"type": "duration", "seconds": 2}


def test_a_scenario_fails_one_turns_transcription_with_the_services_error_object(mock: ServerThread) -> None:
    mock.control.load_scenario({"transcripts": [
        "first turn",
        {"error": {"code": "audio_unintelligible", "message": "The audio was unintelligible."}},
        "third turn",
    ]})
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _configure(conn, _manual("gpt-4o-mini-transcribe"))
        first, second, third = (_transcribed_turn(conn)[-1] for _ in range(3))
    assert first["type"].endswith(".completed") and first["transcript"] == "first turn"
    assert second["type"] == "conversation.item.input_audio_transcription.failed"
    assert second["error"] == {"type": "transcription_error", "code": "audio_unintelligible",
                               "message": "The audio was unintelligible.", "param": None}
    assert third["transcript"] == "third turn"  # the session goes on


def test_diarize_model_sends_speaker_segments_on_the_input_timeline(mock: ServerThread) -> None:
    mock.control.load_scenario({"transcripts": [
        "warm up",
        {"speakers": [{"speaker": "A", "text": "Is it raining"}, {"speaker": "B", "text": "No"}]},
    ]})
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _configure(conn, _manual("gpt-4o-transcribe-diarize"))
        _transcribed_turn(conn, ms=200)
        events = _transcribed_turn(conn, ms=1000)
    segments = [e for e in events if e["type"] == "conversation.item.input_audio_transcription.segment"]
    assert not [e for e in events if e["type"].endswith(".delta")]
    assert [(s["speaker"], s["text"]) for s in segments] == [("A", "Is it raining"), ("B", "No")]
    # The second item's audio spans 0.2–1.2 s of the session's input; words share it: 3 words, then 1.
    assert [(s["start"], s["end"]) for s in segments] == [(0.2, 0.95), (0.95, 1.2)]
    assert len({s["id"] for s in segments}) == 2
    assert all(s["item_id"] == events[-1]["item_id"] for s in segments)
    assert events[-1]["transcript"] == "Is it raining No"


def test_transcription_models_are_the_services_list(mock: ServerThread) -> None:
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _recv(conn)
        conn.session.update(session={"type": "realtime", "audio": {"input": {
            "transcription": {"model": "gpt-5-transcribe"}}}})
        error = _recv(conn)
        assert error["type"] == "error"
        assert error["error"]["code"] == "invalid_value"
        assert error["error"]["param"] == "session.audio.input.transcription.model"
        assert "'gpt-realtime-whisper'" in error["error"]["message"]
        conn.session.update(session={"type": "realtime", "audio": {"input": {
            "transcription": {"model": "gpt-4o-mini-transcribe-2025-12-15"}}}})
        assert _recv(conn)["type"] == "session.updated"


# -- session settings ------------------------------------------------------------------------------------------


def test_reasoning_models_show_their_defaults_and_echo_the_clients_values(mock: ServerThread) -> None:
    with _client(mock).realtime.connect(model="gpt-realtime-2") as conn:
        created = _recv(conn)["session"]
        assert created["reasoning"] == {"effort": "low"} and created["parallel_tool_calls"] is True
        conn.session.update(session={"type": "realtime", "reasoning": {"effort": "high"},
                                     "parallel_tool_calls": False})
        updated = _recv(conn)["session"]
        assert updated["reasoning"] == {"effort": "high"} and updated["parallel_tool_calls"] is False
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        created = _recv(conn)["session"]
        assert "reasoning" not in created and "parallel_tool_calls" not in created


@pytest.mark.parametrize("model", ["gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime-1.5",
                                   "gpt-audio-1.5", "gpt-realtime-mini-2025-12-15"])
def test_current_and_deprecated_model_names_connect(mock: ServerThread, model: str) -> None:
    assert model in REALTIME_MODELS
    with _client(mock).realtime.connect(model=model) as conn:
        assert _recv(conn)["session"]["model"] == model


def _text_item(conn: Any, text: str) -> None:
    conn.conversation.item.create(item={"type": "message", "role": "user",
                                        "content": [{"type": "input_text", "text": text}]})
    _until(conn, ("conversation.item.done",))


def _respond(conn: Any) -> dict[str, Any]:
    conn.response.create(response={"output_modalities": ["text"]})
    done: dict[str, Any] = _until(conn, ("response.done",))[-1]["response"]
    return done


def test_retention_ratio_leaves_the_oldest_items_out_of_context_and_usage(mock: ServerThread) -> None:
    words = " ".join(["word"] * 20)
    per_item = text_tokens(words)
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _configure(conn, {"instructions": "Be brief.", "truncation": {
            "type": "retention_ratio", "retention_ratio": 0.5, "token_limits": {"post_instructions": 5 * per_item}}})
        for _ in range(4):
            _text_item(conn, words)
        full = _respond(conn)["usage"]
        assert full["input_token_details"]["text_tokens"] == text_tokens("Be brief.") + 4 * per_item
        for _ in range(3):  # 4 items + 1 reply + 3 more: over 5 items' worth
            _text_item(conn, words)
        cut = _respond(conn)["usage"]
    # Dropped oldest first until the conversation uses at most half of its 5-item limit.
    assert cut["input_tokens"] <= text_tokens("Be brief.") + 2.5 * per_item
    assert cut["input_token_details"]["text_tokens"] >= text_tokens("Be brief.") + 2 * per_item


def test_auto_truncation_fits_the_models_limit_and_disabled_fails_the_response(mock: ServerThread) -> None:
    huge = " ".join(["lorem"] * 30_000)
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _configure(conn, {})
        _text_item(conn, huge)
        _text_item(conn, "What now?")
        response = _respond(conn)
        assert response["status"] == "completed"
        assert response["usage"]["input_tokens"] <= 28_224  # the huge item is out of context
        assert "What now?" in response["output"][0]["content"][0]["text"]
        conn.session.update(session={"type": "realtime", "truncation": "disabled"})
        assert _until(conn, ("session.updated",))[-1]["session"]["truncation"] == "disabled"
        failed = _respond(conn)
    assert failed["status"] == "failed"
    error = failed["status_details"]["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "context_length_exceeded"


def _instruction_tokens(server: ServerThread, prompt: dict[str, Any]) -> int:
    """Input text tokens of a first response with no items: the instructions the "model" saw."""
    with _client(server).realtime.connect(model="gpt-realtime") as conn:
        session = _configure(conn, {"prompt": prompt})
        assert session["prompt"] == prompt  # echoed as given
        tokens: int = _respond(conn)["usage"]["input_token_details"]["text_tokens"]
        return tokens


def test_a_prompt_defined_in_the_scenario_becomes_the_instructions(mock: ServerThread) -> None:
    versions = {"1": "Old text.", "2": "You are a support agent for {{company}} in {{city}}."}
    mock.control.load_scenario({"prompts": [{"id": "pmpt_support", "variables": {"city": "Paris"},
                                             "versions": versions}]})
    current = _instruction_tokens(mock, {"id": "pmpt_support", "variables": {"company": "Acme"}})
    assert current == text_tokens("You are a support agent for Acme in Paris.")
    assert _instruction_tokens(mock, {"id": "pmpt_support", "version": "1"}) == text_tokens("Old text.")
    assert _instruction_tokens(mock, {"id": "pmpt_unknown"}) == text_tokens(DEFAULT_INSTRUCTIONS)  # echoed only


def test_a_prompt_on_response_create_applies_to_that_response_only(mock: ServerThread) -> None:
    mock.control.load_scenario({"prompts": [{"id": "pmpt_session", "instructions": "Answer as a pirate."},
                                            {"id": "pmpt_once", "instructions": "Answer as a {{role}} today.",
                                             "variables": {"role": "poet"}}]})
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        session = _configure(conn, {"output_modalities": ["text"], "prompt": {"id": "pmpt_session"}})

        def tokens(**response: Any) -> int:
            conn.response.create(response={"conversation": "none", "input": [], **response})
            events = _until(conn, ("response.done",))
            created = next(e for e in events if e["type"] == "response.created")["response"]
            assert "prompt" not in created  # the response object has no prompt (validated against the SDK)
            return int(events[-1]["response"]["usage"]["input_token_details"]["text_tokens"])

        assert tokens() == text_tokens("Answer as a pirate.")
        assert tokens(prompt={"id": "pmpt_once"}) == text_tokens("Answer as a poet today.")
        assert tokens(prompt={"id": "pmpt_once", "variables": {"role": "judge"}}) == text_tokens(
            "Answer as a judge today.")
        assert tokens(prompt={"id": "pmpt_once"}, instructions="Be brief.") == text_tokens(
            "Answer as a poet today.\nBe brief.")
        assert tokens(prompt=None) == text_tokens(DEFAULT_INSTRUCTIONS)  # null: no prompt for this response
        assert tokens(prompt={"id": "pmpt_elsewhere"}) == text_tokens(DEFAULT_INSTRUCTIONS)  # not stored here
        assert tokens() == text_tokens("Answer as a pirate.")  # the session's prompt is unchanged
        conn.response.create(response={"prompt": {"version": "1"}})  # type: ignore[typeddict-item]
        error = _until(conn, ("error",))[-1]["error"]
        assert (error["code"], error["param"]) == ("missing_required_parameter", "response.prompt.id")
    assert session["prompt"] == {"id": "pmpt_session"}
