"""Responses: lifecycles, function calls, usage, rate limits, one active response, cancel, out-of-band responses
(docs/protocol.md §2.9, §2.10, §3.7, §3.9, §4.10, §4.11, §5.2–§5.4, §5.7, §5.9, §5.13)."""

from __future__ import annotations

import json
from typing import Any

from conformance import Ctx, case
from conformance.checks import (
    CaseFailure,
    Step,
    any_order,
    expect,
    expect_equal,
    expect_in,
    expect_match,
    expect_sequence,
    expect_subset,
    many,
)
from conformance.client import Session, Turn
from conformance.wire import (
    BYTES_PER_MS,
    OBFUSCATED,
    TIME_TOOL,
    WEATHER_TOOL,
    canonical,
    function_output_item,
    named_tool_choice,
    response_payload,
    text_item,
)

from ._common import assistant_item, manual, user_text

Json = dict[str, Any]


def _text_steps(ga: bool) -> list[Any]:
    head = ["response.created"] if ga else ["response.created", "rate_limits.updated"]
    body = ["response.output_item.added", "conversation.item.added", "response.content_part.added",
            many("response.output_text.delta"), "response.output_text.done", "response.content_part.done"]
    tail = (["conversation.item.done", "response.output_item.done", "response.done", "rate_limits.updated"] if ga
            else ["response.output_item.done", "response.done"])
    return head + body + tail


def _finish(s: Session, turn: Turn) -> list[Json]:
    """The response's events plus, on GA, the rate_limits.updated that trails response.done (§3.9)."""
    events = list(turn.events)
    if s.dialect == "ga":
        events += s.until("rate_limits.updated")
    return events


@case(id="responses/text/lifecycle", section="§5.2, §3.7, §4.10",
      description="a text response streams in the verified order and its parts agree with each other",
      requirement="Text in → text out: item events, response.created, output_item.added, (GA) item added, "
                  "content_part.added, text deltas, text.done, content_part.done, (GA) item done, output_item.done, "
                  "response.done (completed, output [item]), rate_limits.updated after done (GA) / after created "
                  "(beta) [V].")
def test_text_lifecycle(ctx: Ctx) -> None:
    s = manual(ctx)
    s.send({"type": "conversation.item.create", "item": text_item("Say hello.")})
    s.send({"type": "response.create"})
    events = s.until("conversation.item.added")
    if ctx.ga:
        events += s.until("conversation.item.done")
    turn = s.collect_response()
    events = events + _finish(s, turn)
    user_steps = ["conversation.item.added", "conversation.item.done"] if ctx.ga else ["conversation.item.added"]
    expect_sequence(events, user_steps + _text_steps(ctx.ga), "text response")
    expect_equal(turn.status, "completed", "response.done status")
    expect_equal(turn.response.get("status_details"), None, "response.done status_details")
    expect_match(turn.response.get("conversation_id"), r"conv_\w+", "response.conversation_id")
    item = assistant_item(turn)
    part_type = "output_text" if ctx.ga else "text"
    expect_subset(item, {"type": "message", "role": "assistant", "status": "completed",
                         "content": [{"type": part_type, "text": turn.text()}]}, "response.done output[0]")
    expect(turn.text(), "the text deltas spell a non-empty reply")
    expect_equal(turn.first("response.content_part.added")["part"], {"type": "text", "text": ""},
                 "content_part.added part")
    added = next(e for e in turn.events if canonical(e["type"]) == "conversation.item.added")
    expect_equal(added.get("previous_item_id"), events[0]["item"]["id"],
                 "the assistant item follows the user item (previous_item_id)")


@case(id="responses/text/obfuscation", section="§3.1",
      description="GA text deltas carry an obfuscation string; beta deltas carry none",
      requirement="GA text-like deltas additionally carry obfuscation (~10–16 chars) [V]; beta frames have none [V].")
def test_obfuscation(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s)
    turn = s.respond()
    deltas = turn.of("response.output_text.delta")
    expect(deltas, "text deltas")
    for delta in deltas:
        if ctx.ga:
            value = delta.get("obfuscation")
            expect(isinstance(value, str) and value, f"GA delta without obfuscation: {delta}")
        else:
            expect("obfuscation" not in delta, f"beta delta with obfuscation: {delta}")
    expect("response.output_text.delta" in OBFUSCATED, "catalogue sanity")


