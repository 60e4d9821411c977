"""A Realtime WebSocket client for cases: records every frame, validates every server event, tracks ids.

:class:`Session` wraps one WebSocket connection (the sync ``websockets`` client). Every server event it receives
is validated with the SDK's models for the dialect (:mod:`conformance.validate`) and fed to the consistency
:class:`~conformance.tracker.Tracker`; every frame in either direction is appended to the session's
:class:`Transcript` (the ``mockrt record`` JSONL format). Waiting is always on events with a timeout, never a
sleep. ``rate_limits.updated`` is a *background* event: it is recorded, validated and tracked, but the waiting
helpers step over it (its timing differs by dialect and it trails ``response.done`` on GA, §3.9); cases that
care read :attr:`Session.history`.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, cast

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from conformance.checks import CaseFailure, _short, collapse, expect_equal, expect_match
from conformance.tracker import Tracker
from conformance.validate import validate_server_event
from conformance.wire import BYTES_PER_MS, UNSET, canonical, name, session_payload

Json = dict[str, Any]
Where = Callable[[Json], bool]

BACKGROUND = frozenset({"rate_limits.updated"})
_ANY: Any = object()


class HandshakeRefused(Exception):
    """The server refused the WebSocket upgrade with an HTTP status (Azure auth failures, §1.2)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status} at the WebSocket upgrade")
        self.status = status
        self.body = body


class Transcript:
    """Every frame of one session, as JSONL lines: a header, then ``{"t", "dir", "event"|"raw"|...}``."""

    def __init__(self, target: str, dialect: str, url: str, case_id: str) -> None:
        self.started = time.time()
        self._t0 = time.monotonic()
        self.lines: list[Json] = [{"mockrt_recording": 1, "target": url, "dialect": dialect,
                                   "started_at": round(self.started, 3), "upstream": target, "case": case_id}]

    def _t(self) -> float:
        return round(time.monotonic() - self._t0, 4)

    def event(self, direction: str, event: Json) -> None:
        self.lines.append({"t": self._t(), "dir": direction, "event": event})

    def raw(self, direction: str, text: str) -> None:
        self.lines.append({"t": self._t(), "dir": direction, "raw": text})

    def binary(self, direction: str, size: int) -> None:
        self.lines.append({"t": self._t(), "dir": direction, "binary": size})

    def close(self, direction: str, code: int | None, reason: str) -> None:
        self.lines.append({"t": self._t(), "dir": direction, "close": {"code": code, "reason": reason}})

    def rejected(self, status: int, body: str) -> None:
        self.lines.append({"t": self._t(), "dir": "server", "rejected": {"status": status, "body": body}})

    def dumps(self) -> str:
        return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in self.lines)

    def tail(self, n: int = 25, width: int = 200) -> str:
        """The last ``n`` frames, one short line each (for failure messages)."""
        out = []
        for line in self.lines[1:][-n:]:
            payload = line.get("event", line.get("raw", line.get("binary", line.get("close", line.get("rejected")))))
            out.append(f"  {line['t']:8.3f} {line['dir']:>6} {_short(payload, width)}")
        return "\n".join(out)


class Turn:
    """The events of one response, from ``response.created`` to its ``response.done``."""

    def __init__(self, dialect: str, events: list[Json], response_id: str) -> None:
        self.dialect = dialect
        self.events = events
        self.response_id = response_id
        self.done = events[-1]
        self.response: Json = self.done["response"]

    @property
    def status(self) -> str:
        return str(self.response.get("status"))

    def of(self, ga_type: str) -> list[Json]:
        return [e for e in self.events if canonical(str(e.get("type"))) == ga_type]

    def first(self, ga_type: str) -> Json:
        found = self.of(ga_type)
        if not found:
            raise CaseFailure(f"no {name(self.dialect, ga_type)} in the response's events: "
                              f"{collapse([str(e.get('type')) for e in self.events])}")
        return found[0]

    def text(self) -> str:
        return "".join(str(e.get("delta", "")) for e in self.of("response.output_text.delta"))

    def transcript(self) -> str:
        return "".join(str(e.get("delta", "")) for e in self.of("response.output_audio_transcript.delta"))

    def audio(self) -> bytes:
        return b"".join(base64.b64decode(e["delta"]) for e in self.of("response.output_audio.delta"))


