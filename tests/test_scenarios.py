"""Scripted scenarios through the official openai SDK (issue: scenarios, faults, races, journal)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from openai import OpenAI

from mockrt.config import ServerConfig
from mockrt.scenarios import FunctionCall, Match, Output, Reply, Rule, Scenario, ScenarioError, load_scenario
from mockrt.thread import ServerThread
from tests.audio_fixtures import FIXTURE_DIR, load_speech
from tests.protocol_types import validate_server_event

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"


pytestmark = pytest.mark.usefixtures("reset_mock")


def _client(server: ServerThread) -> OpenAI:
    return OpenAI(base_url=server.http_url + "/v1", api_key="sk-test")


def _until(conn: Any, etype: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for event in conn:
        raw = event.to_dict()
        validate_server_event(raw, "ga")
        events.append(raw)
        if raw["type"] == etype:
            return events
    raise AssertionError(f"closed before {etype}")


def _say(conn: Any, text: str, modality: str = "text") -> list[dict[str, Any]]:
    conn.conversation.item.create(item={"type": "message", "role": "user",
                                        "content": [{"type": "input_text", "text": text}]})
    conn.response.create(response={"output_modalities": [modality]})
    return _until(conn, "response.done")


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] in ("response.output_text.delta",
                                                               "response.output_audio_transcript.delta"))


# -- example scenarios (fixtures/scenarios, shown in the README) ---------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_scenarios_validate(path: Path) -> None:
    assert load_scenario(path).name


def test_greeting_example(mock: ServerThread) -> None:
    mock.control.load_scenario(SCENARIOS / "greeting.yaml")
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        assert _text(_say(conn, "hello")) == "Hi! I'm the front desk assistant. How can I help?"
        assert _text(_say(conn, "When are you OPEN?")) == "We are open from 9 to 5, Monday to Friday."
        assert _text(_say(conn, "Do you sell bikes?")) == "Sorry, I can only help with opening hours."


def test_weather_tool_round_trip(mock: ServerThread) -> None:
    mock.control.load_scenario(SCENARIOS / "weather_tool.yaml")
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        done = _say(conn, "What's the weather like?")[-1]["response"]
        call = done["output"][0]
        assert call["type"] == "function_call" and call["name"] == "get_weather"
        assert json.loads(call["arguments"]) == {"city": "Paris"}
        _until(conn, "rate_limits.updated")
        conn.conversation.item.create(item={"type": "function_call_output", "call_id": call["call_id"],
                                            "output": json.dumps({"temp_c": 21})})
        conn.response.create(response={"output_modalities": ["text"]})
        assert _text(_until(conn, "response.done")) == "It is 21 degrees and sunny in Paris."


def test_weather_tool_from_a_spoken_question(mock: ServerThread) -> None:
    """The scripted transcript of the user's audio turn drives the rule (VAD turn on a speech fixture)."""
    mock.control.load_scenario(SCENARIOS / "weather_tool.yaml")
    pcm = np.concatenate([load_speech("weather").pcm, np.zeros(24000 // 2, dtype=np.int16)])
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        conn.session.update(session={"type": "realtime", "audio": {"input": {
            "transcription": {"model": "gpt-4o-mini-transcribe"}}}})
        for i in range(0, len(pcm), 480):
            conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i: i + 480].tobytes()).decode())
        events = _until(conn, "response.done")
        completed = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
        assert completed["transcript"] == "What's the weather in Paris today?"
        assert events[-1]["response"]["output"][0]["name"] == "get_weather"


