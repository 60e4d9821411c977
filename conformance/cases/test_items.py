"""Conversation items: create, previous_item_id, delete, retrieve, truncate
(docs/protocol.md §2.5–§2.8, §5.8, §5.12)."""

from __future__ import annotations

import base64
from typing import Any

from conformance import Ctx, case
from conformance.audio import tone
from conformance.checks import expect, expect_equal, expect_subset
from conformance.client import Session
from conformance.wire import assistant_text_item, text_item

from ._common import assistant_item, audio_reply, manual, user_text

Json = dict[str, Any]


def _create(s: Session, text: str, previous: Any = None, *, item_id: str | None = None, prev_given: bool = False
            ) -> Json:
    if prev_given:
        return s.create_item(text_item(text, item_id=item_id), previous=previous)
    return s.create_item(text_item(text, item_id=item_id))


@case(id="items/create/user-text", section="§2.5, §3.4, §4.7",
      description="a user text item is echoed with a server id, status completed, chained after the previous item",
      requirement="Success: GA conversation.item.added + conversation.item.done back to back, beta "
                  "conversation.item.created; previous_item_id null for the first item, then the last item [V].")
def test_create_user_text(ctx: Ctx) -> None:
    s = ctx.connect()
    first = user_text(s, "Hello there.")
    expect_equal(first.get("previous_item_id"), None, "previous_item_id of the first item")
    expected: Json = {"type": "message", "role": "user", "status": "completed",
                      "content": [{"type": "input_text", "text": "Hello there."}]}
    if not ctx.ga:
        expected["object"] = "realtime.item"
    expect_subset(first["item"], expected, "the item")
    expect(str(first["item"].get("id", "")).startswith("item_"), f"server-minted id: {first['item'].get('id')!r}")
    second = user_text(s, "And again.")
    expect_equal(second.get("previous_item_id"), first["item"]["id"], "previous_item_id of the second item")


@case(id="items/create/client-id", section="§2.5",
      description="an item id given by the client is used",
      requirement="The client may give the item id; otherwise the server mints item_… [D].")
def test_create_client_id(ctx: Ctx) -> None:
    s = ctx.connect()
    added = s.create_item(text_item("Hi.", item_id="msg_conformance_001"))
    expect_equal(added["item"]["id"], "msg_conformance_001", "item.id")


@case(id="items/create/duplicate-id", section="§2.5, §5.12",
      description="reusing an existing item id is accepted; the new item's previous_item_id is that id",
      requirement="Reusing an existing client id is accepted by OpenAI: the new event's previous_item_id equals the "
                  "id itself (gpt-realtime-1.5 appends the duplicate; gpt-4o-realtime-preview ignored it) [V].",
      level="should")
def test_create_duplicate_id(ctx: Ctx) -> None:
    s = ctx.connect()
    s.create_item(text_item("Once.", item_id="msg_conformance_dup"))
    again = s.create_item(text_item("Twice.", item_id="msg_conformance_dup"))
    expect_equal(again["item"]["id"], "msg_conformance_dup", "item.id of the duplicate")
    expect_equal(again.get("previous_item_id"), "msg_conformance_dup", "previous_item_id of the duplicate")


@case(id="items/create/assistant-audio-rejected", section="§2.5, §4.7",
      description="a client cannot create assistant audio content (only text)",
      requirement="Cannot create assistant audio content (only text) [D]; the error text is [U].")
def test_create_assistant_audio(ctx: Ctx) -> None:
    s = ctx.connect()
    part = {"type": "output_audio" if ctx.ga else "audio", "transcript": "Hello."}
    s.send({"type": "conversation.item.create", "event_id": "evt_asst_audio",
            "item": {"type": "message", "role": "assistant", "content": [part]}})
    s.expect_error(event_id="evt_asst_audio")
    s.expect_quiet("after the rejected item (nothing was added)")
    s.create_item(assistant_text_item(ctx.dialect, "Hello."))


@case(id="items/create/previous-root", section="§2.5, §5.12",
      description="previous_item_id 'root' inserts at the front (reported as null)",
      requirement="'root' inserts at the beginning and the event shows previous_item_id null; later appends still "
                  "chain to the last item [V].")
def test_previous_root(ctx: Ctx) -> None:
    s = ctx.connect()
    user_text(s, "A")
    b = user_text(s, "B")
    x = _create(s, "X", "root", prev_given=True)
    expect_equal(x.get("previous_item_id"), None, "previous_item_id of the root insert")
    z = user_text(s, "Z")
    expect_equal(z.get("previous_item_id"), b["item"]["id"], "an append after a root insert chains to the last item")


