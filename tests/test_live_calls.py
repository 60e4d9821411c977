"""GPT-Live over SIP, end to end with the openai SDK (docs/protocol.md §13.8): the ``live.transport.incoming``
webhook, ``client.live.sessions.accept/reject/refer/hangup``, the sideband watching the call (DTMF, the caller's
turn, the reply), what the caller heard."""

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
from tests.audio_fixtures import FIXTURE_DIR
from tests.protocol_types import validate_live_event
from tests.test_calls_sip import SECRET, Receiver

ACCEPT: Any = {"type": "live", "model": "gpt-live-1", "instructions": "Phone agent."}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def server(receiver: Receiver) -> Iterator[ServerThread]:
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=1.0), log_level="warning", webhook_url=receiver.url,
                          webhook_secret=SECRET, fixtures_dir=str(FIXTURE_DIR), webhook_retry_s=(0.05, 0.05))
    with ServerThread(config) as srv:
        yield srv


def _place(server: ServerThread, **body: Any) -> dict[str, Any]:
    placed = httpx.post(server.http_url + "/_mockrt/calls", json=body)
    assert placed.status_code == 201, placed.text
    result: dict[str, Any] = placed.json()
    return result


def _info(server: ServerThread, call_id: str) -> dict[str, Any]:
    info: dict[str, Any] = httpx.get(f"{server.http_url}/_mockrt/calls/{call_id}").json()
    return info


def _client(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.http_url + "/v1", api_key="sk-test", webhook_secret=SECRET)


