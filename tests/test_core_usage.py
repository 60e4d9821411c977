"""Input usage kept per item, incrementally (protocol.md §4.11): the running tally always equals a recount."""

from __future__ import annotations

from mockrt.core.model import Item
from mockrt.core.usage import Tally, input_usage, item_tokens
from tests.harness import FAST, SLOW, Harness, only


def recount(items: list[Item]) -> tuple[int, int, int]:
    text = audio = image = 0
    for item in items:
        t, a, i = item_tokens(item)
        text, audio, image = text + t, audio + a, image + i
    return text, audio, image


def check(h: Harness) -> None:
    conversation = h.session.conversation
    assert conversation.tally.tokens() == recount(conversation.items)


def input_tokens(h: Harness, done: dict[str, object]) -> int:
    usage = done["usage"]
    assert isinstance(usage, dict)
    details = usage["input_token_details"]
    return int(details["text_tokens"]) + int(details["audio_tokens"]) + int(details.get("image_tokens", 0))


def test_tally_follows_inserts_replies_deletes_and_truncation(dialect: str) -> None:
    h = Harness(dialect, pacing=FAST)
    instructions = h.session.config.instructions
    for text in ("hello there", "what is the weather like in Paris, today?", "and tomorrow?"):
        h.user_text(text)
        check(h)
        snapshot = list(h.session.conversation.items)
        done = only(h.send({"type": "response.create", "response": h.text_modality()}), "response.done")
        expected = input_usage(instructions, snapshot)
        assert input_tokens(h, done["response"]) == expected.input_tokens
        check(h)
    # an audio reply, then a truncation of it: the tally counts the shorter audio
    got = h.send({"type": "response.create"}) + h.run_until_idle()
    done = only(got, "response.done")
    check(h)
    reply = h.session.conversation.find(done["response"]["output"][0]["id"])
    assert reply is not None
    h.send({"type": "conversation.item.truncate", "item_id": reply.id, "content_index": 0, "audio_end_ms": 120})
    check(h)
    # deletes, at the front and at the end
    first, last = h.session.conversation.items[0].id, h.session.conversation.items[-1].id
    h.send({"type": "conversation.item.delete", "item_id": first})
    h.send({"type": "conversation.item.delete", "item_id": last})
    check(h)
    snapshot = list(h.session.conversation.items)
    done = only(h.send({"type": "response.create", "response": h.text_modality()}), "response.done")
    assert input_tokens(h, done["response"]) == input_usage(instructions, snapshot).input_tokens


def test_in_progress_reply_counts_what_was_streamed(dialect: str) -> None:
    """An out-of-band response created while a reply streams counts the reply's partial content."""
    h = Harness(dialect, pacing=SLOW)
    h.user_text("tell me a long story about the sea")
    h.send({"type": "response.create", "response": h.text_modality()})
    h.advance(0.2)
    streaming = h.session.conversation.items[-1]
    assert streaming.status == "in_progress" and streaming.content and streaming.content[0].text
    check(h)
    tally = h.session.conversation.tally
    assert tally.tokens() == recount(h.session.conversation.items)
    h.run_until_idle()
    check(h)


def test_tally_unit() -> None:
    tally = Tally()
    a = Item(id="a", type="function_call_output", call_id="c", output="one two three")
    b = Item(id="b", type="function_call", status="in_progress", name="f", call_id="c", arguments="")
    tally.add(a)
    tally.add(b)
    assert tally.tokens() == recount([a, b])
    b.arguments = '{"x": 1}'
    assert tally.tokens() == recount([a, b])  # in progress: counted on read
    b.status = "completed"
    tally.refresh(b)
    assert tally.tokens() == recount([a, b])
    tally.remove(a)
    assert tally.tokens() == recount([b])
    tally.remove(b)
    assert tally.tokens() == (0, 0, 0)
