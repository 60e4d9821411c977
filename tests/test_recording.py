"""Record and replay (issue: scenarios, faults, journal): the recording proxy, the transcript format, replay as a
scenario, and diffs, proven with the mock itself as the upstream and the official SDK as the client."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from openai import OpenAI
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.recording import (
    ProxyThread,
    RecordingProxy,
    diff,
    from_journal,
    load_recording,
    normalize,
    read_transcript,
    redact,
    write_transcript,
)
from mockrt.recording.cli import diff as diff_command
from mockrt.recording.proxy import upstream_url
from mockrt.recording.replay import scenario_from_transcript
from mockrt.recording.transcript import from_journal_entries, parse_transcript, redact_url
from mockrt.scenarios import Output, Reply, Scenario, load_scenario
from mockrt.server.registry import SessionRecord
from mockrt.thread import ServerThread

RECORDINGS = Path(__file__).resolve().parent.parent / "fixtures" / "recordings"
CLIENT_KEY = "sk-secret-key-123456789"  # what the application presents to the proxy; must never be recorded
ENV_KEY = "sk-upstream-env-key-0123456789"  # what the proxy authenticates upstream with (from "the environment")

WEATHER_TOOL = {"type": "function", "name": "get_weather", "description": "Current weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TONE = (np.sin(np.arange(4800) * 2 * np.pi * 440 / 24000) * 8000).astype(np.int16)  # 0.2 s at 24 kHz
USER_AUDIO = (np.sin(np.arange(4800) * 0.05) * 4000).astype(np.int16)  # 0.2 s of "speech"


def upstream_scenario() -> Scenario:
    """What the upstream "service" says: distinctive, so that only a faithful replay reproduces it."""
    return Scenario(
        name="upstream",
        replies=[
            Reply.text("Hello from the recorded service.", usage={"input_text": 111, "cached_text": 64}),
            Reply([Output(text="Here is a tone.", transcript="Here is a tone.", audio=TONE)]),
            Reply.call("get_weather", {"city": "Paris"}),
            Reply.text("It is 21 degrees and sunny in Paris."),
        ],
        transcripts=["Play me a tone, please."],
    )


# -- the client conversation (also used by fixtures/recordings/make_recording.py) ----------------------------


@dataclass
class Turn:
    text: str = ""
    transcript: str = ""
    audio: bytes = b""
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    status: str = ""
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    user_transcripts: list[str] = field(default_factory=list)


def _turn(conn: Any, conversation: Conversation) -> Turn:
    """Read one response to its end (GA: through the ``rate_limits.updated`` that follows ``response.done``)."""
    turn = Turn()
    for event in conn:
        raw = event.to_dict()
        etype = raw["type"]
        if etype == "response.output_text.delta":
            turn.text += raw["delta"]
        elif etype == "response.output_audio_transcript.delta":
            turn.transcript += raw["delta"]
        elif etype == "response.output_audio.delta":
            turn.audio += base64.b64decode(raw["delta"])
        elif etype == "conversation.item.input_audio_transcription.completed":
            conversation.user_transcripts.append(raw["transcript"])
        elif etype == "response.done":
            response = raw["response"]
            turn.status, turn.usage = response["status"], response["usage"]
            turn.calls = [(o["name"], o["arguments"], o["call_id"]) for o in response["output"]
                          if o["type"] == "function_call"]
        elif etype == "rate_limits.updated" and turn.status:
            conversation.turns.append(turn)
            return turn
        elif etype == "error":
            raise AssertionError(f"unexpected error event: {raw}")
    raise AssertionError("connection closed mid-turn")


def converse(client: OpenAI) -> Conversation:
    """A text turn, an audio turn (with input transcription) and a function-call round trip, over the GA SDK."""
    conversation = Conversation()
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.session.update(session={"type": "realtime", "tools": [WEATHER_TOOL], "audio": {"input": {
            "transcription": {"model": "gpt-4o-mini-transcribe"}, "turn_detection": None}}})
        assert next(e for e in conn if e.type == "session.updated")
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "Hello!"}]})
        conn.response.create(response={"output_modalities": ["text"]})
        _turn(conn, conversation)

        conn.input_audio_buffer.append(audio=base64.b64encode(USER_AUDIO.tobytes()).decode())
        conn.input_audio_buffer.commit()
        conn.response.create(response={"output_modalities": ["audio"]})
        _turn(conn, conversation)

        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "Weather in Paris?"}]})
        conn.response.create(response={"output_modalities": ["text"]})
        name, _, call_id = _turn(conn, conversation).calls[0]
        assert name == "get_weather"
        conn.conversation.item.create(item={"type": "function_call_output", "call_id": call_id,
                                            "output": json.dumps({"temp_c": 21, "sky": "sunny"})})
        conn.response.create(response={"output_modalities": ["text"]})
        _turn(conn, conversation)
    return conversation


def record_conversation(out: Path, meta: dict[str, Any] | None = None) -> tuple[Path, Conversation, list[Any]]:
    """Record :func:`converse` through a proxy in front of a keyed mock; returns the file, what the client saw
    and the upstream mock's own transcript of the session (``from_journal``)."""
    config = ServerConfig(port=0, api_keys=(ENV_KEY,), pacing=Pacing(audio_speed=0), log_level="warning")
    with ServerThread(config) as upstream:
        upstream.control.load_scenario(upstream_scenario())
        proxy = RecordingProxy(upstream.ws_url, out, env={"OPENAI_API_KEY": ENV_KEY}, overwrite=True,
                               meta={"upstream": "mockrt", **(meta or {})}, client_token=CLIENT_KEY)
        with ProxyThread(proxy):
            client = OpenAI(base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=CLIENT_KEY)
            conversation = converse(client)
            [path] = proxy.wait_recordings(1)
        journal = from_journal(_ended_session(upstream))
    return path, conversation, journal


