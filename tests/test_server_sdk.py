"""The official ``openai`` SDK against a running mockrt over real sockets (docs/protocol.md §1, §5.2, §5.3)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np
from openai import AsyncOpenAI, AzureOpenAI, OpenAI

from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event


def _collect_until_done(conn: Any, dialect: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for event in conn:
        raw = event.to_dict()
        validate_server_event(raw, dialect)
        events.append(raw)
        if raw["type"] == "response.done":
            return events
        assert raw["type"] != "error", raw
    raise AssertionError("connection closed before response.done")


def _tone(ms: int, rate: int = 24000) -> bytes:
    t = np.arange(int(rate * ms / 1000)) / rate
    return (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


def test_ga_text_turn(server: ServerThread) -> None:
    client = OpenAI(base_url=server.http_url + "/v1", api_key="sk-anything")
    with client.realtime.connect(model="gpt-realtime") as conn:
        created = conn.recv()
        assert created.type == "session.created"
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "instructions": "Be brief."})
        updated = conn.recv()
        assert updated.type == "session.updated" and updated.session.output_modalities == ["text"]
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "Say hello"}]})
        conn.response.create()
        events = _collect_until_done(conn, "ga")
        text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert '"Say hello"' in text
        assert events[-1]["response"]["status"] == "completed"
        assert conn.recv().type == "rate_limits.updated"


def test_ga_audio_turn(server: ServerThread) -> None:
    client = OpenAI(base_url=server.http_url + "/v1", api_key="sk-anything")
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
        conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
        assert conn.recv().type == "session.updated"
        for _ in range(5):
            conn.input_audio_buffer.append(audio=base64.b64encode(_tone(100)).decode())
        conn.input_audio_buffer.commit()
        assert conn.recv().type == "input_audio_buffer.committed"
        assert conn.recv().type == "conversation.item.added"
        assert conn.recv().type == "conversation.item.done"
        conn.response.create()
        events = _collect_until_done(conn, "ga")
        audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
        transcript = "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta")
        assert len(audio) > 48000 * 0.5 and "0.5 seconds of audio" in transcript
        assert events[-1]["response"]["output"][0]["content"][0]["transcript"] == transcript


def test_ga_async_client(server: ServerThread) -> None:
    async def main() -> str:
        client = AsyncOpenAI(base_url=server.http_url + "/v1", api_key="sk-anything")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.response.create(response={"output_modalities": ["text"]})
            async for event in conn:
                validate_server_event(event.to_dict(), "ga")
                if event.type == "response.done":
                    return event.response.status or ""
        return "closed"

    assert asyncio.run(main()) == "completed"


def test_beta_via_header(server: ServerThread) -> None:
    client = OpenAI(api_key="sk-anything", websocket_base_url=server.ws_url + "/v1")
    with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        created = conn.recv()
        assert created.type == "session.created" and created.session.modalities == ["audio", "text"]
        conn.session.update(session={"modalities": ["text"]})
        assert conn.recv().type == "session.updated"
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "ping"}]})
        conn.response.create()
        events = _collect_until_done(conn, "beta")
        assert [e["type"] for e in events][:3] == ["conversation.item.created", "response.created",
                                                   "rate_limits.updated"]


def test_azure_preview_client(server: ServerThread) -> None:
    client = AzureOpenAI(azure_endpoint=server.http_url, api_key="azure-key", api_version="2025-04-01-preview",
                         websocket_base_url=server.ws_url + "/openai")
    with client.beta.realtime.connect(model="my-deployment") as conn:
        created = conn.recv()
        validate_server_event(created.to_dict(), "beta")
        assert created.session.model == "gpt-4o-realtime-preview-2024-12-17"  # the underlying model (§4.2)
        conn.response.create(response={"modalities": ["text"]})
        events = _collect_until_done(conn, "beta")
        rate = next(e for e in events if e["type"] == "rate_limits.updated")
        assert rate["rate_limits"] == []  # Azure preview sends an empty array (§3.9)


def test_ephemeral_token_flow(keyed_server: ServerThread) -> None:
    admin = OpenAI(base_url=keyed_server.http_url + "/v1", api_key="sk-test-key-1234567890")
    secret = admin.realtime.client_secrets.create(session={"type": "realtime", "instructions": "From the token."})
    assert secret.value.startswith("ek_") and len(secret.value) == 35
    assert secret.session.type == "realtime"
    browser = OpenAI(base_url=keyed_server.http_url + "/v1", api_key=secret.value)
    with browser.realtime.connect(model="gpt-realtime") as conn:
        created = conn.recv()
        assert created.type == "session.created" and created.session.instructions == "From the token."
