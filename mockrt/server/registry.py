"""Live and recent sessions with their journals (like WireMock's request journal).

Every client and server event of every session is kept with its timestamp. The registry is written on the
server's event loop and read from anywhere (the admin API, the Python control API in a test thread): appends
are atomic and readers copy, and waiters block on a condition that is only notified when someone waits.

Memory is bounded in bytes, not only in entries (SECURITY.md):

* a client event the session rejected (the next server event is its ``error``) is kept as a stub with its type,
  ``event_id`` and size when it is larger than :data:`REJECTED_KEEP_BYTES`;
* each session keeps at most ``journal_max_bytes``: beyond it the oldest audio payloads (``append`` audio, audio
  deltas) are replaced by their length (``mockrt_elided_b64_chars``), so the newest audio stays; when that is
  not enough, new events are kept as stubs;
* closed sessions kept for the inspector hold at most ``recent_max_bytes`` together (oldest dropped first).

A journal keeps its entries where Python's cyclic garbage collector does not look (:class:`Journal`), so a long
journal does not lengthen the collector's full collections, which stop the event loop for their whole length.

Sizes are the length of the event's compact JSON (orjson, a few hundred nanoseconds an event), or for what
orjson refuses (a lone surrogate, a huge integer) an estimate: string lengths plus a small constant per value.
"""

from __future__ import annotations

import itertools
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt
import orjson

from mockrt.core.dialects import AUDIO_PAYLOADS
from mockrt.core.events import ServerEvent
from mockrt.core.outputs import JournalHook

if TYPE_CHECKING:
    from mockrt.core.session import RealtimeSession
    from mockrt.server.connection import Connection


REJECTED_KEEP_BYTES = 4096
"""A rejected client event larger than this is journaled as a stub."""
AUDIO_KEYS = AUDIO_PAYLOADS
"""Events whose audio payload may be elided from a journal that is over budget, and the payload's key (named by
the dialects)."""


def approx_size(value: Any) -> int:
    """The journal's size of a JSON value: its compact JSON's length (about 4x cheaper than :func:`_estimate`,
    which it was until the fourth pass of issue 14), or for what orjson refuses the estimate."""
    try:
        return len(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError):
        return _estimate(value)


def _estimate(value: Any, depth: int = 0) -> int:
    """Approximate bytes of a JSON value: string lengths plus a few bytes per value (scalars inline)."""
    kind = type(value)
    if kind is str:
        return len(value) + 2
    if depth > 64:  # deeper than any real event; still counted, coarsely
        return 64
    if kind is dict:
        total = 2
        for key, item in value.items():
            sub = type(item)
            if sub is str:
                total += len(key) + len(item) + 6
            elif sub is dict or sub is list:
                total += len(key) + 4 + _estimate(item, depth + 1)
            else:
                total += len(key) + 12
        return total
    if kind is list:
        total = 2
        for item in value:
            sub = type(item)
            if sub is str:
                total += len(item) + 3
            elif sub is dict or sub is list:
                total += 1 + _estimate(item, depth + 1)
            else:
                total += 9
        return total
    return 8


def stub(event: dict[str, Any], size: int, reason: str) -> dict[str, Any]:
    """What a journal keeps of an event it does not keep whole."""
    etype = event.get("type")
    out: dict[str, Any] = {"type": etype[:200] if isinstance(etype, str) else "<no type>"}
    if isinstance(event.get("event_id"), str):
        out["event_id"] = event["event_id"][:200]
    out["mockrt_truncated"] = {"reason": reason, "bytes": size}
    return out


@dataclass(slots=True)
class JournalEntry:
    seq: int
    t: float  # seconds since the session started
    direction: str  # "client" | "server"
    event: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": round(self.t, 6), "direction": self.direction, "event": self.event}