@case(id="responses/audio/lifecycle", section="§5.3, §3.7, §4.7",
      description="an audio response streams audio + transcript in the verified order; done events carry no audio",
      requirement="Audio response: content_part {type audio, transcript ''}, interleaved transcript and audio deltas, "
                  "audio.done / transcript.done, content_part.done, (GA) item done, output_item.done, response.done "
                  "with output content output_audio (GA) / audio (beta) and no audio bytes [V].")
def test_audio_lifecycle(ctx: Ctx) -> None:
    s = manual(ctx, output="audio")
    user_text(s, "Say hello.")
    turn = s.respond()
    head = ["response.created"] if ctx.ga else ["response.created", "rate_limits.updated"]
    steps: list[Step] = [*head, "response.output_item.added", "conversation.item.added", "response.content_part.added",
             many("response.output_audio_transcript.delta", "response.output_audio.delta"),
             any_order("response.output_audio.done", "response.output_audio_transcript.done"),
             "response.content_part.done"]
    steps += (["conversation.item.done", "response.output_item.done", "response.done", "rate_limits.updated"]
              if ctx.ga else ["response.output_item.done", "response.done"])
    expect_sequence(_finish(s, turn), steps, "audio response")
    expect_equal(turn.first("response.content_part.added")["part"], {"type": "audio", "transcript": ""},
                 "content_part.added part")
    item = assistant_item(turn)
    expect_equal(item.get("content"), [{"type": "output_audio" if ctx.ga else "audio",
                                        "transcript": turn.transcript()}], "response.done output[0].content")
    audio = turn.audio()
    expect(len(audio) >= 100 * BYTES_PER_MS["pcm16"], f"at least 100 ms of audio, got {len(audio)} bytes")
    expect(any(b != 0 for b in audio[::97]), "the audio is not digital silence")
    expect(turn.transcript().strip(), "a non-empty transcript")
    _check_speech_rate(turn.transcript(), len(audio) / BYTES_PER_MS["pcm16"], "pcm16 24 kHz")


def _check_speech_rate(transcript: str, audio_ms: float, fmt: str) -> None:
    """The audio, read at the declared format's rate, lasts like speech of its transcript (50–600 words per
    minute): audio in another format or at another rate would be several times too long or too short (§4.1, §7)."""
    words = max(1, len(transcript.split()))
    per_word = audio_ms / words
    expect(100 <= per_word <= 1200, f"{audio_ms:.0f} ms of {fmt} audio for {words} transcript words "
                                    f"({per_word:.0f} ms per word): the audio is not at the declared format's rate")


@case(id="responses/audio/g711-output", section="§4.1, §5.3",
      description="with G.711 µ-law output the response says so and streams 8 kHz µ-law audio",
      requirement="Output audio is in the session's output format: g711_ulaw / audio/pcmu is 8 kHz µ-law, one byte per "
                  "sample [D][V].")
def test_g711_output(ctx: Ctx) -> None:
    s = manual(ctx, output="audio", output_format="g711_ulaw")
    user_text(s, "Say hello.")
    turn = s.respond()
    if ctx.ga:
        expect_equal(turn.response["audio"]["output"]["format"], {"type": "audio/pcmu"}, "response audio format")
    else:
        expect_equal(turn.response.get("output_audio_format"), "g711_ulaw", "response.output_audio_format")
    audio = turn.audio()
    expect(len(audio) >= 100 * BYTES_PER_MS["g711_ulaw"], f"at least 100 ms of µ-law audio, got {len(audio)} bytes")
    # Digital silence in µ-law is 0xFF/0x7F; speech-like audio spreads over many codes.
    expect(len(set(audio)) > 16, "the µ-law audio is not (near) silence")
    _check_speech_rate(turn.transcript(), len(audio) / BYTES_PER_MS["g711_ulaw"], "µ-law 8 kHz")


def _function_steps(ga: bool) -> list[Any]:
    head = ["response.created"] if ga else ["response.created", "rate_limits.updated"]
    body = ["response.output_item.added", "conversation.item.added", many("response.function_call_arguments.delta"),
            "response.function_call_arguments.done"]
    tail = (["conversation.item.done", "response.output_item.done", "response.done", "rate_limits.updated"] if ga
            else ["response.output_item.done", "response.done"])
    return head + body + tail