@case(id="items/create/previous-explicit", section="§2.5, §5.12",
      description="an existing previous_item_id inserts right after that item",
      requirement="An existing id → insert right after it [D][V].")
def test_previous_explicit(ctx: Ctx) -> None:
    s = ctx.connect()
    a = user_text(s, "A")
    b = user_text(s, "B")
    m = _create(s, "M", a["item"]["id"], prev_given=True)
    expect_equal(m.get("previous_item_id"), a["item"]["id"], "previous_item_id of the middle insert")
    z = user_text(s, "Z")
    expect_equal(z.get("previous_item_id"), b["item"]["id"], "an append after a middle insert chains to the last item")


@case(id="items/create/previous-empty-string", section="§2.5",
      description="previous_item_id '' appends at the end",
      requirement="previous_item_id absent or '' → append at the end [V].")
def test_previous_empty(ctx: Ctx) -> None:
    s = ctx.connect()
    a = user_text(s, "A")
    b = _create(s, "B", "", prev_given=True)
    expect_equal(b.get("previous_item_id"), a["item"]["id"], "previous_item_id")


@case(id="items/create/previous-unknown", section="§2.5, §5.12, §5.13",
      description="an unknown previous_item_id is an error and adds nothing",
      requirement="Unknown previous_item_id → error, item not added [D][V] (code and message [U]).")
def test_previous_unknown(ctx: Ctx) -> None:
    s = ctx.connect()
    a = user_text(s, "A")
    s.send({"type": "conversation.item.create", "event_id": "evt_orphan", "previous_item_id": "item_does_not_exist",
            "item": text_item("orphan", item_id="msg_conformance_orphan")})
    s.expect_error(event_id="evt_orphan")
    s.send({"type": "conversation.item.retrieve", "item_id": "msg_conformance_orphan"})
    s.expect_error(code="item_retrieve_invalid_item_id")
    b = user_text(s, "B")
    expect_equal(b.get("previous_item_id"), a["item"]["id"], "the next append chains to the last real item")


@case(id="items/create/missing-type", section="§2.5, §6.1",
      description="an item without type gets missing_required_parameter 'item.type'",
      requirement="\"Missing required parameter: 'item.type'.\", param item.type [R].")
def test_create_missing_type(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "conversation.item.create", "item": {"role": "user",
                                                         "content": [{"type": "input_text", "text": "x"}]}})
    s.expect_error(code="missing_required_parameter", param="item.type",
                   message="Missing required parameter: 'item.type'.")


@case(id="items/create/content-not-array", section="§2.5, §6.1",
      description="item.content given as a string gets invalid_type",
      requirement="\"Invalid type for 'item.content': expected an array of objects, but got a string instead.\" [R] "
                  "(tail [U]).", level="should")
