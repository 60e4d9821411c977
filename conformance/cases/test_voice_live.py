"""Azure Voice Live (docs/protocol.md §12): its session settings and their validation, output formats and rates,
word timestamps, animation, its own client events (input audio turns, streamed text, ``input_audio.clear``, the
avatar and its output buffer), the ``response.create`` directives, ``input_image`` parts, MCP through Voice Live,
and the beta events it keeps.

Sessions open at ``/voice-live/realtime?api-version=2026-07-15&model=…`` with an ``api-key`` header; every server
event is validated strictly against the ``azure-ai-voicelive`` client's models (``conformance/voicelive.py``). On
``--target azure`` they run with ``AZURE_VOICELIVE_ENDPOINT`` / ``AZURE_VOICELIVE_API_KEY`` and are skipped (as
skipped) without them. The MCP case needs a server on this machine, so it runs on ``mock`` and ``url`` only.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from conformance import Ctx, case
from conformance.audio import silence, tone
from conformance.checks import expect, expect_equal
from conformance.client import Session, Turn
from conformance.mcp_server import SERVER_LABEL, closed_url, mcp_server
from conformance.wire import text_item

from ._common import SHORT_REPLY, user_text

Json = dict[str, Any]
VL = ("voice-live",)
TARGETS = ("mock", "azure", "url")
LOCAL = ("mock", "url")
RATES = {"pcm16": 24000, "pcm16_16000hz": 16000, "pcm16_8000hz": 8000}
AZURE_SETTINGS: Json = {
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural", "temperature": 0.8},
    "turn_detection": {"type": "azure_semantic_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                       "silence_duration_ms": 500, "remove_filler_words": True},
    "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
    "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
    "input_audio_transcription": {"model": "azure-speech", "language": "en-US"},
}


def _update(s: Session, **session: Any) -> Json:
    s.send({"type": "session.update", "session": session})
    updated: Json = s.expect("session.updated")["session"]
    return updated


def _session(ctx: Ctx, *, paced: bool = False, **session: Any) -> Session:
    s = ctx.connect(paced=paced)
    _update(s, instructions=SHORT_REPLY, turn_detection=None, **session)
    return s


def _audio_turn(s: Session, text: str = "Say hello.") -> Turn:
    user_text(s, text)
    turn = s.respond()
    expect_equal(turn.status, "completed", "response.done status")
    return turn


def _rejected(s: Session, session: Json, param: str, event_id: str) -> Json:
    s.send({"type": "session.update", "event_id": event_id, "session": session})
    return s.expect_error(param=param, event_id=event_id)


def _rest_of(s: Session, created: Json) -> Turn:
    """The response that ``created`` (an already received ``response.created``) announced, up to its done."""
    rid = created["response"]["id"]
    events = [created, *s.until("response.done", where=lambda e: e["response"]["id"] == rid)]
    return Turn(s.dialect, events, rid)


def _ms(audio: bytes, rate: int) -> float:
    return len(audio) / 2 * 1000 / rate


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- session settings (§12.1) -----------------------------------------------------------------------------------


@case(id="voice-live/session/azure-settings", section="§12, §12.1", dialects=VL, targets=TARGETS,
      description="Azure voices, azure_semantic_vad, noise suppression, echo cancellation, VL-only settings: echoed",
      requirement="Voice Live accepts azure-standard voices, azure_semantic_vad, azure_deep_noise_suppression, "
                  "server_echo_cancellation, azure-speech transcription, reasoning_effort, metadata, "
                  "interim_response, output_audio_timestamp_types and animation, and echoes them [D].")
def test_vl_azure_settings(ctx: Ctx) -> None:
    s = ctx.connect()
    expect_equal(s.created["session"].get("object"), "realtime.session", "session.created session.object")
    session = _update(s, **AZURE_SETTINGS, reasoning_effort="low", metadata={"app": "conformance"},
                      interim_response={"type": "static_interim_response", "texts": ["One moment."],
                                        "triggers": ["latency"]},
                      output_audio_timestamp_types=["word"], animation={"outputs": ["viseme_id"]})
    expect_equal(session.get("voice"), AZURE_SETTINGS["voice"], "session.voice")
    expect_equal((session.get("turn_detection") or {}).get("type"), "azure_semantic_vad", "turn_detection.type")
    expect_equal((session.get("turn_detection") or {}).get("silence_duration_ms"), 500, "silence_duration_ms")
    expect_equal((session.get("input_audio_noise_reduction") or {}).get("type"), "azure_deep_noise_suppression",
                 "input_audio_noise_reduction.type")
    expect_equal((session.get("input_audio_echo_cancellation") or {}).get("type"), "server_echo_cancellation",
                 "input_audio_echo_cancellation.type")
    expect_equal((session.get("input_audio_transcription") or {}).get("model"), "azure-speech",
                 "input_audio_transcription.model")
    expect_equal(session.get("output_audio_timestamp_types"), ["word"], "output_audio_timestamp_types")
    expect_equal((session.get("animation") or {}).get("outputs"), ["viseme_id"], "animation.outputs")
    expect_equal(session.get("reasoning_effort"), "low", "reasoning_effort")
    expect_equal(session.get("metadata"), {"app": "conformance"}, "metadata")


@case(id="voice-live/session/validation", section="§12.1, §6.1", dialects=VL, targets=TARGETS, level="should",
      description="invalid Voice Live settings are errors naming the field; the session is unchanged",
      requirement="A custom voice needs endpoint_id, a personal voice needs model, input_audio_sampling_rate is "
                  "8000/16000/24000 for pcm16, output_audio_format and reasoning_effort are enums [D]; the error "
                  "codes and params follow the realtime forms (§6.1) [U].")
def test_vl_session_validation(ctx: Ctx) -> None:
    s = ctx.connect()
    _rejected(s, {"voice": {"type": "azure-custom", "name": "my-voice"}}, "session.voice.endpoint_id", "vl_bad_1")
    _rejected(s, {"voice": {"type": "azure-personal", "name": "me"}}, "session.voice.model", "vl_bad_2")
    _rejected(s, {"input_audio_sampling_rate": 44100}, "session.input_audio_sampling_rate", "vl_bad_3")
    _rejected(s, {"output_audio_format": "pcm16_44100hz"}, "session.output_audio_format", "vl_bad_4")
    _rejected(s, {"reasoning_effort": "extreme"}, "session.reasoning_effort", "vl_bad_5")
    _rejected(s, {"animation": {"outputs": ["eyebrows"]}}, "session.animation.outputs[0]", "vl_bad_6")
    s.expect_quiet("after the rejected updates")
    session = _update(s, instructions=SHORT_REPLY)
    expect_equal(session.get("output_audio_format"), "pcm16", "output_audio_format after the rejected updates")
    expect("input_audio_sampling_rate" not in session or session["input_audio_sampling_rate"] in (None, 24000),
           f"the rejected sampling rate was not applied: {session.get('input_audio_sampling_rate')!r}")


# -- output audio: rates, word timestamps, animation (§12.1, §12.4) ---------------------------------------------


@case(id="voice-live/output/rates", section="§12.1", dialects=VL, targets=TARGETS,
      description="output_audio_format pcm16_16000hz / pcm16_8000hz: the audio is at that rate, the response names it",
      requirement="Output audio at 24, 16 or 8 kHz per output_audio_format, in the session and on response.create "
                  "[D]; a reply lasts as long at every rate [mockrt].")
def test_vl_output_rates(ctx: Ctx) -> None:
    durations: dict[str, float] = {}
    for wire, rate in RATES.items():
        s = _session(ctx, modalities=["text", "audio"], output_audio_format=wire)
        turn = _audio_turn(s)
        expect_equal(turn.response.get("output_audio_format"), wire, "response.output_audio_format")
        audio = turn.audio()
        expect(audio and len(audio) % 2 == 0, "pcm16 audio of whole samples")
        durations[wire] = _ms(audio, rate)
        expect_equal(turn.first("response.output_audio.done").get("type"), "response.audio.done", "audio done")
    base = durations["pcm16"]
    for wire, ms in durations.items():  # [mockrt]: the same words at every rate (a live model's replies vary)
        expect(ctx.target.live or abs(ms - base) <= 0.05 * base,
               f"{wire}: {ms:.0f} ms of audio, at 24 kHz {base:.0f} ms")
    # response.create's own output_audio_format overrides the session's for that response
    user_text(s, "Once more.")
    turn = s.respond({"output_audio_format": "pcm16_16000hz"})
    expect_equal(turn.response.get("output_audio_format"), "pcm16_16000hz", "response-level output_audio_format")


@case(id="voice-live/output/word-timestamps", section="§12.4", dialects=VL, targets=TARGETS,
      description="output_audio_timestamp_types word: a timestamp per spoken word, in order, inside the audio",
      requirement="response.audio_timestamp.delta {audio_offset_ms, audio_duration_ms, text, timestamp_type: word} "
                  "per spoken word, then response.audio_timestamp.done [D]; the order relative to the audio "
                  "events is [U].")
def test_vl_word_timestamps(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text", "audio"], output_audio_timestamp_types=["word"])
    turn = _audio_turn(s)
    words = turn.of("response.audio_timestamp.delta")
    expect(words, "word timestamps were sent")
    texts = [w["text"] for w in words]
    if ctx.target.live:  # [D] the spoken words; how the service tokenises punctuation is [U]
        expect(all(t.strip() and t.strip() in turn.transcript() for t in texts), f"words of the transcript: {texts}")
    else:  # [mockrt] one per word of the transcript, split on spaces
        expect_equal(texts, turn.transcript().split(), "the words are the transcript's")
    expect(all(w.get("timestamp_type") == "word" for w in words), "timestamp_type is word")
    offsets = [w["audio_offset_ms"] for w in words]
    expect(offsets == sorted(offsets), f"offsets in order: {offsets}")
    audio_ms = _ms(turn.audio(), 24000)
    last = words[-1]
    expect(last["audio_offset_ms"] + last["audio_duration_ms"] <= audio_ms + 1,
           f"the last word ends inside the audio ({audio_ms:.0f} ms): {last}")
    types = [e["type"] for e in turn.events]
    expect("response.audio_timestamp.done" in types, "response.audio_timestamp.done was sent")
    expect(types.index("response.audio.done") < types.index("response.audio_timestamp.done"),
           "the timestamps end after the audio")


@case(id="voice-live/output/animation", section="§12.4", dialects=VL, targets=TARGETS,
      description="animation blendshapes + viseme_id: both streams on the output audio's time axis, each with .done",
      requirement="response.animation_viseme.delta {audio_offset_ms, viseme_id 0..21} and "
                  "response.animation_blendshapes.delta {frames, frame_index}, then their .done events [D].")
def test_vl_animation(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text", "audio"], animation={"outputs": ["blendshapes", "viseme_id"]})
    turn = _audio_turn(s)
    audio_ms = _ms(turn.audio(), 24000)
    visemes = turn.of("response.animation_viseme.delta")
    expect(visemes, "visemes were sent")
    expect(all(0 <= v["viseme_id"] <= 21 and 0 <= v["audio_offset_ms"] <= audio_ms for v in visemes),
           "viseme ids 0..21 inside the audio")
    shapes = turn.of("response.animation_blendshapes.delta")
    expect(shapes, "blendshape frames were sent")
    expect_equal(shapes[0].get("frame_index"), 0, "the first blendshape frame_index")
    expect(all(isinstance(f, list) and f for e in shapes for f in e["frames"]), "frames are weight arrays")
    types = [e["type"] for e in turn.events]
    for done in ("response.animation_viseme.done", "response.animation_blendshapes.done"):
        expect(done in types, f"{done} was sent")


# -- Voice Live's client events (§12.3) -------------------------------------------------------------------------


@case(id="voice-live/input/turns", section="§12.3", dialects=VL, targets=TARGETS,
      description="input_audio.turn.start/append/end commits and answers a turn; cancel drops it; unknown turn_id errs",
      requirement="input_audio.turn.start {turn_id}, .append {turn_id, audio}, .end commits (committed, the user "
                  "item) and creates a response; .cancel drops the turn's audio [D]; the error for an unknown "
                  "turn is [U].", level="should")
def test_vl_input_turns(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text"])
    s.send({"type": "input_audio.turn.start", "turn_id": "turn_1"})
    s.send({"type": "input_audio.turn.append", "turn_id": "turn_1", "audio": _b64(tone(400) + silence(200))})
    s.send({"type": "input_audio.turn.end", "turn_id": "turn_1"})
    events = s.until("response.done")
    types = [e["type"] for e in events]
    expect_equal(types[:2], ["input_audio_buffer.committed", "conversation.item.created"], "the turn's commit")
    expect_equal(events[1]["item"]["content"][0]["type"], "input_audio", "the user item's part")
    expect_equal(events[-1]["response"]["status"], "completed", "the turn's response")
    s.send({"type": "input_audio.turn.start", "turn_id": "turn_2"})
    s.send({"type": "input_audio.turn.append", "turn_id": "turn_2", "audio": _b64(tone(300))})
    s.send({"type": "input_audio.turn.cancel", "turn_id": "turn_2"})
    s.expect_quiet("after a cancelled turn")
    s.send({"type": "input_audio.turn.append", "event_id": "vl_turn_x", "turn_id": "turn_x",
            "audio": _b64(tone(100))})
    s.expect_error(param="turn_id", event_id="vl_turn_x")


@case(id="voice-live/input/clear", section="§12.3, §2.4", dialects=VL, targets=TARGETS,
      description="input_audio.clear and input_audio_buffer.clear both clear the buffer (input_audio_buffer.cleared)",
      requirement="input_audio.clear clears all input audio currently being streamed [D]; answered like "
                  "input_audio_buffer.clear [U].")
def test_vl_input_clear(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text"])
    for clear in ("input_audio.clear", "input_audio_buffer.clear"):
        s.send({"type": "input_audio_buffer.append", "audio": _b64(tone(300))})
        s.send({"type": "input_audio.clear" if clear == "input_audio.clear" else clear})
        s.expect("input_audio_buffer.cleared")
        s.send({"type": "input_audio_buffer.commit", "event_id": f"vl_commit_{clear}"})
        s.expect_error(code="input_audio_buffer_commit_empty", event_id=f"vl_commit_{clear}")


@case(id="voice-live/input/text-stream", section="§12.3", dialects=VL, targets=TARGETS,
      description="input_text.delta pieces then input_text.done add one user text message with the joined text",
      requirement="input_text.delta {id, delta} streams text into the user message id; input_text.done adds it "
                  "(conversation.item.created) [D]; .done for an unknown id is an error [U].")
def test_vl_text_stream(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text"])
    for piece in ("What is ", "the weather ", "like?"):
        s.send({"type": "input_text.delta", "id": "item_vltext1", "delta": piece})
    s.send({"type": "input_text.done", "id": "item_vltext1"})
    item = s.expect("conversation.item.added")["item"]
    expect_equal(item.get("id"), "item_vltext1", "the streamed item's id")
    expect_equal([(p.get("type"), p.get("text")) for p in item.get("content", [])],
                 [("input_text", "What is the weather like?")], "the streamed item's content")
    s.send({"type": "input_text.done", "event_id": "vl_text_none", "id": "item_vlnever"})
    s.expect_error(param="id", event_id="vl_text_none")


@case(id="voice-live/avatar/connect", section="§12.3", dialects=VL, targets=LOCAL,
      description="session.avatar.connect: SDP answer, speaking/idle switches around replies; output buffer clear",
      requirement="session.avatar.connect {client_sdp} → session.avatar.connecting {server_sdp} [D]; "
                  "switch_to_speaking / switch_to_idle around the spoken reply, output_audio_buffer.clear → "
                  ".cleared [D]; mockrt renders no video (every media line inactive) [mockrt].")
def test_vl_avatar(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text", "audio"])
    s.send({"type": "output_audio_buffer.clear"})
    s.expect("output_audio_buffer.cleared")
    offer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    s.send({"type": "session.avatar.connect", "event_id": "vl_avatar_none", "client_sdp": offer})
    s.expect_error(param="session.avatar", event_id="vl_avatar_none")
    _update(s, avatar={"character": "lisa", "style": "casual-sitting", "customized": False})
    s.send({"type": "session.avatar.connect", "client_sdp": offer})
    answer = s.expect("session.avatar.connecting").get("server_sdp")
    expect(isinstance(answer, str) and answer.startswith("v=0"), f"an SDP answer: {answer!r:.80}")
    turn = _audio_turn(s)
    types = [e["type"] for e in turn.events]
    for switch in ("session.avatar.switch_to_speaking", "session.avatar.switch_to_idle"):
        expect(switch in types, f"{switch} during the reply")
    expect(types.index("session.avatar.switch_to_speaking") < types.index("response.audio.done")
           < types.index("session.avatar.switch_to_idle"), "speaking before the audio ends, idle after it")


# -- response.create (§12.2) ------------------------------------------------------------------------------------


@case(id="voice-live/response/pre-generated", section="§12.2", dialects=VL, targets=TARGETS,
      description="pre_generated_assistant_message: the response speaks exactly that text; metadata is echoed",
      requirement="pre_generated_assistant_message is added to the conversation and returned with synthesized "
                  "audio [D]; response metadata is echoed on the response [D].")
def test_vl_pre_generated(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text", "audio"])
    said = "Welcome to Contoso. How can I help?"
    turn = s.respond({"pre_generated_assistant_message": {"type": "message", "role": "assistant",
                                                          "content": [{"type": "text", "text": said}]},
                      "metadata": {"greeting": "1"}})
    expect_equal(turn.status, "completed", "response.done status")
    expect_equal(turn.transcript(), said, "the spoken transcript")
    expect(turn.audio(), "the message is spoken")
    expect_equal(turn.response.get("metadata"), {"greeting": "1"}, "response.metadata")


@case(id="voice-live/response/commit-and-items", section="§12.2, §5.9", dialects=VL, targets=TARGETS,
      description="append_input_items join first; commit false keeps the reply out; input_items are the context",
      requirement="append_input_items are added before the response; commit: false makes the response not "
                  "committed to the conversation; input_items replace the response's context [D].")
def test_vl_commit_and_items(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text"])
    s.send({"type": "response.create", "response": {"append_input_items": [text_item("Appended question.")],
                                                    "commit": False}})
    events = s.until("response.created")
    expect_equal([e["type"] for e in events], ["conversation.item.created", "response.created"],
                 "the appended item comes first")
    appended = events[0]["item"]["id"]
    turn = _rest_of(s, events[-1])
    expect_equal(turn.response.get("conversation_id"), None, "an uncommitted response has no conversation")
    reply = (turn.response.get("output") or [{}])[0].get("id")
    s.send({"type": "conversation.item.retrieve", "item_id": appended})
    expect_equal(s.expect("conversation.item.retrieved")["item"]["id"], appended, "the appended item is there")
    s.send({"type": "conversation.item.retrieve", "event_id": "vl_retrieve_reply", "item_id": reply})
    s.expect_error(event_id="vl_retrieve_reply")  # the uncommitted reply is not in the conversation
    turn = s.respond({"input_items": [text_item("Only this counts.")]})
    expect_equal(turn.status, "completed", "a response with input_items")
    # [mockrt] the default reply quotes its last user input: the input_items, not the conversation
    expect(ctx.target.live or "Only this counts." in turn.text(), f"the reply answers the input_items: {turn.text()!r}")


@case(id="voice-live/response/cancel-previous", section="§12.2, §5.3", dialects=VL, targets=TARGETS, timeout=20.0,
      description="response.create mid-response: cancel_previous false is refused, the default replaces it",
      requirement="cancel_previous: whether to cancel any ongoing generation before starting this one; defaults to "
                  "true [D]; false keeps conversation_already_has_active_response [U].")
def test_vl_cancel_previous(ctx: Ctx) -> None:
    s = _session(ctx, paced=True, modalities=["text", "audio"])
    user_text(s, "Tell me a long story.")
    # back to back, like the active-response cases (§5.3): the first response is still in progress for the others
    s.send({"type": "response.create"})
    s.send({"type": "response.create", "event_id": "vl_keep", "response": {"cancel_previous": False}})
    s.send({"type": "response.create", "response": {"modalities": ["text"]}})
    events = s.until("error", where=lambda e: (e.get("error") or {}).get("event_id") == "vl_keep")
    created = [e["response"]["id"] for e in events if e["type"] == "response.created"]
    expect_equal(len(created), 1, "responses created before the refused cancel_previous: false")
    expect_equal(events[-1]["error"].get("code"), "conversation_already_has_active_response", "error.code")
    first = created[0]
    events = s.until("response.created", where=lambda e: e["response"]["id"] != first)
    done = [e for e in events if e["type"] == "response.done"]
    expect(done and done[0]["response"]["id"] == first, "the previous response ends before the new one starts")
    expect_equal(done[0]["response"]["status"], "cancelled", "the previous response's status")
    turn = _rest_of(s, events[-1])
    expect_equal(turn.status, "completed", "the new response completes")
    s.send({"type": "response.cancel", "event_id": "vl_cancel_none"})
    s.expect_error(code="response_cancel_not_active", event_id="vl_cancel_none")


# -- items (§12.3, §2.5–§2.8) -----------------------------------------------------------------------------------


@case(id="voice-live/items/image-and-lifecycle", section="§12.3, §2.5, §2.7, §2.8", dialects=VL, targets=TARGETS,
      description="input_image parts kept in user messages, refused in assistant ones; retrieve/truncate/delete",
      requirement="input_image {image_url, detail} content parts in user messages [D]; retrieve, truncate and "
                  "delete answer conversation.item.retrieved / .truncated / .deleted [D].")
def test_vl_items(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text", "audio"])
    image = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}
    item = s.create_item({"type": "message", "role": "user",
                          "content": [image, {"type": "input_text", "text": "What is this?"}]})["item"]
    expect_equal(item["content"][0], image, "the image part as given")
    s.send({"type": "conversation.item.create", "event_id": "vl_image_assistant",
            "item": {"type": "message", "role": "assistant", "content": [image]}})
    s.expect_error(event_id="vl_image_assistant", param="item.content[0].type")
    turn = s.respond()
    reply = turn.response["output"][0]["id"]
    s.send({"type": "conversation.item.truncate", "item_id": reply, "content_index": 0, "audio_end_ms": 300})
    truncated = s.expect("conversation.item.truncated")
    expect_equal((truncated["item_id"], truncated["audio_end_ms"]), (reply, 300), "truncated item and offset")
    s.send({"type": "conversation.item.retrieve", "item_id": item["id"]})
    expect_equal(s.expect("conversation.item.retrieved")["item"]["content"][0].get("type"), "input_image",
                 "the retrieved image part")
    s.send({"type": "conversation.item.delete", "item_id": item["id"]})
    expect_equal(s.expect("conversation.item.deleted")["item_id"], item["id"], "deleted item id")


# -- audio in: manual commits, VAD, transcription (§2.2–§2.4, §5.5, §5.11) -------------------------------------


@case(id="voice-live/audio/vad-and-transcription", section="§12.1, §5.5, §5.11", dialects=VL, targets=TARGETS,
      timeout=30.0,
      description="azure_semantic_vad on speech: started, stopped, committed, transcription deltas, the reply",
      requirement="The Azure VAD types detect turns like server_vad (speech_started/stopped, committed) and create "
                  "a response; input_audio_transcription transcribes the user item (deltas, completed) [D].")
def test_vl_vad_and_transcription(ctx: Ctx) -> None:
    clip = ctx.clip("weather")
    s = ctx.connect()
    _update(s, instructions=SHORT_REPLY, modalities=["text"], turn_detection=AZURE_SETTINGS["turn_detection"],
            input_audio_transcription={"model": "gpt-4o-transcribe"})
    s.append(clip.pcm16 + silence(1000))
    events = s.until("input_audio_buffer.committed")
    types = [e["type"] for e in events]
    expect_equal(types[:2], ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped"],
                 "the turn's VAD events")
    item_id = events[-1]["item_id"]
    seen = s.until("response.done")
    while not any(e["type"] == "conversation.item.input_audio_transcription.completed" for e in seen):
        seen += [s.next(timeout=15.0)]
    completed = next(e for e in seen if e["type"] == "conversation.item.input_audio_transcription.completed")
    expect_equal(completed["item_id"], item_id, "the transcription names the committed item")
    expect(str(completed.get("transcript", "")).strip(), "a non-empty transcript")
    deltas = [e for e in seen if e["type"] == "conversation.item.input_audio_transcription.delta"]
    expect(deltas, "gpt-4o-transcribe streams deltas")


@case(id="voice-live/audio/manual-commit", section="§2.2, §2.3, §12.1", dialects=VL, targets=TARGETS,
      description="input at input_audio_sampling_rate 16000: a manual commit of 300 ms is accepted, 50 ms is not",
      requirement="input_audio_sampling_rate sets the input rate of pcm16 (8000/16000/24000) [D]; the 100 ms "
                  "commit minimum counts audio at that rate (§2.3) [U].")
def test_vl_manual_commit(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text"], input_audio_sampling_rate=16000)
    samples = bytes(2 * 16000 * 50 // 1000)  # 50 ms at 16 kHz
    s.send({"type": "input_audio_buffer.append", "audio": _b64(samples)})
    s.send({"type": "input_audio_buffer.commit", "event_id": "vl_commit_50"})
    s.expect_error(code="input_audio_buffer_commit_empty", event_id="vl_commit_50")
    s.send({"type": "input_audio_buffer.append", "audio": _b64(samples * 6)})
    s.send({"type": "input_audio_buffer.commit"})
    committed = s.expect("input_audio_buffer.committed")
    item = s.expect("conversation.item.added")["item"]
    expect_equal(item["id"], committed["item_id"], "the committed item")


# -- tools (§12.1, §9) ------------------------------------------------------------------------------------------


WEATHER: Json = {"type": "function", "name": "get_weather", "description": "Weather for a city.",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                "required": ["city"]}}


@case(id="voice-live/tools/function-call", section="§12, §5.8", dialects=VL, targets=TARGETS,
      description="a forced function call streams its arguments; response.function_call_arguments.done keeps name",
      requirement="response.function_call_arguments.delta/.done {item_id, call_id, name, arguments} as the "
                  "Voice Live client models them (name is required there) [D].")
def test_vl_function_call(ctx: Ctx) -> None:
    s = _session(ctx, modalities=["text"], tools=[WEATHER], tool_choice="required")
    user_text(s, "What's the weather in Paris?")
    turn = s.respond()
    done = turn.first("response.function_call_arguments.done")
    expect_equal(done.get("name"), "get_weather", "function_call_arguments.done name")
    expect(isinstance(json.loads(done["arguments"]), dict), "the arguments are a JSON object")
    expect(turn.of("response.function_call_arguments.delta"), "the arguments were streamed")


def _mcp_tools(s: Session, url: str, allowed: list[str]) -> list[Json]:
    """A session.update with one MCP server (only ``allowed`` tools; the per-tool approval object); returns the
    listing's events."""
    tool = {"type": "mcp", "server_label": SERVER_LABEL, "server_url": url, "allowed_tools": allowed,
            "require_approval": {"always": ["forecast"], "never": ["explode"]}}
    _update(s, instructions=SHORT_REPLY, turn_detection=None, modalities=["text"], tools=[tool],
            tool_choice="required")
    return s.until("mcp_list_tools.completed", timeout=30.0)  # the first MCP use may load the MCP client