def test_live_sip_call_end_to_end(server: ServerThread, receiver: Receiver) -> None:
    placed = _place(server, surface="live", audio_file="speech_weather.wav",
                    sip_headers=[{"name": "X-Account", "value": "42"}], dtmf=[{"digit": "7", "at_ms": 2500}])
    session_id = placed["live_session_id"]
    assert session_id.startswith("live_")
    headers, body = receiver.deliveries.get(timeout=10)
    client = _client(server)
    event = client.webhooks.unwrap(body.decode(), headers)
    assert event.type == "live.transport.incoming"
    assert event.data.session_id == session_id and event.data.type == "sip"
    assert {"name": "X-Account", "value": "42"} in [h.model_dump() for h in event.data.sip_headers]

    client.live.sessions.accept(session_id, session=ACCEPT)
    with pytest.raises(openai.BadRequestError):  # accepting twice: the call is no longer ringing
        client.live.sessions.accept(session_id, session=ACCEPT)
    with pytest.raises(openai.BadRequestError):  # nor can the Realtime API take it now
        client.realtime.calls.accept(placed["call_id"], type="realtime", model="gpt-realtime")

    seen: list[dict[str, Any]] = []
    with client.live.sideband.connect(session_id=session_id) as side:
        types: set[str] = set()
        while not {"transport.dtmf.received", "session.output_transcript.delta"} <= types:
            ev = side.recv()
            seen.append(ev.model_dump(exclude_unset=True))
            types.add(ev.type)
        while ev.type != "session.usage.updated":  # the reply was played to its end
            ev = side.recv()
            seen.append(ev.model_dump(exclude_unset=True))
        side.send({"type": "transport.dtmf.send", "event": "#", "event_id": "k1"})  # type: ignore[arg-type]
        side.send({"type": "transport.dtmf.send", "event": "12", "event_id": "k2"})  # type: ignore[arg-type]
        while ev.type != "error":
            ev = side.recv()
            seen.append(ev.model_dump(exclude_unset=True))
        client.live.sessions.hangup(session_id)
        for ev in side:  # the sideband ends with the call
            seen.append(ev.model_dump(exclude_unset=True))
    for e in seen:
        validate_live_event(e)
    dtmf = next(e for e in seen if e["type"] == "transport.dtmf.received")
    assert dtmf["event"] == "7"
    sent = next(e for e in seen if e["type"] == "transport.dtmf.sent")
    assert sent["event"] == "#" and sent["client_event_id"] == "k1"
    refused = next(e for e in seen if e["type"] == "error")
    assert refused["error"]["param"] == "event" and refused["error"]["client_event_id"] == "k2"
    heard_words = "".join(e["delta"] for e in seen if e["type"] == "session.input_transcript.delta")
    assert heard_words.strip(), "the caller's turn was transcribed"
    reflected = [e for e in seen if e["type"] == "session.input_audio.append"]
    assert reflected, "the caller's audio is reflected to the sideband"

    info = _info(server, placed["call_id"])
    assert info["status"] == "ended" and info["heard_ms"] > 500
    wav = httpx.get(f"{server.http_url}/_mockrt/calls/{placed['call_id']}/audio.wav")
    with wave.open(io.BytesIO(wav.content)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 50  # the caller heard the Live model
    with pytest.raises(openai.BadRequestError):  # hangup after the end
        client.live.sessions.hangup(session_id)
    state = server.app.state.mock
    assert not state.calls.live
    journal = journaled_call(server, session_id, placed["call_id"], "sip", f"/v1/live/sessions/{session_id}/accept")
    assert ("client", "transport.dtmf.send") in journal  # the sideband's commands are the session's client events


def journaled_call(server: ServerThread, session_id: str, call_id: str, kind: str,
                   path: str) -> set[tuple[str, str]]:
    """A Live call's session is in the admin API's sessions and journal, and the inspector's output.wav is what
    the call played (at 24 kHz, as long as the call's recording); the journal's (direction, type) pairs."""
    with httpx.Client(base_url=server.http_url, timeout=10) as http:
        row = next(r for r in http.get("/_mockrt/sessions").json()["sessions"] if r["id"] == session_id)
        assert (row["dialect"], row["model"], row["path"], row["live"]) == ("live", "gpt-live-1", path, False)
        entries = http.get(f"/_mockrt/sessions/{session_id}/journal").json()["entries"]
        seen = {(e["direction"], e["event"]["type"]) for e in entries}
        assert {("client", "session.start"), ("client", "session.input_audio.append"),
                ("server", "session.started"), ("server", "session.input_transcript.delta"),
                ("server", "session.output_transcript.delta")} <= seen
        info = _info(server, call_id)
        listed = next(r for r in http.get("/_mockrt/api/sessions").json()["sessions"] if r["id"] == session_id)
        assert listed["call"] == {"id": call_id, "kind": kind, "status": "ended", "heard_ms": info["heard_ms"]}
        assert listed["turns"] >= 1 and listed["responses"] >= 1
        wav = http.get(f"/_mockrt/sessions/{session_id}/output.wav")
    with wave.open(io.BytesIO(wav.content)) as w:
        assert w.getframerate() == 24000
        played = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert abs(len(played) - info["heard_ms"] * 24) <= 24 * 20, (len(played), info["heard_ms"])
    assert float(np.sqrt(np.mean(played.astype(np.float64) ** 2))) > 50
    return seen


def test_live_reject_refer_and_refusals(server: ServerThread, receiver: Receiver) -> None:
    client = _client(server)
    first = _place(server, surface="live")
    second = _place(server, surface="live")
    for _ in range(2):
        receiver.deliveries.get(timeout=10)
    with pytest.raises(openai.BadRequestError):  # SIP final responses only: 300-699
        client.live.sessions.reject(first["live_session_id"], status_code=200)
    client.live.sessions.reject(first["live_session_id"], status_code=486)
    assert _info(server, first["call_id"])["rejected_with"] == 486
    with pytest.raises(openai.BadRequestError):  # a strict config: unknown fields are refused, the call rings on
        client.live.sessions.accept(second["live_session_id"], session={**ACCEPT, "colour": "blue"})
    with pytest.raises(openai.BadRequestError):  # SIP negotiates the audio format
        client.live.sessions.accept(second["live_session_id"],
                                    session={**ACCEPT, "audio": {"output": {"format": {"type": "audio/pcmu"}}}})
    assert _info(server, second["call_id"])["status"] == "incoming"
    assert second["live_session_id"] not in server.control.session_ids()  # a refused accept starts no session
    client.live.sessions.refer(second["live_session_id"], target_uri="tel:+15550111")
    assert _info(server, second["call_id"])["status"] == "referred"
    with pytest.raises(openai.NotFoundError):
        client.live.sessions.accept("live_unknown", session=ACCEPT)
    with pytest.raises(openai.BadRequestError):
        client.live.sessions.refer(first["live_session_id"], target_uri="tel:+1")


def test_both_webhooks_first_accept_wins(server: ServerThread, receiver: Receiver) -> None:
    client = _client(server)
    placed = _place(server, surface="both")
    kinds = {client.webhooks.unwrap(body.decode(), headers).type
             for headers, body in (receiver.deliveries.get(timeout=10) for _ in range(2))}
    assert kinds == {"realtime.call.incoming", "live.transport.incoming"}
    client.realtime.calls.accept(placed["call_id"], type="realtime", model="gpt-realtime")
    with pytest.raises(openai.BadRequestError):
        client.live.sessions.accept(placed["live_session_id"], session=ACCEPT)
    client.realtime.calls.hangup(placed["call_id"])
    bad = httpx.post(server.http_url + "/_mockrt/calls", json={"surface": "carrier pigeon"})
    assert bad.status_code == 400 and "surface" in bad.text


def _connected(receiver: Receiver, client: openai.OpenAI, session_id: str) -> None:
    """The ``live.transport.connected`` webhook of a direct WebRTC session, signed like every webhook."""
    headers, body = receiver.deliveries.get(timeout=10)
    event = client.webhooks.unwrap(body.decode(), headers)
    assert event.type == "live.transport.connected", event
    assert event.data.session_id == session_id and event.data.type == "webrtc"


def test_legacy_live_call_incoming_webhook(server: ServerThread, receiver: Receiver) -> None:
    """``legacy_live_webhook``: the deprecated ``live.call.incoming`` (no ``data.type``) follows
    ``live.transport.incoming`` for the same pending session, as existing subscriptions still get it (§13.8)."""
    client = _client(server)
    placed = _place(server, surface="live", legacy_live_webhook=True)
    events = [client.webhooks.unwrap(body.decode(), headers)
              for headers, body in (receiver.deliveries.get(timeout=10) for _ in range(2))]
    assert [e.type for e in events] == ["live.transport.incoming", "live.call.incoming"]
    legacy = events[1]
    assert legacy.type == "live.call.incoming" and legacy.data.session_id == placed["live_session_id"]
    assert "type" not in legacy.data.model_dump(exclude_unset=True)
    client.live.sessions.reject(placed["live_session_id"], status_code=603)
    bad = httpx.post(server.http_url + "/_mockrt/calls", json={"surface": "live", "legacy_live_webhook": "yes"})
    assert bad.status_code == 400 and "legacy_live_webhook" in bad.text


def test_live_webrtc_session(server: ServerThread, receiver: Receiver) -> None:
    """``client.live.create``: the aiortc caller talks, the data channel carries the Live events (session.started
    first, no audio deltas: the audio is media), the reply is heard; a sideband attaches by the returned id; the
    ``live.transport.connected`` webhook names the session."""
    from tests.calls_support import Caller, speech_48k

    async def main() -> None:
        caller = Caller(speech_48k("weather"))
        client = openai.AsyncOpenAI(base_url=server.http_url + "/v1", api_key="sk-test")
        try:
            with pytest.raises(openai.BadRequestError):  # the media format is negotiated
                await client.live.create(session={"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcmu"}}},
                                         transport={"type": "webrtc", "sdp": await caller.offer()})
            created = await client.live.create(session={"model": "gpt-live-1", "instructions": "Be brief."},
                                               transport={"type": "webrtc", "sdp": await caller.offer()})
            session_id = created.session.id
            assert session_id.startswith("live_") and created.transport.type == "webrtc"
            await asyncio.to_thread(_connected, receiver, _client(server), session_id)
            await caller.answer(created.transport.sdp)
            started = await caller.until("session.started")
            assert started["session"]["id"] == session_id
            async with client.live.sideband.connect(session_id=session_id) as side:
                await caller.until("session.input_transcript.delta")
                first = await caller.until("session.output_transcript.delta")
                await caller.until("session.usage.updated")
                reflected = await side.recv()
                assert reflected.type in {e["type"] for e in caller.log} | {"session.input_audio.append",
                                                                             "session.output_audio.delta"}
            heard = caller.heard_between(first["_t"] - 0.5, caller.log[-1]["_t"])
            rms = float(np.sqrt(np.mean(heard.astype(np.float64) ** 2)))
            assert len(heard) > 48_000 * 0.3 and rms > 100, (len(heard), rms)
            assert not any(e["type"] == "session.output_audio.delta" for e in caller.log)
            for event in caller.log:
                validate_live_event({k: v for k, v in event.items() if k != "_t"})
            await client.live.sessions.hangup(session_id)  # the Live control works for a WebRTC session too
            assert not server.app.state.mock.calls.live
            call_id = "rtc_" + session_id.removeprefix("live_")
            await asyncio.to_thread(journaled_call, server, session_id, call_id, "webrtc", "/v1/live/sessions")
        finally:
            await caller.close()
            await client.close()

    asyncio.run(main())


