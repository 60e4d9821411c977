"""SIP calls, simulated, end to end with the openai SDK: the webhook, accept, the sideband, DTMF, hangup
(docs/protocol.md §11)."""

from __future__ import annotations

import asyncio
import base64
import io
import queue
import threading
import time
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.server.webhooks import sign
from mockrt.thread import ServerThread
from tests.audio_fixtures import FIXTURE_DIR
from tests.protocol_types import validate_server_event

TIME_SCALE = 0.25
"""The simulated line runs 4× faster than real time (``time_scale`` paces the SIP caller like everything else)."""

SECRET = "whsec_" + base64.b64encode(b"mockrt-test-webhook-secret-0123").decode()


class Receiver:
    """The application's webhook endpoint: records each delivery; answers with ``status`` (a list pops one per
    request)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        self.statuses = statuses or []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.deliveries.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def sip_server(receiver: Receiver) -> Iterator[ServerThread]:
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=1.0), log_level="warning", webhook_url=receiver.url,
                          webhook_secret=SECRET, fixtures_dir=str(FIXTURE_DIR), webhook_retry_s=(0.05, 0.05),
                          time_scale=TIME_SCALE)
    with ServerThread(config) as srv:
        yield srv


def _admin(server: ServerThread, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.http_url + "/_mockrt" + path, json=body)


def test_sip_call_end_to_end(sip_server: ServerThread, receiver: Receiver) -> None:
    placed = _admin(sip_server, "/calls", {"from": "+15550100", "to": "+15550199", "audio_file": "speech_weather.wav",
                                           "sip_headers": [{"name": "X-Account", "value": "42"}],
                                           "dtmf": [{"digit": "5", "at_ms": 300}]})
    assert placed.status_code == 201, placed.text
    call_id = placed.json()["call_id"]
    headers, body = receiver.deliveries.get(timeout=10)
    client = openai.OpenAI(base_url=sip_server.http_url + "/v1", api_key="sk-test", webhook_secret=SECRET)
    event = client.webhooks.unwrap(body.decode(), headers)
    assert event.type == "realtime.call.incoming"
    assert event.data.call_id == call_id
    assert {"name": "X-Account", "value": "42"} in [h.model_dump() for h in event.data.sip_headers]
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(body.decode(), {**headers, "webhook-id": "evt_other"})

    accepted_at = time.monotonic()
    client.realtime.calls.accept(call_id, type="realtime", model="gpt-realtime", instructions="Phone agent.")
    with pytest.raises(openai.BadRequestError):  # accepting twice: the call is no longer ringing
        client.realtime.calls.accept(call_id, type="realtime", model="gpt-realtime")

    async def sideband() -> list[dict[str, Any]]:
        aclient = openai.AsyncOpenAI(base_url=sip_server.http_url + "/v1", api_key="sk-test")
        seen: list[dict[str, Any]] = []
        async with aclient.realtime.connect(call_id=call_id) as conn:
            async for ev in conn:
                seen.append(ev.model_dump(exclude_unset=True))
                if ev.type == "output_audio_buffer.stopped":
                    break
            await aclient.realtime.calls.hangup(call_id)
        await aclient.close()
        return seen

    seen = asyncio.run(asyncio.wait_for(sideband(), 30))
    wall_ms = (time.monotonic() - accepted_at) * 1000
    types = [e["type"] for e in seen]
    assert "session.created" in types and seen[0]["session"]["instructions"] == "Phone agent."
    assert "input_audio_buffer.dtmf_event_received" in types
    dtmf = seen[types.index("input_audio_buffer.dtmf_event_received")]
    assert dtmf["event"] == "5"
    order = [t for t in types if t in ("input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                                       "output_audio_buffer.started", "response.done", "output_audio_buffer.stopped")]
    assert order == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                     "output_audio_buffer.started", "response.done", "output_audio_buffer.stopped"], order
    for event in seen:
        validate_server_event(event, "ga")

    info = httpx.get(f"{sip_server.http_url}/_mockrt/calls/{call_id}").json()
    assert info["status"] == "ended" and info["heard_ms"] > 500
    wav = httpx.get(f"{sip_server.http_url}/_mockrt/calls/{call_id}/audio.wav")
    with wave.open(io.BytesIO(wav.content)) as w:
        assert w.getframerate() == 8000
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 50  # the caller heard the assistant
    assert info["heard_ms"] > 1.5 * wall_ms  # the line ran faster than the wall clock: time_scale applies
    _inspector_shows_the_call(sip_server, info, pcm)
    with pytest.raises(openai.BadRequestError):  # accept after hangup
        client.realtime.calls.accept(call_id, type="realtime", model="gpt-realtime")
    state = sip_server.app.state.mock
    assert not state.calls.live and not state.registry.live


def test_openai_agents_sip_model_answers_the_call(sip_server: ServerThread, receiver: Receiver) -> None:
    """openai-agents' own SIP flow: ``OpenAIRealtimeSIPModel.build_initial_session_payload`` is what the app
    accepts with, and ``RealtimeRunner(agent, model=OpenAIRealtimeSIPModel())`` attaches by ``call_id`` (the
    sideband WebSocket) and runs the agent on the caller's turn."""
    realtime = pytest.importorskip("agents.realtime")
    placed = _admin(sip_server, "/calls", {"audio_file": "speech_weather.wav", "dtmf": [{"digit": "7", "at_ms": 200}]})
    call_id = placed.json()["call_id"]
    headers, body = receiver.deliveries.get(timeout=10)
    client = openai.AsyncOpenAI(base_url=sip_server.http_url + "/v1", api_key="sk-test", webhook_secret=SECRET)
    assert client.webhooks.unwrap(body.decode(), headers).data.call_id == call_id
    agent = realtime.RealtimeAgent(name="phone", instructions="You answer the phone.")
    sip_model = realtime.OpenAIRealtimeSIPModel

    async def main() -> tuple[list[dict[str, Any]], list[Any]]:
        payload = await sip_model.build_initial_session_payload(agent, model_config={"call_id": call_id})
        await client.realtime.calls.accept(call_id, **payload.model_dump(exclude_unset=True))
        runner = realtime.RealtimeRunner(agent, model=sip_model())
        session = await runner.run(model_config={
            "call_id": call_id, "url": f"{sip_server.ws_url}/v1/realtime?call_id={call_id}", "api_key": "sk-test"})
        raw: list[dict[str, Any]] = []
        history: list[Any] = []
        async with session, asyncio.timeout(30):
            async for event in session:
                assert event.type != "error", event
                if event.type == "raw_model_event":
                    assert event.data.type not in ("error", "exception"), event.data
                    if event.data.type == "raw_server_event":
                        raw.append(event.data.data)
                if event.type == "history_updated":
                    history = event.history
                if event.type == "agent_end":
                    break
        await client.realtime.calls.hangup(call_id)
        await client.close()
        return raw, history

    raw, history = asyncio.run(main())
    types = [e["type"] for e in raw]
    for event in raw:
        validate_server_event(event, "ga")
    assert types[0] == "session.created" and raw[0]["session"]["instructions"] == "You answer the phone."
    assert "session.updated" in types and "input_audio_buffer.dtmf_event_received" in types
    assert types.index("input_audio_buffer.speech_stopped") < types.index("output_audio_buffer.started") \
        < types.index("response.done")
    assert [i.role for i in history if i.type == "message"] == ["user", "assistant"]
    info = httpx.get(f"{sip_server.http_url}/_mockrt/calls/{call_id}").json()
    assert info["status"] == "ended" and info["heard_ms"] > 0


