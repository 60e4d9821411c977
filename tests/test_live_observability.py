"""GPT-Live sessions are observable like Realtime ones (docs/protocol.md §13): the admin API lists them and serves
their journals, the waits of the Python control API (what the pytest plugin's ``realtime`` fixture calls) see
their events, and the inspector shows their two timelines: input audio and its transcript, the continuous output
stream and its transcript, delegations. Driven by the openai SDK's ``client.live.connect()`` over a real socket,
read back through the real admin HTTP API."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from openai import OpenAI

from mockrt.config import ServerConfig
from mockrt.scenarios import Scenario
from mockrt.scenarios.model import Match, Reply, Rule
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech

CHUNK = 2400  # 100 ms at 24 kHz
START: Any = {"type": "session.start", "event_id": "s1", "session": {"model": "gpt-live-1", "store": True}}


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(port=0, time_scale=0.05, log_level="warning")) as server:
        yield server


@pytest.fixture
def http(srv: ServerThread) -> Iterator[httpx.Client]:
    # An earlier test's sessions end after its client closed; one ending after the reset would be listed with this
    # test's (session_ids() counts recent sessions too).
    registry = srv.app.state.mock.registry
    assert registry.wait(lambda: not registry.live, 10.0), "an earlier test's sessions are still open"
    srv.control.reset()
    with httpx.Client(base_url=srv.http_url, timeout=10) as client:
        yield client


def _client(srv: ServerThread) -> OpenAI:
    return OpenAI(base_url=srv.http_url + "/v1", api_key="sk-test")


def _turn_audio() -> np.ndarray[Any, np.dtype[np.int16]]:
    return np.concatenate([load_speech("lights").pcm, np.zeros(24000 * 4, dtype=np.int16)])


def _send_audio(conn: Any, pcm: np.ndarray[Any, np.dtype[np.int16]]) -> None:
    for k in range(0, len(pcm), CHUNK):
        conn.send({"type": "session.input_audio.append",
                   "audio": base64.b64encode(pcm[k:k + CHUNK].astype("<i2").tobytes()).decode("ascii")})


def _until(conn: Any, etype: str, seen: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    for event in conn:
        data: dict[str, Any] = event.model_dump(exclude_unset=True)
        seen.append(data)
        if data["type"] == etype and all(data.get(k) == v for k, v in fields.items()):
            return data
    raise AssertionError(f"closed before {etype}")


def _wav(http: httpx.Client, url: str) -> np.ndarray[Any, np.dtype[np.int16]]:
    with wave.open(io.BytesIO(http.get(url).content)) as w:
        assert w.getframerate() == 24000
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def test_a_live_session_in_the_admin_api_the_waits_and_the_inspector(srv: ServerThread, http: httpx.Client) -> None:
    srv.control.load_scenario(Scenario(transcripts=["Turn off the lights in the kitchen."],
                                       replies=[Reply.text("The kitchen lights are off.")]))
    seen: list[dict[str, Any]] = []
    with _client(srv).live.connect() as conn:
        conn.send(START)
        started = _until(conn, "session.started", seen)
        session_id = started["session"]["id"]
        row = next(r for r in http.get("/_mockrt/sessions").json()["sessions"] if r["id"] == session_id)
        assert (row["dialect"], row["model"], row["path"], row["live"]) == ("live", "gpt-live-1",
                                                                            "/v1/live/sessions", True)
        assert srv.control.next_client_event("session.start", session_id=session_id)["event_id"] == "s1"
        _send_audio(conn, _turn_audio())
        _until(conn, "session.output_transcript.delta", seen, delta=".")
        # the waits see the Live events, by wire type and fields, like the Realtime ones
        said = srv.control.wait_for("session.input_transcript.delta", session_id=session_id, delta=".")
        assert said["end_ms"] == max(e["end_ms"] for e in seen if e["type"] == "session.input_transcript.delta")
        conn.send({"type": "session.close", "event_id": "bye"})
        closed = _until(conn, "session.closed", seen)
    srv.control.wait_for("session.closed", session_id=session_id, client_event_id="bye")

    journal = http.get(f"/_mockrt/sessions/{session_id}/journal").json()
    assert journal["session"]["live"] is False
    sent = [e["event"]["type"] for e in journal["entries"] if e["direction"] == "server"]
    assert sent == [e["type"] for e in seen]  # every event the client got, in order, output audio included
    received = [e["event"]["type"] for e in journal["entries"] if e["direction"] == "client"]
    assert received[0] == "session.start" and received[-1] == "session.close"
    assert received.count("session.input_audio.append") == -(-len(_turn_audio()) // CHUNK)
    appended_ms = len(_turn_audio()) / 24

    # the inspector's list and timeline: one caller turn, one spoken reply, both transcripts on their timelines
    listed = next(r for r in http.get("/_mockrt/api/sessions").json()["sessions"] if r["id"] == session_id)
    assert (listed["dialect"], listed["turns"], listed["responses"], listed["errors"]) == ("live", 1, 1, 0)
    timeline = http.get(f"/_mockrt/api/sessions/{session_id}/timeline").json()
    inputs = [e for e in seen if e["type"] == "session.input_transcript.delta"]
    outputs = [e for e in seen if e["type"] == "session.output_transcript.delta"]
    labels = {r["type"]: r["label"] for r in timeline["rows"]}
    assert labels["session.input_transcript.delta"] == (
        f"{len(inputs)} deltas: Turn off the lights in the kitchen. "
        f"[{inputs[0]['start_ms']}–{inputs[-1]['end_ms']} ms]")
    assert labels["session.output_transcript.delta"] == (
        f"{len(outputs)} deltas: The kitchen lights are off. [{outputs[0]['start_ms']}–{outputs[-1]['end_ms']} ms]")
    audio_row = next(r for r in timeline["rows"] if r["type"] == "session.output_audio.delta")
    out_ms = sum(len(base64.b64decode(e["delta"])) // 48 for e in seen if e["type"] == "session.output_audio.delta")
    assert audio_row["audio_ms"] == out_ms and audio_row["n"] == out_ms // 100
    assert labels["session.closed"] == f"gpt-live-1 {closed['usage']['seconds']:g} s used close_requested (re bye)"

    # the conversation: the caller's and the model's words with their spans; the output stream as one "response"
    conv = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    assert [(i["role"], i["content"][0]["transcript"]) for i in conv["items"]] == [
        ("user", "Turn off the lights in the kitchen."), ("assistant", "The kitchen lights are off.")]
    assert conv["items"][0]["audio_range_ms"] == [inputs[0]["start_ms"], inputs[-1]["end_ms"]]
    assert conv["items"][1]["output_range_ms"] == [outputs[0]["start_ms"], outputs[-1]["end_ms"]]
    (stream,) = conv["responses"]
    assert (stream["id"], stream["status"], stream["reason"]) == ("output", "ended", "close_requested")
    assert stream["audio"][0]["ms"] == out_ms and stream["audio"][0]["transcript"] == "The kitchen lights are off."

    # the VAD replay of the journaled input finds the turn the transcript spans
    vad = http.get(f"/_mockrt/api/sessions/{session_id}/vad").json()
    assert vad["input_ms"] == round(appended_ms, 1) and vad["replay_error"] is None
    stopped = [r for r in vad["recomputed"] if r["type"] == "speech_stopped"]
    assert [r["audio_end_ms"] for r in stopped] == [inputs[-1]["end_ms"]]

    # downloads: the input as appended, the output stream as sent (its speech where the transcript says)
    assert len(_wav(http, f"/_mockrt/sessions/{session_id}/input.wav")) == len(_turn_audio())
    output = _wav(http, f"/_mockrt/sessions/{session_id}/output.wav")
    assert len(output) == out_ms * 24
    speech = output[outputs[0]["start_ms"] * 24:outputs[-1]["end_ms"] * 24].astype(np.float64)
    assert not output[:outputs[0]["start_ms"] * 24 - 2400].any() and np.sqrt(np.mean(speech ** 2)) > 100


def test_forks_sideband_commands_and_delegations_are_journaled(srv: ServerThread, http: httpx.Client) -> None:
    srv.control.load_scenario(Scenario(
        transcripts=["Turn off the lights in the kitchen."],
        rules=[Rule(Match(regex="lights"), [Reply.call("set_lights", {"room": "kitchen"})]),
               Rule(Match(function_call_output=True), [Reply.text("Done.")])]))
    client = _client(srv)
    seen: list[dict[str, Any]] = []
    with client.live.connect() as conn:
        conn.send(START)
        session_id = _until(conn, "session.started", seen)["session"]["id"]
        _send_audio(conn, _turn_audio()[:24000 * 4])
        created = _until(conn, "session.delegation.created", seen)
        delegation = created["delegation"]["id"]
        with client.live.sideband.connect(session_id=session_id) as side:
            side.send({"type": "session.commentary.append", "event_id": "side1", "content": '{"ok": true}',
                       "delegation_id": delegation})
            _until(conn, "session.output_transcript.delta", seen, delta=".")
        with client.live.forks.connect(session_id=session_id) as fork:
            fork.send({"type": "session.start", "event_id": "f1", "session": {}})
            fork_id = _until(fork, "session.started", [])["session"]["id"]
    srv.control.wait_for("session.started", session_id=fork_id)
    records = {r["id"]: r for r in http.get("/_mockrt/sessions").json()["sessions"]}
    assert records[fork_id]["path"] == f"/v1/live/sessions/{session_id}/fork"
    assert records[fork_id]["model"] == "gpt-live-1"  # inherited from the original
    command = srv.control.wait_for("session.commentary.append", direction="client", session_id=session_id)
    assert command["event_id"] == "side1"  # the sideband's command is a client event of the session it drives
    assert srv.control.events("session.commentary.append", direction="client", session_id=fork_id) == []

    rows = http.get(f"/_mockrt/api/sessions/{session_id}/timeline").json()["rows"]
    labels = {r["type"]: r["label"] for r in rows}
    assert labels["session.delegation.created"] == f"{delegation} → client at {created['offset_ms']} ms"
    ack = next(e for e in seen if e["type"] == "session.commentary.appended")
    assert labels["session.commentary.append"] == f'{{"ok": true}} for {delegation}'
    assert labels["session.commentary.appended"] == f"at {ack['start_ms']} ms (re side1)"
    conv = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    kinds = [(i["type"], i.get("role")) for i in conv["items"]]
    assert kinds == [("message", "user"), ("delegation", None), ("message", "assistant")]
    assert conv["items"][1] == {"id": delegation, "type": "delegation", "target": "client", "response_id": None,
                                "offset_ms": created["offset_ms"]}


def test_a_scenario_loaded_mid_session_drives_the_next_turn(srv: ServerThread, http: httpx.Client) -> None:
    """Like Realtime sessions, a running Live session switches to a newly loaded scenario for its next turn
    (what the plugin's ``realtime.load_scenario`` does in the middle of a test)."""
    seen: list[dict[str, Any]] = []
    with _client(srv).live.connect() as conn:
        conn.send(START)
        _until(conn, "session.started", seen)
        srv.control.load_scenario(Scenario(transcripts=["Turn off the lights in the kitchen."],
                                           replies=[Reply.text("Switched scenario.")]))
        _send_audio(conn, _turn_audio()[:24000 * 4])
        _until(conn, "session.output_transcript.delta", seen, delta=".")
    said = "".join(e["delta"] for e in seen if e["type"] == "session.output_transcript.delta")
    heard = "".join(e["delta"] for e in seen if e["type"] == "session.input_transcript.delta")
    assert (heard, said.strip()) == ("Turn off the lights in the kitchen.", "Switched scenario.")


def test_control_actions_still_find_the_one_realtime_session(srv: ServerThread, http: httpx.Client) -> None:
    """Live sessions are listed beside Realtime ones, but lockstep and live faults act on Realtime sessions: with
    one of each connected, ``push_event`` without a session id and faults for ``"*"`` reach the Realtime one."""
    client = _client(srv)
    with client.live.connect() as live, client.realtime.connect(model="gpt-realtime") as rt:
        live.send(START)
        _until(live, "session.started", [])
        assert rt.recv().type == "session.created"
        assert len(srv.control.session_ids()) == 2
        srv.control.set_faults({}, session_id="*")
        srv.control.push_event({"type": "rate_limits.updated", "rate_limits": []})
        assert rt.recv().type == "rate_limits.updated"