DIAL: Any = {"type": "sip", "destination": "+15550123",
             "trunk": {"provider_url": "sips:sip.example.com;transport=tcp", "caller_number": "+15550100",
                       "auth": {"type": "digest", "username": "trunk-user", "password": "s3cret"}}}


def _far_end(server: ServerThread, session_id: str, step: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{server.http_url}/_mockrt/calls/{session_id}/{step}", json=body)


def _attached(side: Any) -> None:
    """The sideband is attached server-side once a command of its own is acknowledged (no race with the
    admin API's far end)."""
    side.send({"type": "session.thinking.append", "content": "Outbound call.", "delegation_id": None,
               "event_id": "t1"})
    while side.recv().type != "session.thinking.appended":
        pass


def test_outbound_sip_call_rings_answers_and_talks(server: ServerThread) -> None:
    """``POST /v1/live/sessions`` with a ``sip`` transport dials out: the sideband alone sees
    ``transport.ringing`` then ``transport.answered``; the simulated far end then talks and hears the reply."""
    client = _client(server)
    for bad, param in ((dict(DIAL, destination="sip:alice@example.com"), "transport.destination"),
                       (dict(DIAL, trunk={**DIAL["trunk"], "provider_url": "sip:sip.example.com"}),
                        "transport.trunk.provider_url"),
                       (dict(DIAL, trunk={**DIAL["trunk"], "provider_url": "sips:10.0.0.7:5061"}),
                        "transport.trunk.provider_url"),
                       (dict(DIAL, colour="blue"), "transport.colour")):
        with pytest.raises(openai.BadRequestError) as refused:
            client.live.create(session={"model": "gpt-live-1"}, transport=bad)
        assert refused.value.body["param"] == param, refused.value.body  # type: ignore[index]
    created = client.live.create(session={"model": "gpt-live-1", "instructions": "Call the customer."},
                                 transport=DIAL)
    session_id = created.session.id
    assert session_id.startswith("live_") and created.transport.type == "sip"  # type: ignore[comparison-overlap]
    assert _far_end(server, "live_nope", "ring").status_code == 404
    seen: list[dict[str, Any]] = []
    with client.live.sideband.connect(session_id=session_id) as side:
        _attached(side)
        assert _far_end(server, session_id, "ring").status_code == 200
        assert _far_end(server, session_id, "ring").status_code == 409  # it rings already
        while (ev := side.recv()).type != "transport.ringing":
            pass
        seen.append(ev.model_dump(exclude_unset=True))
        assert _far_end(server, session_id, "answer", audio_file="speech_weather.wav").status_code == 200
        while (ev := side.recv()).type != "session.usage.updated" or not any(
                e["type"] == "session.output_transcript.delta" for e in seen):
            seen.append(ev.model_dump(exclude_unset=True))
        assert _far_end(server, session_id, "fail").status_code == 409  # answered: too late to fail
        client.live.sessions.hangup(session_id)
        for ev in side:
            seen.append(ev.model_dump(exclude_unset=True))
    for e in seen:
        validate_live_event(e)
    kinds = [e["type"] for e in seen]
    assert kinds.index("transport.ringing") < kinds.index("transport.answered")
    assert kinds.index("transport.answered") < kinds.index("session.input_transcript.delta")
    assert seen[kinds.index("transport.answered")]["session_id"] == session_id
    info = _info(server, session_id)
    assert info["direction"] == "outbound" and info["leg"] == "answered" and info["to"] == "+15550123"
    assert info["status"] == "ended" and info["heard_ms"] > 500


def test_outbound_sip_call_fails(server: ServerThread) -> None:
    client = _client(server)
    created = client.live.create(session={"model": "gpt-live-1"}, transport=DIAL)
    session_id = created.session.id
    with client.live.sideband.connect(session_id=session_id) as side:
        _attached(side)
        assert _far_end(server, session_id, "fail", code="busy_here", message="User busy.").status_code == 200
        rest = [ev.model_dump(exclude_unset=True) for ev in side]  # the failure ends the call and the sideband
    failed = next(e for e in rest if e["type"] == "transport.failed")
    validate_live_event(failed)
    assert failed["error"] == {"type": "call_error", "code": "busy_here", "message": "User busy."}
    assert failed["session_id"] == session_id
    assert _info(server, session_id)["status"] == "ended"
    assert _far_end(server, session_id, "answer").status_code == 409
    with pytest.raises(openai.BadRequestError):
        client.live.sessions.hangup(session_id)


def test_live_webrtc_wake_idle_and_data_channel_permissions(server: ServerThread, receiver: Receiver) -> None:
    """A WebRTC session with a speech wake policy, a 1 s idle timeout and a restricted frontend: the data
    channel gets ``info`` (``data_channel_permissions``) after ``session.started``, then only the events it may
    receive: ``session.resumed`` when the caller speaks, the input transcript, ``session.paused`` a second after
    the reply; a command it may not send is refused; the sideband sees everything."""
    from tests.calls_support import Caller, speech_48k

    allowed = ["session.started", "session.resumed", "session.paused", "session.input_transcript.delta"]
    session: Any = {"model": "gpt-live-1", "wake_policy": {"type": "speech", "vad_threshold": 0.5},
                    "idle_timeout_s": 1, "client": {"data_channel": {
                        "allowed_client_events": ["session.instructions.append"],
                        "allowed_server_events": [{"type": t} for t in allowed]}}}

    async def main() -> None:
        caller = Caller(speech_48k("weather"))
        client = openai.AsyncOpenAI(base_url=server.http_url + "/v1", api_key="sk-test")
        try:
            with pytest.raises(openai.BadRequestError):  # selectors name Live server events
                await client.live.create(session={**session, "client": {"data_channel": {
                    "allowed_server_events": [{"type": "session.created"}]}}},
                    transport={"type": "webrtc", "sdp": await caller.offer()})
            created = await client.live.create(session=session,
                                               transport={"type": "webrtc", "sdp": await caller.offer()})
            session_id = created.session.id
            await asyncio.to_thread(_connected, receiver, _client(server), session_id)
            await caller.answer(created.transport.sdp)
            await caller.until("session.started")
            info = await caller.until("info")
            assert info["code"] == "data_channel_permissions" and "session.instructions.append" in info["message"]
            async with client.live.sideband.connect(session_id=session_id) as side:
                await caller.until("session.resumed")
                await caller.until("session.input_transcript.delta")
                await caller.until("session.paused")
                caller.send({"type": "session.close", "event_id": "c1"})
                refused = await caller.until("error")
                assert refused["error"]["code"] == "event_not_permitted"
                assert refused["error"]["client_event_id"] == "c1"
                side_seen: list[dict[str, Any]] = []
                while not side_seen or side_seen[-1]["type"] != "error":
                    side_seen.append((await side.recv()).model_dump(exclude_unset=True))
            kinds = {e["type"] for e in caller.log}
            assert kinds <= {*allowed, "info", "error"}, kinds
            side_kinds = {e["type"] for e in side_seen}
            assert {"session.paused", "session.usage.updated"} <= side_kinds  # the frontend may not see usage
            usage = [e["usage"] for e in side_seen if e["type"] == "session.usage.updated"][-1]
            assert usage["active_seconds"] + usage["paused_seconds"] == usage["seconds"]
            for event in caller.log:
                validate_live_event({k: v for k, v in event.items() if k != "_t"})
            for event in side_seen:
                validate_live_event(event)
            await client.live.sessions.hangup(session_id)
        finally:
            await caller.close()
            await client.close()

    asyncio.run(main())
