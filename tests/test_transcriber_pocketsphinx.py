"""``--transcriber pocketsphinx``: a local recogniser transcribes the user's audio, through the openai SDK
(docs/protocol.md §5.11). Skipped when the ``mockrt[transcriber]`` extra is not installed."""

from __future__ import annotations

import base64
import wave
from collections.abc import Iterator
from typing import Any

import pytest
from openai import OpenAI

from mockrt.audio.formats import AudioFormat
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.audio_fixtures import FIXTURE_DIR
from tests.protocol_types import validate_server_event

pytest.importorskip("pocketsphinx")

from mockrt.transcribers import PocketsphinxTranscriber, make_transcriber


def _clip(name: str) -> bytes:
    with wave.open(str(FIXTURE_DIR / f"speech_{name}.wav"), "rb") as w:
        return w.readframes(w.getnframes())


@pytest.fixture(scope="module")
def heard() -> str:
    """What the recogniser hears in the "lights" clip, asked directly."""
    return PocketsphinxTranscriber().recognise(_clip("lights"), AudioFormat.PCM16)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning", transcriber="pocketsphinx")
    with ServerThread(config) as srv:
        yield srv


def _turn(server: ServerThread, *, respond: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    client = OpenAI(base_url=server.http_url + "/v1", api_key="sk-anything")
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "audio": {"input": {
            "turn_detection": None, "transcription": {"model": "gpt-4o-transcribe"}}}})
        audio = _clip("lights")
        for start in range(0, len(audio), 48_000):
            conn.input_audio_buffer.append(audio=base64.b64encode(audio[start:start + 48_000]).decode())
        conn.input_audio_buffer.commit()
        completed: dict[str, Any] | None = None
        while completed is None:
            event = conn.recv().to_dict()
            validate_server_event(event, "ga")
            assert event["type"] != "error", event
            if event["type"] == "conversation.item.input_audio_transcription.completed":
                completed = event
        if not respond:
            return completed, None
        conn.response.create()
        while True:
            event = conn.recv().to_dict()
            if event["type"] == "response.done":
                return completed, event["response"]


def test_the_recogniser_hears_words_not_a_placeholder(heard: str) -> None:
    assert heard.strip() and "placeholder" not in heard
    assert heard == PocketsphinxTranscriber().recognise(_clip("lights"), AudioFormat.PCM16)  # deterministic
    assert make_transcriber("placeholder").__class__.__name__ == "PlaceholderTranscriber"
    with pytest.raises(ValueError, match="unknown transcriber"):
        make_transcriber("whisper.cpp")


def test_the_server_transcribes_what_was_said_and_rules_match_it(server: ServerThread, heard: str) -> None:
    completed, _ = _turn(server, respond=False)
    assert completed["transcript"] == heard
    word = max(heard.split(), key=len)
    server.control.load_scenario({"rules": [{"match": {"text": word}, "reply": {"text": f"I heard {word}."}}]})
    try:
        _, response = _turn(server, respond=True)
    finally:
        server.control.reset()
    assert response is not None
    assert response["output"][0]["content"][0]["text"] == f"I heard {word}."
