"""Set-ups several case modules share (not a case module: its name does not start with ``test_``)."""

from __future__ import annotations

from typing import Any

from conformance.checks import expect, expect_equal
from conformance.client import Session, Turn
from conformance.context import Ctx
from conformance.wire import text_item

Json = dict[str, Any]

SHORT_REPLY = "Reply with one short sentence."
"""Instructions that keep live responses short (cost-bounded live runs)."""


def manual(ctx: Ctx, *, output: str = "text", paced: bool = False, **fields: Any) -> Session:
    """A session with turn detection off (manual commits) and ``output`` modality."""
    s = ctx.connect(paced=paced)
    s.update(turn_detection=None, output=output, instructions=SHORT_REPLY, **fields)
    return s


def user_text(s: Session, text: str = "Hello there.") -> Json:
    """Create a user text item; returns the item event (GA ``added``)."""
    return s.create_item(text_item(text))


def audio_reply(s: Session, text: str = "Say hello.") -> Turn:
    """A completed audio response to a user text item (the session must be in audio modality)."""
    user_text(s, text)
    turn = s.respond()
    expect_equal(turn.status, "completed", "response.done status")
    expect(turn.of("response.output_audio.delta"), "an audio response carries audio deltas")
    return turn


def assistant_item(turn: Turn) -> Json:
    """The first output item of a response (from response.done)."""
    output = turn.response.get("output") or []
    expect(output, "response.done.output has the response's items")
    item: Json = output[0]
    return item


def item_event_types(dialect: str) -> list[str]:
    """The item events a client-side item produces: GA ``added`` + ``done``, beta ``created`` (§2.5)."""
    return ["conversation.item.added", "conversation.item.done"] if dialect == "ga" else ["conversation.item.added"]
