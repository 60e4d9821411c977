"""The conversation as it stands, rebuilt from the journal's item and response events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mockrt.core.dialects import Dialect
from mockrt.core.dialects import mcp as mcp_wire
from mockrt.core.events import ServerEvent
from mockrt.inspector.journal import Internal, _obj

if TYPE_CHECKING:
    from mockrt.server.registry import JournalEntry

# -- the conversation ----------------------------------------------------------------------------------------------

TRANSCRIPT_GAP_MS = 250
"""A GPT-Live transcript delta that starts later than this after the previous one's end begins a new message
(words of one turn follow each other closely; turns are separated by silence of at least the VAD's 500 ms)."""


def _norm_item(item: dict[str, Any], dialect: Dialect | None) -> dict[str, Any]:
    """A wire item as the inspector shows it: parts named with the model's content types (GA ``output_text`` and
    beta ``text`` alike are ``text``), like :func:`conversation_from_items` names a live session's."""
    out: dict[str, Any] = {"id": item.get("id"), "type": item.get("type"), "status": item.get("status")}
    if item.get("type") == "message":
        out["role"] = item.get("role")
        content = []
        for part in item.get("content") or []:
            if isinstance(part, dict):
                shown = {k: part[k] for k in ("text", "transcript") if k in part}
                kind = dialect.part_type(part) if dialect is not None else None
                content.append({"type": kind or part.get("type"), **shown})
        out["content"] = content
    else:
        for key in ("name", "call_id", "arguments", "output", *_MCP_KEYS):
            if key in item:
                out[key] = item[key]
        if isinstance(item.get("tools"), list):  # mcp_list_tools: the names are enough here
            out["tools"] = [t.get("name") for t in item["tools"] if isinstance(t, dict)]
    return out


_MCP_KEYS = ("server_label", "approval_request_id", "approve", "reason", "error")
"""What the MCP items (docs/protocol.md §9) add, besides ``name``, ``arguments``, ``output`` and ``tools``."""


_ARGUMENT_EVENTS = frozenset({ServerEvent.FUNCTION_CALL_ARGUMENTS_DELTA, ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE,
                              ServerEvent.MCP_CALL_ARGUMENTS_DELTA, ServerEvent.MCP_CALL_ARGUMENTS_DONE})


class ConversationBuilder:
    """The default conversation rebuilt from item and response events (``previous_item_id`` order)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect  # reads the journal's items and parts (the session's dialect)
        self.items: list[dict[str, Any]] = []
        self.version = 0

    def _find(self, item_id: Any) -> dict[str, Any] | None:
        for item in reversed(self.items):
            if item["id"] == item_id:
                found: dict[str, Any] = item
                return found
        return None

    def _part(self, item: dict[str, Any], index: Any, ptype: str) -> dict[str, Any] | None:
        if item.get("type") != "message" or not isinstance(index, int) or index < 0:
            return None
        content = item.setdefault("content", [])
        while len(content) <= index:
            content.append({"type": ptype})
        part: dict[str, Any] = content[index]
        return part

    def transcript(self, entry: JournalEntry, role: str, delta: str, start_ms: float, end_ms: float) -> None:
        """A GPT-Live transcript delta (docs/protocol.md §13.4): it joins the last message of ``role`` when it
        follows on that message's timeline (input for the user, output for the assistant), else opens a new one;
        the message keeps its span (``audio_range_ms`` on the input timeline, ``output_range_ms`` on the
        output timeline)."""
        key = "audio_range_ms" if role == "user" else "output_range_ms"
        last = next((i for i in reversed(self.items) if i.get("role") == role and key in i), None)
        if last is not None and last is self.items[-1] and 0 <= start_ms - last[key][1] <= TRANSCRIPT_GAP_MS:
            last["content"][0]["transcript"] += delta
            last[key] = [last[key][0], end_ms]
        else:
            part = "input_audio" if role == "user" else "audio"
            self.items.append({"id": f"{'in' if role == 'user' else 'out'}_{entry.seq}", "type": "message",
                               "status": "completed", "role": role,
                               "content": [{"type": part, "transcript": delta}], key: [start_ms, end_ms]})
        self.version = entry.seq

    def note(self, entry: JournalEntry, item: dict[str, Any]) -> None:
        """An entry of a GPT-Live session's conversation that is not a transcript (a delegation)."""
        self.items.append(item)
        self.version = entry.seq

    def apply(self, entry: JournalEntry, ev: Internal, audio_range: tuple[float, float] | None) -> bool:
        """Apply one server event (``ev``: its internal event); returns whether the conversation changed."""
        e = entry.event
        item: dict[str, Any] | None
        if ev is ServerEvent.ITEM_ADDED and isinstance(e.get("item"), dict):
            item = _norm_item(e["item"], self.dialect)
            if self._find(item["id"]) is not None:
                return False
            prev = e.get("previous_item_id")
            index = 0
            if prev:
                for i in range(len(self.items) - 1, -1, -1):
                    if self.items[i]["id"] == prev:
                        index = i + 1
                        break
                else:
                    index = len(self.items)
            if audio_range is not None and item.get("role") == "user":
                item["audio_range_ms"] = [round(audio_range[0], 1), round(audio_range[1], 1)]
            item["t"] = round(entry.t, 4)
            self.items.insert(index, item)
        elif ev in (ServerEvent.ITEM_DONE, ServerEvent.OUTPUT_ITEM_DONE) and isinstance(e.get("item"), dict):
            existing = self._find(e["item"].get("id"))
            if existing is None:
                return False
            fresh = _norm_item(e["item"], self.dialect)
            for key, value in fresh.items():
                if key == "content":
                    old = existing.get("content") or []
                    for i, part in enumerate(value):
                        if i < len(old):
                            old[i].update({k: v for k, v in part.items() if v is not None or k not in old[i]})
                        else:
                            old.append(part)
                    existing["content"] = old
                else:
                    existing[key] = value
        elif ev is ServerEvent.ITEM_DELETED:
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            self.items.remove(item)
        elif ev is ServerEvent.ITEM_TRUNCATED:
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            item["truncated_ms"] = e.get("audio_end_ms")
        elif ev is ServerEvent.TRANSCRIPTION_COMPLETED:
            item = self._find(e.get("item_id"))
            part = self._part(item, e.get("content_index", 0), "input_audio") if item else None
            if part is None:
                return False
            part["transcript"] = e.get("transcript")
        elif ev is ServerEvent.TRANSCRIPTION_FAILED:
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            item["transcription_error"] = e.get("error")
        elif ev in (ServerEvent.OUTPUT_TEXT_DELTA, ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA):
            item = self._find(e.get("item_id"))
            key = "text" if ev is ServerEvent.OUTPUT_TEXT_DELTA else "transcript"
            part = self._part(item, e.get("content_index"), "text" if key == "text" else "audio") if item else None
            if part is None or not isinstance(e.get("delta"), str):
                return False
            part[key] = (part.get(key) or "") + e["delta"]
        elif ev is ServerEvent.CONTENT_PART_ADDED:
            item = self._find(e.get("item_id"))
            raw = _obj(e.get("part"))
            kind = self.dialect.part_type(raw) or raw.get("type")
            part = self._part(item, e.get("content_index"), str(kind)) if item else None
            if part is None:
                return False
            part["type"] = kind or part.get("type")
        elif ev in _ARGUMENT_EVENTS:
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            if ev in (ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE, ServerEvent.MCP_CALL_ARGUMENTS_DONE):
                item["arguments"] = e.get("arguments")
            elif isinstance(e.get("delta"), str):
                item["arguments"] = (item.get("arguments") or "") + e["delta"]
        else:
            return False
        self.version = entry.seq
        return True


def conversation_from_items(items: Iterable[Any]) -> list[dict[str, Any]]:
    """The conversation from a live session's :class:`~mockrt.core.model.Item` list (same shape as the rebuild)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item.mcp is not None:  # MCP items are GA only: their one rendering (docs/protocol.md §9)
            out.append(_norm_item(mcp_wire.render_item(item), None))  # not a message: no parts to read
            continue
        entry: dict[str, Any] = {"id": item.id, "type": item.type, "status": item.status}
        if item.type == "message":
            entry["role"] = item.role
            parts = []
            for p in item.content:
                part: dict[str, Any] = {"type": p.type}
                if p.text is not None:
                    part["text"] = p.text
                if p.transcript is not None or p.type in ("audio", "input_audio"):
                    part["transcript"] = p.transcript
                if p.audio_ms:
                    part["audio_ms"] = round(float(p.audio_ms), 1)
                parts.append(part)
            entry["content"] = parts
        else:
            for key in ("name", "call_id", "arguments", "output"):
                value = getattr(item, key)
                if value is not None:
                    entry[key] = value
        out.append(entry)
    return out
