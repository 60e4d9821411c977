"""``azure-ai-voicelive`` (Azure Voice Live's Python client) against a running mockrt (azure-ai-voicelive 1.3.1).

The client connects to ``{endpoint}/voice-live/realtime?api-version=…&model=…`` with an ``api-key`` header and
parses every frame with ``ServerEvent._deserialize``; :func:`conformance.voicelive.check_event` (re-exported here
for the other Voice Live test modules) checks every event strictly against the client's models: a strict schema
check of the mock's ``voice-live`` flavour.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

pytest.importorskip("azure.ai.voicelive")
pytest.importorskip("aiohttp")

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import (
    AudioEchoCancellation,
    AudioInputTranscriptionOptions,
    AudioNoiseReduction,
    AzureSemanticVad,
    AzureStandardVoice,
    FunctionCallOutputItem,
    FunctionTool,
    InputAudioFormat,
    InputTextContentPart,
    Modality,
    OutputAudioFormat,
    RequestSession,
    ResponseCreateParams,
    ServerVad,
    UserMessageItem,
)
from azure.core.credentials import AzureKeyCredential

from conformance.voicelive import check_event
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.clients_support import WAIT_S, chunks, speech_turn


async def recv(conn: VoiceLiveConnection) -> Any:
    """The next event, checked; typed ``Any`` as the client's ``ServerEvent`` subclasses are what tests read."""
    event = check_event(await asyncio.wait_for(conn.recv(), WAIT_S))
    assert event.type != "error", dict(event)
    return event


async def until(conn: VoiceLiveConnection, last: str) -> list[Any]:
    """Receive (and check) events up to and including the first of type ``last``."""
    events: list[Any] = []
    while not events or events[-1].type != last:
        events.append(await recv(conn))
    return events


def voice_live_session(**overrides: Any) -> RequestSession:
    """The session configuration of the client's own samples: an Azure voice, Azure semantic VAD, echo
    cancellation, deep noise suppression and Azure Speech transcription."""
    settings: dict[str, Any] = {
        "modalities": [Modality.TEXT, Modality.AUDIO],
        "instructions": "You are a concise assistant.",
        "voice": AzureStandardVoice(name="en-US-AvaNeural"),
        "input_audio_format": InputAudioFormat.PCM16,
        "output_audio_format": OutputAudioFormat.PCM16,
        "turn_detection": AzureSemanticVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500),
        "input_audio_echo_cancellation": AudioEchoCancellation(),
        "input_audio_noise_reduction": AudioNoiseReduction(type="azure_deep_noise_suppression"),
        "input_audio_transcription": AudioInputTranscriptionOptions(model="azure-speech", language="en-US"),
    }
    settings.update(overrides)
    return RequestSession(**settings)


def _connect(server: ServerThread, **kwargs: Any) -> Any:
    return connect(credential=AzureKeyCredential("azure-key"), endpoint=server.http_url, model="gpt-realtime",
                   **kwargs)


