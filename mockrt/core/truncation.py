"""Context truncation: what the "model" sees once a conversation outgrows its input limit (docs/protocol.md §5.14).

The session's ``truncation`` decides (the SDK's ``RealtimeTruncation`` docstring):

* ``"auto"``: the oldest items are left out until instructions plus conversation fit the model's input limit;
* ``{"type": "retention_ratio", "retention_ratio": r, "token_limits": {"post_instructions": n}}``: once the
  conversation after the instructions exceeds its limit (``n``, else the model's input limit minus the
  instructions), the oldest items are left out until only ``r`` of that limit is used;
* ``"disabled"``: nothing is left out and a response whose input exceeds the limit fails.

Items left out stay in the conversation (they can still be retrieved); only the response's context and its
input usage shrink. Token counts are the mock's (:mod:`mockrt.core.usage`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockrt.core.model import Item
from mockrt.core.models import facts
from mockrt.core.usage import Tokens, instruction_tokens, item_tokens, total


@dataclass(frozen=True)
class Context:
    """The items a response sees, and whether its input exceeds the limit (``disabled`` only)."""

    items: list[Item]
    dropped: int = 0
    exceeded: bool = False
    tokens: int = 0  # instructions + retained conversation
    limit: int = 0


def fit(items: list[Item], instructions: str, truncation: str | Mapping[str, Any], model: str | None,
        tokens: Tokens | None = None, size: Callable[[Item], Tokens] = item_tokens) -> Context:
    """Apply the truncation strategy to a response's context (§5.14). ``tokens`` (the context's total) and
    ``size`` (one item's tokens) let the session use the counts it keeps per item instead of counting again;
    only the items left out are looked at one by one."""
    limit = facts(model).input_limit
    fixed = instruction_tokens(instructions)
    conversation = sum(tokens if tokens is not None else total(map(size, items)))
    if truncation == "disabled":
        return Context(list(items), 0, fixed + conversation > limit, fixed + conversation, limit)
    if isinstance(truncation, Mapping) and truncation.get("type") == "retention_ratio":
        post = (truncation.get("token_limits") or {}).get("post_instructions")
        post_limit = post if post is not None else max(0, limit - fixed)
        if conversation <= post_limit:
            return Context(items, 0, False, fixed + conversation, limit)
        target = float(truncation["retention_ratio"]) * post_limit
    else:
        if fixed + conversation <= limit:
            return Context(items, 0, False, fixed + conversation, limit)
        target = limit - fixed
    dropped = 0
    while dropped < len(items) and conversation > target:
        conversation -= sum(size(items[dropped]))
        dropped += 1
    return Context(items[dropped:], dropped, False, fixed + conversation, limit)