def _ended_session(server: ServerThread) -> SessionRecord:
    registry = server.control.state.registry
    record: SessionRecord | None = registry.wait(
        lambda: next((r for r in registry.all() if r.ended_at is not None), None), 5.0)
    assert record is not None, "the session did not end"
    return record


# -- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Conversation, list[Any]]:
    return record_conversation(tmp_path_factory.mktemp("rec") / "session.jsonl")


@pytest.fixture(scope="module")
def replayer() -> Iterator[ServerThread]:
    """A fresh mock (any key) that replays recordings."""
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning")) as srv:
        yield srv


@pytest.fixture
def fresh(replayer: ServerThread) -> ServerThread:
    replayer.control.reset()
    replayer.control.state.registry.recent.clear()
    return replayer


def _mock_client(server: ServerThread) -> OpenAI:
    return OpenAI(base_url=server.http_url + "/v1", api_key="sk-anything")


# -- recording -------------------------------------------------------------------------------------------------


def test_the_client_sees_the_upstream_through_the_proxy(recorded: tuple[Path, Conversation, list[Any]]) -> None:
    _, conversation, _ = recorded
    text, tone, call, after = conversation.turns
    assert text.text == "Hello from the recorded service."
    assert text.usage["input_token_details"]["text_tokens"] == 111
    assert tone.transcript == "Here is a tone." and tone.audio == TONE.tobytes()
    assert call.calls[0][:2] == ("get_weather", '{"city":"Paris"}')
    assert after.text == "It is 21 degrees and sunny in Paris."
    assert conversation.user_transcripts == ["Play me a tone, please."]


def test_transcript_has_a_header_both_directions_timing_and_the_close(
        recorded: tuple[Path, Conversation, list[Any]]) -> None:
    path, _, _ = recorded
    lines = read_transcript(path)
    head, frames = lines[0], lines[1:]
    assert head["mockrt_recording"] == 1 and head["dialect"] == "ga" and head["upstream"] == "mockrt"
    assert head["target"].endswith("/v1/realtime?model=gpt-realtime") and head["target"].startswith("ws://127.")
    assert isinstance(head["started_at"], float)
    times = [f["t"] for f in frames]
    assert all(isinstance(t, float) for t in times) and times == sorted(times) and times[-1] > 0
    client_types = [f["event"]["type"] for f in frames if f["dir"] == "client" and "event" in f]
    server_types = [f["event"]["type"] for f in frames if f["dir"] == "server" and "event" in f]
    assert client_types == ["session.update", "conversation.item.create", "response.create",
                            "input_audio_buffer.append", "input_audio_buffer.commit", "response.create",
                            "conversation.item.create", "response.create", "conversation.item.create",
                            "response.create"]
    assert server_types[0] == "session.created" and server_types.count("response.done") == 4
    assert "response.output_audio.delta" in server_types
    assert frames[-1] == {"t": frames[-1]["t"], "dir": "client", "close": {"code": 1000, "reason": ""}}


