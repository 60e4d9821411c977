"""Conversation items: create / delete / retrieve / truncate (docs/protocol.md §2.5–§2.8, §5.8, §5.12, §6.2)."""

from __future__ import annotations

import base64

from tests.harness import FAST, Harness, error_of, only, types


def _user(text: str, item_id: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    if item_id:
        item["id"] = item_id
    return item


def test_create_events_per_dialect(dialect: str) -> None:
    h = Harness(dialect)
    got = h.user_text("hello")
    if dialect == "ga":
        assert types(got) == ["conversation.item.added", "conversation.item.done"]
        assert "object" not in got[0]["item"]  # §4.7: GA captures omit object
    else:
        assert types(got) == ["conversation.item.created"]
        assert got[0]["item"]["object"] == "realtime.item"
    assert got[0]["previous_item_id"] is None
    item = got[0]["item"]
    assert item["id"].startswith("item_") and item["status"] == "completed" and item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "hello"}]


def test_previous_item_id_semantics(h: Harness) -> None:
    a = h.send({"type": "conversation.item.create", "item": _user("a", "item_a")})[0]
    assert a["previous_item_id"] is None
    b = h.send({"type": "conversation.item.create", "item": _user("b", "item_b"), "previous_item_id": ""})[0]
    assert b["previous_item_id"] == "item_a"
    root = h.send({"type": "conversation.item.create", "item": _user("r", "item_r"), "previous_item_id": "root"})[0]
    assert root["previous_item_id"] is None
    mid = h.send({"type": "conversation.item.create", "item": _user("m", "item_m"), "previous_item_id": "item_a"})[0]
    assert mid["previous_item_id"] == "item_a"
    assert [i.id for i in h.session.conversation.items] == ["item_r", "item_a", "item_m", "item_b"]
    err = error_of(h.send({"type": "conversation.item.create", "event_id": "c1", "item": _user("x"),
                           "previous_item_id": "nope"}))
    assert err["event_id"] == "c1" and "does not exist" in err["message"]
    assert len(h.session.conversation.items) == 4  # not added


def test_delete_and_retrieve(h: Harness) -> None:
    h.send({"type": "conversation.item.create", "item": _user("a", "item_a")})
    h.send({"type": "conversation.item.create", "item": _user("b", "item_b")})
    got = only(h.send({"type": "conversation.item.retrieve", "item_id": "item_a"}), "conversation.item.retrieved")
    assert got["item"]["id"] == "item_a"
    assert types(h.send({"type": "conversation.item.delete", "item_id": "item_b"})) == ["conversation.item.deleted"]
    err = error_of(h.send({"type": "conversation.item.delete", "event_id": "d2", "item_id": "item_b"}))
    assert err == {"type": "invalid_request_error", "code": "item_delete_invalid_item_id",
                   "message": "Error deleting item: the item with id 'item_b' does not exist.", "param": None,
                   "event_id": "d2"}
    err = error_of(h.send({"type": "conversation.item.retrieve", "item_id": "yo"}))
    assert err["code"] == "item_retrieve_invalid_item_id"
    assert err["message"] == "Error retrieving item: the item with id 'yo' does not exist."
    # After deleting the tail, new items chain to the new tail (§2.7).
    assert h.user_text("c")[0]["previous_item_id"] == "item_a"


def test_retrieve_includes_input_audio_bytes(h: Harness) -> None:
    h.append_ms(200, amplitude=0.2)
    committed = only(h.send({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")
    item = only(h.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]}),
                "conversation.item.retrieved")["item"]
    audio = base64.b64decode(item["content"][0]["audio"])
    assert len(audio) == 200 * 48


def test_function_call_output_requires_a_known_call(h: Harness) -> None:
    err = error_of(h.send({"type": "conversation.item.create",
                           "item": {"type": "function_call_output", "call_id": "call_x", "output": "{}"}}))
    assert err["param"] == "item.call_id"
    h.send({"type": "conversation.item.create",
            "item": {"type": "function_call", "name": "f", "call_id": "call_x", "arguments": "{}"}})
    ok = h.send({"type": "conversation.item.create",
                 "item": {"type": "function_call_output", "call_id": "call_x", "output": "{}"}})
    assert ok[0]["item"]["type"] == "function_call_output" and ok[0]["item"]["call_id"] == "call_x"


def test_item_validation_errors(dialect: str) -> None:
    h = Harness(dialect)
    err = error_of(h.send({"type": "conversation.item.create", "item": {"role": "user", "content": []}}))
    assert err["code"] == "missing_required_parameter" and err["param"] == "item.type"
    err = error_of(h.send({"type": "conversation.item.create",
                           "item": {"type": "message", "role": "user", "content": "hi"}}))
    assert err["code"] == "invalid_type" and err["param"] == "item.content"
    assert err["message"].startswith("Invalid type for 'item.content': expected an array of objects")
    err = error_of(h.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
                                                                       "content": [], "bogus": 1}}))
    assert err["code"] == "unknown_parameter" and err["param"] == "item.bogus"
    assistant_audio = {"type": "message", "role": "assistant",
                       "content": [{"type": "output_audio" if dialect == "ga" else "audio", "transcript": "x"}]}
    err = error_of(h.send({"type": "conversation.item.create", "item": assistant_audio}))
    assert err["param"] == "item.content"
    err = error_of(h.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "@@@"}]}}))
    assert err["code"] == "invalid_value" and err["param"] == "audio.audio"


def _assistant_audio(h: Harness) -> dict[str, object]:
    h.session.options.pacing = FAST
    h.user_text("tell me something")
    h.send({"type": "response.create"})
    done = only(h.run_until_idle() or h.events, "response.done")
    item: dict[str, object] = done["response"]["output"][0]
    return item


def test_truncate_assistant_audio(dialect: str) -> None:
    h = Harness(dialect)
    item = _assistant_audio(h)
    part = h.session.conversation.find(str(item["id"])).content[0]  # type: ignore[union-attr]
    total_ms = int(part.audio_ms)
    assert total_ms > 500
    err = error_of(h.send({"type": "conversation.item.truncate", "event_id": "t1", "item_id": item["id"],
                           "content_index": 0, "audio_end_ms": total_ms + 1}))
    assert err["message"] == f"Audio content of {total_ms}ms is already shorter than {total_ms + 1}ms"
    assert err["event_id"] == "t1"
    got = only(h.send({"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0,
                       "audio_end_ms": 300}), "conversation.item.truncated")
    assert got == {**got, "item_id": item["id"], "content_index": 0, "audio_end_ms": 300}
    assert part.audio_ms == 300 and len(part.audio or b"") == 300 * 48
    assert part.transcript == ""  # the unheard transcript is dropped (§5.8)


def test_truncate_errors(h: Harness) -> None:
    h.user_text("hi")
    user_id = h.session.conversation.items[0].id
    err = error_of(h.send({"type": "conversation.item.truncate", "item_id": user_id, "content_index": 0,
                           "audio_end_ms": 0}))
    assert err["message"] == "Only model output audio messages can be truncated"
    err = error_of(h.send({"type": "conversation.item.truncate", "item_id": "nope", "content_index": 0,
                           "audio_end_ms": 0}))
    assert err["code"] == "item_truncate_invalid_item_id"
    err = error_of(h.send({"type": "conversation.item.truncate", "item_id": user_id, "content_index": 0}))
    assert err["code"] == "missing_required_parameter" and err["param"] == "audio_end_ms"
    err = error_of(h.send({"type": "conversation.item.truncate", "item_id": user_id, "content_index": -1,
                           "audio_end_ms": 0}))
    assert err["code"] == "integer_below_min_value"