@case(id="voice-live/mcp/approvals-and-calls", section="§12.1, §12.3, §9.2, §9.3, §9.4", dialects=VL,
      targets=LOCAL, timeout=60.0,
      description="MCP through Voice Live: listing, per-tool require_approval, approval response, failures",
      requirement="MCPServer tools are listed (mcp_list_tools.*) and called by the service "
                  "(response.mcp_call_arguments.*, response.mcp_call.*); require_approval is always, never or a "
                  "per-tool dictionary {always: [tools], never: [tools]}; approvals come back as "
                  "mcp_approval_response [D]. tool_choice required with only MCP tools calls one [U].")
def test_vl_mcp(ctx: Ctx) -> None:
    server = mcp_server()
    s = ctx.connect()
    listing = [e["type"] for e in _mcp_tools(s, server.url, ["explode"])]
    expect_equal(listing, ["conversation.item.created", "mcp_list_tools.in_progress", "mcp_list_tools.completed"],
                 "the listing's events")
    mark = server.mark()
    user_text(s, "Blow it up.")
    turn = s.respond()  # explode is on the never list: it runs at once, and fails
    calls = [e["type"] for e in turn.events if "mcp_call" in e["type"]]
    expect_equal(calls[-3:], ["response.mcp_call_arguments.done", "response.mcp_call.in_progress",
                              "response.mcp_call.failed"], "a 'never' tool runs without asking (and fails)")
    expect_equal([name for name, _ in server.since(mark)], ["explode"], "the call ran on the server")
    _mcp_tools(s, server.url, ["forecast"])
    mark = server.mark()
    user_text(s, "Weather in Paris?")
    turn = s.respond()  # forecast is on the always list: an approval request, nothing runs
    requests = [item for item in turn.response.get("output", []) if item.get("type") == "mcp_approval_request"]
    expect(requests and requests[0].get("name") == "forecast", f"an approval request for forecast: {requests}")
    expect_equal(server.since(mark), [], "nothing ran before the approval")
    s.send({"type": "mcp_approval_response", "approval_request_id": requests[0]["id"], "approve": True})
    s.expect("conversation.item.added")
    turn = s.respond()
    calls = [e["type"] for e in turn.events if "mcp_call" in e["type"]]
    expect_equal(calls[-2:], ["response.mcp_call.in_progress", "response.mcp_call.completed"], "the approved call")
    expect_equal([name for name, _ in server.since(mark)], ["forecast"], "the approved call ran once")
    s2 = ctx.connect()  # an unreachable server fails the listing
    _update(s2, turn_detection=None, tools=[{"type": "mcp", "server_label": "gone", "server_url": closed_url(),
                                             "require_approval": "never"}])
    s2.wait("mcp_list_tools.failed", timeout=30.0)
