"""GPT-Live's REST side with the openai SDK over real sockets (docs/protocol.md §13.1, §13.6): a stored session's
recording (``client.live.sessions.download_recording``), the REST fork (``client.live.sessions.fork``, WebRTC),
Azure's ``/openai/v1/live/sessions`` paths and keys, and no ephemeral keys for Live."""

from __future__ import annotations

import asyncio
import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from openai.types.live import SessionForkResponse

from mockrt.config import ServerConfig
from mockrt.core.live.recording import LiveRecording
from mockrt.scenarios import Scenario
from mockrt.scenarios.model import Reply
from mockrt.server.live import LiveHub
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech
from tests.protocol_types import validate_live_event

CHUNK = 2400  # 100 ms at 24 kHz
KEY = "sk-live-rest-key-0123456789"
START: Any = {"type": "session.start", "session": {"model": "gpt-live-1", "instructions": "Be brief.",
                                                   "store": True}}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    """Unpaced output (``time_scale`` 0): the output timeline follows the input, deterministically."""
    with ServerThread(ServerConfig(port=0, time_scale=0, api_keys=(KEY,), log_level="warning")) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _reset(server: ServerThread) -> Iterator[None]:
    server.control.reset()
    yield


def _client(srv: ServerThread, prefix: str = "/v1", **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.http_url + prefix, api_key=KEY, **kw)


def _until(conn: Any, etype: str, seen: list[dict[str, Any]], limit: int = 5000) -> dict[str, Any]:
    for _ in range(limit):
        event = conn.recv().model_dump(exclude_unset=True)
        validate_live_event(event)
        seen.append(event)
        if event["type"] == etype:
            return event
    raise AssertionError(f"no {etype} in {limit} events")


def _channels(wav_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 24000)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    return frames[:, 0], frames[:, 1]


def _talk(conn: Any, pcm: np.ndarray, fmt_bytes: Any = None) -> None:
    for k in range(0, len(pcm), CHUNK):
        piece = pcm[k:k + CHUNK].astype("<i2").tobytes() if fmt_bytes is None else fmt_bytes(pcm[k:k + CHUNK])
        conn.send({"type": "session.input_audio.append", "audio": base64.b64encode(piece).decode("ascii")})


