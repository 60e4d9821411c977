"""Session defaults and session.update (docs/protocol.md §2.1, §4.2–§4.4, §1.5)."""

from __future__ import annotations

import time
from typing import Any

from conformance import Ctx, case
from conformance.checks import expect, expect_equal, expect_in, expect_keys, expect_near, expect_subset
from conformance.wire import DEFAULT_INSTRUCTIONS, WEATHER_TOOL, session_payload, vad

from ._common import audio_reply, manual

Json = dict[str, Any]

GA_KEYS = ("type", "object", "id", "model", "output_modalities", "instructions", "tools", "tool_choice",
           "max_output_tokens", "tracing", "truncation", "prompt", "expires_at", "audio", "include")
GA_LATER_KEYS = ("parallel_tool_calls", "reasoning")  # 2026 additions: absent or null (§4.3)
BETA_KEYS = ("id", "object", "model", "expires_at", "modalities", "instructions", "voice", "turn_detection",
             "input_audio_format", "output_audio_format", "input_audio_transcription", "tool_choice", "temperature",
             "max_response_output_tokens", "tools")
BETA_LATER_KEYS = ("input_audio_noise_reduction", "include", "client_secret", "speed", "tracing")  # 2025 (§4.2)

GA_DEFAULTS: Json = {
    "type": "realtime", "object": "realtime.session", "output_modalities": ["audio"],
    "instructions": DEFAULT_INSTRUCTIONS, "tools": [], "tool_choice": "auto", "max_output_tokens": "inf",
    "tracing": None, "truncation": "auto", "prompt": None, "include": None,
    "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000}, "transcription": None, "noise_reduction": None,
                  "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                     "silence_duration_ms": 200, "idle_timeout_ms": None, "create_response": True,
                                     "interrupt_response": True}},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
    },
}
BETA_DEFAULTS: Json = {
    "object": "realtime.session", "instructions": DEFAULT_INSTRUCTIONS, "voice": "alloy",
    "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200,
                       "create_response": True, "interrupt_response": True},
    "input_audio_format": "pcm16", "output_audio_format": "pcm16", "input_audio_transcription": None,
    "tool_choice": "auto", "temperature": 0.8, "max_response_output_tokens": "inf", "tools": [],
}


def _check_full(ctx: Ctx, session: Json, what: str) -> None:
    if ctx.ga:
        expect_keys(session, GA_KEYS, what, allowed=GA_LATER_KEYS)
    else:
        expect_keys(session, BETA_KEYS, what, allowed=BETA_LATER_KEYS)


def _check_defaults(ctx: Ctx, session: Json, what: str, **changed: Any) -> None:
    expected = dict(GA_DEFAULTS if ctx.ga else BETA_DEFAULTS)
    expected.update(changed)
    expect_subset(session, expected, what)
    if not ctx.ga:
        expect_equal(sorted(session.get("modalities") or []), ["audio", "text"], f"{what}.modalities")


@case(id="session/defaults", section="§4.2, §4.3, §8.1",
      description="session.created carries every key with the fresh-session defaults of the dialect",
      requirement="A fresh session has exactly the captured defaults: audio output, the default instructions, voice "
                  "alloy, pcm 24 kHz, server VAD 0.5/300/200, tools [], tool_choice auto, max tokens inf … and (GA) "
                  "every key present, nulls included [V].")
def test_defaults(ctx: Ctx) -> None:
    s = ctx.connect()
    session = s.created["session"]
    _check_full(ctx, session, "session.created.session")
    _check_defaults(ctx, session, "session.created.session")
    if ctx.flavour == "openai":
        expect_equal(session.get("model"), ctx.target.model(ctx.dialect), "session.model (echo of the URL model)")


@case(id="session/expires-at", section="§1.5, §4.3",
      description="expires_at is the creation time plus the maximum session duration (60 min GA, 30 min beta)",
      requirement="session.expires_at = creation time + maximum (unix seconds): +3600 s GA [V], +1800 s beta [R].",
      level="should")
def test_expires_at(ctx: Ctx) -> None:
    now = time.time()
    s = ctx.connect()
    expect_near(s.created["session"].get("expires_at"), now + (3600 if ctx.ga else 1800), 300,
                "session.expires_at (local clock, ± 5 min for skew)")