def test_no_secret_is_written(recorded: tuple[Path, Conversation, list[Any]]) -> None:
    path, _, _ = recorded
    text = path.read_text(encoding="utf-8")
    for secret in (CLIENT_KEY, ENV_KEY, "secret-key", "env-key", "Bearer"):
        assert secret not in text


def test_the_recording_is_what_passed_the_wire(recorded: tuple[Path, Conversation, list[Any]]) -> None:
    """The proxy's transcript equals the upstream mock's journal of the same session (after normalisation)."""
    path, _, upstream_journal = recorded
    assert diff(normalize(read_transcript(path)), normalize(upstream_journal)) == []


def test_upstream_auth_comes_from_the_environment_only(tmp_path: Path) -> None:
    """Without a key in the environment the keyed upstream refuses the session, whatever the client presents."""
    with ServerThread(ServerConfig(port=0, api_keys=(ENV_KEY,), log_level="warning")) as upstream, \
            ProxyThread(RecordingProxy(upstream.ws_url, tmp_path / "s.jsonl", env={}, client_token=ENV_KEY)) as proxy:
        with connect(f"ws://127.0.0.1:{proxy.port}/v1/realtime?model=gpt-realtime",
                     additional_headers={"Authorization": f"Bearer {ENV_KEY}"}) as ws:
            error = json.loads(ws.recv(timeout=5))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
        assert "Missing bearer" in error["error"]["message"]
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 3000  # the upstream's close, relayed
        [path] = proxy.proxy.wait_recordings(1)
    lines = read_transcript(path)
    assert lines[-1]["dir"] == "server" and lines[-1]["close"]["code"] == 3000
    assert ENV_KEY not in path.read_text()


def test_beta_header_subprotocols_and_browser_keys(tmp_path: Path) -> None:
    with ServerThread(ServerConfig(port=0, log_level="warning")) as upstream, \
            ProxyThread(RecordingProxy(upstream.ws_url, tmp_path / "b.jsonl", env={},
                                       client_token="sk-browser-key-1234567890")) as proxy:
        offered = ["realtime", "openai-insecure-api-key.sk-browser-key-1234567890", "openai-beta.realtime-v1"]
        with connect(f"ws://127.0.0.1:{proxy.port}/v1/realtime?model=gpt-4o-realtime-preview&api-key=sk-query-secret-123",
                     subprotocols=offered) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol == "realtime"
            created = json.loads(ws.recv(timeout=5))
            ws.send("not json")
            ws.send(b"\x00\x01\x02")
            errors = [json.loads(ws.recv(timeout=5))["error"]["type"] for _ in range(2)]
        assert created["session"]["object"] == "realtime.session"  # the beta dialect reached the upstream
        assert errors == ["invalid_request_error", "invalid_request_error"]
        [path] = proxy.proxy.wait_recordings(1)
    text = path.read_text()
    head, *frames = read_transcript(path)
    assert head["dialect"] == "beta" and head["subprotocol"] == "realtime"
    client = [{k: v for k, v in f.items() if k != "t"} for f in frames if f["dir"] == "client"]
    assert client == [{"dir": "client", "raw": "not json"}, {"dir": "client", "binary": 3},
                      {"dir": "client", "close": {"code": 1000, "reason": ""}}]
    assert "sk-browser-key" not in text and "sk-query-secret" not in text and "api-key" not in head["target"]


def test_a_refused_handshake_is_recorded_and_replays_as_a_fault(tmp_path: Path) -> None:
    with ServerThread(ServerConfig(port=0, api_keys=(ENV_KEY,), log_level="warning")) as upstream, \
            ProxyThread(RecordingProxy(upstream.ws_url, tmp_path / "r.jsonl", env={},
                                       client_token="client-azure-key-0123456789abcdef")) as proxy:
        url = f"ws://127.0.0.1:{proxy.port}/openai/realtime?api-version=2025-04-01-preview&deployment=d"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers={"api-key": "client-azure-key-0123456789abcdef"})
        assert refused.value.response.status_code == 401
        [path] = proxy.proxy.wait_recordings(1)
    lines = read_transcript(path)
    assert lines[0]["dialect"] == "beta" and lines[1]["rejected"]["status"] == 401
    assert "client-azure-key" not in path.read_text()
    scenario = load_recording(path)
    assert scenario.faults is not None and scenario.faults.refuse == {"status": 401}