def test_download_recording_of_a_stored_session(server: ServerThread) -> None:
    """The recording is what was said and what was sent: the caller's appended audio on the left channel and the
    continuous output stream on the right, sample for sample, from ``session.started``."""
    server.control.load_scenario(Scenario(transcripts=["Turn off the lights in the kitchen."],
                                          replies=[Reply.text("The kitchen lights are off.")]))
    client = _client(server)
    pcm = np.concatenate([load_speech("lights").pcm, np.zeros(24000 * 3, np.int16)])
    pcm = pcm[: len(pcm) // CHUNK * CHUNK]
    with client.live.connect() as conn:
        conn.send(START)
        seen: list[dict[str, Any]] = []
        session_id = _until(conn, "session.started", seen)["session"]["id"]
        with pytest.raises(openai.BadRequestError) as running:  # not finalized while the session runs
            client.live.sessions.download_recording(session_id)
        assert running.value.code == "session_active"
        _talk(conn, pcm)
        conn.send({"type": "session.close"})
        _until(conn, "session.closed", seen)
    heard = b"".join(base64.b64decode(e["delta"]) for e in seen if e["type"] == "session.output_audio.delta")
    content = client.live.sessions.download_recording(session_id)
    assert content.response.headers["content-type"] == "audio/wav"
    left, right = _channels(content.read())
    assert np.array_equal(left[: len(pcm)], pcm) and not left[len(pcm):].any()
    assert right.tobytes()[: len(heard)] == heard and not right[len(heard) // 2:].any()
    assert len(heard) >= len(pcm) * 2  # the output never falls behind the input timeline (§13.4)
    transcript = [e for e in seen if e["type"] == "session.output_transcript.delta"]
    assert transcript and np.abs(right[transcript[0]["start_ms"] * 24:]).max() > 1000  # the reply is in it


def test_recording_errors_and_g711(server: ServerThread) -> None:
    client = _client(server)
    with pytest.raises(openai.NotFoundError) as unknown:
        client.live.sessions.download_recording("live_missing")
    assert unknown.value.code == "session_not_found" and unknown.value.status_code == 404
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.http_url + "/v1", api_key="sk-wrong").live.sessions.download_recording("x")
    with client.live.connect() as conn:  # store: false keeps no recording
        conn.send({**START, "session": {**START["session"], "store": False}})
        seen: list[dict[str, Any]] = []
        unstored = _until(conn, "session.started", seen)["session"]["id"]
        conn.send({"type": "session.close"})
        _until(conn, "session.closed", seen)
    with pytest.raises(openai.NotFoundError):
        client.live.sessions.download_recording(unstored)
    with client.live.connect() as conn:  # G.711: widened to PCM16 24 kHz like the sideband's copies (§13.7)
        conn.send({**START, "session": {**START["session"], "audio": {"format": {"type": "audio/pcmu",
                                                                                  "rate": 8000}}}})
        stored = _until(conn, "session.started", seen)["session"]["id"]
        conn.send({"type": "session.input_audio.mute"})  # muting silences the model's input, not the recording
        ulaw = bytes([0x00, 0x80] * 4000)  # 1 s of full-scale square wave at 8 kHz
        conn.send({"type": "session.input_audio.append", "audio": base64.b64encode(ulaw).decode("ascii")})
        conn.send({"type": "session.close"})
        _until(conn, "session.closed", seen)
    left, right = _channels(client.live.sessions.download_recording(stored).read())
    assert len(left) == 24000 and np.array_equal(left[:6], [-32124] * 3 + [32124] * 3)
    assert not right.any()  # no reply: the output stream is silence


def test_recordings_are_bounded() -> None:
    """Per session (``journal_max_bytes``) and for every closed stored session (``recent_max_bytes``)."""
    from mockrt.audio.formats import AudioFormat

    rec = LiveRecording(max_bytes=1000)
    rec.add_input(bytes(800), AudioFormat.PCM16)
    rec.add_output(bytes(100), AudioFormat.G711_ULAW)  # 300 samples at 24 kHz: 600 bytes
    assert (len(rec.input), len(rec.output), rec.dropped_bytes) == (500, 500, 400)

    class Closed:
        def __init__(self, sid: str, size: int) -> None:
            self.session_id, self.config, self.closed = sid, None, True
            self.recording = LiveRecording(size * 2)
            self.recording.add_input(bytes(size), AudioFormat.PCM16)

    hub = LiveHub(recording_budget=2500)
    for k in range(4):
        hub.store(Closed(f"live_{k}", 1000))  # type: ignore[arg-type]
    assert list(hub.recordings) == ["live_2", "live_3"] and hub.recording("live_0") is False


def test_rest_fork_of_a_stored_session(server: ServerThread) -> None:
    """``client.live.sessions.fork``: a WebRTC session from the stored one's state (the WebSocket fork's code),
    its id for the controls; the original is not touched; refusals as the service's."""
    pytest.importorskip("aiortc")
    from tests.calls_support import Caller, speech_48k

    client = _client(server)
    with client.live.connect() as conn:
        conn.send(START)
        seen: list[dict[str, Any]] = []
        original = _until(conn, "session.started", seen)["session"]
        conn.send({"type": "session.instructions.append", "content": "Order 42.", "delegation_id": None})
        _until(conn, "session.instructions.appended", seen)

        async def main() -> None:
            aclient = openai.AsyncOpenAI(base_url=server.http_url + "/v1", api_key=KEY)
            caller = Caller(speech_48k("weather"))
            try:
                offer = await caller.offer()
                with pytest.raises(openai.NotFoundError):
                    await aclient.live.sessions.fork("live_missing", transport={"type": "webrtc", "sdp": offer})
                with pytest.raises(openai.BadRequestError) as bad:  # the media format is negotiated
                    await aclient.live.sessions.fork(original["id"], transport={"type": "webrtc", "sdp": offer},
                                                     session={"audio": {"format": {"type": "audio/pcmu"}}})
                assert bad.value.param == "session.audio.format"
                with pytest.raises(openai.BadRequestError) as bad:  # the model is inherited, not given
                    await aclient.live.sessions.fork(original["id"], transport={"type": "webrtc", "sdp": offer},
                                                     session={"model": "gpt-live-1"})  # type: ignore[typeddict-unknown-key]
                assert bad.value.code == "unknown_parameter" and bad.value.param == "session.model"
                client_cfg = {"data_channel": {"allowed_client_events": "all"}}
                raw = await aclient.live.sessions.with_raw_response.fork(
                    original["id"], transport={"type": "webrtc", "sdp": offer},
                    session={"store": False, "client": client_cfg})  # type: ignore[typeddict-item]
                body = raw.http_response.json()
                forked = SessionForkResponse.model_validate(body)
                assert set(body) == {"session", "transport"} and set(body["session"]) == {"id"}
                assert set(body["transport"]) == {"type", "sdp"}  # nothing the SDK's model does not know
                assert forked.session.id != original["id"] and forked.transport.type == "webrtc"
                await caller.answer(forked.transport.sdp)
                started = (await caller.until("session.started"))["session"]
                validate_live_event({"type": "session.started", "event_id": "event_x", "session": started})
                assert started["id"] == forked.session.id and started["instructions"] == "Be brief."
                assert started["store"] is False and started["client"] == client_cfg
                await caller.until("session.input_transcript.delta")  # the fork hears its own caller
                await aclient.live.sessions.hangup(forked.session.id)
            finally:
                await caller.close()
                await aclient.close()

        asyncio.run(main())
        conn.send({"type": "session.close"})  # the original goes on, unaffected, and closes on its own
        closed = _until(conn, "session.closed", seen)
        assert closed["session"]["id"] == original["id"] and closed["session"]["store"] is True


def test_azure_paths_and_api_key_header(server: ServerThread) -> None:
    """Azure serves GPT-Live under ``/openai/v1/live/sessions`` with an ``api-key`` header or a bearer token
    (Microsoft's GPT-Live reference); the same handlers answer."""
    azure = _client(server, "/openai/v1", default_headers={"api-key": KEY})
    with azure.live.connect() as conn:
        conn.send(START)
        seen: list[dict[str, Any]] = []
        session_id = _until(conn, "session.started", seen)["session"]["id"]
        conn.send({"type": "session.close"})
        _until(conn, "session.closed", seen)
    url = f"{server.http_url}/openai/v1/live/sessions/{session_id}/content"
    reply = httpx.get(url, headers={"api-key": KEY})
    assert reply.status_code == 200 and reply.content[:4] == b"RIFF"
    assert httpx.get(url, headers={"api-key": "wrong-key"}).status_code == 401
    assert httpx.get(url).json()["error"]["message"] == "Missing bearer or basic authentication in header"
    base = server.http_url + "/openai/v1/live/sessions"
    fork = httpx.post(base + "/live_missing/fork", headers={"api-key": KEY},
                      json={"transport": {"type": "webrtc", "sdp": "v=0"}})
    assert fork.status_code == 404 and fork.json()["error"]["code"] == "session_not_found"
    created = httpx.post(base, headers={"api-key": KEY}, json={"transport": {"type": "webrtc", "sdp": "v=0"}})
    assert created.status_code == 400 and created.json()["error"]["param"] == "session"  # past the key check
    assert httpx.post(base, headers={"api-key": "wrong-key"}, json={}).status_code == 401


def test_no_ephemeral_keys_for_live(server: ServerThread) -> None:
    """GPT-Live issues no ephemeral client keys (Microsoft's GPT-Live WebRTC guide; OpenAI's WebRTC guide has the
    server create the session with the project key): a Realtime ``ek_`` key is refused like any unknown key."""
    secret = _client(server).realtime.client_secrets.create(session={"type": "realtime", "model": "gpt-realtime"})
    assert secret.value.startswith("ek_")
    ephemeral = openai.OpenAI(base_url=server.http_url + "/v1", api_key=secret.value)
    with pytest.raises(Exception, match="401"):
        ephemeral.live.connect().__enter__()
    with pytest.raises(openai.AuthenticationError) as refused:
        ephemeral.live.create(session={"model": "gpt-live-1"}, transport={"type": "webrtc", "sdp": "v=0"})
    assert refused.value.code == "invalid_api_key"


def test_recording_of_a_sip_call() -> None:
    """A stored Live session answering a simulated SIP call (§13.8) records the caller and the model too."""
    from mockrt.core.responses import Pacing
    from tests.audio_fixtures import FIXTURE_DIR

    config = ServerConfig(port=0, pacing=Pacing(audio_speed=1.0), log_level="warning", fixtures_dir=str(FIXTURE_DIR))
    with ServerThread(config) as srv:
        placed = httpx.post(srv.http_url + "/_mockrt/calls", json={"surface": "live",
                                                                   "audio_file": "speech_weather.wav"})
        assert placed.status_code == 201, placed.text
        session_id = placed.json()["live_session_id"]
        client = openai.OpenAI(base_url=srv.http_url + "/v1", api_key="sk-test")
        client.live.sessions.accept(session_id, session={"type": "live", "model": "gpt-live-1", "store": True})
        with client.live.sideband.connect(session_id=session_id) as side:
            seen: list[dict[str, Any]] = []
            _until(side, "session.output_transcript.delta", seen)
            _until(side, "session.usage.updated", seen)  # the reply was played to its end
            with pytest.raises(openai.BadRequestError):  # the call goes on: not finalized
                client.live.sessions.download_recording(session_id)
            client.live.sessions.hangup(session_id)
        left, right = _channels(client.live.sessions.download_recording(session_id).read())
    rms = [float(np.sqrt(np.mean(c.astype(np.float64) ** 2))) for c in (left, right)]
    assert rms[0] > 100 and rms[1] > 100, rms
    reply_at = next(e for e in seen if e["type"] == "session.output_transcript.delta")["start_ms"] * 24
    assert np.abs(right[reply_at:reply_at + 24000]).max() > 1000 and not right[:2400].any()