def test_create_content_not_array(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": "hello"}})
    s.expect_error(code="invalid_type", param="item.content",
                   message="Invalid type for 'item.content': expected an array of objects, but got a string instead.")


@case(id="items/delete/ok-then-unknown", section="§2.7, §6.2",
      description="delete answers conversation.item.deleted; deleting it again is item_delete_invalid_item_id",
      requirement="Success: conversation.item.deleted {item_id}; an unknown id → item_delete_invalid_item_id, "
                  "\"Error deleting item: the item with id '<id>' does not exist.\", param null, event_id echoed [V].")
def test_delete(ctx: Ctx) -> None:
    s = ctx.connect()
    item_id = user_text(s)["item"]["id"]
    s.send({"type": "conversation.item.delete", "item_id": item_id})
    expect_equal(s.expect("conversation.item.deleted").get("item_id"), item_id, "deleted.item_id")
    s.send({"type": "conversation.item.delete", "event_id": "evt_del_2", "item_id": item_id})
    s.expect_error(code="item_delete_invalid_item_id", param=None, event_id="evt_del_2",
                   message=f"Error deleting item: the item with id '{item_id}' does not exist.")


@case(id="items/delete/rechain", section="§2.7, §5.12",
      description="after deleting the last item, new items chain to the new last item",
      requirement="After deleting the tail item, the next item's previous_item_id chains to the new tail [V].")
def test_delete_rechain(ctx: Ctx) -> None:
    s = ctx.connect()
    a = user_text(s, "A")
    b = user_text(s, "B")
    s.send({"type": "conversation.item.delete", "item_id": b["item"]["id"]})
    s.expect("conversation.item.deleted")
    c = user_text(s, "C")
    expect_equal(c.get("previous_item_id"), a["item"]["id"], "previous_item_id after deleting the tail")


@case(id="items/retrieve/text", section="§2.8",
      description="retrieve answers conversation.item.retrieved with the full item",
      requirement="Success: conversation.item.retrieved {item} — the full item [D][V].")
def test_retrieve_text(ctx: Ctx) -> None:
    s = ctx.connect()
    added = user_text(s, "Keep this.")
    s.send({"type": "conversation.item.retrieve", "item_id": added["item"]["id"]})
    item = s.expect("conversation.item.retrieved")["item"]
    expect_subset(item, {"id": added["item"]["id"], "type": "message", "role": "user",
                         "content": [{"type": "input_text", "text": "Keep this."}]}, "retrieved item")


@case(id="items/retrieve/audio", section="§2.8, §4.7",
      description="retrieving a committed audio item returns its audio bytes",
      requirement="conversation.item.retrieved carries the input audio bytes (base64) of audio parts [D].")
def test_retrieve_audio(ctx: Ctx) -> None:
    s = manual(ctx)
    s.append(tone(200))
    s.send({"type": "input_audio_buffer.commit"})
    item_id = s.expect("input_audio_buffer.committed")["item_id"]
    s.send({"type": "conversation.item.retrieve", "item_id": item_id})
    item = s.wait("conversation.item.retrieved")["item"]
    part = (item.get("content") or [{}])[0]
    expect_equal(part.get("type"), "input_audio", "retrieved part type")
    audio = base64.b64decode(part.get("audio") or "")
    expect_equal(len(audio), 200 * 48, "bytes of the retrieved audio (200 ms of pcm16)")


@case(id="items/retrieve/unknown", section="§2.8, §6.2",
      description="retrieving an unknown id is item_retrieve_invalid_item_id with the exact message",
      requirement="\"Error retrieving item: the item with id '<id>' does not exist.\", code "
                  "item_retrieve_invalid_item_id, param null [V].")
def test_retrieve_unknown(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "conversation.item.retrieve", "event_id": "evt_ret", "item_id": "yo"})
    s.expect_error(code="item_retrieve_invalid_item_id", param=None, event_id="evt_ret",
                   message="Error retrieving item: the item with id 'yo' does not exist.")


@case(id="items/truncate/assistant-audio", section="§2.6, §5.8",
      description="truncating assistant audio answers conversation.item.truncated and drops the rest of the audio",
      requirement="conversation.item.truncate {item_id, content_index 0, audio_end_ms} → conversation.item.truncated "
                  "with the same fields; audio beyond audio_end_ms is dropped [D].")
def test_truncate(ctx: Ctx) -> None:
    s = manual(ctx, output="audio")
    turn = audio_reply(s)
    item_id = assistant_item(turn)["id"]
    s.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 200})
    truncated = s.expect("conversation.item.truncated")
    expect_subset(truncated, {"item_id": item_id, "content_index": 0, "audio_end_ms": 200}, "truncated event")
    s.send({"type": "conversation.item.retrieve", "item_id": item_id})
    item = s.expect("conversation.item.retrieved")["item"]
    audio = base64.b64decode((item.get("content") or [{}])[0].get("audio") or "")
    expect_equal(len(audio), 200 * 48, "bytes of the truncated audio (200 ms of pcm16)")


@case(id="items/truncate/too-long", section="§2.6, §6.2",
      description="truncating beyond the audio's length is an error naming both lengths",
      requirement="audio_end_ms longer than the audio → \"Audio content of <N>ms is already shorter than <M>ms\" "
                  "[R] (code null or invalid_value).")
def test_truncate_too_long(ctx: Ctx) -> None:
    s = manual(ctx, output="audio")
    item_id = assistant_item(audio_reply(s))["id"]
    s.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 600000})
    s.expect_error(message_re=r"Audio content of \d+ms is already shorter than 600000ms")


@case(id="items/truncate/not-audio", section="§2.6, §6.2",
      description="truncating a user text item is rejected",
      requirement="Non-assistant / non-audio item → \"Only model output audio messages can be truncated\" (code null "
                  "or unsupported_content_type) [R][U].", level="should")
def test_truncate_not_audio(ctx: Ctx) -> None:
    s = ctx.connect()
    item_id = user_text(s)["item"]["id"]
    s.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 0})
    s.expect_error(message="Only model output audio messages can be truncated")


@case(id="items/truncate/unknown-item", section="§2.6, §6.2",
      description="truncating an unknown item is item_truncate_invalid_item_id",
      requirement="Unknown item → code item_truncate_invalid_item_id [R] (message [U]).")
def test_truncate_unknown(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "conversation.item.truncate", "item_id": "item_nope", "content_index": 0, "audio_end_ms": 10})
    s.expect_error(code="item_truncate_invalid_item_id")
