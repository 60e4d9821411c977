"""The default conversation: an ordered list of items (docs/protocol.md §5.12, §2.5–§2.8)."""

from __future__ import annotations

from mockrt.core import errors
from mockrt.core.model import Item
from mockrt.core.usage import Tally, Tokens, total


class Conversation:
    """Ordered items of the default conversation.

    ``previous_item_id`` semantics (§2.5, §5.12): absent or ``""`` appends; ``"root"`` inserts at the front
    (reported as ``null``); a known id inserts right after it; an unknown id is an error and adds nothing.
    """

    def __init__(self, conversation_id: str, max_items: int) -> None:
        self.id = conversation_id
        self.items: list[Item] = []
        self.max_items = max_items
        self.tally = Tally()  # the input tokens of the items, kept as they come and go (§4.11)

    def __len__(self) -> int:
        return len(self.items)

    def find(self, item_id: str) -> Item | None:
        for item in reversed(self.items):
            if item.id == item_id:
                return item
        return None

    def find_call(self, call_id: str) -> Item | None:
        for item in reversed(self.items):
            if item.type == "function_call" and item.call_id == call_id:
                return item
        return None

    @property
    def last_id(self) -> str | None:
        return self.items[-1].id if self.items else None

    def check_insert(self, previous_item_id: str | None) -> None:
        """Raise the service's error if an insert after ``previous_item_id`` is impossible."""
        if len(self.items) >= self.max_items:
            raise errors.conversation_too_long(self.max_items)
        if previous_item_id not in (None, "", "root") and self.find(previous_item_id) is None:
            raise errors.previous_item_unknown(previous_item_id)

    def insert(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Insert and return the ``previous_item_id`` to report (the id of the item now before it)."""
        self.check_insert(previous_item_id)
        self.tally.add(item)
        if previous_item_id == "root":
            self.items.insert(0, item)
            return None
        if previous_item_id in (None, ""):
            prev = self.last_id
            self.items.append(item)
            return prev
        for index in range(len(self.items) - 1, -1, -1):
            if self.items[index].id == previous_item_id:
                self.items.insert(index + 1, item)
                return previous_item_id
        raise AssertionError("unreachable: check_insert validated the id")  # pragma: no cover

    def previous_of(self, item: Item) -> str | None:
        items = self.items
        for index in range(len(items) - 1, -1, -1):  # from the end: the item asked about is usually the last
            if items[index] is item:
                return items[index - 1].id if index else None
        return None

    def refresh(self, item: Item) -> None:
        """Count ``item``'s tokens again after it changed (a streamed reply closed, a truncation)."""
        self.tally.refresh(item)

    def tally_for(self, items: list[Item]) -> Tally | None:
        """The running token tally if ``items`` are this conversation's items (a response's default context),
        else ``None``. Items equal by value cost the same tokens, so list equality is enough (and it stops at
        identity for the same objects, in C)."""
        own = self.items
        if len(items) != len(own) or (own and items[-1] is not own[-1]) or items != own:
            return None
        return self.tally

    def tokens_of(self, items: list[Item]) -> Tokens:
        """The input tokens of a response context: the running tally for the whole conversation, else the sum of
        the counts kept per item (a truncated or custom context; nothing is tokenised again)."""
        tally = self.tally_for(items)
        return tally.tokens() if tally is not None else total(map(self.tally.of, items))

    def delete(self, item_id: str) -> None:
        for index in range(len(self.items) - 1, -1, -1):
            if self.items[index].id == item_id:
                self.tally.remove(self.items[index])
                del self.items[index]
                return
        raise errors.delete_unknown_item(item_id)

    def has_assistant_audio(self) -> bool:
        return any(item.has_assistant_audio() for item in self.items)