@case(id="responses/function-call/lifecycle", section="§5.4, §3.7, §4.9",
      description="tool_choice required produces a function call; its output item leads to an assistant reply",
      requirement="Function call: output_item.added {function_call, in_progress, call_id, arguments ''}, argument "
                  "deltas, arguments.done (GA adds name), item done, response.done; no content_part events; a "
                  "function_call_output item then response.create answers with a message [D][V].")
def test_function_call(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s, "What is the weather in Paris?")
    turn = s.respond({"tools": [WEATHER_TOOL], "tool_choice": "required"})
    expect_sequence(_finish(s, turn), _function_steps(ctx.ga), "function-call response")
    added = turn.first("response.output_item.added")["item"]
    expect_subset(added, {"type": "function_call", "status": "in_progress", "name": "get_weather", "arguments": ""},
                  "output_item.added item")
    done = turn.first("response.function_call_arguments.done")
    expect_equal(done.get("call_id"), added.get("call_id"), "arguments.done call_id")
    if ctx.ga:
        expect_equal(done.get("name"), "get_weather", "GA arguments.done name")
    args = json.loads(done["arguments"])
    expect(isinstance(args, dict) and "city" in args, f"arguments are a JSON object with 'city': {done['arguments']}")
    item = assistant_item(turn)
    expect_subset(item, {"type": "function_call", "status": "completed", "call_id": added["call_id"],
                         "name": "get_weather", "arguments": done["arguments"]}, "response.done output[0]")
    s.create_item(function_output_item(added["call_id"], json.dumps({"temperature_c": 21})))
    reply = s.respond()
    expect_equal(reply.status, "completed", "reply status")
    expect_equal(assistant_item(reply).get("type"), "message", "the reply to a tool output is a message")


@case(id="responses/function-call/named", section="§4.9",
      description="a named function tool_choice forces that function",
      requirement="tool_choice {type: function, name} forces the named function [D].")
def test_function_call_named(ctx: Ctx) -> None:
    s = manual(ctx, tools=[WEATHER_TOOL, TIME_TOOL])
    user_text(s, "What time is it in Tokyo?")
    turn = s.respond({"tool_choice": named_tool_choice("get_time")})
    item = assistant_item(turn)
    expect_equal(item.get("type"), "function_call", "output[0].type")
    expect_equal(item.get("name"), "get_time", "output[0].name")


def _check_usage(ctx: Ctx, usage: Any, *, text_only: bool) -> None:
    expect(isinstance(usage, dict), f"response.done usage is an object: {usage!r}")
    inp, out = usage["input_token_details"], usage["output_token_details"]
    expect_equal(usage["total_tokens"], usage["input_tokens"] + usage["output_tokens"], "total = input + output")
    expect_equal(usage["input_tokens"], inp["text_tokens"] + inp["audio_tokens"] + inp.get("image_tokens", 0),
                 "input = text + audio (+ image)")
    expect_equal(usage["output_tokens"], out["text_tokens"] + out["audio_tokens"], "output = text + audio")
    expect(0 <= inp["cached_tokens"] <= usage["input_tokens"], f"cached ≤ input: {inp}")
    expect(usage["output_tokens"] > 0, "a reply produces output tokens")
    if text_only:
        expect_equal(out["audio_tokens"], 0, "output audio tokens of a text-only response")
    else:
        expect(out["audio_tokens"] > 0, f"an audio response has output audio tokens: {out}")


@case(id="responses/usage/invariants", section="§4.11",
      description="usage adds up: total = input + output, input = text + audio (+ image), output = text + audio",
      requirement="Invariants: total = input + output; input = text + audio (+ image); output = text + audio; "
                  "cached ≤ input; a text-only response has 0 output audio tokens [V].")
def test_usage(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s)
    _check_usage(ctx, s.respond().response.get("usage"), text_only=True)
    audio_turn = s.respond(response_payload(ctx.dialect, output="audio"))
    _check_usage(ctx, audio_turn.response.get("usage"), text_only=False)


@case(id="responses/rate-limits/order", section="§3.9",
      description="rate_limits.updated follows response.done (GA) / response.created (beta)",
      requirement="GA: one rate_limits.updated after each response.done, none inside the response, a tokens entry "
                  "[V]; beta: right after response.created, before the first output item, with requests and tokens "
                  "entries [V] (Azure: an empty array [R]).")
