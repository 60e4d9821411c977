"""Faults and races, injected deterministically (races as in livekit/agents#6817 and pipecat#3960).

A :class:`Faults` value describes what to break in one session; :class:`FaultInjector` applies it to the
session's output (drop, duplicate, delay, reorder, split audio deltas), fires connection faults (close codes,
abrupt drop, stall) and service errors on triggers, and tells the session which races to provoke. Everything is
seeded and driven by the session's own clock, so a fault reproduces exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from mockrt.audio import b64
from mockrt.core import errors
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.outputs import Abort, Close, Output, Send, Stall

if TYPE_CHECKING:
    from mockrt.core.dialects.base import Dialect

CLOSE_CODES = (1000, 1001, 1006, 1011, 1012, 1013)
"""Close codes a fault can use; 1006 means an abrupt drop without a close frame (the SDK reconnects on 1001,
1006, 1011, 1012, 1013: openai-python 3.x)."""

ServiceErrorCode = Literal["rate_limit_exceeded", "server_error", "session_expired", "insufficient_quota"]
Race = Literal["auto_response_after_tool_output", "auto_response_after_commit", "barge_in_before_audio"]
SERVICE_ERRORS: tuple[ServiceErrorCode, ...] = get_args(ServiceErrorCode)
RACES: tuple[Race, ...] = get_args(Race)


_NEVER = object()
"""The client event of a trigger whose ``on_client_event`` the session's dialect does not have."""


@dataclass
class Trigger:
    """When a one-shot fault fires: after the N-th server event, and/or on a client event (internal)."""

    after_server_events: int | None = None
    on_client_event: ClientEvent | object | None = None

    def due(self, server_events: int, client_event: ClientEvent | None) -> bool:
        if self.on_client_event is not None and client_event is not self.on_client_event:
            return False
        if self.after_server_events is not None and server_events < self.after_server_events:
            return False
        return self.on_client_event is not None or self.after_server_events is not None