@case(id="session/update/full-object", section="§2.1",
      description="session.updated answers with the full effective session, the changes applied",
      requirement="Reply: one session.updated with the full effective session object; only keys present are "
                  "changed [D][V].")
def test_update_full_object(ctx: Ctx) -> None:
    s = ctx.connect()
    session = s.update(instructions="You are a conformance probe.", voice="verse")
    _check_full(ctx, session, "session.updated.session")
    if ctx.ga:
        _check_defaults(ctx, session, "session.updated.session", instructions="You are a conformance probe.",
                        audio={**GA_DEFAULTS["audio"], "output": {**GA_DEFAULTS["audio"]["output"], "voice": "verse"}})
    else:
        _check_defaults(ctx, session, "session.updated.session", instructions="You are a conformance probe.",
                        voice="verse")
    expect_equal(session.get("id"), s.created["session"].get("id"), "session.id stays the same")


@case(id="session/update/partial", section="§2.1",
      description="an update changes only the keys it names; earlier changes persist",
      requirement="Only keys present are changed; everything else keeps its value [D][V].")
def test_update_partial(ctx: Ctx) -> None:
    s = ctx.connect()
    s.update(instructions="First instructions.", output="text")
    session = s.update(tools=[WEATHER_TOOL], tool_choice="none")
    expect_equal(session.get("instructions"), "First instructions.", "instructions kept from the first update")
    expect_equal(session.get("output_modalities" if ctx.ga else "modalities"), ["text"], "modality kept")
    expect_equal([t.get("name") for t in session.get("tools") or []], ["get_weather"], "tools applied")
    expect_equal(session.get("tool_choice"), "none", "tool_choice applied")
    session = s.update(instructions="")
    expect_equal(session.get("instructions"), "", "instructions cleared with ''")
    expect_equal([t.get("name") for t in session.get("tools") or []], ["get_weather"], "tools kept")


@case(id="session/update/rejected-whole", section="§2.1, §6.1",
      description="an update with one bad key is rejected whole: error only, nothing applied",
      requirement="A rejected update is discarded as a whole (no partial application) and only an error is sent [V].")
def test_update_rejected_whole(ctx: Ctx) -> None:
    s = ctx.connect()
    payload = session_payload(ctx.dialect, instructions="Must not be applied.", extra={"bogus_key": True})
    s.send({"type": "session.update", "event_id": "evt_whole", "session": payload})
    s.expect_error(code="unknown_parameter", param="session.bogus_key", event_id="evt_whole")
    session = s.update(tools=[])
    expect_equal(session.get("instructions"), DEFAULT_INSTRUCTIONS, "instructions after the rejected update")


@case(id="session/update/type-required", section="§2.1, §6.2",
      description="GA: every session.update must carry session.type",
      requirement="GA: missing session.type → missing_required_parameter, param 'session.type', \"Missing required "
                  "parameter: 'session.type'.\" [V].", dialects=("ga",))
def test_update_type_required(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "event_id": "evt_notype", "session": {"instructions": "x"}})
    s.expect_error(code="missing_required_parameter", param="session.type", event_id="evt_notype",
                   message="Missing required parameter: 'session.type'.")


@case(id="session/update/type-mismatch", section="§2.1, §6.2",
      description="GA: a bad session.type, or a transcription update to a realtime session, is rejected",
      requirement="A wrong type → \"Invalid value: 'session'. Supported values are: 'realtime' and 'transcription'.\" "
                  "[R]; a transcription-shaped update to a realtime session → \"Passing a transcription session update "
                  "event to a realtime session is not allowed.\" [R].", dialects=("ga",), level="should")
def test_update_type_mismatch(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "session": {"type": "conversation"}})
    s.expect_error(message="Invalid value: 'session'. Supported values are: 'realtime' and 'transcription'.")
    s.send({"type": "session.update", "session": {"type": "transcription"}})
    s.expect_error(message="Passing a transcription session update event to a realtime session is not allowed.")
    s.expect_quiet("after the rejected updates")


@case(id="session/update/foreign-field", section="§2.1, §4.4, §6.1",
      description="a field of the other dialect is an unknown parameter (GA: temperature; beta: output_modalities)",
      requirement="GA sessions have no temperature (→ unknown_parameter) [D][R]; beta rejects GA keys such as "
                  "output_modalities: \"Unknown parameter: 'session.output_modalities'.\" [R].")
