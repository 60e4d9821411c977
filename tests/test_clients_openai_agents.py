"""The OpenAI Agents SDK's realtime agents against a running mockrt.

``RealtimeRunner(agent).run(model_config={"url": …})`` connects to the URL verbatim (GA protocol, Bearer
auth), sends a ``session.update`` at once and a second, tracing-only one on ``session.created``, and validates
every server event with a pydantic ``TypeAdapter`` over the ``openai`` GA event types: an event it cannot
validate becomes an ``error`` / ``exception`` event for the application, which these tests forbid. Every raw
event is also checked with :func:`tests.protocol_types.validate_server_event` (no keys unknown to the SDK).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("agents.realtime")
pytest.importorskip("websockets")

from agents import function_tool
from agents.realtime import (
    RealtimeAgent,
    RealtimeRunConfig,
    RealtimeRunner,
    RealtimeSession,
    RealtimeSessionEvent,
)
from agents.realtime.model_inputs import RealtimeModelSendRawMessage

from mockrt.thread import ServerThread
from tests.clients_support import WAIT_S, speech_turn
from tests.protocol_types import validate_server_event

MODEL = "gpt-realtime"


async def start(server: ServerThread, agent: RealtimeAgent[Any], config: RealtimeRunConfig | None = None
                ) -> RealtimeSession:
    """A session on the mock. ``model_name`` must match the URL's model: the SDK repeats it in its
    ``session.update``s and its default (``gpt-realtime-2.1``) would be a model change, which the service
    refuses once the session has started (docs/protocol.md §4.3)."""
    runner = RealtimeRunner(agent, config=config)
    return await runner.run(model_config={
        "url": f"{server.ws_url}/v1/realtime?model={MODEL}",
        "api_key": "sk-anything",
        "initial_model_settings": {"model_name": MODEL},
    })


def raw_server_events(events: list[RealtimeSessionEvent]) -> list[dict[str, Any]]:
    """The server events as received, from the session's ``raw_model_event``s."""
    out: list[dict[str, Any]] = []
    for event in events:
        if event.type == "raw_model_event" and event.data.type == "raw_server_event":
            out.append(event.data.data)
    return out


async def collect(session: RealtimeSession, until: Callable[[RealtimeSessionEvent], bool],
                  timeout: float = WAIT_S) -> list[RealtimeSessionEvent]:
    """Session events up to and including the first for which ``until`` holds; no error event may occur."""
    events: list[RealtimeSessionEvent] = []
    async with asyncio.timeout(timeout):
        async for event in session:
            events.append(event)
            assert event.type != "error", event
            if event.type == "raw_model_event":
                assert event.data.type not in ("error", "exception"), event.data
            if event.type == "raw_model_event" and event.data.type == "raw_server_event":
                validate_server_event(event.data.data, "ga")
            if until(event):
                return events
    raise AssertionError("the session ended early")


def agent_end(event: RealtimeSessionEvent) -> bool:
    return event.type == "agent_end"


def assistant_transcripts(history: list[Any]) -> list[str]:
    out: list[str] = []
    for item in history:
        if item.type == "message" and item.role == "assistant":
            out += [part.transcript or part.text or "" for part in item.content if part.type in ("audio", "text")]
    return out


def test_text_message_gets_a_spoken_reply_with_transcript(server: ServerThread) -> None:
    async def main() -> None:
        session = await start(server, RealtimeAgent(name="assistant", instructions="Be brief."))
        async with session:
            await session.send_message("Hello there")
            events = await collect(session, agent_end)
            raw = raw_server_events(events)
            types = [e["type"] for e in raw]
            assert types[0] == "session.created" and types.count("session.updated") >= 1
            assert types[-1] == "response.done" and raw[-1]["response"]["status"] == "completed"
            audio = b"".join(e.audio.data for e in events if e.type == "audio")
            assert len(audio) > 24000  # at least half a second of pcm16 speech
            assert any(e.type == "audio_end" for e in events)
            transcript = next(e["transcript"] for e in raw if e["type"] == "response.output_audio_transcript.done")
            assert transcript == 'You said "Hello there". This is the mockrt default reply.'
            history = [e for e in events if e.type == "history_updated"][-1].history
            assert transcript in assistant_transcripts(history)

    asyncio.run(main())


