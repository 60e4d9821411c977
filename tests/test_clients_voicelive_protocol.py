"""The ``voice-live`` flavour on the wire, without the client library (azure-ai-voicelive 1.3.1).

Routing (``/voice-live/realtime`` and the older ``/voice-agent/realtime``), Azure-style auth, the model from
``?model=``, and that the Voice Live extensions of the beta dialect are active on these paths only.
``tests/test_clients_voicelive.py`` drives the same flavour with the real ``azure-ai-voicelive`` client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event

KEY = "sk-test-key-1234567890"  # the key of the ``keyed_server`` fixture
VOICE_LIVE = "/voice-live/realtime?api-version=2026-07-15&model=gpt-realtime"
BETA = "/v1/realtime?model=gpt-realtime"

AZURE_SESSION: dict[str, Any] = {
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural", "temperature": 0.8},
    "turn_detection": {"type": "azure_semantic_vad_multilingual", "threshold": 0.4, "silence_duration_ms": 400,
                       "languages": ["en", "fr"], "remove_filler_words": True,
                       "end_of_utterance_detection": {"model": "semantic_detection_v1", "timeout_ms": 2000}},
    "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
    "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
    "input_audio_transcription": {"model": "azure-speech", "language": "en-US", "phrase_list": ["Contoso"]},
    "parallel_tool_calls": False,
}


def _recv(ws: Connection) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return event


def _open(server: ServerThread, path: str) -> Connection:
    headers = {"OpenAI-Beta": "realtime=v1"} if path.startswith("/v1/") else {"api-key": "k"}
    return connect(server.ws_url + path, additional_headers=headers)


@pytest.mark.parametrize("path", ["/voice-live/realtime?api-version=2026-07-15&model=gpt-4.1",
                                  "/voice-agent/realtime?api-version=2025-05-01-preview&model=gpt-4.1"])
def test_routes_to_the_beta_dialect_with_the_model_from_the_query(server: ServerThread, path: str) -> None:
    with _open(server, path) as ws:
        session = _recv(ws)["session"]
        assert session["modalities"] == ["audio", "text"] and "output_modalities" not in session  # beta shape
        assert session["model"] == "gpt-4.1"  # the requested model, not a deployment's (azure-ai-voicelive 1.3.1)


def test_missing_model_is_an_http_400(server: ServerThread) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(server.ws_url + "/voice-live/realtime?api-version=2026-07-15")
    assert info.value.response.status_code == 400


@pytest.mark.parametrize("headers", [{"api-key": "wrong"}, {"Authorization": "Bearer wrong"}, {}])
def test_bad_or_missing_key_is_an_http_401(keyed_server: ServerThread, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(keyed_server.ws_url + VOICE_LIVE, additional_headers=headers)
    assert info.value.response.status_code == 401


@pytest.mark.parametrize("headers", [{"api-key": KEY}, {"Authorization": f"Bearer {KEY}"}])
def test_api_key_or_bearer_is_accepted(keyed_server: ServerThread, headers: dict[str, str]) -> None:
    with connect(keyed_server.ws_url + VOICE_LIVE, additional_headers=headers) as ws:
        assert _recv(ws)["type"] == "session.created"


def test_azure_session_settings_are_accepted_and_echoed(server: ServerThread) -> None:
    with _open(server, VOICE_LIVE) as ws:
        _recv(ws)
        ws.send(json.dumps({"type": "session.update", "session": AZURE_SESSION}))
        session = _recv(ws)["session"]
        assert session["voice"] == AZURE_SESSION["voice"]
        assert session["turn_detection"] == {
            "type": "azure_semantic_vad_multilingual", "threshold": 0.4, "prefix_padding_ms": 300,
            "silence_duration_ms": 400, "create_response": True, "interrupt_response": True,
            "languages": ["en", "fr"], "remove_filler_words": True,
            "end_of_utterance_detection": {"model": "semantic_detection_v1", "timeout_ms": 2000},
        }
        for key in ("input_audio_noise_reduction", "input_audio_echo_cancellation", "input_audio_transcription",
                    "parallel_tool_calls"):
            assert session[key] == AZURE_SESSION[key], key
        # back to plain server VAD: the Azure knobs are gone
        ws.send(json.dumps({"type": "session.update", "session": {"turn_detection": {"type": "server_vad"}}}))
        assert _recv(ws)["session"]["turn_detection"]["type"] == "server_vad"
        assert "languages" not in _recv_turn_detection(ws)


def _recv_turn_detection(ws: Connection) -> dict[str, Any]:
    ws.send(json.dumps({"type": "session.update", "session": {}}))
    td: dict[str, Any] = _recv(ws)["session"]["turn_detection"]
    return td


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"voice": {"type": "azure-custom", "name": "v"}}, "missing_required_parameter", "session.voice.endpoint_id"),
        ({"voice": {"type": "elevenlabs", "name": "v"}}, "invalid_value", "session.voice.type"),
        ({"voice": "en-US-AvaNeural"}, "invalid_value", "session.voice"),
        ({"turn_detection": {"type": "azure_semantic_vad_en", "languages": ["en"]}}, "unknown_parameter",
         "session.turn_detection.languages"),
        ({"avatar": {"character": "lisa"}}, "missing_required_parameter", "session.avatar.customized"),
        ({"avatar": {"character": "lisa", "customized": False, "type": "3d"}}, "invalid_value", "session.avatar.type"),
        ({"input_audio_sampling_rate": 44100}, "invalid_value", "session.input_audio_sampling_rate"),
        ({"input_audio_format": "g711_ulaw", "input_audio_sampling_rate": 16000}, "invalid_value",
         "session.input_audio_sampling_rate"),
        ({"output_audio_format": "pcm16_44100hz"}, "invalid_value", "session.output_audio_format"),
        ({"output_audio_timestamp_types": ["sentence"]}, "invalid_value", "session.output_audio_timestamp_types[0]"),
        ({"animation": {"outputs": ["emotion"]}}, "invalid_value", "session.animation.outputs[0]"),
        ({"reasoning_effort": "extreme"}, "invalid_value", "session.reasoning_effort"),
        ({"interim_response": {"type": "static_interim_response", "texts": "wait"}}, "invalid_type",
         "session.interim_response.texts"),
        ({"metadata": {"k": 1}}, "invalid_type", "session.metadata.k"),
    ],
)
def test_voice_live_validation(server: ServerThread, session: dict[str, Any], code: str, param: str) -> None:
    with _open(server, VOICE_LIVE) as ws:
        _recv(ws)
        ws.send(json.dumps({"type": "session.update", "event_id": "e1", "session": session}))
        err = _recv(ws)["error"]
        assert (err["code"], err["param"], err["event_id"]) == (code, param, "e1")


@pytest.mark.parametrize("field", ["voice", "turn_detection", "input_audio_echo_cancellation"])
def test_extensions_are_voice_live_only(server: ServerThread, field: str) -> None:
    with _open(server, BETA) as ws:
        _recv(ws)
        ws.send(json.dumps({"type": "session.update", "session": {field: AZURE_SESSION[field]}}))
        err = _recv(ws)["error"]
        assert err["param"].startswith(f"session.{field}")


def _function_call_turn(ws: Connection) -> dict[str, dict[str, Any]]:
    _recv(ws)
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    ws.send(json.dumps({"type": "response.create", "response": {
        "modalities": ["text"], "tools": [tool], "tool_choice": "required"}}))
    seen: dict[str, dict[str, Any]] = {}
    while "response.done" not in seen:
        event = _recv(ws)
        assert event["type"] != "error", event
        seen[event["type"]] = event
    return seen


def test_voice_live_wire_differences(server: ServerThread) -> None:
    """``name`` on ``response.function_call_arguments.done`` and GA-style usage details in Voice Live only."""
    with _open(server, VOICE_LIVE) as ws:
        seen = _function_call_turn(ws)
        assert seen["response.function_call_arguments.done"]["name"] == "get_weather"
        details = seen["response.done"]["response"]["usage"]["input_token_details"]
        assert details["image_tokens"] == 0 and "cached_tokens_details" in details
        assert seen["rate_limits.updated"]["rate_limits"] == []  # as on Azure's preview path (§3.9)
    with _open(server, BETA) as ws:
        seen = _function_call_turn(ws)
        for event in seen.values():
            validate_server_event(event, "beta")
        assert "name" not in seen["response.function_call_arguments.done"]
        assert "image_tokens" not in seen["response.done"]["response"]["usage"]["input_token_details"]