def test_rate_limits(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s)
    turn = s.respond()
    types = [canonical(e["type"]) for e in turn.events]
    if ctx.ga:
        expect("rate_limits.updated" not in types, f"GA: no rate_limits.updated inside the response: {types}")
        trailing = s.wait("rate_limits.updated")
        names = [r.get("name") for r in trailing["rate_limits"]]
        expect("tokens" in names, f"GA rate limits have a tokens entry: {names}")
    else:
        expect(types.index("rate_limits.updated") < types.index("response.output_item.added"),
               f"beta: rate_limits.updated between response.created and the first output item: {types}")
        limits = turn.first("rate_limits.updated")["rate_limits"]
        expected = [] if ctx.flavour == "azure" else ["requests", "tokens"]  # Azure: an empty array [R]
        expect_equal(sorted(r.get("name") for r in limits), expected, "beta rate limit entries")


@case(id="responses/create/overrides", section="§2.9",
      description="response.create overrides (modality, instructions) apply to that response only",
      requirement="response.create's response object holds per-response overrides; omitted keys fall back to the "
                  "session [D].")
def test_overrides(ctx: Ctx) -> None:
    s = manual(ctx, output="audio")
    user_text(s)
    turn = s.respond(response_payload(ctx.dialect, output="text", instructions="Answer in one word."))
    types = {canonical(e["type"]) for e in turn.events}
    expect("response.output_audio.delta" not in types, "no audio in a text-override response")
    expect("response.output_text.delta" in types, "text deltas in a text-override response")
    modality_key = "output_modalities" if ctx.ga else "modalities"
    expect_equal(turn.response.get(modality_key), ["text"], f"response.{modality_key}")
    follow = s.respond()
    expect("audio" in (follow.response.get(modality_key) or []), "the next response uses the session's modality")


@case(id="responses/create/foreign-field", section="§2.9, §6.1",
      description="a response field of the other dialect is an unknown parameter",
      requirement="GA rejects beta names: \"Unknown parameter: 'response.modalities'.\" [R]; beta rejects "
                  "response.output_modalities the same way [R].")
def test_response_foreign_field(ctx: Ctx) -> None:
    s = manual(ctx)
    key = "modalities" if ctx.ga else "output_modalities"
    s.send({"type": "response.create", "event_id": "evt_foreign", "response": {key: ["text"]}})
    s.expect_error(code="unknown_parameter", param=f"response.{key}", event_id="evt_foreign",
                   message=f"Unknown parameter: 'response.{key}'.")
    s.expect_quiet("after the rejected response.create (no response)")


@case(id="responses/active/second-create-rejected", section="§2.9, §5.13, §6.2",
      description="a second response.create while one is in progress is rejected; the first completes",
      requirement="Only one response may write to the default conversation at a time: "
                  "conversation_already_has_active_response, 'Conversation already has an active response in "
                  "progress: <resp_id>. Wait until the response is finished before creating a new one.', the "
                  "event_id echoed, no response.created for it [R].")
def test_second_response_rejected(ctx: Ctx) -> None:
    s = manual(ctx, output="audio", paced=True)
    user_text(s, "Tell me a short story about a cat.")
    s.send({"type": "response.create"})
    s.send({"type": "response.create", "event_id": "evt_second"})
    events = s.until("error")
    created = [e for e in events if canonical(e["type"]) == "response.created"]
    expect_equal(len(created), 1, "response.created events before the error")
    rid = created[0]["response"]["id"]
    error = events[-1]["error"]
    expect_subset(error, {"type": "invalid_request_error", "code": "conversation_already_has_active_response",
                          "param": None, "event_id": "evt_second",
                          "message": f"Conversation already has an active response in progress: {rid}. Wait until "
                                     "the response is finished before creating a new one."}, "error")
    rest = s.until("response.done")
    expect_equal(rest[-1]["response"]["id"], rid, "the first response finishes")
    expect("response.created" not in [canonical(e["type"]) for e in rest], "no response for the rejected create")
    expect_equal(s.respond(response_payload(ctx.dialect, output="text")).status, "completed",
                 "a response.create after response.done")


@case(id="responses/cancel/active", section="§2.10, §5.7, §4.10",
      description="response.cancel ends the in-progress response with status cancelled / client_cancelled",
      requirement="The response finishes with response.done status cancelled, status_details {type cancelled, reason "
                  "client_cancelled}; closing events for open parts/items come first [D].")