def test_barge_in_example(mock: ServerThread) -> None:
    mock.control.load_scenario(SCENARIOS / "barge_in.yaml")
    speech = np.concatenate([load_speech("lights").pcm, np.zeros(12000, dtype=np.int16)])
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "What do you offer?"}]})
        conn.response.create()
        _until(conn, "response.output_audio.delta")  # the answer is playing
        for i in range(0, len(speech), 2400):
            conn.input_audio_buffer.append(audio=base64.b64encode(speech[i: i + 2400].tobytes()).decode())
        events = _until(conn, "response.done")
        assert "input_audio_buffer.speech_started" in [e["type"] for e in events]
        assert events[-1]["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        follow = _until(conn, "response.done")  # the VAD turn's own response takes the next reply
        assert _text(follow) == "Sure, what would you like instead?"


def test_rate_limit_example(mock: ServerThread) -> None:
    mock.control.load_scenario(SCENARIOS / "rate_limit.yaml")
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        failed = _say(conn, "hi")[-1]["response"]
        assert failed["status"] == "failed" and failed["output"] == []
        assert failed["status_details"]["error"]["code"] == "rate_limit_exceeded"
        assert failed["status_details"]["error"]["type"] == "tokens"
        assert _text(_say(conn, "again")) == "Back in business."


# -- the Python API ------------------------------------------------------------------------------------------


def test_python_api_rules_queue_and_times(mock: ServerThread) -> None:
    mock.control.load_scenario(Scenario(
        replies=[Reply.text("first"), Reply.text("second")],
        rules=[Rule(Match(regex=r"\bping\b"), [Reply.text("pong")], times=2),
               Rule(Match(turn=5), [Reply.text("fifth")])],
        default=Reply.text("default"),
    ))
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        got = [_text(_say(conn, t)) for t in ("a", "ping", "ping", "ping", "b", "c")]
    assert got == ["first", "pong", "pong", "second", "fifth", "default"]


def test_several_outputs_and_final_statuses(mock: ServerThread) -> None:
    mock.control.load_scenario(Scenario(replies=[
        Reply([Output(text="Let me check."), Output(function_call=FunctionCall("lookup", {"id": 7}, "call_fixed"))]),
        Reply.text("Something I cannot say.", status="incomplete", reason="content_filter"),
        Reply(status="failed", error={"type": "server_error", "code": "server_error", "message": "Boom."}),
        Reply(error_event={"type": "invalid_request_error", "code": "bad_response_create", "message": "Nope."}),
        Reply.text("counted", usage={"input_text": 100, "cached_text": 64}),
    ]))
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        done = _say(conn, "x")[-1]["response"]
        assert [o["type"] for o in done["output"]] == ["message", "function_call"]
        assert done["output"][1]["call_id"] == "call_fixed" and done["output"][1]["arguments"] == '{"id":7}'
        _until(conn, "rate_limits.updated")
        done = _say(conn, "y")[-1]["response"]
        assert done["status"] == "incomplete"
        assert done["status_details"] == {"type": "incomplete", "reason": "content_filter"}
        _until(conn, "rate_limits.updated")
        done = _say(conn, "z")[-1]["response"]
        assert done["status"] == "failed" and done["status_details"]["error"]["message"] == "Boom."
        _until(conn, "rate_limits.updated")
        conn.response.create(event_id="evt_rc")
        error = _until(conn, "error")[-1]["error"]
        assert error["code"] == "bad_response_create" and error["event_id"] == "evt_rc"
        usage = _say(conn, "w")[-1]["response"]["usage"]
        assert usage["input_token_details"]["text_tokens"] == 100
        assert usage["input_token_details"]["cached_tokens"] == 64
        assert usage["input_tokens"] == usage["input_token_details"]["text_tokens"] + \
            usage["input_token_details"]["audio_tokens"] + usage["input_token_details"]["image_tokens"]


def test_audio_reply_from_a_fixture_clip(mock: ServerThread, tmp_path: Path) -> None:
    clip = FIXTURE_DIR / "speech_table.wav"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"replies:\n  - text: 'A table for two.'\n    audio: {{file: '{clip}'}}\n")
    mock.control.load_scenario(scenario)
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        events = _say(conn, "book", modality="audio")
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    expected = load_speech("table").pcm.tobytes()
    assert audio == expected[: len(audio)] and len(audio) >= len(expected) - 4800
    assert _text(events) == "A table for two."


