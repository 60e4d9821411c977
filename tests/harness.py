"""A socket-free harness around the core: send client events, advance a virtual clock, get server events.

Every server event the harness sees is validated with the SDK's pydantic types (tests/protocol_types.py).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from mockrt.core import Close, RealtimeSession, Send, SessionOptions
from mockrt.core.dialects import GA, Beta
from mockrt.core.mcp import CallTool, ListTools, McpDirective
from mockrt.core.responses import Pacing
from tests.protocol_types import validate_server_event

Event = dict[str, Any]


class Harness:
    def __init__(self, dialect: str = "ga", *, now: float = 1000.0, **options: Any) -> None:
        self.dialect_name = dialect
        d = GA() if dialect == "ga" else Beta()
        options.setdefault("seed", 7)
        options.setdefault("created_at", 1_700_000_000)
        self.now = now
        self.session = RealtimeSession(SessionOptions(dialect=d, **options), now)
        self.closes: list[Close] = []
        self.directives: list[McpDirective] = []  # MCP directives not run yet (docs/protocol.md §9)
        self.events: list[Event] = []
        self.created = self._collect(self.session.start())

    def _collect(self, outputs: list[Any]) -> list[Event]:
        got: list[Event] = []
        for out in outputs:
            if isinstance(out, Send):
                # Round-trip through JSON, as the wire does.
                event = json.loads(json.dumps(out.event))
                validate_server_event(event, self.dialect_name)
                got.append(event)
            elif isinstance(out, ListTools | CallTool):
                self.directives.append(out)
            else:
                self.closes.append(out)
        self.events.extend(got)
        return got

    def send(self, event: Event) -> list[Event]:
        return self._collect(self.session.receive(event, self.now))

    def send_raw(self, text: str) -> list[Event]:
        return self._collect(self.session.receive_text(text, self.now))

    def receive_bytes(self, data: bytes) -> list[Event]:
        return self._collect(self.session.receive_bytes(data, self.now))

    def advance(self, seconds: float) -> list[Event]:
        self.now += seconds
        return self._collect(self.session.poll(self.now))

    def run_mcp(self, executor: Any) -> list[Event]:
        """Run the pending MCP directives with ``executor`` (e.g. a ``StandInExecutor``), feeding each result
        back at the current virtual time, until none is left."""
        import asyncio

        got: list[Event] = []
        while self.directives:
            directive = self.directives.pop(0)
            result = asyncio.run(executor.run(directive))
            got += self._collect(self.session.mcp_result(result, self.now))
        return got

    def run_until_call(self, limit_s: float = 600.0) -> list[Event]:
        """Advance virtual time until a response waits for an MCP directive."""
        got: list[Event] = []
        while not self.directives:
            deadline = self.session.next_deadline()
            assert deadline is not None and deadline - self.now < limit_s, "no MCP directive came"
            self.now = max(self.now, deadline)
            got += self._collect(self.session.poll(self.now))
        return got

    def run_until_idle(self, limit_s: float = 600.0) -> list[Event]:
        """Advance virtual time to each deadline until no response is in flight."""
        got: list[Event] = []
        while self.session.runs:
            deadline = self.session.next_deadline()
            assert deadline is not None
            assert deadline - self.now < limit_s, "response never finished"
            self.now = max(self.now, deadline)
            got += self._collect(self.session.poll(self.now))
        return got

    # -- conveniences ------------------------------------------------------------------------------------

    def user_text(self, text: str, **extra: Any) -> list[Event]:
        part = {"type": "input_text", "text": text}
        return self.send({"type": "conversation.item.create",
                          "item": {"type": "message", "role": "user", "content": [part]}, **extra})

    def text_modality(self) -> Event:
        return {"output_modalities": ["text"]} if self.dialect_name == "ga" else {"modalities": ["text"]}

    def append_ms(self, ms: float, *, amplitude: float = 0.0, freq: float = 440.0) -> list[Event]:
        fmt = self.session.buffer.format
        n = round(ms * fmt.rate / 1000.0)
        t = np.arange(n) / fmt.rate
        pcm = (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
        return self.send({"type": "input_audio_buffer.append",
                          "audio": base64.b64encode(fmt.encode(pcm)).decode()})


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def only(events: list[Event], etype: str) -> Event:
    found = [e for e in events if e["type"] == etype]
    assert len(found) == 1, f"expected one {etype}, got {types(events)}"
    return found[0]


def error_of(events: list[Event]) -> dict[str, Any]:
    assert types(events) == ["error"], f"expected exactly one error, got {types(events)}"
    err: dict[str, Any] = events[0]["error"]
    return err


FAST = Pacing(audio_speed=0.0)
SLOW = Pacing(first_delta_ms=50.0, text_delta_ms=20.0, audio_speed=5.0)
