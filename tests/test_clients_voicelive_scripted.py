"""Voice Live events a scenario scripts, driven with the ``azure-ai-voicelive`` async client and checked strictly
against its models (docs/protocol.md §12.7, §5.11): ``warning`` (a reply's ``warnings``), a hosted agent's
``response.invocation.delta`` (a reply's ``invocation``) and a failed input transcription (``transcripts:
[{error: …}]``). Other dialects have no such events: there the warnings and deltas are not sent."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect as ws_connect

pytest.importorskip("azure.ai.voicelive")

from azure.ai.voicelive.aio import connect
from azure.ai.voicelive.models import (
    AudioInputTranscriptionOptions,
    InputTextContentPart,
    Modality,
    ResponseCreateParams,
    UserMessageItem,
)
from azure.core.credentials import AzureKeyCredential

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.clients_support import speech_turn
from tests.test_clients_voicelive import recv, until, voice_live_session

WARNING = {"message": "The voice en-US-AvaNeural does not support style 'cheerful'; the default style is used.",
           "code": "voice_style_not_supported", "param": "session.voice.style"}
DELTAS = [{"event": "tool.started", "tool": "lookup_order", "order": "A-17"},
          {"event": "tool.completed", "tool": "lookup_order", "result": {"status": "shipped"}}]
SCENARIO: dict[str, Any] = {
    "rules": [{"match": {"text": "order"}, "reply": {"text": "Your order has shipped.", "warnings": [WARNING],
                                                      "invocation": DELTAS}}],
    "transcripts": [{"error": {"code": "audio_unintelligible", "message": "The audio could not be transcribed."}}],
}


@pytest.fixture(scope="module")
def mock() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning")) as srv:
        srv.control.load_scenario(SCENARIO)
        yield srv


def _connect(server: ServerThread) -> Any:
    return connect(credential=AzureKeyCredential("azure-key"), endpoint=server.http_url, model="gpt-realtime")


def test_scripted_warning_and_invocation_deltas(mock: ServerThread) -> None:
    async def main() -> list[Any]:
        async with _connect(mock) as conn:
            assert (await recv(conn)).type == "session.created"
            await conn.session.update(session=voice_live_session(modalities=[Modality.TEXT], turn_detection=None))
            assert (await recv(conn)).type == "session.updated"
            await conn.conversation.item.create(item=UserMessageItem(content=[InputTextContentPart(
                text="Where is my order?")]))
            await recv(conn)
            await conn.response.create(response=ResponseCreateParams(invoke_input={"order": "A-17"}))
            return await until(conn, "response.done")

    events = asyncio.run(main())
    types = [e.type for e in events]
    assert types[:2] == ["warning", "response.created"]  # the warning precedes the response it concerns [U]
    warning = events[0].warning
    assert (warning.message, warning.code, warning.param) == (WARNING["message"], WARNING["code"], WARNING["param"])
    deltas = [e.delta for e in events if e.type == "response.invocation.delta"]
    assert deltas == DELTAS  # passed through as-is, in order
    assert types.index("response.invocation.delta") < types.index("response.output_item.added")
    assert "".join(e.delta for e in events if e.type == "response.text.delta") == "Your order has shipped."


def test_scripted_transcription_failure(mock: ServerThread) -> None:
    audio = base64.b64encode(speech_turn(trailing_silence_ms=100)).decode()

    async def main() -> list[Any]:
        async with _connect(mock) as conn:
            await recv(conn)
            await conn.session.update(session=voice_live_session(
                modalities=[Modality.TEXT], turn_detection=None,
                input_audio_transcription=AudioInputTranscriptionOptions(model="azure-speech", language="en-US")))
            await recv(conn)
            await conn.input_audio_buffer.append(audio=audio)
            await conn.input_audio_buffer.commit()
            return await until(conn, "conversation.item.input_audio_transcription.failed")

    events = asyncio.run(main())
    committed = next(e for e in events if e.type == "input_audio_buffer.committed")
    failed = events[-1]
    assert failed.item_id == committed.item_id and failed.content_index == 0
    assert (failed.error.code, failed.error.message) == ("audio_unintelligible", "The audio could not be transcribed.")
    assert not any(e.type == "conversation.item.input_audio_transcription.completed" for e in events)


def test_other_dialects_send_neither(mock: ServerThread) -> None:
    """The beta dialect has no ``warning`` or ``response.invocation.delta``: the scripted reply comes alone."""
    with ws_connect(f"{mock.ws_url}/v1/realtime?model=gpt-4o-realtime-preview",
                    additional_headers={"OpenAI-Beta": "realtime=v1"}) as ws:
        ws.send(json.dumps({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "my order?"}]}}))
        ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
        types: list[str] = []
        while not types or types[-1] != "response.done":
            types.append(json.loads(ws.recv(timeout=10))["type"])
    assert "warning" not in types and "response.invocation.delta" not in types
    assert "response.text.delta" in types
