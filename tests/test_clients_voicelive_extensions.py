"""Azure Voice Live's extensions driven with ``azure-ai-voicelive`` 1.3.1 (async client), every received event
strictly checked against its models (:func:`tests.test_clients_voicelive.check_event`; docs/protocol.md §12):
sampling rates and 8/16 kHz output, word timestamps and animation aligned with the output audio, the
``response.create`` directives, the Voice Live client events, ``input_image`` parts and the avatar handshake.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("azure.ai.voicelive")

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import (
    Animation,
    AssistantMessageItem,
    AvatarConfig,
    ClientEventInputAudioClear,
    ClientEventInputAudioTurnAppend,
    ClientEventInputAudioTurnCancel,
    ClientEventInputAudioTurnEnd,
    ClientEventInputAudioTurnStart,
    ClientEventInputTextDelta,
    ClientEventInputTextDone,
    ClientEventOutputAudioBufferClear,
    ClientEventResponseCreate,
    ClientEventSessionAvatarConnect,
    InputTextContentPart,
    Modality,
    OutputTextContentPart,
    RequestImageContentPart,
    ResponseCreateParams,
    ServerVad,
    StaticInterimResponseConfig,
    UserMessageItem,
)
from azure.core.credentials import AzureKeyCredential

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.clients_support import WAIT_S, chunks, speech_turn
from tests.test_clients_voicelive import check_event, recv, until, voice_live_session


@pytest.fixture(scope="module")
def live() -> Iterator[ServerThread]:
    """Output paced in real time: a response stays in progress while the test acts on it."""
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=1.0), log_level="warning")) as srv:
        yield srv


def _connect(server: ServerThread) -> Any:
    return connect(credential=AzureKeyCredential("azure-key"), endpoint=server.http_url, model="gpt-realtime")


async def _error(conn: VoiceLiveConnection) -> Any:
    event = check_event(await asyncio.wait_for(conn.recv(), WAIT_S))
    assert event.type == "error", dict(event)
    return event.error


async def _ready(conn: VoiceLiveConnection, **settings: Any) -> Any:
    assert (await recv(conn)).type == "session.created"
    await conn.session.update(session=voice_live_session(**settings))
    updated = await recv(conn)
    assert updated.type == "session.updated"
    return updated.session


def _text_turn(text: str = "Hi") -> UserMessageItem:
    return UserMessageItem(content=[InputTextContentPart(text=text)])


def test_settings_are_echoed(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            session = await _ready(
                conn, input_audio_sampling_rate=16000, output_audio_format="pcm16_8000hz",
                output_audio_timestamp_types=["word"], animation=Animation(outputs=["viseme_id"]),
                reasoning_effort="low", metadata={"app": "test"},
                interim_response=StaticInterimResponseConfig(texts=["One moment."], triggers=["latency"]),
                avatar=AvatarConfig(character="lisa", style="casual-sitting", customized=False))
            assert (session.input_audio_format, session.input_audio_sampling_rate) == ("pcm16", 16000)
            assert session.output_audio_format == "pcm16_8000hz"
            assert session.output_audio_timestamp_types == ["word"] and session.animation.outputs == ["viseme_id"]
            assert (session.reasoning_effort, session.metadata) == ("low", {"app": "test"})
            assert session.interim_response["texts"] == ["One moment."] and session.avatar.character == "lisa"
            await conn.session.update(session={"input_audio_format": "g711_ulaw", "animation": None})
            session = (await recv(conn)).session
            assert session.input_audio_format == "g711_ulaw" and session.input_audio_sampling_rate is None
            assert session.animation is None and session.output_audio_timestamp_types == ["word"]

    asyncio.run(main())


@pytest.mark.parametrize(("wire", "rate"), [("pcm16_16000hz", 16000), ("pcm16_8000hz", 8000), ("pcm16", 24000)])
def test_output_rate_timestamps_and_animation_follow_the_audio(server: ServerThread, wire: str, rate: int) -> None:
    async def turn(conn: VoiceLiveConnection) -> list[Any]:
        await conn.conversation.item.create(item=_text_turn())
        await recv(conn)
        await conn.response.create()
        return await until(conn, "response.done")

    async def main() -> tuple[list[Any], list[Any]]:
        async with _connect(server) as conn:
            await _ready(conn, output_audio_format=wire, output_audio_timestamp_types=["word"],
                         animation=Animation(outputs=["blendshapes", "viseme_id"]))
            first = await turn(conn)
        async with _connect(server) as conn:
            await _ready(conn, output_audio_format=wire, output_audio_timestamp_types=["word"],
                         animation=Animation(outputs=["blendshapes", "viseme_id"]))
            return first, await turn(conn)

    events, again = asyncio.run(main())
    audio = b"".join(e.delta for e in events if e.type == "response.audio.delta")
    audio_ms = len(audio) / 2 * 1000 / rate
    assert events[-1].response.output_audio_format == wire
    # The same reply lasts as long at every rate (the synthesised speech is rendered at the output rate).
    assert 2500 < audio_ms < 6000
    words = [e for e in events if e.type == "response.audio_timestamp.delta"]
    transcript = "".join(e.delta for e in events if e.type == "response.audio_transcript.delta")
    assert [w.text for w in words] == transcript.split()
    offsets = [w.audio_offset_ms for w in words]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    assert words[-1].audio_offset_ms + words[-1].audio_duration_ms <= audio_ms
    # Each word's voiced span is loud in the audio; the gaps between words are silent (the synthesiser's).
    pcm = np.frombuffer(audio, "<i2").astype(np.float64)
    for w in words:
        a, b = w.audio_offset_ms * rate // 1000, (w.audio_offset_ms + w.audio_duration_ms) * rate // 1000
        assert np.abs(pcm[a:b]).mean() > 1000, w.text
        gap = pcm[b + rate // 500: b + rate // 50]  # 2-20 ms after the word ends
        assert gap.size == 0 or np.abs(gap).max() < 300, w.text
    visemes = [e for e in events if e.type == "response.animation_viseme.delta"]
    assert visemes and all(0 <= v.viseme_id <= 21 and v.audio_offset_ms <= audio_ms for v in visemes)
    frames = [f for e in events if e.type == "response.animation_blendshapes.delta" for f in e.frames]
    indexes = [e.frame_index for e in events if e.type == "response.animation_blendshapes.delta"]
    assert indexes[0] == 0 and len(frames) == int(audio_ms * 60 // 1000) and all(len(f) == 55 for f in frames)
    types = [e.type for e in events]
    for done in ("response.audio_timestamp.done", "response.animation_viseme.done",
                 "response.animation_blendshapes.done"):
        # each stream ends right after the audio it follows [U: the reference gives no order]
        assert types.index("response.audio.done") < types.index(done) < types.index("response.content_part.done")
    # Deterministic: another session gets the same derived streams.
    assert [(v.audio_offset_ms, v.viseme_id) for v in visemes] == [
        (v.audio_offset_ms, v.viseme_id) for v in again if v.type == "response.animation_viseme.delta"]


def test_input_at_16_khz_keeps_the_timeline(server: ServerThread) -> None:
    pcm24 = np.frombuffer(speech_turn(), "<i2")
    pcm16 = np.interp(np.arange(len(pcm24) * 2 // 3) * 1.5, np.arange(len(pcm24)), pcm24).astype("<i2")

    async def main() -> list[Any]:
        async with _connect(server) as conn:
            await _ready(conn, input_audio_sampling_rate=16000,
                         turn_detection=ServerVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500))
            for chunk in chunks(pcm16.tobytes(), rate=16000):
                await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            return await until(conn, "input_audio_buffer.committed")

    events = asyncio.run(main())
    started, stopped = events[0], events[1]
    assert (started.type, stopped.type) == ("input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped")
    assert 0 < started.audio_start_ms < 600 < 3030 < stopped.audio_end_ms < 3700  # speech: 600-3030 ms


def test_input_audio_turns(server: ServerThread) -> None:
    audio = speech_turn(trailing_silence_ms=100)

    async def main() -> None:
        async with _connect(server) as conn:
            await _ready(conn, turn_detection=None)
            await conn.send(ClientEventInputAudioTurnStart(turn_id="t1"))
            for chunk in chunks(audio):
                await conn.send(ClientEventInputAudioTurnAppend(turn_id="t1", audio=base64.b64encode(chunk).decode()))
            await conn.send(ClientEventInputAudioTurnEnd(turn_id="t1"))
            events = await until(conn, "response.done")
            types = [e.type for e in events]
            assert types[:3] == ["input_audio_buffer.committed", "conversation.item.created", "response.created"]
            assert events[1].item.content[0].type == "input_audio" and events[-1].response.status == "completed"
            # A cancelled turn leaves nothing to commit; an unknown turn is an error naming ``turn_id``.
            await conn.send(ClientEventInputAudioTurnStart(turn_id="t2"))
            await conn.send(ClientEventInputAudioTurnAppend(turn_id="t2", audio=base64.b64encode(audio).decode()))
            await conn.send(ClientEventInputAudioTurnCancel(turn_id="t2"))
            await conn.send(ClientEventInputAudioTurnEnd(turn_id="t2"))
            error = await _error(conn)
            assert (error.code, error.param) == ("invalid_value", "turn_id")
            await conn.input_audio_buffer.append(audio=base64.b64encode(audio).decode())
            await conn.send(ClientEventInputAudioClear())
            assert (await recv(conn)).type == "input_audio_buffer.cleared"

    asyncio.run(main())


def test_streamed_text_input_and_image_parts(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            await _ready(conn, modalities=[Modality.TEXT])
            for piece in ("What is ", "in this ", "picture?"):
                await conn.send(ClientEventInputTextDelta(id="item_text1", delta=piece))
            await conn.send(ClientEventInputTextDone(id="item_text1"))
            created = await recv(conn)
            assert created.type == "conversation.item.created" and created.item.id == "item_text1"
            assert created.item.content[0].text == "What is in this picture?"
            await conn.conversation.item.create(item=UserMessageItem(content=[
                RequestImageContentPart(image_url="data:image/png;base64,iVBORw0KGgo=", detail="low"),
                InputTextContentPart(text="and this one")]))
            image = (await recv(conn)).item
            assert (image.content[0].type, image.content[0].detail) == ("input_image", "low")
            await conn.send(ClientEventInputTextDone(id="item_never"))
            assert (await _error(conn)).param == "id"
            await conn.response.create()
            reply = await until(conn, "response.done")
            assert "and this one" in "".join(e.delta for e in reply if e.type == "response.text.delta")

    asyncio.run(main())


def test_response_create_directives(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            await _ready(conn)
            said = "Welcome to Contoso. How can I help?"
            await conn.response.create(response=ResponseCreateParams(
                pre_generated_assistant_message=AssistantMessageItem(content=[OutputTextContentPart(text=said)]),
                reasoning_effort="minimal", metadata={"greeting": "1"}))
            events = await until(conn, "response.done")
            assert "".join(e.delta for e in events if e.type == "response.audio_transcript.delta") == said
            assert events[-1].response.metadata == {"greeting": "1"}
            # append_input_items: into the conversation first; commit=false: the reply stays out of it.
            await conn.response.create(response=ResponseCreateParams(
                append_input_items=[_text_turn("Appended")], commit=False, modalities=[Modality.TEXT]))
            events = await until(conn, "response.done")
            assert [e.type for e in events[:2]] == ["conversation.item.created", "response.created"]
            assert events[-1].response.conversation_id is None
            # input_items: this response's whole context.
            await conn.response.create(response=ResponseCreateParams(
                input_items=[_text_turn("Only this")], modalities=[Modality.TEXT]))
            events = await until(conn, "response.done")
            assert "Only this" in "".join(e.delta for e in events if e.type == "response.text.delta")
            await conn.response.create(response={"input_items": [{"type": "message", "role": "user",
                                                                  "content": [{"type": "bogus"}]}]})
            assert (await _error(conn)).param == "response.input_items[0].content[0].type"

    asyncio.run(main())


def test_cancel_previous_replaces_the_response_in_progress(live: ServerThread) -> None:
    async def main() -> None:
        async with _connect(live) as conn:
            await _ready(conn)
            await conn.response.create()
            first = (await recv(conn)).response
            await until(conn, "response.audio.delta")
            # cancel_previous: false keeps the service's active-response error
            await conn.send(ClientEventResponseCreate(response=ResponseCreateParams(cancel_previous=False)))
            assert (await _error(conn)).code == "conversation_already_has_active_response"
            # it defaults to true (docs/protocol.md §12)
            await conn.send(ClientEventResponseCreate(response=ResponseCreateParams(modalities=[Modality.TEXT])))
            events = await until(conn, "response.created")
            done = next(e for e in events if e.type == "response.done")
            assert done.response.id == first.id and done.response.status == "cancelled"
            assert done.response.status_details.reason == "client_cancelled"
            assert (await until(conn, "response.done"))[-1].response.status == "completed"

    asyncio.run(main())


def test_output_buffer_and_avatar(server: ServerThread) -> None:
    async def main() -> None:
        async with _connect(server) as conn:
            await _ready(conn)
            await conn.send(ClientEventOutputAudioBufferClear())
            assert (await recv(conn)).type == "output_audio_buffer.cleared"
            offer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
            await conn.send(ClientEventSessionAvatarConnect(client_sdp=offer))
            assert (await _error(conn)).param == "session.avatar"
            await conn.session.update(session={"avatar": {"character": "lisa", "customized": False}})
            await recv(conn)
            await conn.send(ClientEventSessionAvatarConnect(client_sdp=offer))
            connecting = await recv(conn)
            assert connecting.type == "session.avatar.connecting"
            answer = connecting.server_sdp
            assert answer.count("m=") == 2 and answer.count("a=inactive") == 2  # no video rendered (§12)
            await conn.conversation.item.create(item=_text_turn())
            await recv(conn)
            await conn.response.create()
            types = [e.type for e in await until(conn, "response.done")]
            speaking = types.index("session.avatar.switch_to_speaking")
            idle = types.index("session.avatar.switch_to_idle")
            assert types.index("response.content_part.added") < speaking < types.index("response.audio.delta")
            assert types.index("response.audio.done") < idle < types.index("response.done")

    asyncio.run(main())


def test_conversation_and_buffer_events_shared_with_beta(server: ServerThread) -> None:
    """The beta events Voice Live keeps (retrieve, truncate, delete, commit, clear, cancel) as its client models
    them."""
    audio = base64.b64encode(speech_turn(trailing_silence_ms=100)).decode()

    async def main() -> None:
        async with _connect(server) as conn:
            await _ready(conn, turn_detection=None)
            await conn.input_audio_buffer.append(audio=audio)
            await conn.input_audio_buffer.commit()
            committed = (await until(conn, "input_audio_buffer.committed"))[-1]
            await until(conn, "conversation.item.created")
            await conn.input_audio_buffer.append(audio=audio)
            await conn.input_audio_buffer.clear()
            await until(conn, "input_audio_buffer.cleared")  # after the first turn's transcription events
            await conn.response.create()
            events = await until(conn, "response.done")
            reply = events[-1].response.output[0]
            await conn.conversation.item.truncate(item_id=reply.id, content_index=0, audio_end_ms=500)
            truncated = (await until(conn, "conversation.item.truncated"))[-1]
            assert truncated.item_id == reply.id and truncated.audio_end_ms == 500
            await conn.conversation.item.retrieve(item_id=committed.item_id)
            retrieved = await recv(conn)
            assert retrieved.type == "conversation.item.retrieved" and retrieved.item.id == committed.item_id
            await conn.conversation.item.delete(item_id=committed.item_id)
            assert (await recv(conn)).type == "conversation.item.deleted"
            await conn.response.cancel()
            assert (await _error(conn)).code == "response_cancel_not_active"

    asyncio.run(main())