# -- replay ----------------------------------------------------------------------------------------------------


def test_the_recording_replays_as_a_scenario(recorded: tuple[Path, Conversation, list[Any]],
                                             fresh: ServerThread) -> None:
    path, original, _ = recorded
    scenario = load_recording(path)
    assert [len(r.outputs) for r in scenario.replies] == [1, 1, 1, 1]
    assert scenario.transcripts == ["Play me a tone, please."]
    audio = scenario.replies[1].outputs[0].audio
    assert audio is not None and np.array_equal(audio, TONE)
    fresh.control.load_scenario(scenario)
    replayed = converse(_mock_client(fresh))
    assert replayed == original


def test_the_replayed_session_matches_the_recording(recorded: tuple[Path, Conversation, list[Any]],
                                                    fresh: ServerThread) -> None:
    """The whole transcript agrees once ids, timestamps, obfuscation and rate-limit numbers are normalised.

    Expected differences that normalisation removes: session/conversation/item/response ids and event ids
    (another server, another id seed), ``expires_at``/``created_at``, ``obfuscation`` padding, ``rate_limits``
    numbers, and the interleaving of audio and transcript deltas (a replay spreads the recorded transcript evenly
    over the recorded audio, the live service and the synthesiser do not). The mock's journal does not keep the
    client's close code, so its client close (``code: null``) matches any.
    """
    path, _, _ = recorded
    fresh.control.load_scenario(load_recording(path))
    converse(_mock_client(fresh))
    replayed = from_journal(_ended_session(fresh))
    assert diff(normalize(read_transcript(path)), normalize(replayed)) == []


def test_interleaving_of_delta_streams_is_not_a_difference() -> None:
    def line(etype: str, delta: str, direction: str = "server") -> dict[str, Any]:
        return {"t": 0.0, "dir": direction, "event": {"type": etype, "delta": delta}}

    audio, words = "response.output_audio.delta", "response.output_audio_transcript.delta"
    head = {"mockrt_recording": 1, "target": "x", "dialect": "ga", "started_at": 0.0}
    a = [head, line(words, "Hi"), line(audio, "AAAA"), line(words, " there"), line(audio, "AAAA"),
         {"t": 0.0, "dir": "server", "event": {"type": "response.done"}}]
    b = [head, line(audio, "AAAA"), line(words, "Hi"), line("input_audio_buffer.append", "", "client"),
         line(audio, "AAAA"), line(words, " there"), {"t": 0.0, "dir": "server", "event": {"type": "response.done"}}]
    assert diff(normalize(a), normalize(b), directions=["server"]) == []
    assert diff(normalize(a, reorder_deltas=False), normalize(b, reorder_deltas=False), directions=["server"])
    swapped = [head, line(words, " there"), line(audio, "AAAA"), line(words, "Hi"), line(audio, "AAAA"),
               {"t": 0.0, "dir": "server", "event": {"type": "response.done"}}]
    assert diff(normalize(a), normalize(swapped))  # the order within one stream still matters


def test_load_scenario_loads_the_committed_recording(fresh: ServerThread) -> None:
    path = RECORDINGS / "weather_and_tone.jsonl"
    lines = read_transcript(path)
    assert lines[0]["upstream"] == "mockrt"
    scenario = load_scenario(path)
    assert len(scenario.replies) == 4 and scenario.transcripts == ["Play me a tone, please."]
    fresh.control.load_scenario(scenario)
    replayed = converse(_mock_client(fresh))
    done = [e["event"]["response"] for e in lines if "event" in e and e["event"]["type"] == "response.done"]
    assert [t.status for t in replayed.turns] == [d["status"] for d in done]
    assert [t.usage for t in replayed.turns] == [d["usage"] for d in done]
    assert replayed.turns[0].text == done[0]["output"][0]["content"][0]["text"]
    assert replayed.turns[1].audio == TONE.tobytes()
    assert replayed.turns[2].calls[0] == ("get_weather", '{"city":"Paris"}', done[2]["output"][0]["call_id"])
    # YAML scenarios still load through the same entry point.
    yaml_scenarios = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"
    assert load_scenario(yaml_scenarios / "greeting.yaml").name