class Journal(Sequence[JournalEntry]):
    """A session's journal, read as a sequence of :class:`JournalEntry` (made on access).

    Entries are kept in chunks of :data:`_CHUNK`, an entry's ``(seq, t, direction)`` tuple in one and its event in
    the other; a chunk is a list while it fills and then a numpy object array. The garbage collector neither tracks
    such a tuple (once a young collection has seen it) nor an event of strings and numbers, and it never looks
    inside an array, so its full collections, which stop the server's loop, do not grow with the journals
    (bench/README.md, seventh pass).

    Written on the server's loop only; read from any thread. A reader takes the chunks first and the length
    second: an entry counts once it is whole, and :meth:`clear` empties the length before it drops the chunks.
    """

    __slots__ = ("_chunks", "_n")

    def __init__(self) -> None:
        self._chunks: tuple[list[_Chunk], list[_Chunk]] = ([], [])  # (seq, t, direction) chunks, event chunks
        self._n = 0

    def append(self, seq: int, t: float, direction: str, event: dict[str, Any]) -> int:
        """Add an entry; returns its index."""
        index = self._n
        meta, events = self._chunks
        k = index % _CHUNK
        if k == 0:
            meta.append([])
            events.append([])
        meta[-1].append((seq, t, direction))  # type: ignore[union-attr]  # the last chunk is a list
        events[-1].append(event)  # type: ignore[union-attr]
        if k == _CHUNK - 1:  # full: where the collector does not look
            meta[-1] = np.fromiter(meta[-1], dtype=object, count=_CHUNK)
            events[-1] = np.fromiter(events[-1], dtype=object, count=_CHUNK)
        self._n = index + 1
        return index

    def event(self, index: int) -> dict[str, Any]:
        event: dict[str, Any] = self._chunks[1][index // _CHUNK][index % _CHUNK]
        return event

    def set_event(self, index: int, event: dict[str, Any]) -> None:
        """Replace what entry ``index`` keeps of its event (a stub, or the event with its audio elided)."""
        self._chunks[1][index // _CHUNK][index % _CHUNK] = event

    def clear(self) -> None:
        self._n = 0
        self._chunks = ([], [])

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> JournalEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[JournalEntry]: ...

    def __getitem__(self, index: int | slice) -> JournalEntry | list[JournalEntry]:
        chunks, n = self._chunks, self._n
        if isinstance(index, slice):
            return list(_entries(chunks, range(*index.indices(n))))
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("journal index out of range")
        return next(_entries(chunks, (index,)))

    def __iter__(self) -> Iterator[JournalEntry]:
        chunks, n = self._chunks, self._n
        return _entries(chunks, range(n))


_CHUNK = 64
"""Entries in a journal chunk (the collector walks the chunk that is filling, a list, and one reference a chunk)."""

_Chunk = list[Any] | npt.NDArray[np.object_]


def _entries(chunks: tuple[list[_Chunk], list[_Chunk]], indices: Iterable[int]) -> Iterator[JournalEntry]:
    meta, events = chunks
    for index in indices:
        chunk, k = divmod(index, _CHUNK)
        seq, t, direction = meta[chunk][k]
        yield JournalEntry(seq, t, direction, events[chunk][k])


class IndexQueue:
    """Journal indices, oldest first, in an :class:`array.array` (which the garbage collector does not look into:
    a deque of ints made each full collection visit every audio event journaled so far)."""

    __slots__ = ("_head", "_items", "append")

    def __init__(self) -> None:
        self._items = array("q")
        self._head = 0
        self.append: Callable[[int], None] = self._items.append
        """Add an index (the array's own method: on every journaled append; compaction keeps the array)."""

    def popleft(self) -> int:
        head = self._head
        index = self._items[head]
        head += 1
        if head >= _COMPACT_AT and 2 * head >= len(self._items):  # drop what was taken, amortised O(1)
            del self._items[:head]
            head = 0
        self._head = head
        return index

    def clear(self) -> None:
        del self._items[:]
        self._head = 0

    def __len__(self) -> int:
        return len(self._items) - self._head


_COMPACT_AT = 4096
"""An :class:`IndexQueue` drops the indices it has handed out once they are this many and half of it."""


@dataclass
class SessionRecord:
    """One session: metadata, its journal, and (while live) its core session and connection."""

    id: str
    dialect: str
    flavour: str
    model: str | None
    path: str
    user_agent: str
    started_at: float  # unix time
    started_mono: float  # loop time
    journal: Journal = field(default_factory=Journal)
    session: RealtimeSession | None = None
    connection: Connection | None = None
    ended_at: float | None = None
    close_code: int | None = None
    journal_bytes: int = 0  # approximate bytes held by the journal (see the module docstring)
    audio_entries: IndexQueue = field(default_factory=IndexQueue)  # journal indices with elidable audio

    def summary(self) -> dict[str, Any]:
        errors = sum(1 for e in self.journal if e.direction == "server" and e.event.get("type") == "error")
        done = self.session.dialect.wire_type(ServerEvent.RESPONSE_DONE) if self.session is not None else None
        turns = sum(1 for e in self.journal if e.direction == "server" and e.event.get("type") == done)
        return {"id": self.id, "dialect": self.dialect, "flavour": self.flavour, "model": self.model,
                "path": self.path, "user_agent": self.user_agent, "started_at": self.started_at,
                "ended_at": self.ended_at, "live": self.ended_at is None, "events": len(self.journal),
                "responses": turns, "errors": errors}


class Registry:
    """All sessions of one server: the live ones and a bounded list of recent ones."""

    def __init__(self, keep_recent: int = 200, journal_limit: int = 200_000,
                 journal_max_bytes: int = 96 * 1024 * 1024, recent_max_bytes: int = 256 * 1024 * 1024) -> None:
        self.live: dict[str, SessionRecord] = {}
        self.recent: deque[SessionRecord] = deque()
        self.keep_recent = keep_recent
        self.journal_limit = journal_limit
        self.journal_max_bytes = journal_max_bytes
        self.recent_max_bytes = recent_max_bytes
        self.recent_bytes = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._waiters = 0

    # -- written on the server loop --------------------------------------------------------------------

    def open(self, record: SessionRecord) -> None:
        self.live[record.id] = record
        self._notify()

    def recorder(self, record: SessionRecord) -> JournalHook:
        """The session's ``on_event`` hook: append to the journal, wake waiters."""
        journal, limit, seq, start = record.journal, self.journal_limit, self._seq, record.started_mono
        budget, audio = self.journal_max_bytes, record.audio_entries
        # The last client event (its index) and its size, until the next event shows whether it was rejected:
        # plain variables, and journal indices for the elidable audio (see the module docstring). A cleared
        # journal is empty until its next entry, so a stale index is out of range.
        last_client = -1
        last_size = 0

        def on_event(direction: str, event: dict[str, Any], now: float, size: int | None = None) -> None:
            nonlocal last_client, last_size
            if journal._n < limit:  # len(journal) without the call: on every event
                etype = event.get("type")
                if (direction == "server" and etype == "error" and last_size > REJECTED_KEEP_BYTES
                        and 0 <= last_client < len(journal)):
                    kept = stub(journal.event(last_client), last_size, "rejected")  # the event it answers
                    journal.set_event(last_client, kept)
                    record.journal_bytes -= last_size - approx_size(kept)
                last_client = -1
                if size is None:  # a session that knows the frame's size passes it (core/outputs.py, Send)
                    size = approx_size(event)
                key = AUDIO_KEYS.get(etype) if isinstance(etype, str) else None
                while record.journal_bytes + size > budget and audio:
                    old = audio.popleft()
                    old_event = journal.event(old)
                    old_type = old_event.get("type")
                    old_key = AUDIO_KEYS.get(old_type) if isinstance(old_type, str) else None
                    payload = old_event.get(old_key) if old_key is not None else None
                    if not isinstance(payload, str):
                        continue  # stubbed since (a rejected event)
                    elided = {k: v for k, v in old_event.items() if k != old_key}
                    elided["mockrt_elided_b64_chars"] = len(payload)
                    journal.set_event(old, elided)
                    record.journal_bytes -= len(payload)
                if record.journal_bytes + size > budget:
                    event = stub(event, size, "journal budget")
                    size, key = approx_size(event), None
                index = journal.append(next(seq), now - start, direction, event)
                record.journal_bytes += size
                if key is not None and isinstance(event.get(key), str):
                    audio.append(index)
                if direction == "client":
                    last_client, last_size = index, size
            if self._waiters:
                self._notify()

        return on_event

    def close(self, record: SessionRecord, code: int | None = None) -> None:
        record.ended_at = time.time()
        record.close_code = code
        record.session, record.connection = None, None
        record.audio_entries = IndexQueue()
        self.live.pop(record.id, None)
        self.recent.append(record)
        self.recent_bytes += record.journal_bytes
        while self.recent and (len(self.recent) > self.keep_recent or self.recent_bytes > self.recent_max_bytes):
            self.recent_bytes -= self.recent.popleft().journal_bytes
        self._notify()

    def discard(self, record: SessionRecord) -> None:
        """Forget a session that never ran (a GPT-Live call whose ``accept`` or creation was refused, §13.8): its
        id stays free for the accept that succeeds."""
        if self.live.get(record.id) is record:
            del self.live[record.id]
        self._notify()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- read from anywhere ---------------------------------------------------------------------------------

    def all(self) -> list[SessionRecord]:
        return list(self.live.values()) + [r for r in self.recent if r.id not in self.live]

    def get(self, session_id: str) -> SessionRecord | None:
        return self.live.get(session_id) or next((r for r in self.recent if r.id == session_id), None)

    def entries(self) -> Iterator[tuple[SessionRecord, JournalEntry]]:
        for record in self.all():
            for entry in list(record.journal):
                yield record, entry

    def clear(self) -> None:
        self.recent.clear()
        self.recent_bytes = 0
        for record in self.live.values():
            record.journal.clear()
            record.journal_bytes = 0
            record.audio_entries.clear()

    def wait(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Block until ``predicate()`` is truthy (re-checked on every journal change) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiters += 1
            try:
                while True:
                    result = predicate()
                    if result:
                        return result
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._cond.wait(min(remaining, 0.5))
            finally:
                self._waiters -= 1