def test_validate_command_reports_located_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("replies:\n  - text: 5\nrules:\n  - match: {txt: x}\n    reply: {text: y}\n")
    run = subprocess.run([sys.executable, "-m", "mockrt", "validate", str(bad)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 1
    assert "replies[0].text: 5 is not of type 'string'" in run.stdout
    assert "rules[0].match: Additional properties are not allowed ('txt' was unexpected)" in run.stdout
    ok = subprocess.run([sys.executable, "-m", "mockrt", "validate", str(SCENARIOS / "greeting.yaml")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "ok" in ok.stdout
    with pytest.raises(ScenarioError) as info:
        load_scenario("replies: [\n")
    assert "line" in str(info.value)


# -- lockstep --------------------------------------------------------------------------------------------


def test_lockstep_from_a_test(mock: ServerThread) -> None:
    mock.control.load_scenario(Scenario(lockstep=True))
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "hello?"}]})
        conn.response.create(response={"output_modalities": ["text"]})
        item = mock.control.next_client_event("conversation.item.create")
        assert item["item"]["content"][0]["text"] == "hello?"
        assert mock.control.next_client_event()["type"] == "response.create"
        created = _until(conn, "response.created")[-1]
        assert created["response"]["status"] == "in_progress"
        mock.control.push_event({"type": "rate_limits.updated", "rate_limits": []})
        assert _until(conn, "rate_limits.updated")[-1]["rate_limits"] == []
        mock.control.push_reply(Reply.text("chosen by the test"))
        assert _text(_until(conn, "response.done")) == "chosen by the test"


# -- journal, waits and the admin API ------------------------------------------------------------------


def test_journal_waits_and_near_misses(mock: ServerThread) -> None:
    with _client(mock).realtime.connect(model="gpt-realtime") as conn:
        _say(conn, "journal me")
        done = mock.control.wait_for("response.done", match={"response.status": "completed"})
        assert done["response"]["status"] == "completed"
        client = mock.control.events("conversation.item.create", direction="client")
        assert client[0]["item"]["content"][0]["text"] == "journal me"
        with pytest.raises(AssertionError) as info:
            mock.control.wait_for("response.done", timeout=0.05, match={"response.status": "cancelled"})
        assert "response.status='completed' (wanted 'cancelled')" in str(info.value)
        with pytest.raises(AssertionError) as info:
            mock.control.assert_event("response.don")
        assert "did you mean: response.done" in str(info.value)
        entries = mock.control.journal()
        assert entries[0]["direction"] == "server" and entries[0]["event"]["type"] == "session.created"
        assert [e["t"] for e in entries] == sorted(e["t"] for e in entries)


def test_admin_rest_api() -> None:
    with ServerThread(ServerConfig(port=0, admin_token="adm", log_level="warning")) as srv:
        base, auth = srv.http_url + "/_mockrt", {"Authorization": "Bearer adm"}
        yaml_auth = {**auth, "Content-Type": "application/yaml"}
        assert httpx.get(base + "/sessions").status_code == 401
        assert httpx.get(base + "/health", headers=auth).json()["status"] == "ok"
        bad = httpx.put(base + "/scenario", content="replies:\n  - txt: 1\n", headers=yaml_auth)
        assert bad.status_code == 400 and "replies[0]" in bad.json()["problems"][0]
        good = httpx.put(base + "/scenario", content=(SCENARIOS / "greeting.yaml").read_text(), headers=yaml_auth)
        assert good.json() == {"scenario": "greeting"}
        with _client(srv).realtime.connect(model="gpt-realtime") as conn:
            assert _text(_say(conn, "hello")).startswith("Hi!")
            sessions = httpx.get(base + "/sessions", headers=auth).json()["sessions"]
            (live,) = [s for s in sessions if s["live"]]
            assert live["responses"] == 1 and live["dialect"] == "ga"
            journal = httpx.get(f"{base}/sessions/{live['id']}/journal", headers=auth).json()["entries"]
            assert {"client", "server"} == {e["direction"] for e in journal}
            lines = httpx.get(f"{base}/sessions/{live['id']}/journal?format=jsonl", headers=auth).text.splitlines()
            assert len(lines) == len(journal)
            r = httpx.put(f"{base}/sessions/{live['id']}/faults", json={"drop": ["response.output_text.delta"]},
                          headers=auth)
            assert r.status_code == 200
            events = _say(conn, "hello again")
            assert "response.output_text.delta" not in [e["type"] for e in events]
        assert httpx.put(base + "/faults", json={"bogus": 1}, headers=auth).status_code == 400
        assert httpx.post(base + "/reset", json={}, headers=auth).json() == {"reset": True}
        assert httpx.get(base + "/scenario", headers=auth).json() == {"scenario": None}