def test_statuses_formats_and_usage_of_replies() -> None:
    """Incomplete/failed/cancelled responses, beta shapes and G.711 audio, built from hand-written lines."""
    ulaw = bytes(range(0, 240))
    lines: list[dict[str, Any]] = [
        {"mockrt_recording": 1, "target": "wss://x/v1/realtime", "dialect": "beta", "started_at": 1.0},
        {"t": 0.0, "dir": "server", "event": {"type": "session.created",
                                              "session": {"output_audio_format": "g711_ulaw"}}},
        {"t": 0.1, "dir": "server", "event": {"type": "response.created", "response": {"id": "resp_A1"}}},
        {"t": 0.3, "dir": "server", "event": {"type": "response.audio.delta", "response_id": "resp_A1",
                                              "item_id": "item_B1", "content_index": 0,
                                              "delta": base64.b64encode(ulaw).decode()}},
        {"t": 0.4, "dir": "server", "event": {"type": "response.done", "response": {
            "id": "resp_A1", "status": "cancelled", "status_details": {"type": "cancelled", "reason": "turn_detected"},
            "output": [{"id": "item_B1", "type": "message", "content": [{"type": "audio", "transcript": "Hi"}]}],
            "usage": {"input_token_details": {"text_tokens": 5, "audio_tokens": 7, "cached_tokens": 3},
                      "output_token_details": {"text_tokens": 1, "audio_tokens": 2}}}}},
        {"t": 0.5, "dir": "server", "event": {"type": "response.done", "response": {
            "id": "resp_A2", "status": "incomplete", "status_details": {"reason": "max_output_tokens"},
            "output": [{"id": "item_B2", "type": "message", "content": [{"type": "text", "text": "Trunc"}]}]}}},
        {"t": 0.6, "dir": "server", "event": {"type": "response.done", "response": {
            "id": "resp_A3", "status": "failed", "status_details": {"error": {"type": "tokens",
                                                                             "code": "rate_limit_exceeded"}},
            "output": []}}},
    ]
    first, second, third = scenario_from_transcript(lines, timing=True).replies
    assert first.status == "completed" and first.outputs[0].transcript == "Hi"
    assert first.usage == {"input_text": 5, "input_audio": 7, "output_text": 1, "output_audio": 2,
                           "cached_text": 3, "cached_audio": 0}
    assert first.pacing is not None and first.pacing.first_delta_ms == 200.0
    samples = first.outputs[0].audio
    assert samples is not None and len(samples) == 3 * len(ulaw)
    # The mock's 3:1 decimation of the repeated samples gives back the recorded G.711 bytes.
    from mockrt.audio.g711 import ulaw_decode, ulaw_encode
    assert ulaw_encode(samples.reshape(-1, 3).mean(axis=1).astype(np.int16)) == ulaw_encode(ulaw_decode(ulaw))
    assert (second.status, second.reason, second.outputs[0].text) == ("incomplete", "max_output_tokens", "Trunc")
    assert third.status == "failed" and third.error == {"type": "tokens", "code": "rate_limit_exceeded"}


# -- the transcript format, redaction, normalisation and diff ------------------------------------------------------


def test_from_journal_round_trips_through_write_and_read(recorded: tuple[Path, Conversation, list[Any]],
                                                         tmp_path: Path) -> None:
    _, _, journal = recorded
    assert journal[0]["upstream"] == "mockrt" and journal[0]["target"] == "/v1/realtime?model=gpt-realtime"
    path = write_transcript(tmp_path / "journal.jsonl", journal)
    assert read_transcript(path) == journal
    assert load_recording(path).transcripts == ["Play me a tone, please."]


