"""The timeline: one row per event, append runs and delta streams collapsed into spans."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockrt.core.dialects import Dialect
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.inspector.conversation import TRANSCRIPT_GAP_MS
from mockrt.inspector.journal import SPAN_GAP_S, Internal, _clip, _obj, is_delta

if TYPE_CHECKING:
    from mockrt.server.registry import JournalEntry

_SESSION_EVENTS = frozenset({ServerEvent.SESSION_CREATED, ServerEvent.SESSION_UPDATED,
                             ServerEvent.TRANSCRIPTION_SESSION_CREATED, ServerEvent.TRANSCRIPTION_SESSION_UPDATED,
                             ClientEvent.SESSION_UPDATE, ClientEvent.TRANSCRIPTION_SESSION_UPDATE})
_ITEM_EVENTS = frozenset({ServerEvent.ITEM_ADDED, ServerEvent.ITEM_DONE, ServerEvent.ITEM_TRUNCATED,
                          ServerEvent.ITEM_DELETED, ServerEvent.ITEM_RETRIEVED, ServerEvent.TRANSCRIPTION_COMPLETED,
                          ServerEvent.TRANSCRIPTION_FAILED, ServerEvent.TRANSCRIPTION_DELTA,
                          ServerEvent.OUTPUT_ITEM_ADDED, ServerEvent.OUTPUT_ITEM_DONE, ClientEvent.ITEM_CREATE,
                          ClientEvent.ITEM_TRUNCATE, ClientEvent.ITEM_DELETE, ClientEvent.ITEM_RETRIEVE})

# -- timeline ------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One timeline row: an event, or a span of collapsed events (``n`` > 1 or still open)."""

    id: int  # seq of its first event (stable across updates)
    t: float
    t1: float
    dir: str
    type: str
    n: int = 1
    last: int = 0  # seq of its last event
    label: str = ""
    audio_ms: float | None = None
    text: str = ""
    bad: bool = False  # a rejected client event / an error
    undo: tuple[float, int, float] | None = None  # (t1, last, audio_ms) before the last event joined the span
    span_ms: tuple[float, float] | None = None  # GPT-Live transcript deltas: the span's place on their timeline

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "t": round(self.t, 4), "dir": self.dir, "type": self.type,
                               "label": self.label}
        if self.n > 1 or self.t1 != self.t:
            out["t1"] = round(self.t1, 4)
            out["n"] = self.n
            out["last"] = self.last
        if self.audio_ms is not None:
            out["audio_ms"] = round(self.audio_ms, 1)
        if self.bad:
            out["bad"] = True
        return out


