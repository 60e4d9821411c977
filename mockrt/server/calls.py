"""Calls (WebRTC and SIP) and their registry: one :class:`RealtimeSession` per call, several I/O loops around it
(docs/protocol.md §11).

A call owns ONE session. Its transports are additional loops around that same core, never a second copy of the
protocol: the WebRTC peer (:mod:`mockrt.server.webrtc`: Opus in, Opus out, the ``oai-events`` data channel), the
simulated SIP caller (:mod:`mockrt.server.sip`) and any number of sideband WebSockets (``?call_id=``). Every
event the session produces goes to every attached event channel; caller audio goes in through
:meth:`RealtimeSession.feed_audio`; the transport pulls the assistant's audio in real time through
:meth:`Call.pull_audio`, which is where ``output_audio_buffer.started/.stopped`` come from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from mockrt.audio.formats import AudioFormat
from mockrt.core.ids import IdGenerator
from mockrt.core.mcp import CallTool, ListTools
from mockrt.core.outputs import Abort, Close, Output, Send
from mockrt.core.sans_io import SansIOSession
from mockrt.server.deadline import DeadlineTimer
from mockrt.server.mcp_runner import ExecutorFactory, McpHost, McpRunner
from mockrt.server.registry import SessionRecord

logger = logging.getLogger("mockrt.calls")


MAX_BACKLOG = 1000
"""Events kept for the first event channel of a call (a caller whose data channel never opens must not grow
memory)."""

PHONE_RATE = 8000
"""The simulated phone line's rate (G.711, docs/protocol.md §11)."""

MAX_HEARD_S = 15 * 60
"""Seconds of played-out audio a call keeps for the inspector (``Call.heard``); later audio is not kept."""

CallStatus = Literal["incoming", "active", "ended", "rejected", "referred"]


class _Formatted(Protocol):
    @property
    def format(self) -> AudioFormat: ...


class _OutputFormatted(Protocol):
    @property
    def output_format(self) -> AudioFormat: ...


class CallSession(SansIOSession, Protocol):
    """What a call drives (docs/protocol.md §11, §13.8): a sans-I/O session that takes caller audio and gives the
    audio the caller hears — a :class:`~mockrt.core.session.RealtimeSession`, or a Live session's call adapter
    (:mod:`mockrt.server.live_calls`)."""

    @property
    def buffer(self) -> _Formatted: ...

    @property
    def config(self) -> _OutputFormatted: ...

    def feed_audio(self, data: bytes, now: float) -> list[Output]: ...

    def pull_audio(self, n_bytes: int, now: float) -> tuple[bytes, list[Output]]: ...

    def dtmf(self, digit: str, now: float) -> list[Output]: ...