def test_cancel_active(ctx: Ctx) -> None:
    s = manual(ctx, output="audio", paced=True)
    user_text(s, "Tell me a short story about a cat.")
    s.send({"type": "response.create"})
    rid = s.wait("response.created")["response"]["id"]
    s.send({"type": "response.cancel"})
    done = s.wait("response.done", where=lambda e: e["response"]["id"] == rid)
    expect_subset(done["response"], {"status": "cancelled",
                                     "status_details": {"type": "cancelled", "reason": "client_cancelled"}},
                  "response.done")
    s.send({"type": "response.cancel", "event_id": "evt_cancel_again"})
    s.expect_error(code="response_cancel_not_active", event_id="evt_cancel_again")


@case(id="responses/cancel/partial-content", section="§5.7, §3.7, §4.10",
      description="cancelling mid-audio closes the open part and item with what was sent, item incomplete",
      requirement="*.done events are also emitted when a response is cancelled, carrying what was produced so far "
                  "[D]; started items end incomplete [U].", level="should")
def test_cancel_partial(ctx: Ctx) -> None:
    s = manual(ctx, output="audio", paced=True)
    user_text(s, "Tell me a short story about a cat.")
    s.send({"type": "response.create"})
    s.wait("response.output_audio.delta")
    s.send({"type": "response.cancel"})
    done = s.wait("response.done")
    expect_equal(done["response"]["status"], "cancelled", "response.done status")
    output = done["response"]["output"]
    expect(output, "the started item is in response.done output")
    expect_equal(output[0].get("status"), "incomplete", "status of the interrupted item")
    closing = [canonical(e["type"]) for e in s.history]
    for ga_type in ("response.output_audio.done", "response.content_part.done", "response.output_item.done"):
        expect(ga_type in closing, f"{ga_type} closes the open part/item before response.done")


@case(id="responses/cancel/not-active", section="§2.10, §6.2",
      description="cancel with nothing in progress is response_cancel_not_active with the exact message",
      requirement="Nothing to cancel → {code response_cancel_not_active, message 'Cancellation failed: no active "
                  "response found', param null, event_id echoed}; session unaffected [R].")
def test_cancel_not_active(ctx: Ctx) -> None:
    s = manual(ctx)
    s.send({"type": "response.cancel", "event_id": "evt_cancel"})
    s.expect_error(code="response_cancel_not_active", param=None, event_id="evt_cancel",
                   message="Cancellation failed: no active response found")
    user_text(s)
    rid = s.respond().response_id
    s.send({"type": "response.cancel", "response_id": rid})
    s.expect_error(code="response_cancel_not_active", message="Cancellation failed: no active response found")


@case(id="responses/out-of-band/basic", section="§5.9, §2.9, §4.10",
      description="conversation 'none' makes an out-of-band response: conversation_id null, metadata echoed",
      requirement="response.create {conversation: 'none', metadata} → response.created with conversation_id null "
                  "and metadata echoed, then the usual output events, response.done [D].")
def test_oob_basic(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s, "Summarise our chat.")
    turn = s.respond(response_payload(ctx.dialect, conversation="none", metadata={"purpose": "conformance"}))
    for event, what in ((turn.events[0], "response.created"), (turn.done, "response.done")):
        expect_equal(event["response"].get("conversation_id"), None, f"{what}.response.conversation_id")
        expect_equal(event["response"].get("metadata"), {"purpose": "conformance"}, f"{what}.response.metadata")
    expect_equal(turn.status, "completed", "status")
    expect(turn.text(), "the out-of-band response has text")


@case(id="responses/out-of-band/not-in-conversation", section="§5.9, §2.9",
      description="out-of-band output items are not added to the conversation",
      requirement="conversation 'none': output items are not added to the default conversation [D] (so they cannot "
                  "be retrieved, and later items chain to the last conversation item).")
def test_oob_not_in_conversation(ctx: Ctx) -> None:
    s = manual(ctx)
    last = user_text(s, "Hi.")
    turn = s.respond(response_payload(ctx.dialect, conversation="none"))
    item_id = assistant_item(turn)["id"]
    leaked = [e for e in turn.events if canonical(e["type"]) in ("conversation.item.added", "conversation.item.done")]
    expect(not leaked, f"no conversation.item events for out-of-band output: {leaked[:1]}")
    s.send({"type": "conversation.item.retrieve", "item_id": item_id})
    s.expect_error(code="item_retrieve_invalid_item_id")
    after = user_text(s, "Next.")
    expect_equal(after.get("previous_item_id"), last["item"]["id"],
                 "the next item chains to the last conversation item")