class Session:
    """One WebSocket session of a case."""

    def __init__(self, ws: ClientConnection, dialect: str, transcript: Transcript, *, deadline: float,
                 wait_cap: float, scale: float = 1.0, on_close: Callable[[Session], None] | None = None) -> None:
        self.ws = ws
        self.scale = scale
        self.dialect = dialect
        self.transcript = transcript
        self.deadline = deadline
        self.wait_cap = wait_cap
        self.tracker = Tracker(dialect)
        self.history: list[Json] = []
        self.sent_types: list[str] = []
        self._pending: deque[Json] = deque()
        self._barriers = 0
        self.closed: tuple[int | None, str] | None = None
        self._on_close = on_close
        self.created: Json = {}

    # -- connecting ----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, headers: dict[str, str], subprotocols: list[str], dialect: str,
             transcript: Transcript, deadline: float, wait_cap: float, local: bool, scale: float = 1.0,
             on_close: Callable[[Session], None] | None = None, tls: ssl.SSLContext | None = None) -> Session:
        """Connect (``wss://`` with ``tls``, the target's CA, when given); raise :class:`HandshakeRefused` when
        the server answers the upgrade with an HTTP error."""
        timeout = max(0.5, min(wait_cap, deadline - time.monotonic()))
        try:
            ws = connect(url, additional_headers=headers, ssl=tls if url.startswith("wss://") else None,
                         subprotocols=cast(list[Subprotocol], subprotocols) if subprotocols else None,
                         open_timeout=timeout, max_size=None, max_queue=None, compression=None,
                         proxy=None if local else True, ping_interval=None, close_timeout=2.0)
        except InvalidStatus as exc:
            body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
            transcript.rejected(exc.response.status_code, body)
            raise HandshakeRefused(exc.response.status_code, body) from None
        return cls(ws, dialect, transcript, deadline=deadline, wait_cap=wait_cap, scale=scale, on_close=on_close)

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    def close(self) -> None:
        if self.closed is None:
            try:
                self.ws.close()
            finally:
                rcvd = self.ws.protocol.close_rcvd
                self.closed = (rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
                self.transcript.close("client", 1000, "")
        if self._on_close is not None:
            self._on_close(self)
            self._on_close = None

    # -- sending -------------------------------------------------------------------------------------------

    def send(self, event: Json) -> None:
        self.transcript.event("client", event)
        if isinstance(event.get("type"), str):
            self.sent_types.append(event["type"])
        self.ws.send(json.dumps(event))

    def send_raw(self, text: str) -> None:
        self.transcript.raw("client", text)
        self.ws.send(text)

    def send_binary(self, data: bytes) -> None:
        self.transcript.binary("client", len(data))
        self.ws.send(data)

    def append(self, audio: bytes, fmt: str = "pcm16", chunk_ms: int = 100) -> None:
        """``input_audio_buffer.append`` ``audio`` in chunks of ``chunk_ms`` (whole samples)."""
        step = max(1, chunk_ms * BYTES_PER_MS[fmt])
        for start in range(0, len(audio), step):
            chunk = audio[start: start + step]
            self.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode("ascii")})

    # -- receiving -----------------------------------------------------------------------------------------

    def _timeout(self, timeout: float | None) -> float:
        """An explicit timeout is in mock seconds (scaled like the case's); the default is the run's wait cap."""
        remaining = self.deadline - time.monotonic()
        return max(0.0, min(remaining, timeout * self.scale if timeout is not None else self.wait_cap))

    def _receive(self, timeout: float | None) -> Json:
        wait = self._timeout(timeout)
        try:
            frame = self.ws.recv(timeout=wait)
        except TimeoutError:
            raise CaseFailure(f"no server event within {wait:.1f} s") from None
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            self.closed = (rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
            self.transcript.close("server", *self.closed)
            raise
        if isinstance(frame, bytes):
            self.transcript.binary("server", len(frame))
            raise CaseFailure("the server sent a binary frame (§1.8: every message is a JSON text frame)")
        try:
            event = json.loads(frame)
        except ValueError:
            self.transcript.raw("server", frame)
            raise CaseFailure(f"the server sent a text frame that is not JSON: {frame[:200]!r}") from None
        if not isinstance(event, dict):
            self.transcript.raw("server", frame)
            raise CaseFailure("the server sent a JSON value that is not an object")
        self.transcript.event("server", event)
        self.history.append(event)
        validate_server_event(event, self.dialect)
        if self.dialect != "live":  # the tracker follows Realtime items and responses; Live has neither
            self.tracker.feed(event)
        return event

    def _next_any(self, timeout: float | None) -> Json:
        if self._pending:
            return self._pending.popleft()
        return self._receive(timeout)

    def next(self, timeout: float | None = None) -> Json:
        """The next non-background event."""
        while True:
            event = self._next_any(timeout)
            if canonical(str(event.get("type"))) not in BACKGROUND:
                return event

    def until(self, ga_type: str, *, where: Where | None = None, timeout: float | None = None) -> list[Json]:
        """Consume events up to and including the first of ``ga_type`` (canonical name) matching ``where``."""
        seen: list[Json] = []
        while True:
            try:
                event = self._next_any(timeout)
            except CaseFailure as exc:
                raise CaseFailure(f"waiting for {name(self.dialect, ga_type)}: {exc}; received meanwhile: "
                                  f"{collapse([str(e.get('type')) for e in seen])}") from None
            except ConnectionClosed:
                raise CaseFailure(f"waiting for {name(self.dialect, ga_type)}: the server closed the connection "
                                  f"{self.closed}; received meanwhile: "
                                  f"{collapse([str(e.get('type')) for e in seen])}") from None
            seen.append(event)
            if canonical(str(event.get("type"))) == ga_type and (where is None or where(event)):
                return seen

    def wait(self, ga_type: str, *, where: Where | None = None, timeout: float | None = None) -> Json:
        return self.until(ga_type, where=where, timeout=timeout)[-1]

    def expect(self, ga_type: str, *, timeout: float | None = None) -> Json:
        """The next (non-background) event must be ``ga_type``."""
        try:
            event = self.next(timeout)
        except ConnectionClosed:
            raise CaseFailure(f"expected {name(self.dialect, ga_type)}, but the server closed the connection "
                              f"{self.closed}") from None
        if canonical(str(event.get("type"))) != ga_type:
            raise CaseFailure(f"expected {name(self.dialect, ga_type)} next, got {_short(event, 400)}")
        return event

    def expect_error(self, *, code: Any = _ANY, message: Any = _ANY, param: Any = _ANY, event_id: Any = _ANY,
                     message_re: str | None = None, type: str = "invalid_request_error",
                     timeout: float | None = None) -> Json:
        """The next (non-background) event must be an ``error`` with these fields; returns the error object."""
        event = self.expect("error", timeout=timeout)
        error: Json = event["error"]
        expect_equal(error.get("type"), type, "error.type")
        if code is not _ANY:
            expect_equal(error.get("code"), code, "error.code")
        if message is not _ANY:
            expect_equal(error.get("message"), message, "error.message")
        if message_re is not None:
            expect_match(error.get("message"), message_re, "error.message")
        if param is not _ANY:
            expect_equal(error.get("param"), param, "error.param")
        if event_id is not _ANY:
            expect_equal(error.get("event_id"), event_id, "error.event_id")
        return error

    def barrier(self, timeout: float | None = None) -> list[Json]:
        """Everything the server sent (non-background) before it answered a side-effect-free probe.

        The probe is a ``conversation.item.retrieve`` of an id that does not exist, with a unique ``event_id``;
        its error echoes that id (§2.8, §3.2), which marks the point in the stream.
        """
        self._barriers += 1
        marker = f"conformance_barrier_{self._barriers}"
        self.send({"type": "conversation.item.retrieve", "event_id": marker, "item_id": "item_conformance_none"})
        events = self.until("error", where=lambda e: (e.get("error") or {}).get("event_id") == marker,
                            timeout=timeout)
        return [e for e in events[:-1] if canonical(str(e.get("type"))) not in BACKGROUND]

    def expect_quiet(self, what: str) -> None:
        """Nothing (but background events) arrives before a barrier."""
        extra = self.barrier()
        if extra:
            raise CaseFailure(f"{what}: expected no server events, got {collapse([str(e['type']) for e in extra])}: "
                              f"{_short(extra[0], 300)}")

    def wait_closed(self, timeout: float | None = None) -> tuple[int | None, str]:
        """Wait for the server's close; events before it are recorded. Returns ``(code, reason)``."""
        while self.closed is None:
            try:
                self._next_any(timeout)
            except ConnectionClosed:
                break
        assert self.closed is not None
        return self.closed

    # -- dialect-aware conveniences ------------------------------------------------------------------------

    def w(self, ga_type: str) -> str:
        """The wire name of a GA event name in this session's dialect."""
        return name(self.dialect, ga_type)

    def update(self, *, kind: str = "realtime", **fields: Any) -> Json:
        """``session.update`` built by :func:`conformance.wire.session_payload`; returns the updated session."""
        self.send({"type": "session.update", "session": session_payload(self.dialect, kind=kind, **fields)})
        return self.expect("session.updated")["session"]  # type: ignore[no-any-return]

    def create_item(self, item: Json, *, previous: Any = UNSET, event_id: str | None = None) -> Json:
        """``conversation.item.create``; returns the item event (GA: ``added``, then checks ``done``)."""
        event: Json = {"type": "conversation.item.create", "item": item}
        if previous is not UNSET:
            event["previous_item_id"] = previous
        if event_id is not None:
            event["event_id"] = event_id
        self.send(event)
        added = self.expect("conversation.item.added")
        if self.dialect == "ga":
            done = self.expect("conversation.item.done")
            expect_equal(done["item"]["id"], added["item"]["id"], "conversation.item.done item id")
        return added

    def respond(self, response: Json | None = None, *, event_id: str | None = None,
                timeout: float | None = None) -> Turn:
        """``response.create`` and wait for that response's ``response.done``."""
        event: Json = {"type": "response.create"}
        if response is not None:
            event["response"] = response
        if event_id is not None:
            event["event_id"] = event_id
        self.send(event)
        return self.collect_response(timeout=timeout)

    def collect_response(self, *, timeout: float | None = None, before: Iterable[Json] = ()) -> Turn:
        """Wait for the next ``response.created`` and that response's ``response.done``."""
        events = list(before)
        events += self.until("response.created", timeout=timeout)
        created = events[-1]
        rid = created["response"]["id"]
        start = len(events) - 1
        events += self.until("response.done", where=lambda e: e["response"]["id"] == rid, timeout=timeout)
        return Turn(self.dialect, events[start:], rid)

    def usage_tokens(self) -> tuple[int, int, int, int]:
        """``(total, input, output, responses)`` summed over this session's ``response.done`` events."""
        t = self.tracker
        return t.usage_total, t.usage_input, t.usage_output, t.response_count

    def session_input_format(self) -> str:
        from conformance.wire import session_format

        session = self.created.get("session") or {}
        return session_format(self.dialect, session, "input")
