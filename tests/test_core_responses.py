"""Response lifecycle (docs/protocol.md §2.9, §2.10, §3.7, §3.9, §4.10, §4.11, §5.2–§5.4, §5.7, §5.9)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from tests.harness import FAST, SLOW, Harness, error_of, only, types

GA_TEXT = [
    "response.created", "response.output_item.added", "conversation.item.added", "response.content_part.added",
    "response.output_text.delta", "response.output_text.done", "response.content_part.done",
    "conversation.item.done", "response.output_item.done", "response.done", "rate_limits.updated",
]
BETA_TEXT = [
    "response.created", "rate_limits.updated", "response.output_item.added", "conversation.item.created",
    "response.content_part.added", "response.text.delta", "response.text.done", "response.content_part.done",
    "response.output_item.done", "response.done",
]


def _squash(names: list[str]) -> list[str]:
    """Collapse runs of the same delta type, so orders compare independent of delta counts."""
    out: list[str] = []
    for n in names:
        if not (out and out[-1] == n and n.endswith(".delta")):
            out.append(n)
    return out


def test_text_turn_order(dialect: str) -> None:
    h = Harness(dialect)
    h.user_text("what time is it")
    got = h.send({"type": "response.create", "response": h.text_modality()}) + h.run_until_idle()
    assert _squash(types(got)) == (GA_TEXT if dialect == "ga" else BETA_TEXT)
    created = got[0]["response"]
    assert created["status"] == "in_progress" and created["output"] == [] and created["usage"] is None
    assert created["conversation_id"] == h.session.conversation.id
    deltas = [e for e in got if e["type"].endswith("text.delta")]
    text = "".join(d["delta"] for d in deltas)
    assert '"what time is it"' in text  # the default reply refers to the user's last input
    assert only(got, "response.content_part.done")["part"] == {"type": "text", "text": text}
    if dialect == "ga":
        assert all(len(d["obfuscation"]) >= 4 for d in deltas)
    else:
        assert all("obfuscation" not in d for d in deltas)
    done = only(got, "response.done")["response"]
    assert done["status"] == "completed" and done["status_details"] is None
    item = done["output"][0]
    assert item["status"] == "completed" and item["role"] == "assistant"
    assert item["content"] == [{"type": "output_text" if dialect == "ga" else "text", "text": text}]
    ids = {e.get("response_id") for e in got if "response_id" in e}
    assert ids == {created["id"]}


def test_audio_turn_order_and_audio(dialect: str) -> None:
    h = Harness(dialect)
    h.user_text("read me a poem")
    got = h.send({"type": "response.create"}) + h.run_until_idle()
    names = types(got)
    audio_delta = "response.output_audio.delta" if dialect == "ga" else "response.audio.delta"
    tr_delta = "response.output_audio_transcript.delta" if dialect == "ga" else "response.audio_transcript.delta"
    first_delta = min(names.index(audio_delta), names.index(tr_delta))
    assert names[:first_delta][-1] == "response.content_part.added"
    tail = [n for n in names[first_delta:] if not n.endswith(".delta")]
    prefix = "response.output_" if dialect == "ga" else "response."
    expected_tail = [f"{prefix}audio.done", f"{prefix}audio_transcript.done", "response.content_part.done"]
    expected_tail += ["conversation.item.done"] if dialect == "ga" else []
    expected_tail += ["response.output_item.done", "response.done"]
    expected_tail += ["rate_limits.updated"] if dialect == "ga" else []
    assert tail == expected_tail
    pcm = b"".join(base64.b64decode(e["delta"]) for e in got if e["type"] == audio_delta)
    samples = np.frombuffer(pcm, dtype="<i2")
    assert len(samples) > 24000 * 0.5
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 1000  # real, non-silent audio
    sizes = [len(base64.b64decode(e["delta"])) for e in got if e["type"] == audio_delta]
    assert all(s % 2400 == 0 for s in sizes[:-1])  # whole multiples of 50 ms (§7)
    transcript = "".join(e["delta"] for e in got if e["type"] == tr_delta)
    done = only(got, "response.done")["response"]
    part = done["output"][0]["content"][0]
    assert part == {"type": "output_audio" if dialect == "ga" else "audio", "transcript": transcript}
    usage = done["usage"]
    assert usage["output_token_details"]["audio_tokens"] == pytest.approx(len(samples) / 1200, abs=1)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens"] == sum(usage["output_token_details"].values())


def test_audio_is_paced_faster_than_real_time() -> None:
    h = Harness("ga", pacing=SLOW)
    h.user_text("hello")
    start = h.now
    h.send({"type": "response.create"})
    got = h.run_until_idle()
    ms = sum(len(base64.b64decode(e["delta"])) for e in got if e["type"] == "response.output_audio.delta") / 48
    elapsed = h.now - start
    assert elapsed == pytest.approx(0.05 + ms / 1000 / 5.0, rel=0.05)


@pytest.mark.parametrize(("fmt_ga", "fmt_beta", "rate"), [("audio/pcmu", "g711_ulaw", 8000),
                                                          ("audio/pcma", "g711_alaw", 8000)])
def test_g711_output(dialect: str, fmt_ga: str, fmt_beta: str, rate: int) -> None:
    h = Harness(dialect, pacing=FAST)
    session = {"type": "realtime", "audio": {"output": {"format": {"type": fmt_ga}}}} if dialect == "ga" \
        else {"output_audio_format": fmt_beta}
    h.send({"type": "session.update", "session": session})
    h.user_text("hi")
    got = h.send({"type": "response.create"}) + h.run_until_idle()
    audio = b"".join(base64.b64decode(e["delta"]) for e in got if e["type"].endswith("audio.delta")
                     and "transcript" not in e["type"])
    assert len(audio) > rate * 0.5 and len(set(audio)) > 20


def test_function_call_round_trip(dialect: str) -> None:
    h = Harness(dialect)
    tool = {"type": "function", "name": "get_weather", "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    h.user_text("weather in Paris?")
    got = h.send({"type": "response.create", "response": {**h.text_modality(), "tools": [tool],
                                                          "tool_choice": "required"}})
    names = _squash(types(got))
    added = "conversation.item.added" if dialect == "ga" else "conversation.item.created"
    assert names[names.index("response.output_item.added") + 1] == added
    assert "response.content_part.added" not in names
    args_done = only(got, "response.function_call_arguments.done")
    assert json.loads(args_done["arguments"]) == {"city": "example"}
    deltas = "".join(e["delta"] for e in got if e["type"] == "response.function_call_arguments.delta")
    assert deltas == args_done["arguments"]
    call_id = args_done["call_id"]
    assert call_id.startswith("call_") and len(call_id) == len("call_") + 16
    if dialect == "ga":
        assert args_done["name"] == "get_weather"
    item = only(got, "response.done")["response"]["output"][0]
    assert item["type"] == "function_call" and item["call_id"] == call_id and item["status"] == "completed"
    # The client answers with the tool output; the server never continues by itself (§5.4).
    out = h.send({"type": "conversation.item.create",
                  "item": {"type": "function_call_output", "call_id": call_id, "output": '{"temp": 21}'}})
    assert not any(e["type"].startswith("response.") for e in out)
    got = h.send({"type": "response.create", "response": h.text_modality()})
    text = "".join(e["delta"] for e in got if e["type"].endswith("text.delta"))
    assert "get_weather" in text and '{"temp": 21}' in text


def test_one_active_response_and_out_of_band_beside_it(dialect: str) -> None:
    h = Harness(dialect, pacing=SLOW)
    h.user_text("hi")
    first = only(h.send({"type": "response.create"}), "response.created")["response"]["id"]
    err = error_of(h.send({"type": "response.create", "event_id": "second"}))
    assert err["code"] == "conversation_already_has_active_response" and err["event_id"] == "second"
    assert err["message"] == f"Conversation already has an active response in progress: {first}. Wait until " \
                             "the response is finished before creating a new one."
    oob = h.send({"type": "response.create", "response": {**h.text_modality(), "conversation": "none",
                                                          "metadata": {"topic": "summary"}}})
    created = only(oob, "response.created")["response"]
    assert created["conversation_id"] is None and created["metadata"] == {"topic": "summary"}
    rest = h.run_until_idle()
    dones = [e["response"] for e in rest if e["type"] == "response.done"]
    assert {d["id"] for d in dones} == {first, created["id"]}
    oob_items = {i["id"] for d in dones if d["id"] == created["id"] for i in d["output"]}
    assert not any(e.get("item", {}).get("id") in oob_items for e in rest if e["type"].startswith("conversation."))
    assert all(i.id not in oob_items for i in h.session.conversation.items)
    assert next(d for d in dones if d["id"] == created["id"])["metadata"] == {"topic": "summary"}
    assert only(h.send({"type": "response.create"}), "response.created")  # free again


def test_out_of_band_input_references(h: Harness) -> None:
    h.user_text("first")
    ref = h.session.conversation.items[0].id
    got = h.send({"type": "response.create", "response": {
        **h.text_modality(), "conversation": "none",
        "input": [{"type": "item_reference", "id": ref},
                  {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "inline"}]}]}})
    text = "".join(e["delta"] for e in got if e["type"].endswith("text.delta"))
    assert '"inline"' in text
    err = error_of(h.send({"type": "response.create", "response": {
        "conversation": "none", "input": [{"type": "item_reference", "id": "item_missing"}]}}))
    assert err["param"] == "response.input[0].id"


def test_cancel_mid_stream_keeps_what_was_sent(dialect: str) -> None:
    h = Harness(dialect, pacing=SLOW)
    h.user_text("tell me a long story")
    h.send({"type": "response.create"})
    partial = h.advance(0.2)
    tr_delta = "response.output_audio_transcript.delta" if dialect == "ga" else "response.audio_transcript.delta"
    heard = "".join(e["delta"] for e in partial if e["type"] == tr_delta)
    assert heard
    got = h.send({"type": "response.cancel", "event_id": "c"})
    prefix = "response.output_" if dialect == "ga" else "response."
    expected = [f"{prefix}audio.done", f"{prefix}audio_transcript.done", "response.content_part.done"]
    expected += ["conversation.item.done"] if dialect == "ga" else []
    expected += ["response.output_item.done", "response.done"] + (["rate_limits.updated"] if dialect == "ga" else [])
    assert types(got) == expected
    assert only(got, f"{prefix}audio_transcript.done")["transcript"] == heard
    done = only(got, "response.done")["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert done["output"][0]["status"] == "incomplete"
    assert h.run_until_idle() == [] and h.advance(10) == []
    err = error_of(h.send({"type": "response.cancel", "event_id": "again"}))
    assert err == {"type": "invalid_request_error", "code": "response_cancel_not_active",
                   "message": "Cancellation failed: no active response found", "param": None, "event_id": "again"}


def test_cancel_before_any_output() -> None:
    h = Harness("ga", pacing=SLOW)
    h.user_text("hi")
    h.send({"type": "response.create"})
    got = h.send({"type": "response.cancel"})
    assert types(got) == ["response.done", "rate_limits.updated"]
    assert got[0]["response"]["output"] == []


def test_cancel_by_id_targets_an_out_of_band_response() -> None:
    h = Harness("ga", pacing=SLOW)
    rid = only(h.send({"type": "response.create", "response": {"conversation": "none"}}),
               "response.created")["response"]["id"]
    assert error_of(h.send({"type": "response.cancel"}))["code"] == "response_cancel_not_active"
    got = h.send({"type": "response.cancel", "response_id": rid})
    assert only(got, "response.done")["response"]["status"] == "cancelled"


def test_max_output_tokens_ends_incomplete(dialect: str) -> None:
    h = Harness(dialect)
    h.user_text("a question with several words in it")
    key = "max_output_tokens" if dialect == "ga" else "max_response_output_tokens"
    got = h.send({"type": "response.create", "response": {**h.text_modality(), key: 3}})
    deltas = [e for e in got if e["type"].endswith("text.delta")]
    assert len(deltas) == 3
    done = only(got, "response.done")["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["output"][0]["status"] == "incomplete"
    assert done["usage"]["output_tokens"] == 3


def test_response_params_validation(dialect: str) -> None:
    h = Harness(dialect)
    bad = {"modalities": ["text"]} if dialect == "ga" else {"output_modalities": ["text"]}
    err = error_of(h.send({"type": "response.create", "response": bad}))
    assert err["code"] == "unknown_parameter" and err["param"] == "response." + next(iter(bad))
    err = error_of(h.send({"type": "response.create", "response": {"conversation": "other"}}))
    assert err["param"] == "response.conversation"
    err = error_of(h.send({"type": "response.create", "response": {"metadata": {str(i): "v" for i in range(17)}}}))
    assert err["param"] == "response.metadata"
    if dialect == "ga":
        err = error_of(h.send({"type": "response.create", "response": {"temperature": 0.7}}))
        assert err["param"] == "response.temperature"
    else:
        err = error_of(h.send({"type": "response.create", "response": {"temperature": 0.1}}))
        assert err["code"] == "decimal_below_min_value"
    assert h.session.active_id is None  # nothing was started by a rejected create


def test_rate_limits_shapes(dialect: str) -> None:
    h = Harness(dialect, pacing=FAST)
    h.user_text("x")
    got = h.send({"type": "response.create"}) + h.run_until_idle()
    rl = only(got, "rate_limits.updated")["rate_limits"]
    if dialect == "ga":
        assert [r["name"] for r in rl] == ["tokens"] and got[-1]["type"] == "rate_limits.updated"
    else:
        assert [r["name"] for r in rl] == ["requests", "tokens"] and got[1]["type"] == "rate_limits.updated"
    used = only(got, "response.done")["response"]["usage"]["total_tokens"]
    if dialect == "ga":
        assert rl[0]["remaining"] == 40_000 - used


def test_usage_counts_input_audio(dialect: str) -> None:
    h = Harness(dialect)
    td = {"type": "realtime", "audio": {"input": {"turn_detection": None}}} if dialect == "ga" \
        else {"turn_detection": None}
    h.send({"type": "session.update", "session": td})
    h.append_ms(2000, amplitude=0.1)
    h.send({"type": "input_audio_buffer.commit"})
    got = h.send({"type": "response.create", "response": h.text_modality()})
    usage = only(got, "response.done")["response"]["usage"]
    assert usage["input_token_details"]["audio_tokens"] == 20
    assert usage["input_tokens"] == sum(v for k, v in usage["input_token_details"].items()
                                        if k in ("text_tokens", "audio_tokens", "image_tokens"))
    text = "".join(e["delta"] for e in got if e["type"].endswith("text.delta"))
    assert "2.0 seconds of audio" in text


def test_streamed_audio_is_the_items_audio_at_every_point() -> None:
    """Mid-stream the item holds exactly the audio sent so far (retrieve and truncate see it), grown in place: a
    long reply is not copied again on every delta; once the part closes its audio is immutable bytes."""
    h = Harness("ga", pacing=SLOW)
    h.user_text("tell me a long story")
    got = h.send({"type": "response.create"}) + h.advance(0.05)
    item_id = only(got, "response.output_item.added")["item"]["id"]
    sent, buffers, growing = b"", set(), 0
    while not any(e["type"] == "response.done" for e in got):
        sent += b"".join(base64.b64decode(e["delta"]) for e in got if e["type"] == "response.output_audio.delta")
        part = h.session.conversation.find(item_id).content[0]  # type: ignore[union-attr]
        if isinstance(part.audio, bytearray):
            buffers.add(id(part.audio))
            growing += 1
        retrieved = only(h.send({"type": "conversation.item.retrieve", "item_id": item_id}),
                         "conversation.item.retrieved")["item"]["content"][0]
        assert base64.b64decode(retrieved.get("audio") or "") == sent
        got = h.advance(0.05)
    assert growing > 10 and len(buffers) == 1  # one buffer from the first delta to the last
    part = h.session.conversation.find(item_id).content[0]  # type: ignore[union-attr]
    assert type(part.audio) is bytes and part.audio == sent and len(sent) > 48000