class Timeline:
    """Rows in journal order plus a change log so ``since=seq`` polls return only new or grown rows."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.by_id: dict[int, int] = {}
        self._row_of: dict[int, int] = {}  # every event's seq -> its row
        self._change_seq: list[int] = []
        self._change_row: list[int] = []
        self._open: dict[tuple[Any, ...], int] = {}  # span key -> row index
        self._append_span: int | None = None
        self.counts: dict[str, int] = {}  # "direction:wire type" -> events (the page's lanes)
        self.internal_counts: dict[Internal, int] = {}  # internal event -> events

    def _changed(self, seq: int, index: int) -> None:
        if self._change_row and self._change_row[-1] == index:
            self._change_seq[-1] = seq
        else:
            self._change_seq.append(seq)
            self._change_row.append(index)

    def _new(self, row: Row) -> int:
        self.rows.append(row)
        index = len(self.rows) - 1
        self.by_id[row.id] = index
        self._row_of[row.id] = index
        self._changed(row.id, index)
        return index

    def _grow(self, index: int, entry: JournalEntry) -> Row:
        row = self.rows[index]
        row.n += 1
        row.t1 = entry.t
        row.last = entry.seq
        self._changed(entry.seq, index)
        self._row_of[entry.seq] = index
        return row

    def add(self, entry: JournalEntry, ev: Internal, label: str, *, audio_ms: float | None = None) -> None:
        event = entry.event
        etype = str(event.get("type"))
        key = f"{entry.direction}:{etype}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self.internal_counts[ev] = self.internal_counts.get(ev, 0) + 1
        if ev is ClientEvent.INPUT_AUDIO_APPEND:
            index = self._append_span
            if index is not None and entry.t - self.rows[index].t1 <= SPAN_GAP_S:
                row = self.rows[index]
                row.undo = (row.t1, row.last, row.audio_ms or 0.0)
                self._grow(index, entry)
                row.audio_ms = (row.audio_ms or 0.0) + (audio_ms or 0.0)
                row.label = _append_label(row)
                return
            row = Row(entry.seq, entry.t, entry.t, "client", etype, 1, entry.seq, audio_ms=audio_ms or 0.0)
            row.label = _append_label(row)
            self._append_span = self._new(row)
            return
        if entry.direction == "client" or ev in (ServerEvent.INPUT_AUDIO_COMMITTED, ServerEvent.INPUT_AUDIO_CLEARED):
            self._append_span = None
        if is_delta(ev):
            skey = (etype, event.get("response_id"), event.get("item_id"), event.get("output_index"),
                    event.get("content_index"))
            delta = event.get("delta")
            index = self._open.get(skey)
            a, b = event.get("start_ms"), event.get("end_ms")
            placed = (float(a), float(b)) if isinstance(a, int | float) and isinstance(b, int | float) else None
            if index is not None and placed is not None:  # a GPT-Live transcript (docs/protocol.md §13.4)
                span = self.rows[index].span_ms
                if span is not None and not 0 <= placed[0] - span[1] <= TRANSCRIPT_GAP_MS:
                    index = None  # the next turn on that timeline: a span of its own
            if index is None:
                row = Row(entry.seq, entry.t, entry.t, "server", etype, 1, entry.seq)
                self._open[skey] = self._new(row)
            else:
                row = self._grow(index, entry)
            if placed is not None:
                row.span_ms = (row.span_ms[0] if row.span_ms else placed[0], placed[1])
            if ev is ServerEvent.OUTPUT_AUDIO_DELTA:
                row.audio_ms = (row.audio_ms or 0.0) + (audio_ms or 0.0)
                row.label = f"{row.audio_ms / 1000:.2f} s of audio in {row.n} deltas"
            elif isinstance(delta, str):
                if len(row.text) < 400:
                    row.text += delta
                row.label = f"{row.n} deltas: " + _clip(row.text, 160)
                if row.span_ms is not None:
                    row.label += f" [{row.span_ms[0]:.0f}–{row.span_ms[1]:.0f} ms]"
            return
        self._new(Row(entry.seq, entry.t, entry.t, entry.direction, etype, 1, entry.seq, label,
                      bad=ev is ServerEvent.ERROR))

    def mark_bad(self, seq: int, t: float) -> None:
        """A rejected append: it leaves its span (it was the span's last event) and gets a row of its own."""
        self._append_span = None
        index = self._row_of.get(seq)
        if index is None:
            return
        row = self.rows[index]
        if row.id == seq:
            row.bad = True
            self._changed(seq, index)
            return
        if row.last != seq or row.undo is None:
            return
        t1, last, ms = row.undo
        own = (row.audio_ms or 0.0) - ms
        row.t1, row.last, row.audio_ms, row.n, row.undo = t1, last, ms, row.n - 1, None
        row.label = _append_label(row)
        self._changed(seq, index)
        alone = Row(seq, t, t, row.dir, row.type, 1, seq, "", audio_ms=own, bad=True)
        alone.label = "rejected: " + _append_label(alone)
        self._new(alone)

    def since(self, seq: int) -> list[Row]:
        if seq < 0:
            return list(self.rows)
        start = bisect.bisect_right(self._change_seq, seq)
        indexes = sorted(set(self._change_row[start:]))
        return [self.rows[i] for i in indexes]

    def find(self, seq: int) -> Row | None:
        """The row holding the event ``seq`` (a span's first event or one inside it)."""
        index = self._row_of.get(seq)
        return None if index is None else self.rows[index]


def _append_label(row: Row) -> str:
    return f"{row.n} append{'s' if row.n != 1 else ''}, {(row.audio_ms or 0.0) / 1000:.2f} s of audio"


def label_for(entry: JournalEntry, ev: Internal, dialect: Dialect) -> str:
    """A short human summary of one event (the row's text); ``ev`` is the entry's internal event."""
    e = entry.event
    etype = str(e.get("type"))
    try:
        if ev in _SESSION_EVENTS:
            audio = dialect.session_audio(_obj(e.get("session")))
            parts = []
            if audio.input_format is not None:
                parts.append(f"in {audio.input_format.value}")
            if audio.output_format is not None:
                parts.append(f"out {audio.output_format.value}")
            td = audio.turn_detection_wire
            if isinstance(td, dict):
                parts.append(str(td.get("type")) + (f" thr {td['threshold']}" if "threshold" in td else "")
                             + (f" pad {td['prefix_padding_ms']}" if "prefix_padding_ms" in td else "")
                             + (f" sil {td['silence_duration_ms']}" if "silence_duration_ms" in td else ""))
            elif audio.has_turn_detection:
                parts.append("turn_detection null")
            return ", ".join(parts)
        if ev is ServerEvent.SPEECH_STARTED:
            return f"audio_start_ms={e.get('audio_start_ms')} {e.get('item_id', '')}"
        if ev is ServerEvent.SPEECH_STOPPED:
            return f"audio_end_ms={e.get('audio_end_ms')} {e.get('item_id', '')}"
        if ev is ServerEvent.TIMEOUT_TRIGGERED:
            return f"{e.get('audio_start_ms')}–{e.get('audio_end_ms')} ms {e.get('item_id', '')}"
        if ev is ServerEvent.INPUT_AUDIO_COMMITTED:
            return str(e.get("item_id", ""))
        if ev is ServerEvent.ERROR:
            err = _obj(e.get("error"))
            return _clip(f"{err.get('code') or err.get('type')}: {err.get('message')}", 200)
        if ev in (ServerEvent.RESPONSE_CREATED, ServerEvent.RESPONSE_DONE):
            r = _obj(e.get("response"))
            text = f"{r.get('id')} {r.get('status')}"
            details = r.get("status_details")
            if isinstance(details, dict) and details.get("reason"):
                text += f" ({details.get('reason')})"
            usage = r.get("usage")
            if isinstance(usage, dict) and "total_tokens" in usage:
                text += f", {usage['total_tokens']} tokens"
            return text
        if ev in (ClientEvent.RESPONSE_CANCEL, ClientEvent.RESPONSE_CREATE):
            return str(e.get("response_id") or "") or _clip(str(e.get("response") or ""), 100)
        if ev in _ITEM_EVENTS:
            item = e.get("item")
            if isinstance(item, dict):
                return _clip(f"{item.get('id')} {item.get('type')} {item.get('role') or item.get('name') or ''} "
                             + _item_text(item), 160)
            if "audio_end_ms" in e:
                return f"{e.get('item_id')} audio_end_ms={e.get('audio_end_ms')}"
            if "transcript" in e:
                return _clip(f"{e.get('item_id')}: {e.get('transcript')}", 160)
            return str(e.get("item_id") or "")
        if etype.endswith(".done") and isinstance(e.get("transcript"), str):
            return _clip(str(e["transcript"]), 160)
        if etype.endswith(".done") and isinstance(e.get("text"), str):
            return _clip(str(e["text"]), 160)
        if ev is ServerEvent.RATE_LIMITS_UPDATED:
            limits = e.get("rate_limits") or []
            return ", ".join(f"{x.get('name')} {x.get('remaining')}/{x.get('limit')}" for x in limits
                             if isinstance(x, dict))
        if etype == "<invalid json>":
            return _clip(str(e.get("raw", "")), 120)
        if etype == "<binary frame>":
            return f"{e.get('bytes')} bytes"
        if dialect.continuous_output:
            return _live_label(e)
    except (TypeError, ValueError, AttributeError, KeyError):
        return ""
    return ""


def _item_text(item: dict[str, Any]) -> str:
    if item.get("type") == "function_call":
        return f"{item.get('name')}({item.get('arguments') or ''})"
    if item.get("type") == "function_call_output":
        return str(item.get("output") or "")
    texts = []
    for part in item.get("content") or []:
        if isinstance(part, dict):
            value = part.get("text") or part.get("transcript")
            if value:
                texts.append(str(value))
    return " ".join(texts)


def _live_label(e: dict[str, Any]) -> str:
    """A GPT-Live event only Live has (docs/protocol.md §13), summarised by its fields: context and its
    acknowledgements, delegations, the delegated Responses stream, usage, the session's end."""
    parts: list[str] = []
    session = e.get("session")
    if isinstance(session, dict) and isinstance(session.get("model"), str):  # session.start
        parts.append(session["model"])
    delegation = e.get("delegation")
    if isinstance(delegation, dict):
        parts.append(f"{delegation.get('id')} → {delegation.get('target')}")
        if delegation.get("response_id"):
            parts.append(str(delegation["response_id"]))
    nested = e.get("event")
    if isinstance(nested, dict):  # response.event: the delegated model's stream
        parts.append(str(nested.get("type")))
        for key in ("delta", "arguments", "text"):
            if isinstance(nested.get(key), str):
                parts.append(_clip(nested[key], 80))
                break
    if isinstance(e.get("content"), str):
        parts.append(_clip(e["content"], 120))
    if e.get("delegation_id"):
        parts.append(f"for {e['delegation_id']}")
    if isinstance(e.get("start_ms"), int | float):
        parts.append(f"at {e['start_ms']}" + (f"–{e['end_ms']}" if e.get("end_ms") != e["start_ms"] else "") + " ms")
    if isinstance(e.get("offset_ms"), int | float):
        parts.append(f"at {e['offset_ms']} ms")
    usage = e.get("usage")
    if isinstance(usage, dict) and "seconds" in usage:
        parts.append(f"{usage['seconds']:g} s used")
    if isinstance(e.get("reason"), str):
        parts.append(e["reason"])
    if isinstance(e.get("client_event_id"), str):
        parts.append(f"(re {e['client_event_id']})")
    return " ".join(parts)
