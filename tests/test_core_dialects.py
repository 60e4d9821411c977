"""The dialect seam in both directions: every name and audio setting a dialect writes, it reads back
(docs/protocol.md §0.2, §2, §3, §4); the SDKs' unions are the ground truth for the names."""

from __future__ import annotations

import typing

import pytest
from openai.types.beta.realtime import RealtimeClientEvent as BetaClientEvent
from openai.types.beta.realtime import RealtimeServerEvent as BetaServerEvent
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent

from mockrt.audio.formats import AudioFormat
from mockrt.core.dialects import GA, Beta, Dialect, VoiceLive, dialect_named
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.model import Response, ResponseParams, SessionConfig, TurnDetection

DIALECTS: list[Dialect] = [GA(), Beta(), Beta(azure=True), VoiceLive()]
GA_ACCEPTED_BEYOND_THE_SDK = {"session.close", "session.input_audio_buffer.append"}
"""In the live GA service's list of accepted types (docs/protocol.md §2), from the translation sessions; the
realtime unions of the SDK lack them."""
IDS = ["ga", "beta", "azure-beta", "voice-live"]
VOICE_LIVE_ONLY = {AudioFormat.PCM16_16K, AudioFormat.PCM16_8K}


def _sdk_types(union: typing.Any) -> set[str]:
    out: set[str] = set()
    for member in typing.get_args(union):
        if hasattr(member, "model_fields") and "type" in member.model_fields:
            out.update(typing.get_args(member.model_fields["type"].annotation))
        else:
            out |= _sdk_types(member)
    return out


def _sdk(dialect: Dialect) -> tuple[set[str], set[str]]:
    if isinstance(dialect, VoiceLive):  # azure-ai-voicelive's own enums (docs/protocol.md §12)
        from azure.ai.voicelive.models import ClientEventType, ServerEventType

        return {e.value for e in ClientEventType}, {e.value for e in ServerEventType}
    if dialect.name == "ga":
        return _sdk_types(RealtimeClientEvent), _sdk_types(RealtimeServerEvent)
    return _sdk_types(BetaClientEvent), _sdk_types(BetaServerEvent)


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
def test_every_wire_name_is_one_the_sdk_knows(dialect: Dialect) -> None:
    client, server = _sdk(dialect)
    assert set(dialect.client_events) - GA_ACCEPTED_BEYOND_THE_SDK <= client
    # beta transcription_session.created is sent by the service but missing from the SDK (tests/protocol_types.py)
    sent_beyond = {"transcription_session.created"}
    if isinstance(dialect, VoiceLive):  # beta names the client does not model (tests/test_clients_voicelive.py)
        sent_beyond |= {"rate_limits.updated", "conversation.created", "transcription_session.updated"}
    assert set(dialect.server_events.values()) - sent_beyond <= server


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
def test_names_read_back(dialect: Dialect) -> None:
    for wire, event in dialect.client_events.items():
        assert dialect.client_event(wire) is event and dialect.accepts(wire)
    for event, wire in dialect.server_events.items():
        back = dialect.server_event(wire)
        assert back is event or dialect.server_events[back] == wire  # GA: transcription sessions share names
        assert dialect.wire_type(event) == wire
    assert not dialect.accepts("response.unknown") and dialect.client_event(42) is None
    assert dialect.accepts("output_audio_buffer.clear") is isinstance(dialect, VoiceLive)  # §12
    assert dialect.call_client_events.get("output_audio_buffer.clear") is ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR
    assert dialect.server_event("response.unknown") is None and dialect.server_event(None) is None


def test_each_dialect_has_its_own_names() -> None:
    ga, beta = GA(), Beta()
    assert ga.wire_type(ServerEvent.OUTPUT_TEXT_DELTA) == "response.output_text.delta"
    assert beta.wire_type(ServerEvent.OUTPUT_TEXT_DELTA) == "response.text.delta"
    assert beta.server_event("conversation.item.created") is ServerEvent.ITEM_ADDED
    assert ga.server_event("response.text.delta") is None  # a beta name is not GA
    assert beta.wire_type(ServerEvent.ITEM_DONE) is None  # not sent in beta
    assert ga.client_event("session.input_audio_buffer.append") is ClientEvent.INPUT_AUDIO_APPEND
    assert not beta.accepts("session.close") and beta.accepts("transcription_session.update")
    assert isinstance(dialect_named("beta"), Beta) and isinstance(dialect_named("ga"), GA)
    assert isinstance(dialect_named(None), GA)


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_session_and_response_audio_read_back(dialect: Dialect, fmt: AudioFormat) -> None:
    if fmt in VOICE_LIVE_ONLY and not isinstance(dialect, VoiceLive):
        pytest.skip("PCM16 at 16/8 kHz exists in Azure Voice Live only (docs/protocol.md §12)")
    td = TurnDetection(type="server_vad", threshold=0.7, prefix_padding_ms=120, silence_duration_ms=450,
                       create_response=False)
    cfg = SessionConfig(model="gpt-realtime", input_format=fmt, output_format=fmt, turn_detection=td)
    audio = dialect.session_audio(dialect.render_session(cfg, "sess_1", 0))
    assert (audio.input_format, audio.output_format) == (fmt, fmt)
    assert audio.has_turn_detection and audio.turn_detection is not None
    got = audio.turn_detection
    assert (got.type, got.threshold, got.prefix_padding_ms, got.silence_duration_ms, got.create_response) == (
        "server_vad", 0.7, 120, 450, False)
    off = dialect.session_audio(dialect.render_session(SessionConfig(turn_detection=None), "sess_1", 0))
    assert off.has_turn_detection and off.turn_detection is None
    params = ResponseParams(modality="audio", instructions="", voice="alloy", output_format=fmt, tools=[],
                            tool_choice="auto", temperature=0.8, max_output_tokens="inf")
    assert dialect.response_format(dialect.render_response(Response("resp_1", params, None))) is fmt
    assert dialect.session_audio({}).input_format is None and not dialect.session_audio({}).has_turn_detection


def test_voice_live_reads_its_azure_turn_detection_as_what_the_core_simulates() -> None:
    vl = VoiceLive()
    cfg = vl.parse_session_update({"turn_detection": {"type": "azure_semantic_vad", "threshold": 0.4}},
                                  SessionConfig(model="gpt-realtime"))
    rendered = vl.render_session(cfg, "sess_1", 0)
    assert rendered["turn_detection"]["type"] == "azure_semantic_vad"  # echoed as sent
    audio = vl.session_audio(rendered)
    assert audio.turn_detection is not None and audio.turn_detection.type == "server_vad"
    assert audio.turn_detection.threshold == 0.4 and audio.turn_detection_wire == rendered["turn_detection"]
