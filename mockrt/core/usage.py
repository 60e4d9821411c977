"""Input token accounting (docs/protocol.md §4.11): per item, kept incrementally.

Text counts one token per piece of the mock tokenizer (:func:`mockrt.core.brain.tokenize`), input audio 10 tokens
per second, assistant audio 20 tokens per second, an image 85 tokens (§7). Each item's count is computed once,
when it enters the conversation (and again when it changes: a streamed reply when it closes, a truncation), so
the input usage of a response costs the same with 10 items in the conversation as with 10,000.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from typing import Any

from mockrt.core.brain import tokenize
from mockrt.core.mcp import ApprovalRequest, McpCall
from mockrt.core.model import Item, Usage

Tokens = tuple[int, int, int]
"""``(text, audio, image)`` input tokens."""

_ZERO: Tokens = (0, 0, 0)


def text_tokens(text: str | None) -> int:
    return len(tokenize(text)) if text else 0


INSTRUCTIONS_CACHED_CHARS = 64 * 1024
"""Instructions up to this length have their token count kept (:func:`instruction_tokens`)."""


def instruction_tokens(instructions: str) -> int:
    """The tokens of a response's instructions, counted once per text (every response counts them, usually the
    same text: the session's); a few recent texts up to :data:`INSTRUCTIONS_CACHED_CHARS` are kept."""
    if len(instructions) > INSTRUCTIONS_CACHED_CHARS:
        return text_tokens(instructions)
    return _instruction_tokens(instructions)


@functools.lru_cache(maxsize=32)
def _instruction_tokens(instructions: str) -> int:
    return text_tokens(instructions)


def _mcp_text(state: Any) -> str:
    """The text an MCP item (docs/protocol.md §9) puts in the context: a call's arguments, output or error, a
    request's arguments, a listing's tools (name, description, input schema)."""
    if isinstance(state, McpCall):
        error = state.error.message if state.error is not None else None
        return " ".join(filter(None, (state.arguments, state.output, error)))
    if isinstance(state, ApprovalRequest):
        return state.arguments
    if isinstance(state, tuple):
        return " ".join(f"{t.name} {t.description or ''} {json.dumps(t.input_schema)}" for t in state)
    return ""


def item_tokens(item: Item) -> Tokens:
    """The input tokens one item costs when it is part of a response's context (§4.11)."""
    text = text_tokens(item.arguments) + text_tokens(item.output) + text_tokens(item.name)
    if item.mcp is not None:
        text += text_tokens(_mcp_text(item.mcp))
    audio = image = 0
    for part in item.content:
        if part.type == "input_audio":
            audio += math.ceil(part.audio_ms / 100.0)
        elif part.type == "audio":
            audio += math.ceil(part.audio_ms / 50.0)
        elif part.type == "input_image":
            image += 85
        else:
            text += text_tokens(part.text)
    return text, audio, image


class Tally:
    """The input tokens of a set of items, kept as a running sum.

    Items still being streamed (status ``in_progress``) are counted afresh on every read, since their content
    grows; every other item is counted once, on :meth:`add`, and again on :meth:`refresh` when it changes.
    """

    __slots__ = ("_of", "_open", "_sum")

    def __init__(self) -> None:
        self._of: dict[int, Tokens] = {}  # id(item) -> its tokens; the owner keeps the items alive
        self._open: dict[int, Item] = {}  # in-progress items, counted on read
        self._sum = [0, 0, 0]

    def add(self, item: Item) -> None:
        if item.status == "in_progress":
            self._of[id(item)] = _ZERO
            self._open[id(item)] = item
            return
        tokens = self._of[id(item)] = item_tokens(item)
        self._adjust(tokens, 1)

    def remove(self, item: Item) -> None:
        self._open.pop(id(item), None)
        self._adjust(self._of.pop(id(item), _ZERO), -1)

    def refresh(self, item: Item) -> None:
        """Count ``item`` again after a change (a closed reply, a truncation)."""
        if id(item) in self._of:
            self.remove(item)
            self.add(item)

    def of(self, item: Item) -> Tokens:
        """One item's tokens: the count kept for it, or counted now if it is streaming or not tallied."""
        if id(item) in self._open:
            return item_tokens(item)
        cached = self._of.get(id(item))
        return cached if cached is not None else item_tokens(item)

    def _adjust(self, tokens: Tokens, sign: int) -> None:
        total = self._sum
        total[0] += sign * tokens[0]
        total[1] += sign * tokens[1]
        total[2] += sign * tokens[2]

    def tokens(self) -> Tokens:
        text, audio, image = self._sum
        for item in self._open.values():
            t, a, i = item_tokens(item)
            text, audio, image = text + t, audio + a, image + i
        return text, audio, image


def total(tokens: Iterable[Tokens]) -> Tokens:
    text = audio = image = 0
    for t, a, i in tokens:
        text, audio, image = text + t, audio + a, image + i
    return text, audio, image


def input_usage(instructions: str, items: Iterable[Item], tally: Tally | None = None) -> Usage:
    """Input usage of a response (§4.11): its instructions plus its context ``items``; ``tally``, when given,
    already holds the tokens of exactly those items (the default conversation)."""
    return usage_of(instructions, tally.tokens() if tally is not None else total(map(item_tokens, items)))


def usage_of(instructions: str, tokens: Tokens) -> Usage:
    """Input usage of a response whose context items cost ``tokens``."""
    text, audio, image = tokens
    return Usage(input_text=text + instruction_tokens(instructions), input_audio=audio, input_image=image)
