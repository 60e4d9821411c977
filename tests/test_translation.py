"""Translation sessions (docs/protocol.md §10): the sans-I/O core on a virtual clock, then the official openai SDK's
``client.realtime.translations`` (sync and async) against a real server, every server event validated strictly."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from openai import AsyncOpenAI, AuthenticationError, BadRequestError, OpenAI
from websockets.sync.client import connect as ws_connect

from mockrt.config import ServerConfig
from mockrt.core.dialects.translation import Translation
from mockrt.core.outputs import Close, Send
from mockrt.core.translation import FRAME_BYTES, PlaceholderInterpreter, TranslationOptions, TranslationSession
from mockrt.scenarios import Scenario
from mockrt.scenarios.model import Translated
from mockrt.scenarios.script import ScriptedInterpreter
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech
from tests.protocol_types import validate_server_event

MODEL = "gpt-realtime-translate"
KEY = "sk-translate-test-0123456789"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _silence(ms: int) -> bytes:
    return bytes(ms * 48)


def _speech_then_silence(clip: str = "two_utterances", tail_ms: int = 1000) -> bytes:
    pcm = load_speech(clip).pcm
    return pcm.astype("<i2").tobytes() + _silence(tail_ms)


class Core:
    """A translation session on a virtual clock; every server event validated against the SDK."""

    def __init__(self, **options: Any) -> None:
        self.session = TranslationSession(TranslationOptions(dialect=Translation(), seed=1, **options), 100.0)
        self.closes: list[Close] = []
        self.created = self._collect(self.session.start())

    def _collect(self, outputs: list[Any]) -> list[dict[str, Any]]:
        events = []
        for out in outputs:
            if isinstance(out, Send):
                validate_server_event(out.event, "translation")
                events.append(out.event)
            elif isinstance(out, Close):
                self.closes.append(out)
        return events

    def send(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        return self._collect(self.session.receive_text(json.dumps(event), 100.0))

    def append(self, data: bytes, chunk: int | None = None) -> list[dict[str, Any]]:
        chunk = chunk or max(1, len(data))
        out: list[dict[str, Any]] = []
        for start in range(0, len(data), chunk):
            out += self.send({"type": "session.input_audio_buffer.append", "audio": _b64(data[start:start + chunk])})
        return out


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def _text(events: list[dict[str, Any]], etype: str) -> str:
    return "".join(e["delta"] for e in events if e["type"] == etype)


# -- the core ---------------------------------------------------------------------------------------------------


def test_session_created_is_the_default_translation_session() -> None:
    core = Core()
    (created,) = core.created
    assert created["type"] == "session.created"
    assert created["session"]["type"] == "translation" and created["session"]["model"] == MODEL
    assert created["session"]["audio"] == {"input": {"noise_reduction": None, "transcription": None},
                                           "output": {"language": "en"}}


def test_session_update_changes_language_transcription_and_noise_reduction() -> None:
    core = Core()
    (updated,) = core.send({"type": "session.update", "session": {"audio": {
        "output": {"language": "es"}, "input": {"transcription": {"model": "gpt-4o-transcribe"},
                                               "noise_reduction": {"type": "near_field", "strength": 0.4}}}}})
    audio = updated["session"]["audio"]
    assert updated["type"] == "session.updated" and audio["output"]["language"] == "es"
    assert audio["input"] == {"transcription": {"model": "gpt-4o-transcribe"},
                              "noise_reduction": {"type": "near_field", "strength": 0.4}}
    # omitting strength keeps it; null disables
    (updated,) = core.send({"type": "session.update", "session": {"audio": {"input": {
        "noise_reduction": {"type": "far_field"}}}}})
    assert updated["session"]["audio"]["input"]["noise_reduction"] == {"type": "far_field", "strength": 0.4}
    (updated,) = core.send({"type": "session.update", "session": {"audio": {"input": {
        "noise_reduction": None, "transcription": None}}}})
    assert updated["session"]["audio"]["input"] == {"noise_reduction": None, "transcription": None}
    assert updated["session"]["audio"]["output"]["language"] == "es"


@pytest.mark.parametrize(("session", "code", "param"), [
    ({"model": "gpt-realtime"}, "invalid_value", "session.model"),
    ({"type": "realtime"}, "invalid_value", "session.type"),
    ({"instructions": "Translate."}, "unknown_parameter", "session.instructions"),
    ({"audio": {"output": {"voice": "marin"}}}, "unknown_parameter", "session.audio.output.voice"),
    ({"audio": {"input": {"noise_reduction": {"type": "near_field", "strength": 2}}}}, "decimal_above_max_value",
     "session.audio.input.noise_reduction.strength"),
    ({"audio": {"input": {"transcription": {}}}}, "missing_required_parameter",
     "session.audio.input.transcription.model"),
])
def test_bad_session_update_is_an_error_and_changes_nothing(session: dict[str, Any], code: str, param: str) -> None:
    core = Core()
    (error,) = core.send({"type": "session.update", "event_id": "u1", "session": session})
    assert error["type"] == "error" and error["error"]["code"] == code and error["error"]["param"] == param
    assert error["error"]["event_id"] == "u1"
    (updated,) = core.send({"type": "session.update", "session": {}})
    assert updated["session"] == core.created[0]["session"]  # nothing changed, the session is alive


def test_same_model_and_type_may_be_repeated() -> None:
    core = Core()
    (updated,) = core.send({"type": "session.update", "session": {"type": "translation", "model": MODEL}})
    assert updated["type"] == "session.updated"


@pytest.mark.parametrize(("event", "code"), [
    ({"type": "response.create"}, "invalid_value"),
    ({"type": "input_audio_buffer.append", "audio": ""}, "invalid_value"),
    ({"type": "input_audio_buffer.commit"}, "invalid_value"),
    ({"type": "conversation.item.create", "item": {}}, "invalid_value"),
    ({"type": "transcription_session.update", "session": {}}, "invalid_value"),
    ({"type": "session.input_audio_buffer.append", "audio": "AAAA", "extra": 1}, "unknown_parameter"),
    ({"type": "session.input_audio_buffer.append"}, "missing_required_parameter"),
    ({"type": "session.input_audio_buffer.append", "audio": "not base64!"}, "invalid_value"),
    ({"type": "session.input_audio_buffer.append", "audio": _b64(b"\x00\x01\x02")}, "invalid_value"),
    ({"type": "session.close", "reason": "bye"}, "unknown_parameter"),
])
def test_realtime_events_and_bad_fields_are_errors_and_the_session_lives(event: dict[str, Any], code: str) -> None:
    core = Core()
    (error,) = core.send({**event, "event_id": "bad_1"})
    assert error["type"] == "error" and error["error"]["code"] == code and error["error"]["event_id"] == "bad_1"
    assert _types(core.send({"type": "session.update", "session": {}})) == ["session.updated"]
    assert not core.closes and not core.session.closed


def test_binary_and_invalid_json_frames_are_errors() -> None:
    core = Core()
    (error,) = core._collect(core.session.receive_bytes(b"\x00\x01", 100.0))
    assert error["type"] == "error"
    (error,) = core._collect(core.session.receive_text("{nope", 100.0))
    assert error["error"]["code"] == "invalid_json" if error["error"]["code"] else error["type"] == "error"
    assert not core.session.closed


def test_short_chunks_wait_for_a_whole_200_ms_frame_and_long_ones_are_split() -> None:
    core = Core()
    core.append(_silence(150))
    assert core.session.frames == 0  # 150 ms: buffered until the frame is complete
    core.append(_silence(50))
    assert core.session.frames == 1 and core.session.elapsed_ms == 200
    core.append(_silence(1000))  # one long chunk: five frames back to back
    assert core.session.frames == 6 and core.session.elapsed_ms == 1200
    core.append(_silence(130), chunk=2 * 48 * 13)  # odd-sized (but whole-sample) chunks: nothing lost
    assert core.session.frames == 6
    core.append(_silence(70))
    assert core.session.frames == 7


def test_chunking_does_not_change_the_output() -> None:
    audio = _speech_then_silence(tail_ms=4000)
    whole, framed, small = Core(), Core(), Core()
    out_whole = whole.append(audio)
    out_framed = framed.append(audio, chunk=FRAME_BYTES)
    out_small = small.append(audio, chunk=48 * 20)  # 20 ms appends
    strip = [[{k: v for k, v in e.items() if k != "event_id"} for e in out] for out in (out_whole, out_framed,
                                                                                         out_small)]
    assert strip[0] == strip[1] == strip[2]
    assert any(e["type"] == "session.output_audio.delta" for e in out_whole)


def test_vad_turns_are_translated_from_the_scenario_and_paced_on_the_input_timeline() -> None:
    scenario = Scenario(translations=[Translated("Sí, suena bien.", "Yes, that sounds good."),
                                      Translated("¿Puedes enviarme los detalles?")])
    core = Core(interpreter=ScriptedInterpreter(scenario))
    core.send({"type": "session.update", "session": {"audio": {"output": {"language": "es"}, "input": {
        "transcription": {"model": "gpt-4o-transcribe"}}}}})
    events = core.append(_speech_then_silence(tail_ms=6000), chunk=FRAME_BYTES)
    assert _text(events, "session.output_transcript.delta") == "Sí, suena bien. ¿Puedes enviarme los detalles?"
    source = _text(events, "session.input_transcript.delta")
    assert source.startswith("Yes, that sounds good. [mockrt placeholder source transcript of turn 2]")
    # elapsed_ms: the input timeline in 200 ms steps, never decreasing, never ahead of the input
    elapsed = [e["elapsed_ms"] for e in events]
    assert all(ms % 200 == 0 for ms in elapsed) and elapsed == sorted(elapsed)
    assert max(elapsed) <= core.session.elapsed_ms
    # the first source delta comes at the end of the first utterance (2.08 s) plus the VAD's silence, not before
    first = next(e for e in events if e["type"] == "session.input_transcript.delta")
    assert 2200 <= first["elapsed_ms"] <= 2800
    # one audio delta per input frame at most, 200 ms of 24 kHz pcm16 each (a turn's last one may be shorter)
    audio = [e for e in events if e["type"] == "session.output_audio.delta"]
    assert len({e["elapsed_ms"] for e in audio}) == len(audio)
    sizes = [len(base64.b64decode(e["delta"])) for e in audio]
    assert all(0 < size <= FRAME_BYTES and size % 2 == 0 for size in sizes)
    assert sum(size < FRAME_BYTES for size in sizes) <= 2
    assert all(e["format"] == "pcm16" and e["sample_rate"] == 24000 and e["channels"] == 1 for e in audio)
    pcm = np.frombuffer(b"".join(base64.b64decode(e["delta"]) for e in audio), dtype="<i2")
    assert np.abs(pcm).max() > 1000  # speech-like synthesis, not silence


def test_without_input_the_output_waits_and_close_flushes_it() -> None:
    core = Core(interpreter=PlaceholderInterpreter())
    events = core.append(_speech_then_silence("lights", tail_ms=800), chunk=FRAME_BYTES)
    said = _text(events, "session.output_transcript.delta")
    assert said and "[mockrt placeholder translation of turn 1 into en]".startswith(said)
    assert said != "[mockrt placeholder translation of turn 1 into en]"  # the rest waits for more input audio
    assert "session.input_transcript.delta" not in _types(events)  # transcription not configured
    core.append(_silence(100))  # half a frame, pending
    frames = core.session.frames
    closing = core.send({"type": "session.close", "event_id": "close_1"})
    assert _types(closing)[-1] == "session.closed" and core.closes == [Close(1000, "session closed by client")]
    assert said + _text(closing, "session.output_transcript.delta") == \
        "[mockrt placeholder translation of turn 1 into en]"
    assert core.session.frames > frames and core.session.closed
    assert core.send({"type": "session.update", "session": {}}) == []  # nothing after the close


def test_close_ends_a_turn_in_progress() -> None:
    core = Core()
    pcm = load_speech("lights").pcm.astype("<i2").tobytes()
    events = core.append(pcm[: len(pcm) // 2], chunk=FRAME_BYTES)  # cut mid-speech
    assert "session.output_transcript.delta" not in _types(events)
    closing = core.send({"type": "session.close"})
    assert _text(closing, "session.output_transcript.delta") == "[mockrt placeholder translation of turn 1 into en]"


def test_session_expires_on_the_wall_clock() -> None:
    core = Core(max_duration_s=30.0)
    assert core.session.next_deadline() == 130.0
    assert core._collect(core.session.poll(129.0)) == []
    (error,) = core._collect(core.session.poll(130.0))
    assert error["error"]["code"] == "session_expired" and core.closes[0].code == 1001


def test_scenario_file_translations(tmp_path: Any) -> None:
    from mockrt.scenarios import load_scenario

    path = tmp_path / "t.yaml"
    path.write_text("translations:\n  - Hola.\n  - {text: Adiós., source: Goodbye.}\n", encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.translations == [Translated("Hola."), Translated("Adiós.", "Goodbye.")]
    bad = tmp_path / "bad.yaml"
    bad.write_text("translations:\n  - {source: only}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="translations"):
        load_scenario(bad)


# -- the server, with the official SDK ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(port=0, api_keys=(KEY,), log_level="warning")) as server:
        yield server


def _client(srv: ServerThread, key: str = KEY) -> OpenAI:
    return OpenAI(base_url=srv.http_url + "/v1", api_key=key)


def _drain(conn: Any) -> list[dict[str, Any]]:
    events = []
    for event in conn:
        raw = event.to_dict()
        validate_server_event(raw, "translation")
        events.append(raw)
    return events


def test_sdk_sync_translation_session(srv: ServerThread) -> None:
    srv.control.load_scenario({"translations": ["Sí, suena bien.", "¿Puedes enviarme los detalles?"]})
    try:
        with _client(srv).realtime.translations.connect(model=MODEL) as conn:
            created = conn.recv()
            assert created.type == "session.created" and created.session.type == "translation"
            conn.session.update(session={"audio": {"output": {"language": "es"}}})
            updated = conn.recv()
            assert updated.type == "session.updated" and updated.session.audio.output.language == "es"
            audio = _speech_then_silence(tail_ms=600)
            for start in range(0, len(audio), FRAME_BYTES):
                conn.session.input_audio_buffer.append(audio=_b64(audio[start:start + FRAME_BYTES]))
            conn.send({"type": "response.create", "event_id": "wrong_surface"})
            conn.session.close()
            events = _drain(conn)
    finally:
        srv.control.reset()
    errors = [e for e in events if e["type"] == "error"]
    assert [e["error"]["event_id"] for e in errors] == ["wrong_surface"]
    assert _text(events, "session.output_transcript.delta") == "Sí, suena bien. ¿Puedes enviarme los detalles?"
    assert events[-1]["type"] == "session.closed"


def test_sdk_async_translation_session_and_client_secret(srv: ServerThread) -> None:
    async def main() -> list[dict[str, Any]]:
        async with AsyncOpenAI(base_url=srv.http_url + "/v1", api_key=KEY) as client:
            secret = await client.realtime.translations.client_secrets.create(
                session={"model": MODEL, "audio": {"output": {"language": "fr"},
                                                   "input": {"transcription": {"model": "gpt-4o-transcribe"}}}},
                expires_after={"anchor": "created_at", "seconds": 60})
        assert secret.value.startswith("ek_") and secret.session.audio.output.language == "fr"
        assert secret.session.type == "translation" and secret.session.id.startswith("sess_")
        browser = AsyncOpenAI(base_url=srv.http_url + "/v1", api_key=secret.value)
        events: list[dict[str, Any]] = []
        async with browser.realtime.translations.connect(model=MODEL) as conn:
            audio = _speech_then_silence("lights", tail_ms=400)
            for start in range(0, len(audio), FRAME_BYTES):
                await conn.session.input_audio_buffer.append(audio=_b64(audio[start:start + FRAME_BYTES]))
            await conn.session.close()
            async for event in conn:
                raw = event.to_dict()
                validate_server_event(raw, "translation")
                events.append(raw)
        return events

    events = asyncio.run(main())
    assert events[0]["session"]["audio"]["output"]["language"] == "fr"  # the secret's configuration
    assert _text(events, "session.input_transcript.delta") == "[mockrt placeholder source transcript of turn 1]"
    assert _text(events, "session.output_transcript.delta") == "[mockrt placeholder translation of turn 1 into fr]"
    assert events[-1]["type"] == "session.closed"


@pytest.mark.parametrize(("session", "code", "param"), [
    ({"audio": {}}, "missing_required_parameter", "session.model"),
    ({"model": "gpt-realtime"}, "invalid_value", "session.model"),
    ({"model": MODEL, "voice": "marin"}, "unknown_parameter", "session.voice"),
])
def test_client_secret_bad_session_is_a_400(srv: ServerThread, session: dict[str, Any], code: str,
                                            param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        _client(srv).realtime.translations.client_secrets.create(session=session)  # type: ignore[arg-type]
    body: Any = info.value.body
    assert body["code"] == code and body["param"] == param


def test_client_secret_needs_a_standard_key(srv: ServerThread) -> None:
    with pytest.raises(AuthenticationError):
        _client(srv, "sk-wrong").realtime.translations.client_secrets.create(session={"model": MODEL})


def _handshake_error(srv: ServerThread, query: str, key: str | None) -> tuple[dict[str, Any], int | None]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with ws_connect(f"{srv.ws_url}/v1/realtime/translations{query}",
                    additional_headers=headers) as ws:
        error = json.loads(ws.recv(timeout=5))
        with pytest.raises(Exception):  # noqa: B017 - the server closes the socket
            ws.recv(timeout=5)
        return error, ws.close_code


@pytest.mark.parametrize(("query", "key", "code", "close"), [
    ("?model=" + MODEL, None, None, 3000),
    ("?model=" + MODEL, "sk-wrong", "invalid_api_key", 3000),
    ("", KEY, "missing_model", 4000),
    ("?model=gpt-realtime", KEY, "invalid_model", 4000),
])
def test_handshake_errors(srv: ServerThread, query: str, key: str | None, code: str | None, close: int) -> None:
    """The realtime handshake's fatal errors (docs/protocol.md §1.4), with the translation models (§10)."""
    error, close_code = _handshake_error(srv, query, key)
    validate_server_event(error, "translation")
    assert error["error"]["code"] == code and close_code == close


def test_keys_open_only_their_own_surface(srv: ServerThread) -> None:
    client = _client(srv)
    realtime_key = client.realtime.client_secrets.create(session={"type": "realtime"}).value
    translation_key = client.realtime.translations.client_secrets.create(session={"model": MODEL}).value
    error, close_code = _handshake_error(srv, "?model=" + MODEL, realtime_key)
    assert error["error"]["code"] == "invalid_api_key" and close_code == 3000
    with ws_connect(f"{srv.ws_url}/v1/realtime?model=gpt-realtime",
                    additional_headers={"Authorization": f"Bearer {translation_key}"}) as ws:
        error = json.loads(ws.recv(timeout=5))
    assert error["type"] == "error" and error["error"]["code"] == "invalid_api_key"


def test_translation_shapes_on_a_realtime_session_are_errors(srv: ServerThread) -> None:
    with _client(srv).realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().type == "session.created"
        conn.send({"type": "session.update", "event_id": "t1",  # type: ignore[arg-type]
                   "session": {"audio": {"output": {"language": "es"}}}})
        error = conn.recv()
        assert error.type == "error" and error.error.event_id == "t1"
        conn.session.update(session={"type": "realtime", "instructions": "Still here."})
        assert conn.recv().type == "session.updated"
