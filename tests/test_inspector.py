"""Session inspector (issue 8): pages, token, timeline, VAD replay, conversation, downloads.

Sessions are driven through the official openai SDK against a real server, as in tests/test_scenarios.py.
"""

from __future__ import annotations

import base64
import io
import json
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from openai import OpenAI

from mockrt import inspector
from mockrt.audio.formats import AudioFormat
from mockrt.config import ServerConfig
from mockrt.core.turn_taking import VadOptions
from mockrt.inspector.analysis import SessionAnalysis
from mockrt.recording.transcript import dumps_transcript, events, from_journal, parse_transcript
from mockrt.server.registry import JournalEntry, SessionRecord
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech

STATIC = Path(inspector.__file__).resolve().parent / "static"
TOKEN = "inspector-admin-token-0123456789"


def with_inspector(server: ServerThread) -> ServerThread:
    """The app mounts the inspector itself (kept so that the tests read the same)."""
    return server


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerThread]:
    with with_inspector(ServerThread(ServerConfig(port=0, log_level="warning"))) as server:
        yield server


@pytest.fixture(scope="module")
def http(srv: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.http_url, timeout=10) as client:
        yield client


def _client(server: ServerThread) -> OpenAI:
    return OpenAI(base_url=server.http_url + "/v1", api_key="sk-test")


def _until(conn: Any, etype: str, into: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    got = into if into is not None else []
    for event in conn:
        raw = event.to_dict()
        got.append(raw)
        if raw["type"] == etype:
            return got
    raise AssertionError(f"closed before {etype}")


def _chunks(pcm: np.ndarray[Any, Any], chunk: int) -> Iterator[bytes]:
    for i in range(0, len(pcm), chunk):
        yield pcm[i : i + chunk].tobytes()


def _ended(server: ServerThread, session_id: str, timeout: float = 5.0) -> SessionRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = server.app.state.mock.registry.get(session_id)
        if record is not None and record.ended_at is not None:
            return record  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError(f"{session_id} did not end")


Turn = tuple[str, list[dict[str, Any]], float]


def speech_turn(server: ServerThread, clip: str = "weather", *, silence_ms: int = 600) -> Turn:
    """A GA session: a speech fixture plus silence appended in 20 ms chunks with server VAD on, until the VAD
    turn's audio response is done. Returns the session id, the server events, and the ms of audio appended."""
    pcm = np.concatenate([load_speech(clip).pcm, np.zeros(24 * silence_ms, dtype=np.int16)])
    got: list[dict[str, Any]] = []
    with _client(server).realtime.connect(model="gpt-realtime") as conn:
        session_id = _until(conn, "session.created", got)[0]["session"]["id"]
        conn.session.update(session={"type": "realtime", "output_modalities": ["audio"],
                                     "audio": {"input": {"transcription": {"model": "whisper-1"}}}})
        for data in _chunks(pcm, 480):
            conn.input_audio_buffer.append(audio=base64.b64encode(data).decode())
        _until(conn, "response.done", got)
    _ended(server, session_id)
    return session_id, got, len(pcm) / 24.0


@pytest.fixture(scope="module")
def turn(srv: ServerThread) -> tuple[str, list[dict[str, Any]], float]:
    return speech_turn(srv)


def _wav(data: bytes) -> tuple[int, int, int, np.ndarray[Any, Any]]:
    with wave.open(io.BytesIO(data), "rb") as w:
        frames = w.readframes(w.getnframes())
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), np.frombuffer(frames, dtype="<i2")


# -- pages and assets -----------------------------------------------------------------------------------------------