class EventChannel(Protocol):
    """Somewhere a call's server events go: the WebRTC data channel or a sideband WebSocket."""

    def send_text(self, text: str) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class QueueChannel:
    """An :class:`EventChannel` drained by an async writer (the sideband WebSocket's)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()

    def send_text(self, text: str) -> None:
        self.queue.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        self.queue.put_nowait((code, reason))


@dataclass
class Call:
    """One call and the session that serves it (the session starts when the call does: on create for WebRTC,
    on accept for SIP)."""

    id: str
    kind: Literal["webrtc", "sip"]
    created_at: int
    status: CallStatus = "incoming"
    session: CallSession | None = None
    record: SessionRecord | None = None
    channels: list[EventChannel] = field(default_factory=list)
    on_end: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # transports release here
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    end_reason: str = ""
    sip: dict[str, object] = field(default_factory=dict)  # the simulated caller's request (SIP)
    backlog: list[str] | None = field(default_factory=list)  # events before the first channel attached
    heard: bytearray = field(default_factory=bytearray)  # what the far end heard, in ``heard_format``
    heard_format: AudioFormat = AudioFormat.G711_ULAW  # SIP: the line's µ-law at 8 kHz; WebRTC: pcm16 at 24 kHz
    mcp: McpRunner | None = None  # the session's MCP directives in flight (§9, §13.5)
    _timer: DeadlineTimer = field(init=False)

    def __post_init__(self) -> None:
        self._timer = DeadlineTimer(self._on_timer)

    @property
    def live(self) -> bool:
        return self.status == "active" and self.session is not None and not self.session.closed

    # -- driving the one session ---------------------------------------------------------------------

    def start(self, session: CallSession, record: SessionRecord | None,
                mcp_executor: ExecutorFactory | None = None) -> None:
        """The call's session starts; with ``mcp_executor`` its MCP directives run as a WebSocket session's do."""
        self.session, self.record, self.status = session, record, "active"
        if mcp_executor is not None and isinstance(session, McpHost):
            self.mcp = McpRunner(session, self.now, self.push, mcp_executor)
            self.on_end.append(self.mcp.aclose)
        self.push(session.start())

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def push(self, outputs: list[Output]) -> None:
        """Fan the session's outputs out to every event channel, in order; a Close ends the call."""
        for out in outputs:
            if isinstance(out, Send):
                text = out.frame.decode()
                if self.backlog is not None:
                    if len(self.backlog) < MAX_BACKLOG:
                        self.backlog.append(text)
                    continue
                for channel in list(self.channels):
                    channel.send_text(text)
            elif isinstance(out, ListTools | CallTool):
                if self.mcp is not None:
                    self.mcp.start(out)
            elif isinstance(out, Close | Abort):
                asyncio.get_running_loop().create_task(self.end("session closed", 1000))
                return
        self._schedule()

    def _schedule(self) -> None:
        session = self.session
        self._timer.set(session.next_deadline() if session is not None and self.live else None)

    def _on_timer(self) -> None:
        if self.live and self.session is not None:
            self.push(self.session.poll(self.now()))

    def receive_text(self, text: str) -> None:
        """A client event from any event channel (data channel or sideband)."""
        if self.live and self.session is not None:
            self.push(self.session.receive_text(text, self.now()))

    def receive_bytes(self, data: bytes) -> None:
        if self.live and self.session is not None:
            self.push(self.session.receive_bytes(data, self.now()))

    def feed_audio(self, data: bytes) -> None:
        """Caller audio, already in the session's input format."""
        if self.live and self.session is not None:
            self.push(self.session.feed_audio(data, self.now()))

    def pull_audio(self, n_bytes: int) -> bytes:
        """The next ``n_bytes`` of assistant audio (session output format) the transport plays now."""
        if not self.live or self.session is None:
            return b""
        data, outputs = self.session.pull_audio(n_bytes, self.now())
        self.push(outputs)
        return data

    def dtmf(self, digit: str) -> None:
        if self.live and self.session is not None:
            self.push(self.session.dtmf(digit, self.now()))

    def keep_heard(self, data: bytes) -> None:
        """Keep what the transport just played to the far end (already in :attr:`heard_format`), silence
        included so the recording runs on the media clock; at most :data:`MAX_HEARD_S` seconds."""
        room = MAX_HEARD_S * 1000 * self.heard_format.bytes_per_ms - len(self.heard)
        if room > 0:
            self.heard += data[:room]

    @property
    def heard_ms(self) -> int:
        return len(self.heard) // self.heard_format.bytes_per_ms

    def heard_pcm(self) -> npt.NDArray[np.int16]:
        """What the far end heard, decoded: pcm16 at ``heard_format.rate`` (the SIP caller's line: 8 kHz; what a
        WebRTC peer was sent, before Opus: 24 kHz)."""
        data = bytes(self.heard)
        return self.heard_format.decode(data[: len(data) - len(data) % self.heard_format.sample_width])

    def attach(self, channel: EventChannel) -> None:
        """A new event channel; the first one also gets what the session said before it was there
        (``session.created`` precedes the data channel's opening)."""
        self.channels.append(channel)
        backlog, self.backlog = self.backlog, None
        for text in backlog or ():
            channel.send_text(text)

    def detach(self, channel: EventChannel) -> None:
        with contextlib.suppress(ValueError):
            self.channels.remove(channel)

    async def end(self, reason: str, code: int = 1000, status: CallStatus = "ended") -> None:
        """End the call once: close every event channel, release the transports, close the session's journal."""
        if self.ended.is_set():
            return
        self.ended.set()
        self.end_reason = reason
        if self.status in ("incoming", "active"):
            self.status = status
        self._timer.close()
        if self.session is not None:
            self.session.closed = True
        for channel in list(self.channels):
            channel.close(code, reason)
        self.channels.clear()
        for release in self.on_end:
            try:
                await release()
            except Exception:  # a transport failing to close must not keep the others open
                logger.exception("call %s: releasing a transport failed", self.id)
        self.on_end.clear()
        logger.info("call %s ended: %s", self.id, reason)


class CallRegistry:
    """Calls by id: pending, live, and a bounded memory of ended ones (their status answers late requests)."""

    def __init__(self, keep_ended: int = 256) -> None:
        self.calls: dict[str, Call] = {}
        self._ended: list[str] = []
        self.keep_ended = keep_ended

    def add(self, call: Call) -> Call:
        self.calls[call.id] = call
        call.on_end.append(self._ended_hook(call))
        return call

    def get(self, call_id: str) -> Call | None:
        return self.calls.get(call_id)

    def _ended_hook(self, call: Call) -> Callable[[], Awaitable[None]]:
        async def forget_later() -> None:
            self._ended.append(call.id)
            while len(self._ended) > self.keep_ended:
                self.calls.pop(self._ended.pop(0), None)
        return forget_later

    def for_session(self, session_id: str) -> Call | None:
        """The call a session serves, if it serves one (the inspector asks)."""
        return next((c for c in self.calls.values() if c.record is not None and c.record.id == session_id), None)

    @property
    def live(self) -> list[Call]:
        return [c for c in self.calls.values() if not c.ended.is_set()]

    async def end_all(self, reason: str = "server shutting down") -> None:
        for call in self.live:
            await call.end(reason, 1001)


def new_call_id(ids: IdGenerator) -> str:
    """A call id in the service's form (``rtc_…``)."""
    return "rtc_" + ids.call().removeprefix("call_")
