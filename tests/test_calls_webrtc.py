"""WebRTC calls end to end with a real WebRTC stack (aiortc) as the caller (docs/protocol.md §11)."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.calls_support import Caller, speech_48k
from tests.protocol_types import validate_server_event


@pytest.fixture(scope="module")
def live() -> Iterator[ServerThread]:
    """A server whose audio is generated in real time, as the service's is."""
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=1.0), log_level="warning")) as srv:
        yield srv


def _types(log: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in log]


def test_aiortc_caller_talks_and_hears_the_answer(live: ServerThread) -> None:
    async def main() -> None:
        caller = Caller(speech_48k("weather"))
        client = openai.AsyncOpenAI(base_url=live.http_url + "/v1", api_key="sk-test")
        try:
            raw = await client.realtime.calls.with_raw_response.create(
                sdp=await caller.offer(), session={"type": "realtime", "model": "gpt-realtime",
                                                   "instructions": "Be brief."})
            assert raw.http_response.status_code == 201
            location = raw.headers["location"]
            assert location.startswith("/v1/realtime/calls/rtc_")
            await caller.answer(raw.http_response.text)
            created = await caller.until("session.created")
            assert created["session"]["instructions"] == "Be brief."
            await caller.until("input_audio_buffer.speech_started")
            await caller.until("input_audio_buffer.speech_stopped")
            started = await caller.until("output_audio_buffer.started")
            done = await caller.until("response.done")
            stopped = await caller.until("output_audio_buffer.stopped")
            assert started["response_id"] == stopped["response_id"] == done["response"]["id"]
            heard = caller.heard_between(started["_t"], stopped["_t"])
            rms = float(np.sqrt(np.mean(heard.astype(np.float64) ** 2)))
            assert len(heard) > 48_000 * 0.3 and rms > 100, (len(heard), rms)
            # no audio deltas on the data channel: the audio went out as media
            assert not any("audio.delta" in t for t in _types(caller.log))
            for event in caller.log:
                validate_server_event({k: v for k, v in event.items() if k != "_t"}, "ga")
            # hangup ends the call: the data channel closes, the id is then ended
            await client.realtime.calls.hangup(location.rsplit("/", 1)[1])
            with pytest.raises(openai.BadRequestError):
                await client.realtime.calls.hangup(location.rsplit("/", 1)[1])
            state = live.app.state.mock
            assert not state.calls.live and not state.registry.live
            await _inspector_has_what_was_played(live, location.rsplit("/", 1)[1], len(heard) / 48_000)
        finally:
            await caller.close()
            await client.close()

    asyncio.run(main())


async def _inspector_has_what_was_played(server: ServerThread, call_id: str, heard_s: float) -> None:
    """The call kept what its media track played (24 kHz, silence included): the inspector's output.wav of the
    call's session and ``/_mockrt/calls/{id}/audio.wav`` serve it, with the reply's speech in it."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        info = (await http.get(f"/_mockrt/calls/{call_id}")).json()
        listed = next(r for r in (await http.get("/_mockrt/api/sessions")).json()["sessions"]
                      if r["id"] == info["session_id"])
        assert listed["call"] == {"id": call_id, "kind": "webrtc", "status": "ended", "heard_ms": info["heard_ms"]}
        wavs = [(await http.get(url)).content for url in (f"/_mockrt/sessions/{info['session_id']}/output.wav",
                                                          f"/_mockrt/calls/{call_id}/audio.wav")]
    assert wavs[0] == wavs[1]
    with wave.open(io.BytesIO(wavs[0])) as w:
        assert w.getframerate() == 24_000
        played = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert len(played) == info["heard_ms"] * 24
    loud = np.flatnonzero(np.abs(played) > 300)
    assert len(loud) and abs((loud[-1] - loud[0]) / 24_000 - heard_s) < 0.3, (loud[-1] - loud[0], heard_s)


def test_output_audio_buffer_clear_cuts_playback(live: ServerThread) -> None:
    async def main() -> None:
        caller = Caller(np.zeros(48_000 * 30, np.int16))
        client = openai.AsyncOpenAI(base_url=live.http_url + "/v1", api_key="sk-test")
        try:
            answer = await client.realtime.calls.create(sdp=await caller.offer(),
                                                        session={"type": "realtime", "model": "gpt-realtime"})
            await caller.answer(answer.text)
            await caller.until("session.created")
            await asyncio.wait_for(caller.opened.wait(), 10)
            caller.send({"type": "response.create"})
            started = await caller.until("output_audio_buffer.started")
            await asyncio.sleep(0.3)  # let some audio play
            caller.send({"type": "output_audio_buffer.clear"})
            cleared = await caller.until("output_audio_buffer.cleared")
            truncated = await caller.until("conversation.item.truncated")
            assert cleared["response_id"] == started["response_id"]
            assert 100 <= truncated["audio_end_ms"] <= 2000, truncated
            assert "output_audio_buffer.stopped" not in _types(caller.log)
        finally:
            await caller.close()
            await client.close()

    asyncio.run(main())


def test_bad_offers(live: ServerThread) -> None:
    url = live.http_url + "/v1/realtime/calls"
    headers = {"Authorization": "Bearer sk-test", "Content-Type": "application/sdp"}
    not_sdp = httpx.post(url, content=b"hello", headers=headers)
    assert not_sdp.status_code == 400 and not_sdp.json()["error"]["param"] == "sdp"
    video_only = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                  "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n")
    no_audio = httpx.post(url, content=video_only.encode(), headers=headers)
    assert no_audio.status_code == 400 and "no audio" in no_audio.json()["error"]["message"]
    broken = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")
    bad = httpx.post(url, content=broken.encode(), headers=headers)
    assert bad.status_code == 400, bad.text
    wrong_type = httpx.post(url, content=b"{}", headers={**headers, "Content-Type": "application/json"})
    assert wrong_type.status_code == 400
    unknown = httpx.post(url + "/rtc_nope/hangup", headers={"Authorization": "Bearer sk-test"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "call_not_found"
    state = live.app.state.mock
    assert not state.calls.live and not state.registry.live  # bad offers leave no call, session or peer behind


def test_the_peer_closing_ends_the_call(live: ServerThread) -> None:
    async def main() -> None:
        caller = Caller(np.zeros(48_000, np.int16))
        client = openai.AsyncOpenAI(base_url=live.http_url + "/v1", api_key="sk-test")
        state = live.app.state.mock
        try:
            answer = await client.realtime.calls.create(sdp=await caller.offer())
            await caller.answer(answer.text)
            await caller.until("session.created")
            assert len(state.calls.live) == 1 and len(state.registry.live) == 1
            await caller.close()  # DTLS close_notify / ICE gone: the service ends the session
            for _ in range(500):
                if not state.calls.live and not state.registry.live:
                    break
                await asyncio.sleep(0.02)
            assert not state.calls.live and not state.registry.live
            call = list(state.calls.calls.values())[-1]  # this test's call, the newest
            assert call.end_reason.startswith("peer connection")
        finally:
            await caller.close()
            await client.close()

    asyncio.run(main())