@case(id="responses/out-of-band/concurrent", section="§5.9, §5.13",
      description="an out-of-band response may run while a default-conversation response is in progress",
      requirement="Out-of-band responses (conversation 'none') are exempt from the one-active-response rule and may "
                  "run in parallel [D].", level="should")
def test_oob_concurrent(ctx: Ctx) -> None:
    s = manual(ctx, output="audio", paced=True)
    user_text(s, "Tell me a short story about a cat.")
    s.send({"type": "response.create"})
    s.send({"type": "response.create", "event_id": "evt_oob",
            "response": response_payload(ctx.dialect, conversation="none", output="text",
                                         metadata={"kind": "side"})})
    created: list[str] = []
    done: dict[str, str] = {}
    while len(done) < 2:
        event = s.next()
        etype = canonical(event["type"])
        if etype == "error":
            raise CaseFailure(f"an error instead of a parallel out-of-band response: {event['error']}")
        if etype == "response.created":
            created.append(event["response"]["id"])
        elif etype == "response.done":
            done[event["response"]["id"]] = event["response"]["status"]
    expect_equal(len(created), 2, "two responses created")
    expect_equal(sorted(done.values()), ["completed", "completed"], "both complete")


@case(id="responses/out-of-band/input-reference", section="§5.9, §2.9",
      description="an out-of-band response can build its context from item references and inline items",
      requirement="input: array of items / {type: item_reference, id}; [] = empty context [D].")
def test_oob_input(ctx: Ctx) -> None:
    s = manual(ctx)
    a = user_text(s, "My name is Ada.")
    turn = s.respond(response_payload(ctx.dialect, conversation="none", input=[
        {"type": "item_reference", "id": a["item"]["id"]}, text_item("What is my name?")]))
    expect_equal(turn.status, "completed", "status with an item_reference input")
    empty = s.respond(response_payload(ctx.dialect, conversation="none", input=[]))
    expect_equal(empty.status, "completed", "status with an empty input")


@case(id="responses/max-output-tokens", section="§4.10, §2.9",
      description="max_output_tokens 1 ends the response incomplete with reason max_output_tokens",
      requirement="status incomplete, status_details {type incomplete, reason max_output_tokens} [D][R].",
      level="should")
def test_max_output_tokens(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s, "Tell me a long story.")
    turn = s.respond(response_payload(ctx.dialect, max_output_tokens=1))
    expect_subset(turn.response, {"status": "incomplete",
                                  "status_details": {"type": "incomplete", "reason": "max_output_tokens"}},
                  "response.done")
    expect_in(assistant_item(turn).get("status"), ("incomplete",), "output item status")



# -- a stored prompt per response (§2.9, §4.3) ---------------------------------------------------------------------


def _instruction_tokens(s: Session, **response: Any) -> int:
    """Input text tokens of an out-of-band response with an empty context: what its instructions cost."""
    turn = s.respond({"conversation": "none", "input": [], "output_modalities": ["text"], **response})
    return int(((turn.response.get("usage") or {}).get("input_token_details") or {}).get("text_tokens", 0))


@case(id="responses/prompt/per-response", section="§2.9, §4.3", level="should", dialects=("ga",),
      description="a stored prompt on response.create is that response's instructions only; the session's "
                  "prompt does the same",
      requirement="response.prompt references a stored prompt for this response only [D]; the response object "
                  "has no prompt key [D: RealtimeResponse]; its instructions count as input tokens [U]. Needs a "
                  "prompt stored on the target (the mock's own, else CONFORMANCE_PROMPT_ID).")
def test_prompt_per_response(ctx: Ctx) -> None:
    prompt_id = ctx.target.stored_prompt_id
    if prompt_id is None:
        ctx.skip("no stored prompt on this target (set CONFORMANCE_PROMPT_ID)")
    prompt = {"id": prompt_id}
    s = ctx.connect()
    plain = _instruction_tokens(s)
    prompted = _instruction_tokens(s, prompt=prompt)
    expect(prompted != plain, f"the prompt's instructions replace the session's: {prompted} text tokens both ways")
    expect_equal(_instruction_tokens(s), plain, "text tokens of the next response, without a prompt")
    s.send({"type": "session.update", "session": {"type": "realtime", "prompt": prompt}})
    expect_equal(s.expect("session.updated")["session"]["prompt"].get("id"), prompt_id, "the session's prompt")
    expect_equal(_instruction_tokens(s), prompted, "text tokens with the session's prompt")
