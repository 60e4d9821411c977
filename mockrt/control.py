"""The Python control API of a running mock: scenarios, faults, the journal, waits, assertions, lockstep.

``ServerThread(...).control`` (and the pytest plugin's handle) is a :class:`MockControl`. Reads are safe from
any thread; actions on live sessions are handed to the server's event loop.
"""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from mockrt.core.faults import Faults
from mockrt.core.outputs import Output
from mockrt.core.session import RealtimeSession
from mockrt.scenarios import Reply, Scenario, load_scenario
from mockrt.server.actions import as_faults, set_session_faults
from mockrt.server.registry import JournalEntry, SessionRecord
from mockrt.server.state import MockState


def get_path(obj: Any, dotted: str) -> Any:
    """``get_path(event, "response.status")``; missing keys give a sentinel that equals nothing."""
    for key in dotted.split("."):
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return _MISSING
    return obj


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def matches(event: dict[str, Any], etype: str | None, fields: dict[str, Any]) -> bool:
    if etype is not None and event.get("type") != etype:
        return False
    return all(get_path(event, k) == v for k, v in fields.items())


class MockControl:
    """Control one running mockrt server (see :class:`mockrt.thread.ServerThread`)."""

    def __init__(self, state: MockState, loop: asyncio.AbstractEventLoop) -> None:
        self.state = state
        self.loop = loop
        self._client_cursor = -1

    # -- scenario and faults -----------------------------------------------------------------------------

    def load_scenario(self, scenario: Scenario | str | Path | dict[str, Any]) -> Scenario:
        """Load a scenario (object, file path, YAML/JSON text or dict) for new and live sessions."""
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self._call(lambda: self.state.set_scenario(loaded))
        return loaded

    def set_faults(self, faults: Faults | dict[str, Any] | None, session_id: str | None = None) -> None:
        """Faults for new sessions, or (with ``session_id``, or ``"*"`` for all) for live sessions now."""
        value = as_faults(faults) or Faults()
        if session_id is None:
            self._call(lambda: self.state.set_faults(value if not value.empty or value.refuse else None))
            return
        for record in self._live(session_id):
            self._act(record, lambda s, now: set_session_faults(s, value))

    def reset(self) -> None:
        """Back to a fresh server: no scenario, no faults, empty journals (live sessions stay connected)."""
        self._call(self.state.reset)
        self._client_cursor = -1

    # -- sessions and the journal ----------------------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        return [r.summary() for r in self.state.registry.all()]

    def session_ids(self) -> list[str]:
        return [r.id for r in self.state.registry.all()]

    def journal(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Journal entries (``seq``, ``t``, ``direction``, ``event``) of one session, or of all in order."""
        return [{**e.to_dict(), "session_id": r.id} for r, e in self._entries(session_id)]

    def events(self, etype: str | None = None, *, direction: str = "server", session_id: str | None = None,
               **fields: Any) -> list[dict[str, Any]]:
        """The events seen so far, filtered by type, direction and (dotted) field values."""
        return [e.event for _, e in self._entries(session_id)
                if e.direction == direction and matches(e.event, etype, fields)]

    def wait_for(self, etype: str | None = None, *, direction: str = "server", timeout: float = 5.0,
                 session_id: str | None = None, match: dict[str, Any] | None = None,
                 **fields: Any) -> dict[str, Any]:
        """Block until an event matching type and fields has been seen; raises ``AssertionError`` with the
        near misses on timeout. ``match`` takes dotted paths: ``match={"response.status": "cancelled"}``."""
        wanted = {**fields, **(match or {})}

        def find() -> dict[str, Any] | None:
            return next((e.event for _, e in self._entries(session_id)
                         if e.direction == direction and matches(e.event, etype, wanted)), None)

        found: dict[str, Any] | None = self.state.registry.wait(find, timeout)
        if found is None:
            raise AssertionError(self._near_misses(etype, direction, wanted, session_id, timeout))
        return found

    async def wait_for_async(self, etype: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """:meth:`wait_for` for async tests (runs the wait in a worker thread)."""
        return await asyncio.to_thread(lambda: self.wait_for(etype, **kwargs))

    def assert_event(self, etype: str, *, direction: str = "server", session_id: str | None = None,
                     match: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Assert that such an event was seen already (no waiting); failures show the near misses."""
        return self.wait_for(etype, direction=direction, timeout=0.0, session_id=session_id, match=match,
                             **fields)

    def _near_misses(self, etype: str | None, direction: str, wanted: dict[str, Any], session_id: str | None,
                     timeout: float) -> str:
        seen = [e.event for _, e in self._entries(session_id) if e.direction == direction]
        head = f"no {direction} event {etype or '(any type)'} with {wanted or '{}'} within {timeout:g}s"
        same = [e for e in seen if etype is None or e.get("type") == etype]
        lines = [head]
        if same:
            lines.append(f"{len(same)} {etype or ''} event(s) differ:")
            for event in same[-5:]:
                diffs = [f"{k}={get_path(event, k)!r} (wanted {v!r})" for k, v in wanted.items()
                         if get_path(event, k) != v]
                lines.append("  - " + ", ".join(diffs))
        else:
            types = sorted({str(e.get("type")) for e in seen})
            close = difflib.get_close_matches(etype or "", types, n=3, cutoff=0.5)
            lines.append(f"seen types: {', '.join(types) or 'none'}")
            if close:
                lines.append(f"did you mean: {', '.join(close)}?")
        return "\n".join(lines)

    # -- lockstep ------------------------------------------------------------------------------------------

    def next_client_event(self, etype: str | None = None, *, timeout: float = 5.0,
                          session_id: str | None = None) -> dict[str, Any]:
        """The next client event (after the last one this method returned), optionally of one type."""
        def find() -> JournalEntry | None:
            return next((e for _, e in self._entries(session_id) if e.direction == "client"
                         and e.seq > self._client_cursor and matches(e.event, etype, {})), None)

        entry: JournalEntry | None = self.state.registry.wait(find, timeout)
        if entry is None:
            raise AssertionError(f"no client event {etype or ''} within {timeout:g}s")
        self._client_cursor = entry.seq
        return entry.event

    def push_reply(self, reply: Reply, *, session_id: str | None = None, response_id: str | None = None) -> None:
        """Lockstep: give the waiting response (the oldest, unless named) this reply."""
        record = self._one_live(session_id)
        plan = reply.plan(record.session.options.pacing if record.session else None)
        self._act(record, lambda s, now: s.provide_reply(plan, now, response_id))

    def push_event(self, event: dict[str, Any], *, session_id: str | None = None) -> None:
        """Lockstep: send a raw server event as given (``event_id`` filled in)."""
        self._act(self._one_live(session_id), lambda s, now: _inject(s, event))

    # -- plumbing --------------------------------------------------------------------------------------------

    def _entries(self, session_id: str | None) -> list[tuple[SessionRecord, JournalEntry]]:
        pairs = [(r, e) for r, e in self.state.registry.entries() if session_id is None or r.id == session_id]
        pairs.sort(key=lambda p: p[1].seq)
        return pairs

    def _live(self, session_id: str) -> list[SessionRecord]:
        """The named live session, or with ``"*"`` every live Realtime session (the ones faults apply to)."""
        live = list(self.state.registry.live.values())
        return [r for r in live if r.session is not None] if session_id == "*" else [
            r for r in live if r.id == session_id]

    def _one_live(self, session_id: str | None) -> SessionRecord:
        """The named live session, or the only live Realtime one (GPT-Live and translation sessions, listed in
        the registry too, do not count: lockstep acts on Realtime sessions)."""
        live = list(self.state.registry.live.values())
        live = [r for r in live if r.id == session_id] if session_id is not None else [
            r for r in live if r.session is not None]
        if len(live) != 1:
            raise LookupError(f"expected one live session, found {len(live)}: name one with session_id=")
        return live[0]

    def _act(self, record: SessionRecord, action: Callable[[RealtimeSession, float], list[Output]]) -> None:
        connection = record.connection
        if connection is None or record.session is None:  # control actions act on Realtime sessions only
            raise LookupError(f"session {record.id} is not a live Realtime session")
        self._call(lambda: connection.apply(action))

    def _call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the server loop and wait for it (directly when already on the loop)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            fn()
            return
        done: Future[None] = Future()

        def run() -> None:  # a plain callback, not a task: the hop costs half of run_coroutine_threadsafe's
            if done.set_running_or_notify_cancel():
                try:
                    fn()
                except BaseException as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(None)

        self.loop.call_soon_threadsafe(run)
        done.result(timeout=10)


def _inject(session: RealtimeSession, event: dict[str, Any]) -> list[Output]:
    session.inject(json.loads(json.dumps(event)))
    return session.poll(session.now)