def test_session_update_with_azure_settings_and_text_turn(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            created = await recv(conn)
            assert created.type == "session.created" and created.session.model == "gpt-realtime"
            await conn.session.update(session=voice_live_session())
            updated = await recv(conn)
            assert updated.type == "session.updated"
            session = updated.session
            # the client leaves the ``Voice`` union (str | OpenAIVoice | AzureVoice | …) as a plain mapping
            assert dict(session.voice) == {"type": "azure-standard", "name": "en-US-AvaNeural"}
            assert session.turn_detection.type == "azure_semantic_vad"
            assert session.turn_detection.silence_duration_ms == 500
            assert session.input_audio_echo_cancellation.type == "server_echo_cancellation"
            assert session.input_audio_noise_reduction.type == "azure_deep_noise_suppression"
            assert session.input_audio_transcription.model == "azure-speech"

            await conn.conversation.item.create(item=UserMessageItem(content=[InputTextContentPart(text="Hi")]))
            item = await recv(conn)
            assert item.type == "conversation.item.created" and item.item.role == "user"
            await conn.response.create()
            events = await until(conn, "response.done")
            types = [e.type for e in events]
            assert types[:2] == ["response.created", "rate_limits.updated"]
            audio = b"".join(e.delta for e in events if e.type == "response.audio.delta")
            transcript = "".join(e.delta for e in events if e.type == "response.audio_transcript.delta")
            assert len(audio) > 24000 and transcript == 'You said "Hi". This is the mockrt default reply.'
            done = events[-1].response
            assert done.status == "completed" and done.output[0].content[0].transcript == transcript
            assert done.usage.output_tokens > 0

    asyncio.run(main())


def test_server_vad_turn_on_speech(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            await recv(conn)
            await conn.session.update(session=voice_live_session(
                turn_detection=ServerVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500)))
            assert (await recv(conn)).type == "session.updated"
            for chunk in chunks(speech_turn()):
                await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            events = await until(conn, "response.done")
            types = [e.type for e in events]
            assert types[:4] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                                 "input_audio_buffer.committed", "conversation.item.created"]
            started, stopped = events[0], events[1]
            assert 0 < started.audio_start_ms < 600 < 3030 < stopped.audio_end_ms  # speech: 600-3030 ms
            user = events[3].item
            assert user.role == "user" and user.content[0].type == "input_audio"
            assert "response.created" in types and "response.audio.delta" in types
            transcribed = [e for e in events if e.type == "conversation.item.input_audio_transcription.completed"]
            if not transcribed:  # the transcription may finish after the reply (docs/protocol.md §5.5)
                transcribed = [e for e in await until(conn, "conversation.item.input_audio_transcription.completed")
                               if e.type == "conversation.item.input_audio_transcription.completed"]
            assert transcribed[0].item_id == user.id and transcribed[0].transcript
            assert events[-1].response.status == "completed"

    asyncio.run(main())


def test_function_call_round_trip(server: ServerThread) -> None:
    weather = FunctionTool(name="get_weather", description="Weather for a city.", parameters={
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})

    async def main() -> None:
        async with _connect(server) as conn:
            await recv(conn)
            await conn.session.update(session=voice_live_session(
                modalities=[Modality.TEXT], tools=[weather], tool_choice="required"))
            assert (await recv(conn)).type == "session.updated"
            await conn.conversation.item.create(
                item=UserMessageItem(content=[InputTextContentPart(text="Weather in Paris?")]))
            await recv(conn)
            await conn.response.create()
            events = await until(conn, "response.done")
            args_done = next(e for e in events if e.type == "response.function_call_arguments.done")
            assert args_done.name == "get_weather" and json.loads(args_done.arguments) == {"city": "example"}
            await conn.conversation.item.create(
                item=FunctionCallOutputItem(call_id=args_done.call_id, output='{"sky": "sunny"}'))
            assert (await recv(conn)).type == "conversation.item.created"
            await conn.response.create(response=ResponseCreateParams(tool_choice="auto"))
            events = await until(conn, "response.done")
            text = "".join(e.delta for e in events if e.type == "response.text.delta")
            assert text == 'The get_weather tool returned {"sky": "sunny"}.'

    asyncio.run(main())


def test_response_create_with_additional_instructions(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            await recv(conn)
            await conn.response.create(additional_instructions="Answer in one sentence.",
                                       response=ResponseCreateParams(modalities=[Modality.TEXT]))
            assert (await until(conn, "response.done"))[-1].response.status == "completed"

    asyncio.run(main())


def test_wrong_key_is_refused_at_the_http_level() -> None:
    from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError

    async def main(url: str) -> str:
        with pytest.raises(VoiceLiveConnectionError) as info:
            async with connect(credential=AzureKeyCredential("wrong"), endpoint=url, model="gpt-realtime"):
                pass
        return str(info.value)

    with ServerThread(ServerConfig(port=0, api_keys=("right-key",), pacing=Pacing(audio_speed=50.0),
                                   log_level="warning")) as keyed:
        assert "401" in asyncio.run(main(keyed.http_url))

        async def ok() -> str:
            async with connect(credential=AzureKeyCredential("right-key"), endpoint=keyed.http_url,
                               model="gpt-realtime") as conn:
                return str((await recv(conn)).type)

        assert asyncio.run(ok()) == "session.created"