def test_from_journal_entries_maps_pseudo_events() -> None:
    entries = [{"t": 0.5, "direction": "client", "event": {"type": "<invalid json>", "raw": "{nope"}},
               {"t": 0.6, "direction": "client", "event": {"type": "<binary frame>", "bytes": 12}},
               {"t": 0.7, "direction": "server", "event": {"type": "error", "note": f"key {CLIENT_KEY}"}}]
    lines = from_journal_entries(entries, target="/v1/realtime", dialect="ga", started_at=10.0,
                                 close=("server", 1001, 0.8))
    assert lines[1:] == [{"t": 0.5, "dir": "client", "raw": "{nope"}, {"t": 0.6, "dir": "client", "binary": 12},
                         {"t": 0.7, "dir": "server", "event": {"type": "error", "note": "key <redacted>"}},
                         {"t": 0.8, "dir": "server", "close": {"code": 1001, "reason": ""}}]
    assert parse_transcript("".join(json.dumps(line) + "\n" for line in lines)) == lines


def test_redaction_rules() -> None:
    event = {"type": "session.created", "session": {
        "client_secret": {"value": "ek_0123456789abcdef0123456789abcdef", "expires_at": 99},
        "instructions": "use sk-proj-AbCdEf0123456789 and ek_0123456789abcdef or Bearer abc.def.ghi-123",
        "nested": [{"value": "ek_fedcba9876543210"}, {"Authorization": "whatever"}, {"api-key": "k"}]}}
    out = redact(event)
    assert out["session"]["client_secret"] == {"value": "<redacted>", "expires_at": 99}
    assert out["session"]["instructions"] == "use <redacted> and <redacted> or Bearer <redacted>"
    assert out["session"]["nested"] == [{"value": "<redacted>"}, {"Authorization": "<redacted>"},
                                        {"api-key": "<redacted>"}]
    assert redact({"x": "azure 0123456789abcdef0123456789abcdef"}, ["0123456789abcdef0123456789abcdef"]) == {
        "x": "azure <redacted>"}
    assert redact_url("wss://u:p@h.openai.azure.com/openai/realtime?api-version=1&deployment=d&api-key=s&x=1") == (
        "wss://h.openai.azure.com/openai/realtime?api-version=1&deployment=d&api-key=<redacted>&x=<redacted>")
    assert upstream_url("https://h.example/base/", "/v1/realtime?model=m&api-key=s") == (
        "wss://h.example/base/v1/realtime?model=m")


def test_normalize_and_diff_report_real_differences(recorded: tuple[Path, Conversation, list[Any]]) -> None:
    path, _, _ = recorded
    a = read_transcript(path)
    norm = normalize(a)
    session = next(ln["event"] for ln in norm if "event" in ln and ln["event"]["type"] == "session.created")
    assert session["event_id"] == "<event_id>" and session["session"]["id"] == "<sess_1>"
    assert "expires_at" not in session["session"]
    delta = next(ln["event"] for ln in norm if "event" in ln and ln["event"]["type"] == "response.output_audio.delta")
    assert delta["delta"].startswith("<audio ") and delta["delta"].endswith(" bytes>")
    append = next(ln["event"] for ln in norm if "event" in ln and ln["event"]["type"] == "input_audio_buffer.append")
    assert append["audio"] == f"<audio {USER_AUDIO.nbytes} bytes>"

    b = copy.deepcopy(a)
    done = [ln for ln in b if "event" in ln and ln["event"]["type"] == "response.done"]
    done[0]["event"]["response"]["usage"]["total_tokens"] += 1
    b = [ln for ln in b if not ("event" in ln and ln["event"]["type"] == "response.output_text.done")]
    report = diff(normalize(a), normalize(b))
    assert any(line.startswith("server: - #") and "response.output_text.done (only in A)" in line for line in report)
    assert any("response.done: event.response.usage.total_tokens:" in line for line in report)
    assert not any(line.startswith("client") for line in report)


def test_diff_command(recorded: tuple[Path, Conversation, list[Any]], tmp_path: Path) -> None:
    path, _, _ = recorded
    runner = CliRunner()
    same = runner.invoke(diff_command, [str(path), str(path)])
    assert same.exit_code == 0 and same.output == "no differences\n"
    lines = read_transcript(path)
    first_done = next(ln for ln in lines if "event" in ln and ln["event"]["type"] == "response.output_text.done")
    first_done["event"]["text"] = "something else"
    other = write_transcript(tmp_path / "other.jsonl", lines)
    changed = runner.invoke(diff_command, [str(path), str(other), "--direction", "server"])
    assert changed.exit_code == 1 and "response.output_text.done: event.text:" in changed.output