def _inspector_shows_the_call(server: ServerThread, info: dict[str, Any], heard: np.ndarray[Any, Any]) -> None:
    """The inspector's session page names the call, and its output.wav is what the caller heard (24 kHz)."""
    session_id = info["session_id"]
    listed = {s["id"]: s for s in httpx.get(f"{server.http_url}/_mockrt/api/sessions").json()["sessions"]}
    call = listed[session_id]["call"]
    assert call == {"id": info["call_id"], "kind": "sip", "status": "ended", "heard_ms": info["heard_ms"]}
    timeline = httpx.get(f"{server.http_url}/_mockrt/api/sessions/{session_id}/timeline").json()
    assert timeline["session"]["call"] == call
    page = httpx.get(f"{server.http_url}/_mockrt/sessions/{session_id}")
    assert "media-src 'self'" in page.headers["content-security-policy"]  # the page's <audio> may play it
    wav = httpx.get(f"{server.http_url}/_mockrt/sessions/{session_id}/output.wav")
    assert wav.status_code == 200 and wav.headers["content-disposition"].endswith(f'{session_id}-output.wav"')
    with wave.open(io.BytesIO(wav.content)) as w:
        assert w.getframerate() == 24000
        out = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert abs(len(out) - 3 * len(heard)) <= 48  # the same duration (less the resampler's 2 ms tail)
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)) > 1000)
    assert loud.size  # the assistant's speech, where the caller heard it, is in the inspector's copy too
    lo, hi = 3 * int(loud[0]), 3 * int(loud[-1]) + 1
    assert float(np.sqrt(np.mean(out[lo:hi].astype(np.float64) ** 2))) > 50
    assert float(np.sqrt(np.mean(out[: max(0, lo - 2400)].astype(np.float64) ** 2))) < 50  # silence before it