def test_text_only_output(server: ServerThread) -> None:
    async def main() -> None:
        config: RealtimeRunConfig = {"model_settings": {"output_modalities": ["text"]}}
        session = await start(server, RealtimeAgent(name="assistant"), config)
        async with session:
            await session.send_message("Say hi")
            events = await collect(session, agent_end)
            raw = raw_server_events(events)
            text = "".join(e["delta"] for e in raw if e["type"] == "response.output_text.delta")
            assert text == 'You said "Say hi". This is the mockrt default reply.'
            assert not any(e.type == "audio" for e in events)

    asyncio.run(main())


def test_vad_turn_on_speech(server: ServerThread) -> None:
    """The SDK's default turn detection is ``semantic_vad`` with ``interrupt_response``; audio goes through
    ``RealtimeSession.send_audio`` (one ``input_audio_buffer.append``)."""

    async def main() -> None:
        session = await start(server, RealtimeAgent(name="assistant"))
        async with session:
            await session.send_audio(speech_turn())
            events = await collect(session, agent_end)
            raw = raw_server_events(events)
            updated = next(e for e in raw if e["type"] == "session.updated")
            assert updated["session"]["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
            types = [e["type"] for e in raw]
            assert types.index("input_audio_buffer.speech_started") < types.index(
                "input_audio_buffer.speech_stopped") < types.index("input_audio_buffer.committed") < types.index(
                "response.created")
            started = next(e for e in raw if e["type"] == "input_audio_buffer.speech_started")
            stopped = next(e for e in raw if e["type"] == "input_audio_buffer.speech_stopped")
            assert 0 < started["audio_start_ms"] < 600 and stopped["audio_end_ms"] > 3030  # speech: 600-3030 ms
            assert any(e.type == "audio" for e in events)
            transcript = next(e["transcript"] for e in raw if e["type"] == "response.output_audio_transcript.done")
            assert transcript.startswith("You said ")

    asyncio.run(main())


def test_function_tool_round_trip(server: ServerThread) -> None:
    """``tool_choice: "required"`` makes the mock's default assistant call the tool (mockrt/core/brain.py);
    the tool sets it back to ``auto`` before its output goes back, so the follow-up reply is a message."""
    calls: list[str] = []
    holder: dict[str, RealtimeSession] = {}

    @function_tool
    async def get_weather(city: str) -> str:
        """Get the weather for a city."""
        calls.append(city)
        await holder["session"].model.send_event(RealtimeModelSendRawMessage(message={
            "type": "session.update", "other_data": {"session": {"type": "realtime", "tool_choice": "auto"}}}))
        return f"sunny in {city}"

    async def main() -> None:
        config: RealtimeRunConfig = {"model_settings": {"tool_choice": "required", "output_modalities": ["text"]}}
        session = await start(server, RealtimeAgent(name="assistant", tools=[get_weather]), config)
        holder["session"] = session
        async with session:
            await session.send_message("What is the weather in Paris?")
            first = await collect(session, agent_end)
            call = next(e for e in raw_server_events(first) if e["type"] == "response.function_call_arguments.done")
            assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "example"}
            rest = await collect(session, agent_end)
            tool_end = next(e for e in first + rest if e.type == "tool_end")
            assert tool_end.output == "sunny in example"
            raw = raw_server_events(rest)
            text = next(e["text"] for e in raw if e["type"] == "response.output_text.done")
            assert text == "The get_weather tool returned sunny in example."
        assert calls == ["example"]

    asyncio.run(main())