@dataclass
class Faults:
    """What to break in a session. Every field is optional; the empty value breaks nothing.

    Attributes:
        drop / duplicate / reorder: server event types (wire names) to drop, send twice, or hold back behind the
            next event.
        delay_ms: server event type (wire name) → extra delay (the event is overtaken by later ones).
        split_audio_deltas: split each audio delta into this many frames (sample-aligned).
        close: ``{"code": 1011, "reason": "...", **trigger}``; code 1006 drops the TCP connection abruptly. A
            trigger is ``after_server_events: N`` and/or ``on_client_event: <client event type, a wire name>``.
        stall: ``{"seconds": 5 | None, **trigger}``: stop reading and writing.
        service_error: ``{"kind": "rate_limit_exceeded" | "server_error" | "session_expired" |
            "insufficient_quota", "times": 1, **trigger}`` (trigger default: the next ``response.create``).
        races: names from :data:`RACES`.
        seed: seed for anything random (jittered delays).
        refuse: ``{"status": 401 | 403 | 429, "retry_after": 2, "times": 1}``: refuse new handshakes with this
            HTTP status (applied by the server, before any session exists).
    """

    drop: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    reorder: list[str] = field(default_factory=list)
    delay_ms: dict[str, float] = field(default_factory=dict)
    split_audio_deltas: int = 0
    close: dict[str, Any] | None = None
    stall: dict[str, Any] | None = None
    service_error: dict[str, Any] | None = None
    races: list[Race] = field(default_factory=list)
    seed: int = 0
    refuse: dict[str, Any] | None = None  # server level: refuse the next handshakes (see mockrt.server)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Faults:
        """Build from JSON/YAML; raises ``ValueError`` naming the offending key."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        faults = cls(**raw)
        if faults.close is not None and int(faults.close.get("code", 1011)) not in CLOSE_CODES:
            raise ValueError(f"close.code must be one of {CLOSE_CODES}")
        if faults.service_error is not None and faults.service_error.get("kind") not in SERVICE_ERRORS:
            raise ValueError(f"service_error.kind must be one of {SERVICE_ERRORS}")
        bad = [r for r in faults.races if r not in RACES]
        if bad:
            raise ValueError(f"unknown race(s): {', '.join(bad)}; known: {', '.join(RACES)}")
        return faults

    @property
    def empty(self) -> bool:
        return self == Faults(seed=self.seed)


def _trigger(spec: dict[str, Any], dialect: Dialect, default_client_event: ClientEvent | None = None) -> Trigger:
    wire = spec.get("on_client_event")
    trig = Trigger(spec.get("after_server_events"),
                   None if wire is None else dialect.client_event(wire) or _NEVER)
    if trig.after_server_events is None and trig.on_client_event is None:
        if default_client_event is None:
            trig.after_server_events = 0
        else:
            trig.on_client_event = default_client_event
    return trig


def service_error(code: ServiceErrorCode, model: str | None) -> errors.ProtocolError:
    """The service's shape for each injectable error (§3.2, §4.10, §6.2)."""
    if code == "rate_limit_exceeded":
        return errors.ProtocolError(
            f"Rate limit reached for {model or 'gpt-realtime'} in organization org-mockrt on tokens per min (TPM): "
            "Limit 40000, Used 39000, Requested 9000. Please try again in 6.946s.",
            "rate_limit_exceeded", None, "tokens")
    if code == "insufficient_quota":
        return errors.ProtocolError(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota", None, "insufficient_quota")
    if code == "session_expired":
        return errors.session_expired(60)
    return errors.ProtocolError("The server had an error while processing your request. Sorry about that!",
                                "server_error", None, "server_error")


class FaultInjector:
    """Applies :class:`Faults` to one session's output stream."""

    def __init__(self, new_event_id: Callable[[], str], dialect: Dialect, faults: Faults | None = None) -> None:
        self.new_event_id = new_event_id
        self.dialect = dialect
        self.set(faults or Faults())

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self.active = not faults.empty  # checked on every event: computed once
        self.rng = random.Random(faults.seed)
        self._held: Send | None = None
        dialect = self.dialect
        self._close = _trigger(faults.close, dialect) if faults.close else None
        self._stall = _trigger(faults.stall, dialect) if faults.stall else None
        self._service = (_trigger(faults.service_error, dialect, ClientEvent.RESPONSE_CREATE)
                         if faults.service_error else None)
        self._service_left = int((faults.service_error or {}).get("times", 1))
        self.server_events = 0

    def race(self, name: Race) -> bool:
        return name in self.faults.races

    def service_error_due(self, client_event: ClientEvent) -> ServiceErrorCode | None:
        """The service error to answer ``client_event`` with, if one is due now."""
        if self._service is None or self._service_left <= 0:
            return None
        if not self._service.due(self.server_events, client_event):
            return None
        self._service_left -= 1
        code = (self.faults.service_error or {}).get("kind")
        return code if code in SERVICE_ERRORS else "server_error"

    def connection_fault(self, client_event: ClientEvent | None) -> list[Output]:
        """Close / abort / stall directives that are due (checked after every client event and server event)."""
        out: list[Output] = []
        if self._stall is not None and self._stall.due(self.server_events, client_event):
            self._stall = None
            out.append(Stall((self.faults.stall or {}).get("seconds")))
        if self._close is not None and self._close.due(self.server_events, client_event):
            self._close = None
            spec = self.faults.close or {}
            code = int(spec.get("code", 1011))
            out.append(Abort() if code == 1006 else Close(code, str(spec.get("reason", ""))))
        return out

    def transform(self, send: Send) -> tuple[list[Send], float]:
        """What to send instead of ``send`` now, and an extra delay (seconds) for it."""
        self.server_events += 1
        event = send.event
        etype = event["type"]
        f = self.faults
        if etype in f.drop:
            return [], 0.0
        sends = [send]
        if f.split_audio_deltas > 1 and self.dialect.server_event(etype) is ServerEvent.OUTPUT_AUDIO_DELTA:
            sends = [Send({**event, "event_id": event["event_id"] if i == 0 else self.new_event_id(), "delta": chunk})
                     for i, chunk in enumerate(_split_b64(event["delta"], f.split_audio_deltas))]
        if etype in f.duplicate:
            sends = sends + sends
        delay = float(f.delay_ms.get(etype, 0.0)) / 1000.0
        if etype in f.reorder and self._held is None:
            self._held = sends[0]
            return sends[1:], delay
        if self._held is not None:
            held, self._held = self._held, None
            sends = [*sends, held]
        return sends, delay


def _split_b64(data: str, parts: int) -> list[str]:
    raw = b64.decode_strict(data)
    step = max(2, (len(raw) // parts) // 2 * 2)
    chunks = [raw[i: i + step] for i in range(0, len(raw), step)] or [raw]
    return [b64.encode(c) for c in chunks]
