"""Server-wide state: settings, keys, dialects, the loaded scenario, server faults and the session registry.

:meth:`MockState.new_session` is the one place where a handshake becomes a configured
:class:`~mockrt.core.session.RealtimeSession`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from typing import Any

from mockrt.config import ServerConfig
from mockrt.core.brain import Brain, DefaultBrain
from mockrt.core.dialects import GA, Beta, Dialect, VoiceLive
from mockrt.core.dialects.live import LiveDialect
from mockrt.core.faults import Faults
from mockrt.core.ids import IdGenerator
from mockrt.core.live.events import LiveServerEvent
from mockrt.core.live.session import LiveSession
from mockrt.core.session import RealtimeSession, SessionOptions
from mockrt.core.transcription import Transcriber
from mockrt.core.turn_taking import VadOptions
from mockrt.mcp.executor import McpExecutor
from mockrt.scenarios import Scenario, ScriptedBrain, load_scenario
from mockrt.server import handshake
from mockrt.server.calls import CallRegistry
from mockrt.server.registry import Registry, SessionRecord
from mockrt.transcribers import make_transcriber


class MockState:
    """Everything the app shares between connections."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.keys = handshake.KeyChecker(config.api_keys, config.max_ephemeral_keys)
        silence = config.bare_server_vad_silence_ms
        self.dialects: dict[tuple[str, str], Dialect] = {
            ("openai", "ga"): GA(bare_silence_ms=silence, item_object=config.item_object),
            ("azure", "ga"): GA(bare_silence_ms=silence, item_object=config.item_object),
            ("openai", "beta"): Beta(bare_silence_ms=silence),
            ("azure", "beta"): Beta(bare_silence_ms=silence, azure=True),
            ("voice-live", "beta"): VoiceLive(bare_silence_ms=silence),
        }
        self.transcriber = make_transcriber(config.transcriber)
        self.counter = itertools.count(1)
        self.rest_ids = IdGenerator(None if config.seed is None else f"{config.seed}:rest")
        self.registry = Registry(journal_max_bytes=config.journal_max_bytes,
                                 recent_max_bytes=config.recent_max_bytes)
        self.scenario: Scenario | None = load_scenario(config.scenario) if config.scenario else None
        self.faults: Faults | None = None
        self._refuse_left = 0
        self._admitted = 0
        self.calls = CallRegistry()  # WebRTC and SIP calls (docs/protocol.md §11)

    @property
    def active_sessions(self) -> int:
        return len(self.registry.live)

    @property
    def admitted(self) -> int:
        """Sessions holding a place (``max_sessions``): live ones and handshakes in progress."""
        return self._admitted

    def admit(self) -> bool:
        """Reserve a place for a new session (``max_sessions``); pair with :meth:`release`."""
        if self._admitted >= self.config.max_sessions:
            return False
        self._admitted += 1
        return True

    def release(self) -> None:
        self._admitted -= 1

    def session_seed(self) -> str | None:
        n = next(self.counter)
        return None if self.config.seed is None else f"{self.config.seed}:{n}"

    # -- scenario and faults (admin API, Python control API) --------------------------------------------

    def set_scenario(self, scenario: Scenario | None) -> None:
        """Load (or with ``None`` reset) the scenario: new sessions start it from the beginning, and live
        sessions switch to it for their next response."""
        self.scenario = scenario
        for record in self.registry.live.values():
            if record.session is not None:
                brain, transcriber = self._brain(scenario)
                record.session.options.brain = brain
                record.session.options.transcriber = transcriber
                record.session.options.prompts = scenario.prompts if scenario is not None else {}
        hub = getattr(self, "live_hub", None)  # GPT-Live sessions too (server/live.py keeps them there)
        for live, _ in list(hub.running.values()) if hub is not None else ():
            live.options.brain, live.options.transcriber = self._brain(scenario)

    def set_faults(self, faults: Faults | None) -> None:
        """Faults for new sessions (``refuse`` applies to the next handshakes)."""
        self.faults = faults
        refuse = (faults.refuse if faults else None) or (self.scenario.faults.refuse
                                                          if self.scenario and self.scenario.faults else None)
        self._refuse_left = int(refuse.get("times", 1)) if refuse else 0

    def reset(self) -> None:
        """No scenario, no faults, empty journals (live sessions stay connected)."""
        self.set_scenario(None)
        self.set_faults(None)
        self.registry.clear()

    def take_refusal(self) -> dict[str, Any] | None:
        """The handshake refusal to apply now, if any (counts down ``refuse.times``)."""
        if self._refuse_left <= 0:
            return None
        self._refuse_left -= 1
        faults = self.faults or (self.scenario.faults if self.scenario else None)
        return faults.refuse if faults else None

    def brain_for_new_session(self) -> tuple[Brain, Transcriber]:
        """The loaded scenario's brain and transcriber (or the defaults) for a new session of any kind."""
        return self._brain(self.scenario)

    def _brain(self, scenario: Scenario | None) -> tuple[Brain, Transcriber]:
        if scenario is None:
            return DefaultBrain(), self.transcriber
        brain = ScriptedBrain(scenario, self._pacing(), self.transcriber)
        return brain, brain

    def _pacing(self) -> Any:
        pacing = self.config.pacing
        return pacing.scaled(self.config.time_scale) if self.config.time_scale != 1.0 else pacing

    # -- sessions ----------------------------------------------------------------------------------------

    async def close_all(self, code: int, reason: str, timeout: float = 2.0) -> None:
        """Close every live session (server shutdown, issue: load and faults) and wait for them to end."""
        from mockrt.core.outputs import Close

        await self.calls.end_all(reason)  # calls too: their peers, RTP ports and tasks (§11)
        connections = [r.connection for r in self.registry.live.values() if r.connection is not None]
        for connection in connections:
            connection.queue.put_nowait(Close(code, reason))
        deadline = time.monotonic() + timeout
        while self.registry.live and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def mcp_executor(self) -> McpExecutor:
        """A new session's MCP executor (docs/protocol.md §9): the scenario's stand-in servers, the real MCP
        client for every other server."""
        from mockrt.mcp.client import McpClient  # the mcp package loads on the first MCP directive only
        from mockrt.scenarios.mcp_servers import StandInExecutor

        client = McpClient(self.config.mcp_timeout_s)
        stand_ins = self.scenario.mcp_servers if self.scenario is not None else []
        return StandInExecutor(stand_ins, fallback=client) if stand_ins else client

    def new_session(self, hs: handshake.Handshake, dialect: Dialect, path: str, user_agent: str,
                    now: float, *, call: bool = False) -> tuple[RealtimeSession, SessionRecord]:
        cfg = self.config
        initial = copy.deepcopy(hs.initial_config) if hs.initial_config is not None else None
        if initial is not None and hs.model:
            initial.model = hs.model
        model = cfg.azure_preview_model if (hs.flavour, hs.dialect) == ("azure", "beta") else hs.model
        brain, transcriber = self._brain(self.scenario)
        faults = self.faults or (self.scenario.faults if self.scenario else None)
        options = SessionOptions(
            dialect=dialect,
            model=model,
            kind=hs.kind,
            seed=self.session_seed(),
            pacing=self._pacing(),
            brain=brain,
            transcriber=transcriber,
            vad=VadOptions(detector=cfg.vad, end_includes_silence=cfg.vad_end_includes_silence),
            faults=copy.deepcopy(faults) if faults else None,
            max_duration_s=cfg.max_session_s,
            conversation_created=cfg.conversation_created,
            max_items=cfg.max_items,
            max_buffer_ms=cfg.max_buffer_ms,
            rate_limit_tokens=cfg.rate_limit_tokens,
            initial_config=initial,
            created_at=int(time.time()),
            prompts=self.scenario.prompts if self.scenario is not None else {},
            call=call,
        )
        session = RealtimeSession(options, now)
        record = SessionRecord(session.session_id, dialect.name, hs.flavour, model, path, user_agent,
                               time.time(), now, session=session)
        options.on_event = self.registry.recorder(record)
        self.registry.open(record)
        return session, record

    def open_live(self, session: LiveSession, path: str, user_agent: str, now: float) -> SessionRecord:
        """Register a GPT-Live session (a WebSocket, a fork, a SIP or WebRTC call; docs/protocol.md §13) like any
        other: its journal (client and server events, sideband commands included), the admin API, the inspector
        and the waits. Its ``model`` is filled in when ``session.started`` is journaled."""
        record = SessionRecord(session.session_id, LiveDialect.name, "openai", None, path, user_agent,
                               time.time(), now)
        journal = self.registry.recorder(record)
        started = LiveDialect.server_events[LiveServerEvent.STARTED]

        def on_event(direction: str, event: dict[str, Any], at: float, size: int | None = None) -> None:
            if record.model is None and direction == "server" and event.get("type") == started:
                resource = event.get("session")
                model = resource.get("model") if isinstance(resource, dict) else None
                record.model = model if isinstance(model, str) else None
            journal(direction, event, at, size)

        session.options.on_event = on_event
        self.registry.open(record)
        return record