def test_reject_refer_and_unknown(sip_server: ServerThread, receiver: Receiver) -> None:
    client = openai.OpenAI(base_url=sip_server.http_url + "/v1", api_key="sk-test")
    first = _admin(sip_server, "/calls", {}).json()["call_id"]
    second = _admin(sip_server, "/calls", {}).json()["call_id"]
    receiver.deliveries.get(timeout=10)
    receiver.deliveries.get(timeout=10)
    client.realtime.calls.reject(first, status_code=486)
    client.realtime.calls.refer(second, target_uri="tel:+15550111")
    assert httpx.get(f"{sip_server.http_url}/_mockrt/calls/{first}").json()["rejected_with"] == 486
    assert httpx.get(f"{sip_server.http_url}/_mockrt/calls/{second}").json()["status"] == "referred"
    with pytest.raises(openai.NotFoundError):
        client.realtime.calls.accept("rtc_unknown", type="realtime", model="gpt-realtime")
    with pytest.raises(openai.BadRequestError):
        client.realtime.calls.refer(first, target_uri="tel:+1")

    async def unknown_sideband() -> Any:
        aclient = openai.AsyncOpenAI(base_url=sip_server.http_url + "/v1", api_key="sk-test")
        async with aclient.realtime.connect(call_id="rtc_unknown") as conn:
            event = await conn.recv()
        await aclient.close()
        return event

    event = asyncio.run(unknown_sideband())
    assert event.type == "error" and event.error.code == "call_not_found"


def test_bad_admin_calls(sip_server: ServerThread) -> None:
    outside = _admin(sip_server, "/calls", {"audio_file": "../../pyproject.toml"})
    assert outside.status_code == 400 and "fixtures directory" in outside.text
    bad = _admin(sip_server, "/calls", {"dtmf": [{"digit": "X", "at_ms": 1}], "colour": "blue"})
    assert bad.status_code == 400 and len(bad.json()["problems"]) == 2


def test_webhook_receiver_down_drops_the_call(tmp_path: Path) -> None:
    down = Receiver(statuses=[500, 503, 500])
    config = ServerConfig(port=0, log_level="warning", webhook_url=down.url, webhook_secret=SECRET,
                          webhook_retry_s=(0.05, 0.05))
    try:
        with ServerThread(config) as srv:
            call_id = _admin(srv, "/calls", {}).json()["call_id"]
            ids = {down.deliveries.get(timeout=10)[0]["webhook-id"] for _ in range(3)}
            assert len(ids) == 1  # one event, retried
            state = srv.app.state.mock
            for _ in range(2000):
                if not state.calls.live:
                    break
                threading.Event().wait(0.01)
            info = httpx.get(f"{srv.http_url}/_mockrt/calls/{call_id}").json()
            assert info["status"] == "ended" and info["webhook_statuses"] == [500, 503, 500]
            client = openai.OpenAI(base_url=srv.http_url + "/v1", api_key="sk-test")
            with pytest.raises(openai.BadRequestError):
                client.realtime.calls.accept(call_id, type="realtime", model="gpt-realtime")
    finally:
        down.close()


def test_signature_matches_the_sdk() -> None:
    client = openai.OpenAI(api_key="x", webhook_secret=SECRET)
    body = '{"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1,"data":' \
           '{"call_id":"rtc_1","sip_headers":[]}}'
    import time
    now = int(time.time())
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(now), "webhook-signature": sign(SECRET, "evt_1",
                                                                                                 now, body)}
    assert client.webhooks.unwrap(body, headers).data.call_id == "rtc_1"
    headers["webhook-signature"] = sign(SECRET, "evt_1", now, body + " ")
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(body, headers)
