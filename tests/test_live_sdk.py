"""GPT-Live over a real socket with the openai SDK's own ``client.live.connect()`` (docs/protocol.md §13): every
server event validated strictly against ``openai.types.live.ConnectServerEvent``."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import pytest
from openai import AsyncOpenAI, OpenAI

from mockrt.config import ServerConfig
from mockrt.scenarios import Scenario
from mockrt.scenarios.model import Match, Reply, Rule
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech
from tests.protocol_types import validate_live_event

CHUNK = 2400  # 100 ms at 24 kHz


pytestmark = pytest.mark.usefixtures("reset_live")


def _client(srv: ServerThread) -> OpenAI:
    return OpenAI(base_url=srv.http_url + "/v1", api_key="sk-anything")


def _b64(pcm: np.ndarray) -> str:
    return base64.b64encode(pcm.astype("<i2").tobytes()).decode("ascii")


def _recv(conn: Any) -> dict[str, Any]:
    event = conn.recv()
    data = event.model_dump(exclude_unset=True)
    validate_live_event(data)
    return data


def _until(conn: Any, etype: str, seen: list[dict[str, Any]], limit: int = 5000) -> dict[str, Any]:
    for _ in range(limit):
        event = _recv(conn)
        seen.append(event)
        if event["type"] == etype:
            return event
    raise AssertionError(f"no {etype} in {limit} events")


START = {"type": "session.start", "event_id": "evt_start",
         "session": {"model": "gpt-live-1", "instructions": "Be brief."}}


def test_start_update_close_and_strict_config(live: ServerThread) -> None:
    with _client(live).live.connect() as conn:
        conn.send({"type": "session.input_audio.mute", "event_id": "early"})  # type: ignore[arg-type]
        early = _recv(conn)
        assert early["type"] == "error" and early["error"]["client_event_id"] == "early"
        conn.send({"type": "session.start", "event_id": "bad",  # type: ignore[arg-type]
                   "session": {"model": "gpt-live-1", "voice": "marin"}})
        bad = _recv(conn)
        assert bad["error"]["code"] == "unknown_parameter" and bad["error"]["param"] == "session.voice"
        assert bad["client_event_id"] == "bad"
        conn.send(START)  # type: ignore[arg-type]
        started = _recv(conn)
        assert started["type"] == "session.started" and started["client_event_id"] == "evt_start"
        assert started["session"]["model"] == "gpt-live-1"
        assert started["session"]["audio"]["output"]["voice"] == "marin"
        conn.send({"type": "session.update", "event_id": "u1",  # type: ignore[arg-type]
                   "session": {"delegation": {"type": "responses"}}})
        seen: list[dict[str, Any]] = []
        err = _until(conn, "error", seen)
        assert err["error"]["param"] == "session.delegation.type"
        conn.send({"type": "session.update", "event_id": "u2",  # type: ignore[arg-type]
                   "session": {"triggers": []}})
        assert _until(conn, "session.updated", seen)["client_event_id"] == "u2"
        conn.send({"type": "session.close", "event_id": "c"})  # type: ignore[arg-type]
        closed = _until(conn, "session.closed", seen)
        assert closed["reason"] == "close_requested" and closed["usage"]["seconds"] >= 0


def test_audio_turn_from_the_speech_fixture(live: ServerThread) -> None:
    live.control.load_scenario(Scenario(transcripts=["Turn off the lights in the kitchen."],
                                        replies=[Reply.text("The kitchen lights are off.")]))
    clip = load_speech("lights")
    with _client(live).live.connect() as conn:
        conn.send(START)  # type: ignore[arg-type]
        seen: list[dict[str, Any]] = []
        _until(conn, "session.started", seen)
        pcm = np.concatenate([clip.pcm, np.zeros(24000 * 4, dtype=np.int16)])
        for k in range(0, len(pcm), CHUNK):
            conn.send({"type": "session.input_audio.append", "audio": _b64(pcm[k:k + CHUNK])})  # type: ignore
        text = ""
        while "off." not in text:
            event = _until(conn, "session.output_transcript.delta", seen)
            text += event["delta"]
        inputs = [e for e in seen if e["type"] == "session.input_transcript.delta"]
        assert "".join(e["delta"] for e in inputs) == "Turn off the lights in the kitchen."
        assert 300 <= inputs[0]["start_ms"] <= 700 and inputs[-1]["end_ms"] <= 3200
        assert text == "The kitchen lights are off."
        outputs = [e for e in seen if e["type"] == "session.output_transcript.delta"]
        assert outputs[0]["start_ms"] > inputs[-1]["end_ms"]
        audio = [e for e in seen if e["type"] == "session.output_audio.delta"]
        assert len(audio) >= 20  # the continuous stream: silence before the reply included
        silence = np.frombuffer(base64.b64decode(audio[0]["delta"]), "<i2")
        assert len(silence) == CHUNK and not silence.any()


def test_barge_in_cuts_the_reply() -> None:
    # Real-time output pace: the output timeline keeps in lockstep with the (faster than real time) input, so the
    # second utterance cuts the reply wherever the input put it, however slowly a loaded machine sends the audio
    # (at the `live` fixture's 20x pace the 40 words could all go out while the audio was still being sent).
    with ServerThread(ServerConfig(port=0, time_scale=1.0, log_level="warning")) as live:
        _barge_in_cuts_the_reply(live)


def _barge_in_cuts_the_reply(live: ServerThread) -> None:
    live.control.load_scenario(Scenario(replies=[Reply.text(" ".join(["word"] * 40))]))
    clip = load_speech("lights")
    with _client(live).live.connect() as conn:
        conn.send(START)  # type: ignore[arg-type]
        seen: list[dict[str, Any]] = []
        _until(conn, "session.started", seen)
        speech = clip.pcm[:24000 * 3]
        pcm = np.concatenate([speech, np.zeros(24000 * 2, dtype=np.int16), speech,
                              np.zeros(24000 * 1, dtype=np.int16)])
        for k in range(0, len(pcm), CHUNK):
            conn.send({"type": "session.input_audio.append", "audio": _b64(pcm[k:k + CHUNK])})  # type: ignore
        # The second utterance interrupts the 40-word reply: far fewer words go out before the next reply.
        n_words = 0
        while True:
            event = _until(conn, "session.output_transcript.delta", seen)
            if event["start_ms"] > 5000 + 700:
                break
            n_words += 1
        assert 0 < n_words < 40


def test_delegated_tool_call_from_a_scenario(live: ServerThread) -> None:
    live.control.load_scenario(Scenario(
        transcripts=["Turn off the lights in the kitchen."],
        rules=[Rule(Match(regex="lights"), [Reply.call("set_lights", {"room": "kitchen", "on": False})]),
               Rule(Match(function_call_output=True), [Reply.text("Done, the lights are off.")])]))
    clip = load_speech("lights")
    with _client(live).live.connect() as conn:
        conn.send(START)  # type: ignore[arg-type]
        seen: list[dict[str, Any]] = []
        _until(conn, "session.started", seen)
        pcm = np.concatenate([clip.pcm, np.zeros(24000, dtype=np.int16)])
        for k in range(0, len(pcm), CHUNK):
            conn.send({"type": "session.input_audio.append", "audio": _b64(pcm[k:k + CHUNK])})  # type: ignore
        created = _until(conn, "session.delegation.created", seen)
        assert created["delegation"]["target"] == "client"
        conn.send({"type": "session.commentary.append", "event_id": "r1",  # type: ignore[arg-type]
                   "content": '{"ok": true}', "delegation_id": created["delegation"]["id"]})
        ack = _until(conn, "session.commentary.appended", seen)
        assert ack["client_event_id"] == "r1" and ack["start_ms"] == ack["end_ms"]
        text = ""
        while "off." not in text:
            text += _until(conn, "session.output_transcript.delta", seen)["delta"]
        assert text == "Done, the lights are off."


def test_mute_fixture_and_context_acks(live: ServerThread) -> None:
    with _client(live).live.connect() as conn:
        conn.send(START)  # type: ignore[arg-type]
        seen: list[dict[str, Any]] = []
        _until(conn, "session.started", seen)
        conn.send({"type": "session.input_audio.mute", "event_id": "m"})  # type: ignore[arg-type]
        assert _until(conn, "session.input_audio.muted", seen)["client_event_id"] == "m"
        conn.send({"type": "session.input_audio.unmute", "event_id": "u"})  # type: ignore[arg-type]
        assert _until(conn, "session.input_audio.unmuted", seen)["client_event_id"] == "u"
        conn.send({"type": "session.thinking.append", "content": "The user is in a hurry.",  # type: ignore
                   "delegation_id": None, "event_id": "t"})
        assert _until(conn, "session.thinking.appended", seen)["client_event_id"] == "t"
        conn.send({"type": "session.instructions.append", "content": "Speak slowly.",  # type: ignore
                   "delegation_id": None, "event_id": "i"})
        assert _until(conn, "session.instructions.appended", seen)["client_event_id"] == "i"
        tone = (np.sin(np.arange(24000 * 29) * 0.05) * 8000).astype(np.int16)  # 29 s: 1.45 s of wall time
        conn.send({"type": "session.output_audio.fixture.play", "audio": _b64(tone),  # type: ignore
                   "event_id": "f"})
        assert _until(conn, "session.output_audio.fixture.playing", seen)["client_event_id"] == "f"
        conn.send({"type": "session.commentary.append", "content": "x", "delegation_id": None,  # type: ignore
                   "event_id": "busy"})
        assert _until(conn, "error", seen)["error"]["client_event_id"] == "busy"
        assert _until(conn, "session.output_audio.fixture.played", seen)["client_event_id"] == "f"
        conn.send({"type": "session.commentary.append", "content": "Your order shipped.",  # type: ignore
                   "delegation_id": None, "event_id": "c"})
        _until(conn, "session.commentary.appended", seen)
        text = ""
        while "shipped." not in text:
            text += _until(conn, "session.output_transcript.delta", seen)["delta"]
        assert text == "Your order shipped."


def test_async_connect(live: ServerThread) -> None:
    asyncio.run(_async_session(live))


async def _async_session(live: ServerThread) -> None:
    client = AsyncOpenAI(base_url=live.http_url + "/v1", api_key="sk-anything")
    async with client.live.connect() as conn:
        await conn.send(START)  # type: ignore[arg-type]
        started = await conn.recv()
        validate_live_event(started.model_dump(exclude_unset=True))
        assert started.type == "session.started"
        await conn.send({"type": "session.close"})  # type: ignore[arg-type]
        while True:
            event = await conn.recv()
            validate_live_event(event.model_dump(exclude_unset=True))
            if event.type == "session.closed":
                break


def test_sideband_sees_everything_and_can_command(live: ServerThread) -> None:
    client = _client(live)
    with client.live.connect() as conn:
        conn.send(START)  # type: ignore[arg-type]
        seen: list[dict[str, Any]] = []
        session_id = _until(conn, "session.started", seen)["session"]["id"]
        with client.live.sideband.connect(session_id=session_id) as side:
            conn.send({"type": "session.input_audio.mute", "event_id": "m"})  # type: ignore[arg-type]
            side_seen: list[dict[str, Any]] = []
            _until(side, "session.input_audio.muted", side_seen)
            tone = (np.sin(np.arange(CHUNK) * 0.05) * 8000).astype(np.int16)
            conn.send({"type": "session.input_audio.append", "audio": _b64(tone)})  # type: ignore[arg-type]
            reflected = _until(side, "session.input_audio.append", side_seen)
            assert base64.b64decode(reflected["audio"]) == tone.astype("<i2").tobytes()  # before muting
            delta = _until(side, "session.output_audio.delta", side_seen)
            assert delta["end_ms"] - delta["start_ms"] == 100  # reflected output carries its timeline place
            side.send({"type": "session.commentary.append", "content": "Hello from the backend.",  # type: ignore
                       "delegation_id": None, "event_id": "sb"})
            assert _until(conn, "session.commentary.appended", seen)["client_event_id"] == "sb"
            assert _until(side, "session.commentary.appended", side_seen)["client_event_id"] == "sb"
            side.send({"type": "session.start", "event_id": "no",  # type: ignore[arg-type]
                       "session": {"model": "gpt-live-1"}})
            assert _until(side, "error", side_seen)["error"]["client_event_id"] == "no"
            conn.send({"type": "session.close"})  # type: ignore[arg-type]
            assert _until(side, "session.closed", side_seen)["reason"] == "close_requested"


def test_fork_continues_independently(live: ServerThread) -> None:
    client = _client(live)
    with client.live.connect() as conn:
        conn.send({**START, "session": {**START["session"], "store": True}})  # type: ignore[arg-type]
        seen: list[dict[str, Any]] = []
        original = _until(conn, "session.started", seen)["session"]
        conn.send({"type": "session.instructions.append", "content": "Remember: order 42.",  # type: ignore
                   "delegation_id": None})
        _until(conn, "session.instructions.appended", seen)
        with client.live.forks.connect(session_id=original["id"]) as fork:
            fork.send({"type": "session.start", "event_id": "f",  # type: ignore[arg-type]
                       "session": {"audio": {"format": {"type": "audio/pcmu", "rate": 8000}}}})
            fork_seen: list[dict[str, Any]] = []
            started = _until(fork, "session.started", fork_seen)["session"]
            assert started["id"] != original["id"] and started["model"] == original["model"]
            assert started["instructions"] == "Be brief." and started["audio"]["format"]["type"] == "audio/pcmu"
            chunk = _until(fork, "session.output_audio.delta", fork_seen)
            assert len(base64.b64decode(chunk["delta"])) == 800  # 100 ms of G.711 in the fork
            fork.send({"type": "session.close"})  # type: ignore[arg-type]
            _until(fork, "session.closed", fork_seen)
        # The original goes on, unaffected.
        assert len(base64.b64decode(_until(conn, "session.output_audio.delta", seen)["delta"])) == 4800
        conn.send({"type": "session.close"})  # type: ignore[arg-type]
        _until(conn, "session.closed", seen)
    bad = client.live.forks.connect(session_id="sess_missing")
    with pytest.raises(Exception, match="404"):
        bad.__enter__()


def test_auth_rest_and_admission() -> None:
    import httpx

    config = ServerConfig(port=0, api_keys=("sk-live-key-1234567890",), max_sessions=1, log_level="warning")
    with ServerThread(config) as srv:
        with pytest.raises(Exception, match="401"):
            OpenAI(base_url=srv.http_url + "/v1", api_key="sk-wrong").live.connect().__enter__()
        client = OpenAI(base_url=srv.http_url + "/v1", api_key="sk-live-key-1234567890")
        with client.live.connect() as conn:
            conn.send(START)  # type: ignore[arg-type]
            assert _recv(conn)["type"] == "session.started"
            with pytest.raises(Exception, match="503"):  # --max-sessions counts Live sessions too
                client.live.connect().__enter__()
        reply = httpx.get(srv.http_url + "/v1/live/sessions/live_x/content",  # no such stored session
                          headers={"Authorization": "Bearer sk-live-key-1234567890"})
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "session_not_found"


def test_responses_delegation_tool_call_from_a_scenario(live: ServerThread) -> None:
    live.control.load_scenario(Scenario(
        transcripts=["Turn off the lights in the kitchen."],
        rules=[Rule(Match(regex="lights"), [Reply.call("set_lights", {"room": "kitchen"}, call_id="call_k1")]),
               Rule(Match(function_call_output=True), [Reply.text("The kitchen is dark now.")])]))
    clip = load_speech("lights")
    with _client(live).live.connect() as conn:
        conn.send({**START, "session": {**START["session"], "delegation": {  # type: ignore[arg-type]
            "type": "responses", "responses": {"model": "gpt-5", "instructions": "Use the tools."}}}})
        seen: list[dict[str, Any]] = []
        _until(conn, "session.started", seen)
        pcm = np.concatenate([clip.pcm, np.zeros(24000, dtype=np.int16)])
        for k in range(0, len(pcm), CHUNK):
            conn.send({"type": "session.input_audio.append", "audio": _b64(pcm[k:k + CHUNK])})  # type: ignore
        created = _until(conn, "session.delegation.created", seen)["delegation"]
        assert created["target"] == "responses" and created["response_id"].startswith("resp_")
        nested: list[dict[str, Any]] = []
        while not nested or nested[-1]["type"] != "response.completed":
            envelope = _until(conn, "response.event", seen)
            assert envelope["delegation_id"] == created["id"]
            nested.append(envelope["event"])
        assert nested[0]["response"]["id"] == created["response_id"]
        done = next(e for e in nested if e["type"] == "response.function_call_arguments.done")
        assert done["name"] == "set_lights" and json.loads(done["arguments"]) == {"room": "kitchen"}
        conn.send({"type": "response.item.create", "item": {  # type: ignore[arg-type]
            "type": "function_call_output", "call_id": "call_k1", "output": '{"ok": true}'}})
        conn.send({"type": "response.create", "event_id": "rc"})  # type: ignore[arg-type]
        text = ""
        while True:
            event = _until(conn, "response.event", seen)["event"]
            if event["type"] == "response.output_text.done":
                text = event["text"]
            if event["type"] == "response.completed":
                assert event["response"]["usage"]["total_tokens"] > 0
                break
        assert text == "The kitchen is dark now."
        said = ""
        while said != text:  # the Live model speaks the backend's answer
            said += _until(conn, "session.output_transcript.delta", seen)["delta"]
