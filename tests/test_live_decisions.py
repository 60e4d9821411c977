"""GPT-Live Decisions over a real socket with the openai SDK's own ``client.live.connect()``, sync and async
(docs/protocol.md §13.5): the shared Decision context, ``decision.create`` and a Decisions delegation from a
spoken turn, scripted by one scenario; every server event validated strictly against ``ConnectServerEvent``."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import pytest
from openai import AsyncOpenAI, OpenAI

from mockrt.scenarios import Scenario
from mockrt.scenarios.model import Match, Reply, Rule
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech
from tests.protocol_types import validate_live_event

QUESTIONS: list[dict[str, Any]] = [
    {"type": "choice", "name": "cabin", "instructions": "What should the cabin do?",
     "choices": [{"value": "temperature_up"}, {"value": "temperature_down"}, {"value": "none"}]},
    {"type": "choice", "name": "call_responses", "instructions": "Should the app call Responses?",
     "choices": [{"value": True}, {"value": False}]},
]
START = {"type": "session.start", "event_id": "evt_start", "session": {
    "model": "gpt-live-1", "instructions": "Delegate cabin requests.",
    "delegation": {"type": "decisions", "decisions": {"model": "gpt-6-luna", "questions": QUESTIONS}}}}


pytestmark = pytest.mark.usefixtures("reset_live")


def _checked(event: Any) -> dict[str, Any]:
    data: dict[str, Any] = event.model_dump(exclude_unset=True)
    validate_live_event(data)
    return data


def _until(conn: Any, etype: str, limit: int = 5000) -> dict[str, Any]:
    for _ in range(limit):
        event = _checked(conn.recv())
        if event["type"] == etype:
            return event
    raise AssertionError(f"no {etype} in {limit} events")


def test_context_and_decision_create_sync(live: ServerThread) -> None:
    live.control.load_scenario(Scenario(rules=[
        Rule(Match(regex="windshield"), [Reply.call("decide", {"cabin": "none", "call_responses": True})])]))
    client = OpenAI(base_url=live.http_url + "/v1", api_key="sk-anything")
    with client.live.connect() as conn:
        conn.send(START)  # type: ignore[arg-type]
        started = _until(conn, "session.started")["session"]
        assert started["delegation"]["type"] == "decisions"
        conn.send({"type": "decision.item.create", "event_id": "bad",  # type: ignore[arg-type]
                   "item": {"role": "narrator", "content": "x"}})
        error = _until(conn, "error")
        assert error["client_event_id"] == "bad" and error["error"]["param"] == "item.role"
        conn.send({"type": "decision.item.create", "event_id": "i1",  # type: ignore[arg-type]
                   "item": {"role": "user", "content": "The windshield is foggy"}})
        created = _until(conn, "decision.item.created")
        assert created["client_event_id"] == "i1" and created["item"]["content"] == "The windshield is foggy"
        conn.send({"type": "decision.create", "event_id": "dc1"})  # type: ignore[arg-type]
        delegation = _until(conn, "session.delegation.created")
        assert delegation["client_event_id"] == "dc1" and delegation["delegation"]["target"] == "decisions"
        decided = _until(conn, "decision.event")
        assert decided["delegation_id"] == delegation["delegation"]["id"]
        answers = decided["event"]["decision"]["answers"]
        assert [(a["name"], a["choice"]) for a in answers] == [("cabin", "none"), ("call_responses", True)]
        conn.send({"type": "decision.item.delete", "event_id": "d1",  # type: ignore[arg-type]
                   "item_id": created["item"]["id"]})
        assert _until(conn, "decision.item.deleted")["item_id"] == created["item"]["id"]
        conn.send({"type": "decision.item.delete", "event_id": "d2",  # type: ignore[arg-type]
                   "item_id": created["item"]["id"]})
        assert _until(conn, "error")["error"]["client_event_id"] == "d2"
        with client.live.sideband.connect(session_id=started["id"]) as side:
            side.send({"type": "decision.create", "event_id": "from_backend"})  # type: ignore[arg-type]
            for watcher in (side, conn):  # the backend asks; both connections see the delegation and its answer
                assert _until(watcher, "session.delegation.created")["client_event_id"] == "from_backend"
                assert _until(watcher, "decision.event")["event"]["decision"]["model"] == "gpt-6-luna"
        conn.send({"type": "session.close", "event_id": "bye"})  # type: ignore[arg-type]
        assert _until(conn, "session.closed")["client_event_id"] == "bye"


def test_delegation_from_a_spoken_turn_async(live: ServerThread) -> None:
    live.control.load_scenario(Scenario(
        transcripts=["Turn off the lights in the kitchen."],
        rules=[Rule(Match(regex="lights"), [Reply.call("cabin", {"cabin": "temperature_down",
                                                                 "call_responses": False})]),
               Rule(Match(function_call_output=True), [Reply.text("Done.")])]))
    clip = load_speech("lights")
    pcm = np.concatenate([clip.pcm, np.zeros(24000, dtype=np.int16)]).astype("<i2").tobytes()

    async def run() -> None:
        client = AsyncOpenAI(base_url=live.http_url + "/v1", api_key="sk-anything")
        async with client.live.connect() as conn:
            await conn.send(START)  # type: ignore[arg-type]
            for k in range(0, len(pcm), 4800):
                await conn.send({"type": "session.input_audio.append",  # type: ignore[arg-type]
                                 "audio": base64.b64encode(pcm[k:k + 4800]).decode("ascii")})
            seen: list[dict[str, Any]] = []
            while not seen or seen[-1]["type"] != "decision.event":
                seen.append(_checked(await conn.recv()))
            delegation = next(e for e in seen if e["type"] == "session.delegation.created")["delegation"]
            assert delegation["target"] == "decisions" and seen[-1]["delegation_id"] == delegation["id"]
            assert seen[-1]["event"]["decision"]["answers"][0]["choice"] == "temperature_down"
            await conn.send({"type": "session.commentary.append", "event_id": "r",  # type: ignore[arg-type]
                             "content": json.dumps({"cabin": "19 C"}), "delegation_id": delegation["id"]})
            said = ""
            while said != "Done.":
                event = _checked(await conn.recv())
                if event["type"] == "session.output_transcript.delta":
                    said += event["delta"]

    asyncio.run(run())