def test_update_foreign_field(ctx: Ctx) -> None:
    s = ctx.connect()
    key, value = ("temperature", 0.8) if ctx.ga else ("output_modalities", ["text"])
    s.send({"type": "session.update", "session": session_payload(ctx.dialect, extra={key: value})})
    s.expect_error(code="unknown_parameter", param=f"session.{key}", message=f"Unknown parameter: 'session.{key}'.")


@case(id="session/update/pcm-rate", section="§4.1, §6.1",
      description="GA: audio/pcm at a rate other than 24000 is rejected (integer_below_min_value)",
      requirement="rate must be 24000; 16000 → integer_below_min_value on session.audio.input.format.rate with "
                  "'Expected a value >= 24000' [V].", dialects=("ga",))
def test_update_pcm_rate(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "format": {"type": "audio/pcm", "rate": 16000}}}}})
    s.expect_error(code="integer_below_min_value", param="session.audio.input.format.rate",
                   message_re=r".*Expected a value >= 24000.*")


@case(id="session/update/turn-detection-off", section="§2.1, §4.8",
      description="turn_detection null turns server VAD off and is echoed as null",
      requirement="Clear turn_detection (beta) / audio.input.turn_detection (GA) with null [D][V].")
def test_update_turn_detection_off(ctx: Ctx) -> None:
    s = ctx.connect()
    session = s.update(turn_detection=None)
    value = session["audio"]["input"]["turn_detection"] if ctx.ga else session["turn_detection"]
    expect_equal(value, None, "turn_detection after the update")
    session = s.update(turn_detection=vad(silence_duration_ms=600))
    value = session["audio"]["input"]["turn_detection"] if ctx.ga else session["turn_detection"]
    expect_subset(value, vad(silence_duration_ms=600), "turn_detection after turning it back on")


@case(id="session/update/voice-lock", section="§2.1, §5.13",
      description="the voice cannot change once assistant audio exists",
      requirement="A voice change after assistant audio is rejected with \"Cannot update a conversation's voice if "
                  "assistant audio is present.\"; the whole update is rejected [R].")
def test_voice_lock(ctx: Ctx) -> None:
    s = manual(ctx, output="audio")
    audio_reply(s)
    s.send({"type": "session.update", "event_id": "evt_voice",
            "session": session_payload(ctx.dialect, voice="echo", instructions="Not applied.")})
    s.expect_error(message="Cannot update a conversation's voice if assistant audio is present.",
                   event_id="evt_voice")
    session = s.update(tools=[])
    voice = session["audio"]["output"]["voice"] if ctx.ga else session["voice"]
    expect_equal(voice, "alloy", "voice after the rejected update")


@case(id="session/update/invalid-type", section="§6.1",
      description="a value of the wrong JSON type gets invalid_type naming the path and both types",
      requirement="\"Invalid type for '<path>': expected <type>, but got <type> instead.\" with code invalid_type "
                  "[R] (the tail of the sentence is [U]).", level="should")
def test_update_invalid_type(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "session": session_payload(ctx.dialect, extra={"instructions": 42})})
    s.expect_error(code="invalid_type", param="session.instructions",
                   message="Invalid type for 'session.instructions': expected a string, but got an integer instead.")


@case(id="session/update/out-of-range", section="§4.8, §6.1",
      description="an out-of-range number (VAD threshold 1.5) is rejected with the path of the field",
      requirement="Out-of-range values are rejected whole with the field's dotted param [U]; by the REST convention "
                  "the code is decimal_above_max_value [U].", level="should")
def test_update_out_of_range(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "session": session_payload(ctx.dialect, turn_detection=vad(threshold=1.5))})
    error = s.expect_error(param="session.audio.input.turn_detection.threshold" if ctx.ga
                           else "session.turn_detection.threshold")
    expect_in(error.get("code"), ("decimal_above_max_value", "invalid_value"), "error.code")
    session = s.update(tools=[])
    td = session["audio"]["input"]["turn_detection"] if ctx.ga else session["turn_detection"]
    expect(td is not None and td.get("threshold") == 0.5, f"threshold unchanged after the rejection: {td}")
