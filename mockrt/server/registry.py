"""Live and recent sessions with their journals (ecosystem.md §1.2: WireMock's request journal).

Every client and server event of every session is kept with its timestamp. The registry is written on the
server's event loop and read from anywhere (the admin API, the Python control API in a test thread): appends
are atomic and readers copy, and waiters block on a condition that is only notified when someone waits.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockrt.core.session import RealtimeSession
    from mockrt.server.connection import Connection


@dataclass
class JournalEntry:
    seq: int
    t: float  # seconds since the session started
    direction: str  # "client" | "server"
    event: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": round(self.t, 6), "direction": self.direction, "event": self.event}


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
    journal: list[JournalEntry] = field(default_factory=list)
    session: RealtimeSession | None = None
    connection: Connection | None = None
    ended_at: float | None = None
    close_code: int | None = None

    def summary(self) -> dict[str, Any]:
        errors = sum(1 for e in self.journal if e.direction == "server" and e.event.get("type") == "error")
        turns = sum(1 for e in self.journal if e.direction == "server" and e.event.get("type") == "response.done")
        return {"id": self.id, "dialect": self.dialect, "flavour": self.flavour, "model": self.model,
                "path": self.path, "user_agent": self.user_agent, "started_at": self.started_at,
                "ended_at": self.ended_at, "live": self.ended_at is None, "events": len(self.journal),
                "responses": turns, "errors": errors}


class Registry:
    """All sessions of one server: the live ones and a bounded list of recent ones."""

    def __init__(self, keep_recent: int = 200, journal_limit: int = 200_000) -> None:
        self.live: dict[str, SessionRecord] = {}
        self.recent: deque[SessionRecord] = deque(maxlen=keep_recent)
        self.journal_limit = journal_limit
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._waiters = 0

    # -- written on the server loop --------------------------------------------------------------------

    def open(self, record: SessionRecord) -> None:
        self.live[record.id] = record
        self._notify()

    def recorder(self, record: SessionRecord) -> Callable[[str, dict[str, Any], float], None]:
        """The session's ``on_event`` hook: append to the journal, wake waiters."""
        journal, limit, seq, start = record.journal, self.journal_limit, self._seq, record.started_mono

        def on_event(direction: str, event: dict[str, Any], now: float) -> None:
            if len(journal) < limit:
                journal.append(JournalEntry(next(seq), now - start, direction, event))
            if self._waiters:
                self._notify()

        return on_event

    def close(self, record: SessionRecord, code: int | None = None) -> None:
        record.ended_at = time.time()
        record.close_code = code
        record.session, record.connection = None, None
        self.live.pop(record.id, None)
        self.recent.append(record)
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
        for record in self.live.values():
            record.journal.clear()

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