def test_pages_and_assets_are_served_offline(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, _, _ = turn
    page = http.get("/_mockrt/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/_mockrt/static/sessions.js" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    one = http.get(f"/_mockrt/sessions/{session_id}")
    assert one.status_code == 200
    assert f'data-session="{session_id}"' in one.text and "/_mockrt/static/inspector.js" in one.text
    assert "connect-src 'self'" in one.headers["content-security-policy"]
    for name, ctype in (("inspector.js", "text/javascript"), ("sessions.js", "text/javascript"),
                        ("inspector.css", "text/css")):
        asset = http.get(f"/_mockrt/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(ctype)
        assert asset.content == (STATIC / name).read_bytes()
        assert http.get(f"/_mockrt/static/{name}", headers={"if-none-match": asset.headers["etag"]}).status_code == 304
    # Nothing is loaded from elsewhere: no absolute URLs in the pages or their assets.
    for text in [page.text, one.text] + [(STATIC / n).read_text() for n in ("inspector.js", "sessions.js",
                                                                            "inspector.css")]:
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert http.get("/_mockrt/static/../routes.py").status_code == 404
    assert http.get("/_mockrt/static/nope.js").status_code == 404
    assert http.get("/_mockrt/sessions/sess_nope").status_code == 404
    assert http.get("/_mockrt/api/sessions/sess_nope/timeline").status_code == 404


def test_session_list(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, _, _ = turn
    rows = {s["id"]: s for s in http.get("/_mockrt/api/sessions").json()["sessions"]}
    s = rows[session_id]
    assert s["dialect"] == "ga" and s["model"] == "gpt-realtime" and s["user_agent"].startswith("OpenAI/Python")
    assert s["live"] is False and s["turns"] == 1 and s["responses"] == 1 and s["errors"] == 0
    assert s["events"] > 200 and s["duration_s"] > 0


def test_admin_token_is_enforced() -> None:
    config = ServerConfig(port=0, log_level="warning", admin_token=TOKEN)
    with with_inspector(ServerThread(config)) as server, httpx.Client(base_url=server.http_url, timeout=10) as http:
        session_id, _, _ = speech_turn(server, silence_ms=600)
        urls = ["/_mockrt/api/sessions", f"/_mockrt/api/sessions/{session_id}/timeline",
                f"/_mockrt/api/sessions/{session_id}/vad", f"/_mockrt/api/sessions/{session_id}/conversation",
                f"/_mockrt/sessions/{session_id}/transcript.jsonl", f"/_mockrt/sessions/{session_id}/input.wav",
                f"/_mockrt/sessions/{session_id}/output.wav"]
        for url in urls:
            denied = http.get(url)
            assert denied.status_code == 401, url
            assert denied.json()["error"]["code"] == "admin_unauthorized"  # the admin API's own answer
            assert http.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200, url
        html = {"Accept": "text/html"}  # what a browser sends when it navigates
        for page in ("/_mockrt/", f"/_mockrt/sessions/{session_id}"):
            form = http.get(page, headers=html)
            assert form.status_code == 401 and '<form method="post" action="/_mockrt/login">' in form.text
            assert "speech_started" not in form.text and "gpt-realtime" not in form.text  # no session data
            assert http.get(page + f"?token={TOKEN}", headers=html).status_code == 401  # no tokens in URLs
            assert http.get(page, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        # A browser: the form posts the token once; the answer sets an HttpOnly cookie for /_mockrt and
        # redirects to the page it came from.
        wrong = http.post("/_mockrt/login", data={"token": "wrong", "next": f"/_mockrt/sessions/{session_id}"})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        login = http.post("/_mockrt/login", data={"token": TOKEN, "next": f"/_mockrt/sessions/{session_id}"})
        assert login.status_code == 303 and login.headers["location"] == f"/_mockrt/sessions/{session_id}"
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Path=/_mockrt" in cookie and "SameSite=strict" in cookie
        assert TOKEN not in login.headers["location"]
        assert http.get(f"/_mockrt/api/sessions/{session_id}/timeline").status_code == 200  # the cookie
        offsite = http.post("/_mockrt/login", data={"token": TOKEN, "next": "https://evil.example/"})
        assert offsite.headers["location"] == "/_mockrt/"  # no open redirect
        http.cookies.clear()
        assert http.get(f"/_mockrt/api/sessions/{session_id}/timeline").status_code == 401
        assert http.get("/_mockrt/static/inspector.js").status_code == 200  # generic code, no session data


# -- timeline ------------------------------------------------------------------------------------------------------


def test_timeline_rows_and_spans(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, got, appended_ms = turn
    tl = http.get(f"/_mockrt/api/sessions/{session_id}/timeline").json()
    rows = tl["rows"]
    types = [r["type"] for r in rows]
    for wanted in ("session.created", "session.update", "input_audio_buffer.speech_started",
                   "input_audio_buffer.speech_stopped", "input_audio_buffer.committed", "response.created",
                   "response.done"):
        assert wanted in types, wanted
    appends = [r for r in rows if r["type"] == "input_audio_buffer.append"]
    assert sum(r["n"] for r in appends) == int(appended_ms // 20) + (appended_ms % 20 > 0)
    assert sum(r["audio_ms"] for r in appends) == pytest.approx(appended_ms)
    assert len(appends) <= 3  # one span before the commit, one after
    deltas = [r for r in rows if r["type"] == "response.output_audio.delta"]
    sent = [e for e in got if e["type"] == "response.output_audio.delta"]
    assert len(deltas) == 1 and deltas[0]["n"] == len(sent)
    assert deltas[0]["audio_ms"] == pytest.approx(sum(len(base64.b64decode(e["delta"])) for e in sent) / 48)
    assert len(rows) < 60  # hundreds of events, a few dozen rows
    assert tl["counts"]["client:input_audio_buffer.append"] == sum(r["n"] for r in appends)
    assert tl["session"]["responses"] == 1 and tl["live"] is False
    # since=<last seq>: nothing new; since=<a seq in the middle>: only rows changed after it
    assert http.get(f"/_mockrt/api/sessions/{session_id}/timeline?since={tl['last_seq']}").json()["rows"] == []
    speech = next(r for r in rows if r["type"] == "input_audio_buffer.speech_started")
    later = http.get(f"/_mockrt/api/sessions/{session_id}/timeline?since={speech['id']}").json()["rows"]
    assert speech["id"] not in [r["id"] for r in later]
    assert all(r.get("last", r["id"]) > speech["id"] for r in later)
    assert {r["id"] for r in later} | {r["id"] for r in rows if r.get("last", r["id"]) <= speech["id"]} == {
        r["id"] for r in rows}


def test_live_polling_grows_the_open_span(srv: ServerThread, http: httpx.Client) -> None:
    silence = np.zeros(24 * 20, dtype=np.int16).tobytes()
    with _client(srv).realtime.connect(model="gpt-realtime") as conn:
        session_id = _until(conn, "session.created")[0]["session"]["id"]
        for _ in range(10):
            conn.input_audio_buffer.append(audio=base64.b64encode(silence).decode())
        record = srv.app.state.mock.registry.get(session_id)
        deadline = time.monotonic() + 30
        while len(record.journal) < 11 and time.monotonic() < deadline:
            time.sleep(0.01)
        first = http.get(f"/_mockrt/api/sessions/{session_id}/timeline").json()
        assert first["live"] is True
        span = next(r for r in first["rows"] if r["type"] == "input_audio_buffer.append")
        for _ in range(5):
            conn.input_audio_buffer.append(audio=base64.b64encode(silence).decode())
        while len(record.journal) < 16 and time.monotonic() < deadline:
            time.sleep(0.01)
        poll = http.get(f"/_mockrt/api/sessions/{session_id}/timeline?since={first['last_seq']}").json()
        grown = [r for r in poll["rows"] if r["id"] == span["id"]]
        assert grown and grown[0]["n"] == 15 and poll["last_seq"] > first["last_seq"]
        assert len(poll["rows"]) == 1
        vad = http.get(f"/_mockrt/api/sessions/{session_id}/vad").json()
        assert vad["input_ms"] >= 280  # the last append waits for the entry that confirms it was accepted


# -- the VAD's view ----------------------------------------------------------------------------------------------


def _check_vad(vad: dict[str, Any], server_events: list[dict[str, Any]], appended_ms: float) -> None:
    frame = vad["match"]["frame_ms"]
    assert frame == 10.0
    started = [e for e in server_events if e["type"] == "input_audio_buffer.speech_started"]
    stopped = [e for e in server_events if e["type"] == "input_audio_buffer.speech_stopped"]
    assert started and stopped
    replay_start = [r["audio_start_ms"] for r in vad["recomputed"] if r["type"] == "speech_started"]
    replay_stop = [r["audio_end_ms"] for r in vad["recomputed"] if r["type"] == "speech_stopped"]
    assert len(replay_start) == len(started) and len(replay_stop) == len(stopped)
    for event, ms in zip(started, replay_start, strict=True):
        assert abs(event["audio_start_ms"] - ms) <= frame
    for event, ms in zip(stopped, replay_stop, strict=True):
        assert abs(event["audio_end_ms"] - ms) <= frame
    assert vad["match"]["agree"] and vad["match"]["unmatched"] == 0
    # The scores themselves say where speech is: the onset run is above the "on" threshold, and the frames
    # before speech_stopped's decision (the silence wait) are below "off".
    cfg = [c for c in vad["config"] if c.get("vad")][-1]
    scores = np.frombuffer(base64.b64decode(vad["scores"]), dtype=np.uint8) / 255.0
    seg = vad["score_segments"][-1]

    def frame_at(ms: float) -> int:
        return int(seg["index"] + (ms - seg["start_ms"]) // seg["frame_ms"])

    q = 1 / 255
    for s in vad["segments"]:
        onset = s["onset_ms"]
        assert onset == s["audio_start_ms"] + cfg["prefix_padding_ms"] or s["audio_start_ms"] == 0
        k = frame_at(onset)
        run = scores[k : k + cfg["min_speech_ms"] // 10]
        assert (run >= cfg["on"] - q).all(), run
        assert scores[k - 1] < cfg["on"] + q
        wait = scores[frame_at(s["last_voiced_ms"]) : frame_at(s["audio_end_ms"])]
        assert len(wait) == cfg["silence_duration_ms"] // 10 and (wait < cfg["off"] + q).all()
    assert vad["input_ms"] == pytest.approx(appended_ms)
    assert vad["buckets"] == int(appended_ms // 10)
    assert len(base64.b64decode(vad["env_lo"])) == vad["buckets"]
    arrive = np.frombuffer(base64.b64decode(vad["arrive"]), dtype=np.float32)
    assert len(arrive) == vad["buckets"] and (np.diff(arrive) >= 0).all()


def test_vad_replay_matches_what_the_server_sent(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, got, appended_ms = turn
    vad = http.get(f"/_mockrt/api/sessions/{session_id}/vad").json()
    _check_vad(vad, got, appended_ms)
    assert [m["kind"] for m in vad["markers"]] == ["vad_commit"]
    stopped = next(e for e in got if e["type"] == "input_audio_buffer.speech_stopped")
    assert vad["markers"][0]["ms"] == stopped["audio_end_ms"]
    assert vad["segments"][0]["end"] == "vad"
    # incremental: from a bucket / frame on, only the rest
    part = http.get(f"/_mockrt/api/sessions/{session_id}/vad?from_bucket=100&score_from=200").json()
    assert part["buckets"] == vad["buckets"] - 100
    assert base64.b64decode(part["scores"]) == base64.b64decode(vad["scores"])[200:]
    assert base64.b64decode(part["env_hi"]) == base64.b64decode(vad["env_hi"])[100:]
    # a live poll that already has the event lists gets only the new audio
    poll = http.get(f"/_mockrt/api/sessions/{session_id}/vad?from_bucket={vad['buckets']}"
                    f"&score_from={vad['score_total']}&lists={vad['lists_version']}").json()
    assert poll["buckets"] == 0 and poll["scores"] == "" and "segments" not in poll


def test_vad_replay_g711_beta_two_turns(srv: ServerThread, http: httpx.Client) -> None:
    """Beta dialect, G.711 µ-law input: the replay decodes at 8 kHz, the WAV is 24 kHz of the same length."""
    clip = load_speech("two_utterances")
    ulaw = clip.ulaw + AudioFormat.G711_ULAW.encode(np.zeros(8 * 700, dtype=np.int16))
    beta = OpenAI(api_key="sk-test", websocket_base_url=srv.ws_url + "/v1")
    got: list[dict[str, Any]] = []
    with beta.beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        session_id = _until(conn, "session.created", got)[0]["session"]["id"]
        conn.session.update(session={"input_audio_format": "g711_ulaw", "output_audio_format": "g711_alaw"})
        for i in range(0, len(ulaw), 160):
            conn.input_audio_buffer.append(audio=base64.b64encode(ulaw[i : i + 160]).decode())
        done = 0
        while done < 2:
            _until(conn, "response.done", got)
            done += 1
    _ended(srv, session_id)
    appended_ms = len(ulaw) / 8.0
    vad = http.get(f"/_mockrt/api/sessions/{session_id}/vad").json()
    _check_vad(vad, got, appended_ms)
    assert len([e for e in got if e["type"] == "input_audio_buffer.speech_started"]) == 2
    rate, channels, width, pcm = _wav(http.get(f"/_mockrt/sessions/{session_id}/input.wav").content)
    assert (rate, channels, width) == (24000, 1, 2) and len(pcm) == len(ulaw) * 3
    out_bytes = sum(len(base64.b64decode(e["delta"])) for e in got if e["type"] == "response.audio.delta")
    rate, _, _, out = _wav(http.get(f"/_mockrt/sessions/{session_id}/output.wav").content)
    assert rate == 24000 and len(out) == out_bytes * 3 and np.abs(out).max() > 1000
    conv = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    assert [r["format"] for r in conv["responses"]] == ["g711_alaw"] * len(conv["responses"])


# -- responses, conversation, event detail ---------------------------------------------------------------------------


def test_conversation_and_output_audio(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, got, _ = turn
    conv = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    assert conv["source"] == "journal"
    items = conv["items"]
    assert [(i["type"], i["role"]) for i in items] == [("message", "user"), ("message", "assistant")]
    done = next(e for e in got if e["type"] == "response.done")
    assistant = done["response"]["output"][0]
    assert items[1]["id"] == assistant["id"]
    assert items[1]["content"][0]["transcript"] == assistant["content"][0]["transcript"]
    completed = next(e for e in got if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert items[0]["content"][0]["transcript"] == completed["transcript"]
    stopped = next(e for e in got if e["type"] == "input_audio_buffer.speech_stopped")
    assert items[0]["audio_range_ms"] == [0.0, stopped["audio_end_ms"]]
    (response,) = conv["responses"]
    assert response["id"] == done["response"]["id"] and response["status"] == "completed"
    (part,) = response["audio"]
    out_bytes = sum(len(base64.b64decode(e["delta"])) for e in got if e["type"] == "response.output_audio.delta")
    assert part["ms"] == pytest.approx(out_bytes / 48) and part["transcript"] == assistant["content"][0]["transcript"]
    assert len(base64.b64decode(part["env_hi"])) == int(part["ms"] // 10)
    again = http.get(f"/_mockrt/api/sessions/{session_id}/conversation?since={conv['responses_version']}").json()
    assert again["responses"] == [] and again["items"] == items
    # WAV downloads decode to the right durations
    rate, channels, width, pcm = _wav(http.get(f"/_mockrt/sessions/{session_id}/input.wav").content)
    assert (rate, channels, width) == (24000, 1, 2) and len(pcm) / 24.0 == pytest.approx(turn[2])
    _, _, _, out = _wav(http.get(f"/_mockrt/sessions/{session_id}/output.wav").content)
    assert len(out) * 2 == out_bytes
    one = http.get(f"/_mockrt/sessions/{session_id}/output.wav?response={response['id']}")
    assert one.status_code == 200 and one.headers["content-disposition"].startswith("attachment")
    assert http.get(f"/_mockrt/sessions/{session_id}/output.wav?response=resp_nope").status_code == 404


def test_event_detail_shows_audio_as_durations(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, _, _ = turn
    rows = http.get(f"/_mockrt/api/sessions/{session_id}/timeline").json()["rows"]
    span = next(r for r in rows if r["type"] == "input_audio_buffer.append")
    detail = http.get(f"/_mockrt/api/sessions/{session_id}/events/{span['id']}").json()
    assert detail["event"]["audio"] == "<20.0 ms of pcm16 audio, 960 bytes, base64 not shown>"
    assert detail["span"]["n"] == span["n"] and detail["span_last"]["seq"] == span["last"]
    inside = http.get(f"/_mockrt/api/sessions/{session_id}/events/{span['id'] + 1}").json()
    assert inside["span"]["id"] == span["id"]
    delta = next(r for r in rows if r["type"] == "response.output_audio.delta")
    detail = http.get(f"/_mockrt/api/sessions/{session_id}/events/{delta['id']}").json()
    assert detail["event"]["delta"].endswith("ms of pcm16 audio, 4800 bytes, base64 not shown>")
    created = next(r for r in rows if r["type"] == "session.created")
    detail = http.get(f"/_mockrt/api/sessions/{session_id}/events/{created['id']}").json()
    assert detail["event"]["session"]["id"] == session_id and detail["direction"] == "server"
    assert http.get(f"/_mockrt/api/sessions/{session_id}/events/999999999").status_code == 404


def test_cancel_truncate_manual_commit_clear_and_rejected_append(srv: ServerThread, http: httpx.Client) -> None:
    tone = (np.sin(np.arange(24 * 300) * 2 * np.pi * 440 / 24000) * 8000).astype(np.int16)
    got: list[dict[str, Any]] = []
    with _client(srv).realtime.connect(model="gpt-realtime") as conn:
        session_id = _until(conn, "session.created", got)[0]["session"]["id"]
        conn.session.update(session={"type": "realtime", "output_modalities": ["audio"],
                                     "audio": {"input": {"turn_detection": None}}})
        _until(conn, "session.updated", got)
        conn.input_audio_buffer.append(audio=base64.b64encode(tone.tobytes()).decode())
        conn.input_audio_buffer.append(audio="not base64!")  # rejected: not part of the input audio
        _until(conn, "error", got)
        conn.input_audio_buffer.commit()
        _until(conn, "input_audio_buffer.committed", got)
        conn.input_audio_buffer.append(audio=base64.b64encode(tone[:2400].tobytes()).decode())
        conn.input_audio_buffer.clear()
        _until(conn, "input_audio_buffer.cleared", got)
        conn.response.create()
        first = _until(conn, "response.output_audio.delta", got)[-1]
        conn.response.cancel()
        _until(conn, "response.done", got)
        conn.conversation.item.truncate(item_id=first["item_id"], content_index=0, audio_end_ms=40)
        _until(conn, "conversation.item.truncated", got)
        live = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    _ended(srv, session_id)
    conv = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    assert live["source"] == "live" and conv["source"] == "journal"
    key = [(i["id"], i["role"]) for i in conv["items"]]
    assert key == [(i["id"], i["role"]) for i in live["items"]]
    # parts are named alike both ways, the model's names (the GA wire says output_audio, the dialect reads it)
    kinds = [[p["type"] for p in i["content"]] for i in conv["items"]]
    assert kinds == [[p["type"] for p in i["content"]] for i in live["items"]] and kinds[-1] == ["audio"]
    assistant = conv["items"][-1]
    assert assistant["id"] == first["item_id"] and assistant["truncated_ms"] == 40
    (response,) = conv["responses"]
    assert response["status"] == "cancelled" and response["reason"] == "client_cancelled"
    assert response["cancel_t"] is not None and response["cancel_t"] <= response["t_done"]
    assert response["audio"][0]["truncated_ms"] == 40
    vad = http.get(f"/_mockrt/api/sessions/{session_id}/vad").json()
    assert vad["input_ms"] == 400.0 and vad["rejected_appends"] == 1
    assert [(m["kind"], m["start_ms"], m["ms"]) for m in vad["markers"]] == [("commit", 0.0, 300.0),
                                                                            ("clear", 300.0, 400.0)]
    assert vad["config"][-1]["vad"] is None and vad["recomputed"] == []
    rows = http.get(f"/_mockrt/api/sessions/{session_id}/timeline").json()["rows"]
    assert [r.get("bad", False) for r in rows if r["type"] == "input_audio_buffer.append"] == [False, True, False]
    assert conv["items"][0]["audio_range_ms"] == [0.0, 300.0]


# -- transcript download -----------------------------------------------------------------------------------------


def test_transcript_download_round_trips(srv: ServerThread, http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, got, _ = turn
    response = http.get(f"/_mockrt/sessions/{session_id}/transcript.jsonl")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="{session_id}.jsonl"'
    record = srv.app.state.mock.registry.get(session_id)
    assert response.text == dumps_transcript(from_journal(record))
    lines = parse_transcript(response.text)
    assert lines[0]["session_id"] == session_id and lines[0]["dialect"] == "ga"
    server = events(lines, "server")
    assert [e["type"] for e in server] == [e["type"] for e in got] + [
        e.event["type"] for e in record.journal if e.direction == "server"][len(got):]
    assert len(events(lines, "client")) == sum(1 for e in record.journal if e.direction == "client")


# -- the analysis without a server ----------------------------------------------------------------------------------


def _journal(chunks: list[bytes], times: list[float]) -> list[JournalEntry]:
    session = {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                                                       "turn_detection": {"type": "server_vad", "threshold": 0.5,
                                                                          "prefix_padding_ms": 300,
                                                                          "silence_duration_ms": 200}},
                                             "output": {"format": {"type": "audio/pcm", "rate": 24000}}}}
    entries = [JournalEntry(0, 0.0, "server", {"type": "session.created", "session": session})]
    for i, (data, t) in enumerate(zip(chunks, times, strict=True), start=1):
        entries.append(JournalEntry(i, t, "client", {"type": "input_audio_buffer.append",
                                                    "audio": base64.b64encode(data).decode()}))
    return entries


def test_analysis_is_chunk_invariant_and_maps_real_time_appends_1_to_1() -> None:
    pcm = np.concatenate([load_speech("lights").pcm, np.zeros(24 * 500, dtype=np.int16)])
    results = []
    for chunk in (480, 2400, 7777 * 2):
        chunks = list(_chunks(pcm, chunk))
        ends = np.cumsum([len(c) / 48000 for c in chunks])  # each chunk arrives as it ends: real time
        a = SessionAnalysis("sess_x", VadOptions())
        a.update(_journal(chunks, list(ends)), final=True)
        results.append(a)
        assert a.input.ms == pytest.approx(len(pcm) / 24)
        for ms in (0, 500, 1234, 2000):
            assert a.input.wall_of(ms) == pytest.approx(ms / 1000, abs=1e-6)
    base = results[0]
    for other in results[1:]:
        assert bytes(other.vad.scores.view()) == bytes(base.vad.scores.view())
        assert other.vad.recomputed and [{k: r[k] for k in ("type", "audio_start_ms", "audio_end_ms") if k in r}
                                         for r in other.vad.recomputed] == [
            {k: r[k] for k in ("type", "audio_start_ms", "audio_end_ms") if k in r} for r in base.vad.recomputed]
        assert bytes(other.input.envelope(0)[1]) == bytes(base.input.envelope(0)[1])
    # A burst (everything at t=1.0) is compressed into the burst's instant; the audio still has its length.
    burst = SessionAnalysis("sess_y", VadOptions())
    chunks = list(_chunks(pcm, 480))
    burst.update(_journal(chunks, [1.0] * len(chunks)), final=True)
    assert burst.input.ms == pytest.approx(len(pcm) / 24)
    assert burst.input.wall_of(0) == pytest.approx(0.98) and burst.input.wall_of(1000) == pytest.approx(1.0)
    # Fed in two halves (a live session polled twice), the analysis is the same as in one go.
    entries = _journal(chunks, [i * 0.02 for i in range(1, len(chunks) + 1)])
    halves = SessionAnalysis("sess_z", VadOptions())
    halves.update(entries[:40])
    halves.update(entries[40:], final=True)
    assert bytes(halves.vad.scores.view()) == bytes(base.vad.scores.view())
    assert [r.to_dict() for r in halves.timeline.rows] == [
        r.to_dict() for r in _whole(entries).timeline.rows]


def _whole(entries: list[JournalEntry]) -> SessionAnalysis:
    a = SessionAnalysis("sess_w", VadOptions())
    a.update(entries, final=True)
    return a


def test_json_answers_are_gzipped_when_large(http: httpx.Client, turn: tuple[str, Any, float]) -> None:
    session_id, _, _ = turn
    raw = http.get(f"/_mockrt/api/sessions/{session_id}/vad", headers={"accept-encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip" and json.loads(raw.text)["buckets"] > 0


def test_voice_live_16khz_audio_is_shown_at_24khz() -> None:
    """Voice Live's pcm16 at 16 kHz (docs/protocol.md §12) is interpolated to the inspector's 24 kHz, three output
    samples per two input samples, each pair ending on an input sample."""
    from mockrt.inspector.journal import _to24k

    pcm = np.array([0, 300, 600, 900], dtype=np.int16)
    assert _to24k(pcm, AudioFormat.PCM16_16K, 0).tolist() == [0, 100, 300, 500, 700, 900]
    assert _to24k(pcm, AudioFormat.PCM16_8K, 0).shape[0] == 12 and _to24k(pcm, AudioFormat.PCM16, 0) is pcm
