"""One Realtime session as a sans-I/O state machine (docs/protocol.md §1.5, §2, §5).

``RealtimeSession`` takes parsed client events plus a timestamp and returns transport directives
(:class:`~mockrt.core.outputs.Send`, :class:`~mockrt.core.outputs.Close`). Paced output (response deltas)
and timers (session expiry) are released by :meth:`RealtimeSession.poll`; :meth:`next_deadline` tells the
transport when to call it. No sockets, asyncio or clock inside: time is an input.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import orjson

from mockrt.core import errors, truncation
from mockrt.core import voice_live_input as vl
from mockrt.core.audio_buffer import InputAudioBuffer
from mockrt.core.audio_sync import OutputSync
from mockrt.core.brain import Brain, DefaultBrain, MessageOut, ReplyPlan, ResponseContext, SearchCallOut
from mockrt.core.conversation import Conversation
from mockrt.core.dialects.base import Dialect
from mockrt.core.dialects.common import decode_audio
from mockrt.core.events import ClientEvent, ServerEvent, check_envelope, client_event_id
from mockrt.core.faults import FaultInjector, Faults, ServiceErrorCode, service_error
from mockrt.core.ids import IdGenerator
from mockrt.core.mcp import McpResult
from mockrt.core.mcp_session import McpSession, weakly
from mockrt.core.model import (
    DEFAULT_INSTRUCTIONS,
    ContentPart,
    Item,
    Response,
    SessionConfig,
    SessionKind,
    TurnDetection,
)
from mockrt.core.outputs import Close, JournalHook, Output, Send, Stall, text_size
from mockrt.core.playout import Playout
from mockrt.core.prompts import StoredPrompt, resolve_prompt
from mockrt.core.responses import Pacing, ResponseRun
from mockrt.core.schema import AnyValue, Bool, Int, Obj, Str
from mockrt.core.transcription import (
    LOGPROBS_INCLUDE,
    PlaceholderTranscriber,
    Transcriber,
    TranscriptionRequest,
    transcription_events,
)
from mockrt.core.turn_taking import TurnDecision, TurnStarted, TurnTaking, VadOptions
from mockrt.core.usage import usage_of

RACE_HOLD_MS = 1000.0
"""How long a response provoked by a race fault stays in progress at least (the live service takes ~280 ms to
first output, §5.2)."""

MAX_APPEND_CHARS = 15 * 1024 * 1024
"""``input_audio_buffer.append`` carries at most 15 MiB of base64 per event (§2.2)."""


@dataclass
class SessionOptions:
    """Per-session settings: the service's fixed facts plus the §8.2 knobs."""

    dialect: Dialect
    model: str | None = "gpt-realtime"
    kind: str = "realtime"  # a SessionKind; str while server/handshake.py's Handshake.kind is a str
    seed: int | str | None = None
    pacing: Pacing = field(default_factory=Pacing)
    brain: Brain = field(default_factory=DefaultBrain)
    transcriber: Transcriber = field(default_factory=PlaceholderTranscriber)
    transcription_delay_ms: float = 0.0  # when the transcription events follow a commit (§5.11)
    vad: VadOptions = field(default_factory=VadOptions)
    faults: Faults | None = None
    max_duration_s: float | None = None  # None: the dialect's maximum (§1.5)
    conversation_created: bool = False  # §5.1: not sent by the real servers
    max_items: int = 4096
    max_buffer_ms: int = 15 * 60 * 1000
    rate_limit_tokens: int = 40_000
    check_function_call_output: bool = True
    truncate_transcript: Literal["drop", "keep"] = "drop"  # §5.8 [U]
    initial_config: SessionConfig | None = None  # e.g. from an ephemeral token's session (§1.6)
    prompts: Mapping[str, StoredPrompt] = field(default_factory=dict)  # stored prompts (a scenario's, §4.3)
    created_at: int = 0  # unix seconds, for ``expires_at``
    on_event: JournalHook | None = None
    """The journal hook: (direction, event, now, the size of its frame: the text received, the frame sent; ``None``
    when there is none)."""
    call: bool = False  # a WebRTC/SIP call: the service plays the output audio (docs/protocol.md §11)


class RealtimeSession:
    """The protocol state of one WebSocket session."""

    def __init__(self, options: SessionOptions, now: float) -> None:
        self.options = options
        self.dialect = options.dialect
        self.ids = IdGenerator(options.seed)
        self.session_id = self.ids.session()
        self.config = options.initial_config or SessionConfig(kind=options.kind)  # type: ignore[arg-type]
        if self.config.model is None and self.config.kind == "realtime":
            self.config.model = options.model
        if self.config.kind == "transcription" and options.initial_config is None:
            self.config.turn_detection = TurnDetection(create_response=False, interrupt_response=False)
        self.conversation = Conversation(self.ids.conversation(), options.max_items)
        self.buffer = InputAudioBuffer(self.config.input_format, options.max_buffer_ms)
        self.started = now
        max_s = options.max_duration_s
        self.max_duration_s = max_s if max_s is not None else self.dialect.max_session_minutes * 60.0
        self.expires_at = options.created_at + int(self.dialect.max_session_minutes * 60)
        self.closed = False
        self.runs: dict[str, ResponseRun] = {}
        self.active_id: str | None = None  # the in-progress default-conversation response
        self.turns = 0
        self._usage_window: deque[tuple[float, int]] = deque()
        self._usage_total = 0
        self._out: list[Output] = []
        self._timers: list[tuple[float, int, int, Callable[[float], None]]] = []  # (at, seq, first call, fn)
        self._timer_seq = itertools.count()
        self._calls = 0  # receive/poll calls so far: deferred timers wait for a later call
        self.audio_turns = 0
        self.now = now
        self.faults = FaultInjector(self.ids.event, self.dialect, options.faults)
        self._waiting: dict[str, tuple[Response, ResponseContext]] = {}  # lockstep: responses awaiting a plan
        self.turn_taking = TurnTaking(self.buffer, self.ids.item, options.vad)
        self.turn_taking.configure(self.config.turn_detection, self.config.input_format)
        self.sync: OutputSync | None = None
        self.avatar_connected = False  # Voice Live: after session.avatar.connect (docs/protocol.md §12)
        self._configure_sync()
        self.input_turn: str | None = None  # Voice Live's open ``input_audio.turn`` (docs/protocol.md §12)
        self.input_text: dict[str, str] = {}  # Voice Live's streamed text input, per item id (§12)
        # Its callbacks hold the session weakly: with no cycle through them, a closed session (its conversation's
        # audio included) is freed at once, not at the garbage collector's next full collection.
        self.mcp = McpSession(weakly(self.emit), weakly(self._mcp_error), weakly(self._out_append), self.ids.item,
                              self.conversation)
        self.playout: Playout | None = Playout() if options.call else None
        self.client_events = ({**self.dialect.client_events, **self.dialect.call_client_events} if options.call
                              else self.dialect.client_events)  # the types this session accepts (§2, §11)

    # -- public API ----------------------------------------------------------------------------------

    def start(self) -> list[Output]:
        """The first frames: ``session.created`` (§3.3, §5.1)."""
        created = (ServerEvent.SESSION_CREATED if self.config.kind == "realtime"
                   else ServerEvent.TRANSCRIPTION_SESSION_CREATED)
        self.emit({"type": created, "session": self._session_obj()})
        if self.options.conversation_created and self.config.kind == "realtime":
            self.emit({"type": ServerEvent.CONVERSATION_CREATED,
                        "conversation": {"id": self.conversation.id, "object": "realtime.conversation"}})
        if self.config.tools:  # MCP tools of an ephemeral token's session are listed right away (§9.2)
            try:
                self.mcp.configure(self.mcp.check(self.config.tools, None, "session"))
            except errors.ProtocolError as err:
                self._error(err, None)
        return self._flush()

    def receive_text(self, text: str, now: float) -> list[Output]:
        """A text frame: parse JSON, then handle the event (§1.8). orjson parses it when it accepts the text, else
        the stdlib parser decides what orjson refuses (NaN, huge integers, lone surrogates) and words the error."""
        try:
            try:
                event = orjson.loads(text)
            except orjson.JSONDecodeError:
                event = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.now = now
            if self.options.on_event is not None:
                self.options.on_event("client", {"type": "<invalid json>", "raw": text[:1000]}, now, None)
            self._error(errors.invalid_json(str(exc)[:200]), None)
            return self._flush()
        return self.receive(event, now, text_size(text))

    def receive_bytes(self, data: bytes, now: float) -> list[Output]:
        """A binary frame: always an error, the socket stays open (§1.8)."""
        self.now = now
        if self.options.on_event is not None:
            self.options.on_event("client", {"type": "<binary frame>", "bytes": len(data)}, now, None)
        self._error(errors.binary_frame(), None)
        return self._flush()

    def receive(self, event: Any, now: float, size: int | None = None) -> list[Output]:
        """Handle one parsed client event (``size``: its frame's, for the journal); errors become one ``error``
        event (§3.2)."""
        if self.closed:
            return []
        self.now = now
        if self.options.on_event is not None:
            self.options.on_event("client", event if isinstance(event, dict) else {"type": "<not an object>"}, now,
                                  size)
        event_id = client_event_id(event)
        internal: ClientEvent | None = None
        try:
            internal, raw = check_envelope(event, self.client_events)
            spec = self.CLIENT_EVENTS[internal]
            fields = spec.check(raw, self.dialect.envelope_extras.get(internal))
            code = self.faults.service_error_due(internal) if self.faults.active else None
            if code is not None:
                self._inject_service_error(code, internal, event_id, now)
            else:
                if self.config.kind not in spec.sessions:
                    raise errors.unknown_event_type(event["type"], tuple(self.client_events))
                spec.handler(self, fields, now)
        except errors.ProtocolError as err:
            self._error(err, event_id)
        if self.faults.active:
            self._connection_faults(internal)
        self._release(now)
        out, self._out = self._out, []  # _flush() inline: on every client event
        return out

    def poll(self, now: float) -> list[Output]:
        """Release paced events and fire timers due at ``now``."""
        if self.closed:
            return []
        self.now = now
        if now - self.started >= self.max_duration_s:
            self._expire()
        else:
            self._release(now)
        return self._flush()

    def mcp_result(self, result: McpResult, now: float) -> list[Output]:
        """The outcome of a ``ListTools`` / ``CallTool`` directive, arrived at ``now`` (docs/protocol.md §9)."""
        if self.closed:
            return []
        self.now = now
        self.mcp.on_result(result, now)
        self._release(now)
        return self._flush()

    def next_deadline(self) -> float | None:
        """When :meth:`poll` next has something to do (``None`` only once closed)."""
        if self.closed:
            return None
        deadline = self.started + self.max_duration_s
        for run in self.runs.values():
            due = run.due
            if due is not None and due < deadline:
                deadline = due
        if self._timers and self._timers[0][0] < deadline:
            deadline = self._timers[0][0]
        idle = self.turn_taking.idle_deadline
        if idle is not None and idle < deadline:
            deadline = idle
        return deadline

    def schedule(self, at: float, callback: Callable[[float], None], *, defer: bool = False) -> None:
        """Run ``callback(now)`` from the first :meth:`poll` or :meth:`receive` at or after ``at``; with ``defer``
        not within the current call, so the outputs produced so far reach the wire first."""
        heapq.heappush(self._timers, (at, next(self._timer_seq), self._calls + 1 if defer else 0, callback))

    def set_turn_complete_hint(self, complete: bool | None) -> None:
        """``semantic_vad`` completeness cue for the current turn (docs/vad.md §5.4); explicit test/scenario input."""
        self.turn_taking.set_turn_complete_hint(complete)

    # -- output helpers ------------------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        """Render an internal event in the session's dialect and queue it (through the fault injector)."""
        if self.playout is not None and event["type"] in _PLAYED:
            self._play(event)
            if event["type"] is ServerEvent.OUTPUT_AUDIO_DELTA:
                return  # a call's audio goes out as media, not as events (§11)
        wire = self.dialect.encode(event, self.ids.event())
        if wire is not None:
            if event["type"] in self.dialect.obfuscated and "delta" in wire:
                wire["obfuscation"] = self.ids.obfuscation(len(wire["delta"]))
            self._send(wire)
            if self.sync is not None:
                for derived in self.sync.observe(event):
                    self.emit(derived)

    def _configure_sync(self) -> None:
        """Word timestamps / animation derived from the output audio when the session asks (§12)."""
        enabled = self.config.output_sync
        if self.avatar_connected and self.config.avatar is not None:
            enabled = enabled | {"avatar"}
        if not enabled:
            self.sync = None
        elif self.sync is None or self.sync.enabled != enabled:
            self.sync = OutputSync(enabled, self._output_info)

    def _output_info(self, response_id: str) -> tuple[Any, float] | None:
        run = self.runs.get(response_id)
        return None if run is None else (run.response.params.output_format, self.config.speed)

    def inject(self, event: dict[str, Any]) -> None:
        """Send a raw server event as given (lockstep control from a test); ``event_id`` is filled in."""
        wire = {"type": event["type"], "event_id": event.get("event_id") or self.ids.event(),
                **{k: v for k, v in event.items() if k not in ("type", "event_id")}}
        self._send(wire)

    def _send(self, wire: dict[str, Any]) -> None:
        if not self.faults.active:
            self._queue(Send(wire))
            return
        sends, delay = self.faults.transform(Send(wire))
        if delay > 0:
            def later(now: float, sends: list[Send] = sends) -> None:
                for send in sends:
                    self._queue(send)

            self.schedule(self.now + delay, later)
        else:
            for send in sends:
                self._queue(send)
        self._connection_faults(None)

    def _queue(self, send: Send) -> None:
        if self.options.on_event is not None:
            self.options.on_event("server", send.event, self.now, len(send.frame))
        self._out.append(send)

    def _connection_faults(self, client_event: ClientEvent | None) -> None:
        for directive in self.faults.connection_fault(client_event):
            self._out.append(directive)
            if not isinstance(directive, Stall):
                self.closed = True

    def set_faults(self, faults: Faults) -> None:
        """Switch faults at runtime (a new seed restarts their randomness)."""
        self.faults.set(faults)

    def _inject_service_error(self, code: ServiceErrorCode, event: ClientEvent, event_id: str | None,
                              now: float) -> None:
        err = service_error(code, self.config.model)
        if code == "session_expired":
            self._error(err, None)
            self._out.append(Close(1001, err.message))
            self.closed = True
        elif event is ClientEvent.RESPONSE_CREATE and code in ("rate_limit_exceeded", "insufficient_quota"):
            # Response-level failures are a failed response.done, not an error event (§4.10).
            params, _ = self.dialect.parse_response_params(None, self.config)
            error = {"type": err.type, "code": err.code, "message": err.message}
            self.start_response(params, list(self.conversation.items), now,
                                plan=ReplyPlan(status="failed", error=error))
        else:
            self._error(err, event_id)

    def _error(self, err: errors.ProtocolError, event_id: str | None) -> None:
        self.emit({"type": ServerEvent.ERROR, "error": err.to_error_object(event_id)})

    def _out_append(self, output: Output) -> None:
        self._out.append(output)

    def _mcp_error(self, err: errors.ProtocolError) -> None:
        self._error(err, None)

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _session_obj(self) -> dict[str, Any]:
        return self.dialect.render_session(self.config, self.session_id, self.expires_at)

    def _expire(self) -> None:
        err = errors.session_expired(self.dialect.max_session_minutes)
        self._error(err, None)
        self._out.append(Close(1001, err.message))
        self.closed = True

    # -- session -------------------------------------------------------------------------------------

    def _session_update(self, fields: dict[str, Any], now: float) -> None:
        new = self.dialect.parse_session_update(fields["session"], self.config)
        servers = self.mcp.check(new.tools, new.tool_choice, "session")
        self._apply_config(new)
        self.mcp.configure(servers)

    def _apply_config(self, new: SessionConfig) -> None:
        """Checks that span fields (§2.1), then apply whole and answer with the full session."""
        if new.voice != self.config.voice and self.conversation.has_assistant_audio():
            raise errors.cannot_update_voice()
        if new.model != self.config.model and self.config.kind == "realtime":
            raise errors.cannot_update_model()
        self.config = new
        self.buffer.set_format(new.input_format)
        self.turn_taking.configure(new.turn_detection, new.input_format)
        self._configure_sync()
        updated = (ServerEvent.SESSION_UPDATED if new.kind == "realtime"
                   else ServerEvent.TRANSCRIPTION_SESSION_UPDATED)
        self.emit({"type": updated, "session": self._session_obj()})

    def _session_close(self, fields: dict[str, Any], now: float) -> None:
        self._out.append(Close(1000, "session closed by client"))
        self.closed = True

    # -- input audio buffer --------------------------------------------------------------------------

    def _append(self, fields: dict[str, Any], now: float) -> None:
        audio = fields["audio"]
        if len(audio) > MAX_APPEND_CHARS:
            raise errors.append_too_large(len(audio), MAX_APPEND_CHARS)
        data = decode_audio(audio, self.buffer.format)
        self.buffer.append(data)
        for decision in self.turn_taking.on_audio(data, now):
            self._turn(decision, now)

    def _turn(self, decision: TurnDecision, now: float) -> None:
        """Carry out what turn detection decided (§5.5, §5.7, §5.10)."""
        if isinstance(decision, TurnStarted):
            self.emit({"type": ServerEvent.SPEECH_STARTED, "audio_start_ms": decision.audio_start_ms,
                       "item_id": decision.item_id})
            if decision.interrupt and self.playout is not None:
                self._clear_playout(now)
            if decision.interrupt:
                self.interrupt(now)
            return
        if decision.cause == "timeout":
            self.emit({"type": ServerEvent.TIMEOUT_TRIGGERED, "audio_start_ms": decision.audio_start_ms,
                       "audio_end_ms": decision.audio_end_ms, "item_id": decision.item_id})
        else:
            self.emit({"type": ServerEvent.SPEECH_STOPPED, "audio_end_ms": decision.audio_end_ms,
                       "item_id": decision.item_id})
        self.commit_audio(decision.item_id, now, min_ms=0.0, upto_samples=decision.commit_upto_samples)
        if decision.respond_later:
            # The response starts in the next call: speech_stopped and the commit reach the wire first instead of
            # waiting for the response's first output to be computed.
            self.schedule(now, self._turn_response, defer=True)
        else:
            self.turn_taking.buffer_moved()
            self._turn_response(now)

    def _turn_response(self, now: float) -> None:
        if self.turn_taking.creates_response(self.config.kind):
            self.auto_response(now)

    def _commit(self, fields: dict[str, Any], now: float) -> None:
        self.commit_audio(self.turn_taking.take_item_id() or self.ids.item(), now)
        self.turn_taking.buffer_moved()
        if self.faults.active and self.faults.race("auto_response_after_commit"):
            # As if server VAD had ended the turn: it races the client's response.create.
            self.auto_response(now, hold_ms=RACE_HOLD_MS)

    def commit_audio(self, item_id: str, now: float, *, min_ms: float = 100.0,
                     upto_samples: int | None = None) -> Item:
        """Commit the buffer (or its part up to a timeline position) as a user audio item (§2.3, §5.5)."""
        self.conversation.check_insert(None)
        start_ms = self.buffer.start_ms
        data = self.buffer.take(min_ms=min_ms, upto_samples=upto_samples)
        fmt = self.buffer.format
        item = Item(id=item_id, type="message", role="user",
                    content=[ContentPart(type="input_audio", audio=data, audio_format=fmt,
                                         audio_ms=fmt.bytes_to_ms(len(data)))])
        prev = self.conversation.insert(item)
        self.emit({"type": ServerEvent.INPUT_AUDIO_COMMITTED, "previous_item_id": prev, "item_id": item.id})
        self._item_events(item, prev)
        self.audio_turns += 1
        if self.config.transcription is not None:
            self._transcribe(item, data, now, start_ms)
        return item

    def _transcribe(self, item: Item, audio: bytes, now: float, start_ms: float) -> None:
        """Transcribe now (so the reply can use it), emit the events after the configured delay (§5.11)."""
        part = item.content[0]
        cfg = self.config.transcription or {}
        request = TranscriptionRequest(item.id, audio, part.audio_ms, str(cfg.get("model")),
                                       cfg.get("language"), self.audio_turns,
                                       logprobs=LOGPROBS_INCLUDE in (self.config.include or ()),
                                       audio_start_ms=start_ms, audio_format=part.audio_format or self.buffer.format)
        result = self.options.transcriber.transcribe(request)
        if result.text is not None:
            part.transcript = result.text.strip()
        events = transcription_events(request, result)

        def emit_all(at: float) -> None:
            for event in events:
                self.emit(event)

        self.schedule(now + self.options.transcription_delay_ms / 1000.0, emit_all)

    def _clear(self, fields: dict[str, Any], now: float) -> None:
        self.buffer.clear()
        self.turn_taking.buffer_moved()
        self.emit({"type": ServerEvent.INPUT_AUDIO_CLEARED})

    # -- conversation items --------------------------------------------------------------------------

    def _item_events(self, item: Item, prev: str | None) -> None:
        """A client-side item enters the conversation: GA ``added`` + ``done``; beta ``created`` (§2.5)."""
        self.emit({"type": ServerEvent.ITEM_ADDED, "previous_item_id": prev, "item": item})
        self.emit({"type": ServerEvent.ITEM_DONE, "previous_item_id": prev, "item": item})

    def _item_create(self, fields: dict[str, Any], now: float) -> None:
        item = self.dialect.parse_item(fields["item"], "item", self.config)
        previous = fields.get("previous_item_id")
        self.conversation.check_insert(previous)
        if (item.type == "function_call_output" and self.options.check_function_call_output
                and item.call_id is not None and self.conversation.find_call(item.call_id) is None):
            raise errors.function_call_output_unknown(item.call_id)
        if item.type == "mcp_approval_response":
            self.mcp.check_answer(item.mcp)
        if not item.id:
            item.id = self.ids.item()
        if item.type == "mcp_approval_response":
            self.mcp.answer(item.mcp)
        elif item.mcp is not None:
            self.mcp.client_item(item)
        if item.type == "function_call" and not item.call_id:
            item.call_id = self.ids.call()
        prev = self.conversation.insert(item, previous)
        self._item_events(item, prev)
        if (item.type == "function_call_output" and self.faults.active
                and self.faults.race("auto_response_after_tool_output")):
            # The server answers the tool output before the client's response.create arrives.
            self.auto_response(now, hold_ms=RACE_HOLD_MS)

    def _item_truncate(self, fields: dict[str, Any], now: float) -> None:
        item = self.conversation.find(fields["item_id"])
        if item is None:
            raise errors.truncate_unknown_item(fields["item_id"])
        index = fields["content_index"]
        if not item.has_assistant_audio():
            raise errors.truncate_not_audio()
        if index >= len(item.content):
            raise errors.truncate_bad_content_index(index)
        part = item.content[index]
        if part.type != "audio" or part.audio_format is None:
            raise errors.truncate_not_audio()
        end_ms = fields["audio_end_ms"]
        have_ms = part.audio_ms
        if end_ms > have_ms:
            raise errors.truncate_too_long(int(have_ms), end_ms)
        keep = int(end_ms * part.audio_format.bytes_per_ms)
        keep -= keep % part.audio_format.sample_width
        part.audio = (part.audio or b"")[:keep]
        part.audio_ms = float(end_ms)
        if self.options.truncate_transcript == "drop":
            part.transcript = ""
        self.conversation.refresh(item)
        self.emit({"type": ServerEvent.ITEM_TRUNCATED, "item_id": item.id, "content_index": index,
                    "audio_end_ms": end_ms})

    def _item_delete(self, fields: dict[str, Any], now: float) -> None:
        self.conversation.delete(fields["item_id"])
        self.emit({"type": ServerEvent.ITEM_DELETED, "item_id": fields["item_id"]})

    def _item_retrieve(self, fields: dict[str, Any], now: float) -> None:
        item = self.conversation.find(fields["item_id"])
        if item is None:
            raise errors.retrieve_unknown_item(fields["item_id"])
        self.emit({"type": ServerEvent.ITEM_RETRIEVED,
                    "item": self.dialect.render_item(item, with_audio=True)})

    # -- responses -----------------------------------------------------------------------------------

    def _response_create(self, fields: dict[str, Any], now: float) -> None:
        params, raw_input = self.dialect.parse_response_params(fields.get("response"), self.config)
        if fields.get("additional_instructions"):  # Voice Live's extension (azure-ai-voicelive 1.3.1)
            params.instructions = f"{params.instructions}\n{fields['additional_instructions']}"
        directives = self.dialect.response_directives(fields.get("response"), self.config)
        if params.conversation == "auto" and self.active_id is not None and not directives.cancel_previous:
            raise errors.active_response(self.active_id)
        servers = self.mcp.check(params.tools, params.tool_choice, "response", tuple(self.mcp.servers))
        context = self._resolve_input(raw_input) if raw_input is not None else None
        if directives.append_items:  # Voice Live: appended to the conversation first (§12)
            self.conversation.check_insert(None)
        if directives.cancel_previous and self.active_id is not None:
            self._unblock(self.active_id, now)
            run = self.runs.get(self.active_id)
            if run is not None and not run.finished:
                self.cancel_response(run, "client_cancelled", now)
        for item in directives.append_items:
            if not item.id:
                item.id = self.ids.item()
            self._item_events(item, self.conversation.insert(item, None))
        if context is None:
            context = list(self.conversation.items)
        plan = None
        if directives.pre_generated_text is not None:
            plan = ReplyPlan(outputs=[MessageOut(text=directives.pre_generated_text)])
        response = self.start_response(params, context, now, plan=plan)
        if response is not None and servers:
            self.mcp.response_started(response.id, servers)

    def _resolve_input(self, raw_input: list[Any]) -> list[Item]:
        items: list[Item] = []
        for index, raw in enumerate(raw_input):
            path = f"response.input[{index}]"
            item = self.dialect.parse_input_item(raw, path, self.config)
            if item.type == "item_reference":
                found = self.conversation.find(item.id)
                if found is None:
                    raise errors.item_reference_unknown(item.id, path + ".id")
                item = found
            elif not item.id:
                item.id = self.ids.item()
            items.append(item)
        return items

    def start_response(self, params: Any, context: list[Item], now: float,
                       plan: ReplyPlan | None = None, hold_ms: float = 0.0) -> Response | None:
        """Create a response and start streaming it (also used by turn detection, §5.5).

        The brain decides the plan; a plan with ``error_event`` answers with that error instead,
        and no plan (lockstep) leaves the response in progress until :meth:`provide_reply`.
        """
        params.instructions = resolve_prompt(self.options.prompts, params.prompt, params.instructions,
                                             DEFAULT_INSTRUCTIONS)
        seen = truncation.fit(context, params.instructions, self.config.truncation, self.config.model,
                              self.conversation.tokens_of(context), self.conversation.tally.of)
        if seen.exceeded and plan is None:
            err = errors.context_length_exceeded(seen.tokens, seen.limit)
            plan = ReplyPlan(status="failed", error={"type": err.type, "code": err.code, "message": err.message})
        ctx = ResponseContext(self.config, params, seen.items, self.turns + 1)
        if plan is None:
            plan = self.mcp.plan(params) or self.options.brain.reply(ctx)
        if plan is not None and ServerEvent.WEB_SEARCH_CALL_IN_PROGRESS not in self.dialect.server_events:
            plan.outputs = [o for o in plan.outputs if not isinstance(o, SearchCallOut)]  # Voice Live only (§12.6)
        if plan is not None and plan.error_event is not None:
            spec = plan.error_event
            raise errors.ProtocolError(spec.get("message", "The server had an error."), spec.get("code"),
                                       spec.get("param"), spec.get("type", "invalid_request_error"))
        self.turns += 1
        for warning in plan.warnings if plan is not None else ():  # Voice Live's ``warning`` (§12.7)
            self.emit({"type": ServerEvent.WARNING, "warning": dict(warning)})
        response = Response(id=self.ids.response(), params=params,
                            conversation_id=self.conversation.id if params.conversation == "auto" else None)
        if params.conversation == "auto":
            self.active_id = response.id
        self.emit({"type": ServerEvent.RESPONSE_CREATED, "response": response})
        if self.dialect.rate_limits_after_created:
            self._rate_limits(now)
        if plan is None:
            self._waiting[response.id] = (response, ctx)
        else:
            self._run(response, ctx, plan, now, hold_ms)
        return response

    def provide_reply(self, plan: ReplyPlan, now: float, response_id: str | None = None) -> list[Output]:
        """Lockstep: give the plan for a response that is waiting (the oldest one unless named)."""
        self.now = now
        rid = response_id or next(iter(self._waiting), None)
        if rid is None or rid not in self._waiting:
            raise LookupError("no response is waiting for a reply")
        response, ctx = self._waiting.pop(rid)
        self._run(response, ctx, plan, now)
        self._release(now)
        return self._flush()

    def _run(self, response: Response, ctx: ResponseContext, plan: ReplyPlan, now: float,
             hold_ms: float = 0.0) -> None:
        params, context = response.params, ctx.items
        pacing = plan.pacing or self.options.pacing
        if self.faults.active and self.faults.race("barge_in_before_audio"):
            # Hold the output back so that speech arriving now barges in before the first audio delta.
            hold_ms = max(hold_ms, 60_000.0)
        if hold_ms > pacing.first_delta_ms:
            pacing = dataclasses.replace(pacing, first_delta_ms=hold_ms)
        run = ResponseRun(
            response,
            plan,
            pacing=pacing,
            start=now,
            conversation=self.conversation if params.conversation == "auto" else None,
            new_item_id=self.ids.item,
            new_call_id=self.ids.call,
            input_usage=usage_of(params.instructions, self.conversation.tokens_of(context)),
            speed=self.config.speed,
        )
        self.runs[response.id] = run

    def _response_cancel(self, fields: dict[str, Any], now: float) -> None:
        rid = fields.get("response_id") or self.active_id
        self._unblock(rid, now)
        run = self.runs.get(rid) if rid else None
        if run is None or run.finished:
            raise errors.cancel_not_active()
        self.cancel_response(run, "client_cancelled", now)

    def _unblock(self, rid: str | None, now: float) -> None:
        """A waiting (lockstep) response that must end now starts with an empty plan, so it ends properly."""
        if rid is not None and rid in self._waiting:
            response, ctx = self._waiting.pop(rid)
            self._run(response, ctx, ReplyPlan(), now)

    def cancel_response(self, run: ResponseRun, reason: str, now: float) -> None:
        for event in run.cancel(reason):
            self.emit(event)
        self._response_done(run, now)

    def interrupt(self, now: float) -> None:
        """Barge-in: speech started while a default-conversation response is in progress (§5.7)."""
        rid = self.active_id
        self._unblock(rid, now)
        run = self.runs.get(rid) if rid else None
        if run is not None and not run.finished:
            self.cancel_response(run, "turn_detected", now)

    def auto_response(self, now: float, hold_ms: float = 0.0) -> None:
        """The response the server creates at the end of a VAD turn (§5.5); it can lose the race (§5.7).

        ``hold_ms`` keeps it in progress at least that long (races provoked on demand stay reproducible even
        with unpaced output)."""
        if self.active_id is not None:
            self._error(errors.active_response(self.active_id), None)
            return
        params, _ = self.dialect.parse_response_params(None, self.config)
        try:
            self.start_response(params, list(self.conversation.items), now, hold_ms=hold_ms)
        except errors.ProtocolError as err:  # a scripted error event: no client event caused it
            self._error(err, None)

    def _release(self, now: float) -> None:
        self._calls += 1
        held: list[tuple[float, int, int, Callable[[float], None]]] = []
        while self._timers and self._timers[0][0] <= now:
            entry = heapq.heappop(self._timers)
            if entry[2] >= self._calls:
                held.append(entry)
            else:
                entry[3](now)
        for entry in held:
            heapq.heappush(self._timers, entry)
        if self.turn_taking.idle_deadline is not None:
            for decision in self.turn_taking.poll(now):
                self._turn(decision, now)
        for run in list(self.runs.values()):
            while True:
                for event in run.pop_due(now):
                    self.emit(event)
                wait = run.take_wait(now)  # an MCP step (§9)
                if wait is None:
                    break
                self.mcp.dispatch(run, wait, now)
            if run.finished:
                self._response_done(run, now)

    def _response_done(self, run: ResponseRun, now: float) -> None:
        self.runs.pop(run.response.id, None)
        self.mcp.response_done(run.response.id)
        if self.active_id == run.response.id:
            self.active_id = None
        usage = run.response.usage
        tokens = usage.total_tokens if usage else 0
        self._usage_window.append((now, tokens))
        self._usage_total += tokens
        if run.response.in_conversation:
            played = sum(p.audio_ms for i in run.response.output for p in i.content if p.type == "audio")
            self.turn_taking.arm_idle(now, played)
        if not self.dialect.rate_limits_after_created:
            self._rate_limits(now)

    def _rate_limits(self, now: float) -> None:
        window = self._usage_window
        while window and now - window[0][0] >= 60.0:
            self._usage_total -= window.popleft()[1]
        self.emit({"type": ServerEvent.RATE_LIMITS_UPDATED,
                   "rate_limits": self.dialect.rate_limits(self._usage_total, self.options.rate_limit_tokens)})

    # -- calls: the output audio buffer and DTMF (§11) ------------------------------------------------------

    def _play(self, event: dict[str, Any]) -> None:
        assert self.playout is not None
        if event["type"] is ServerEvent.OUTPUT_AUDIO_DELTA:
            data = decode_audio(event["delta"], self.config.output_format)
            self.playout.push(event["response_id"], event["item_id"], event["content_index"], data)
        else:
            self.playout.finish(event["response_id"], event["item_id"], event["content_index"])

    def pull_audio(self, n_bytes: int, now: float) -> tuple[bytes, list[Output]]:
        """A call's transport plays the next ``n_bytes`` of output audio (session output format) now: the audio
        and the ``output_audio_buffer.started/.stopped`` events it caused (§11)."""
        if self.playout is None or self.closed:
            return b"", []
        self.now = now
        data, changes = self.playout.pull(n_bytes)
        for change, response_id in changes:
            kind = (ServerEvent.OUTPUT_AUDIO_BUFFER_STARTED if change == "started"
                    else ServerEvent.OUTPUT_AUDIO_BUFFER_STOPPED)
            self.emit({"type": kind, "response_id": response_id})
        return data, self._flush()

    def _clear_playout(self, now: float) -> None:
        """Drop unplayed audio, truncate the playing item where the caller stopped hearing it, say ``cleared``."""
        assert self.playout is not None
        played = self.playout.clear()
        if played is None:
            return
        self.emit({"type": ServerEvent.OUTPUT_AUDIO_BUFFER_CLEARED, "response_id": played.response_id})
        fmt = self.config.output_format
        # An item that is gone (deleted) or has no audio to cut leaves nothing to truncate.
        with contextlib.suppress(errors.ProtocolError):
            self._item_truncate({"item_id": played.item_id, "content_index": played.content_index,
                                 "audio_end_ms": int(played.played_bytes // fmt.bytes_per_ms)}, now)

    def _output_audio_clear(self, fields: dict[str, Any], now: float) -> None:
        """``output_audio_buffer.clear``: in a call, unplayed audio is dropped and the playing item truncated where
        the caller stopped hearing it (§11); on Voice Live's WebSocket (where the type is accepted for its avatar,
        §12) no video is rendered, so there is nothing to drop but the acknowledgement."""
        if self.playout is None:
            self.emit({"type": ServerEvent.OUTPUT_AUDIO_BUFFER_CLEARED})
            return
        if self.playout.playing is None:
            # Nothing is playing: nothing to cut; the service's answer here is not documented [U], mockrt
            # confirms with the last response that played, or stays silent when none has.
            if self.playout.last_response is not None:
                self.emit({"type": ServerEvent.OUTPUT_AUDIO_BUFFER_CLEARED,
                           "response_id": self.playout.last_response})
            return
        self._clear_playout(now)

    def feed_audio(self, data: bytes, now: float) -> list[Output]:
        """Caller audio from a call's media (already in the session's input format): the same buffer and turn
        detection as ``input_audio_buffer.append`` (§2.2, §11), without an event on the wire or in the journal."""
        if self.closed:
            return []
        self.now = now
        self.buffer.append(data)
        for decision in self.turn_taking.on_audio(data, now):
            self._turn(decision, now)
        self._release(now)
        return self._flush()

    def dtmf(self, digit: str, now: float) -> list[Output]:
        """A keypad press on a SIP call: ``input_audio_buffer.dtmf_event_received`` (§11)."""
        if self.closed:
            return []
        self.now = now
        received_at = self.options.created_at + int(now - self.started)
        self.emit({"type": ServerEvent.DTMF_RECEIVED, "event": digit, "received_at": received_at})
        return self._flush()

    CLIENT_EVENTS: ClassVar[dict[ClientEvent, ClientEventSpec]]
    """One row per client event: its fields, the sessions it is valid in, its handler (§2)."""


Handler = Callable[[RealtimeSession, dict[str, Any], float], None]
_ANY = AnyValue()
_ID = Str()


@dataclass(frozen=True)
class ClientEventSpec:
    """What the core does with one client event (a row of :attr:`RealtimeSession.CLIENT_EVENTS`).

    Attributes:
        fields: the event's own top-level keys (besides ``type`` and ``event_id``), validated before any effect.
        handler: the session method that carries it out.
        sessions: the session kinds that accept it; in the others it is an unknown ``type`` (§2).
    """

    fields: Obj
    handler: Handler
    sessions: frozenset[SessionKind] = frozenset({"realtime", "transcription"})

    def check(self, raw: dict[str, Any], extras: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate the event's keys, with a dialect's extra keys for it (``Dialect.envelope_extras``)."""
        schema = Obj({**self.fields.fields, **extras}, required=self.fields.required) if extras else self.fields
        checked: dict[str, Any] = schema.check(raw, "")
        return checked


_S = RealtimeSession
_REALTIME: frozenset[SessionKind] = frozenset({"realtime"})
RealtimeSession.CLIENT_EVENTS = {
    ClientEvent.SESSION_UPDATE: ClientEventSpec(Obj({"session": _ANY}, required=("session",)), _S._session_update),
    ClientEvent.TRANSCRIPTION_SESSION_UPDATE: ClientEventSpec(
        Obj({"session": _ANY}, required=("session",)), _S._session_update, frozenset({"transcription"})),
    ClientEvent.SESSION_CLOSE: ClientEventSpec(Obj({}), _S._session_close),
    ClientEvent.INPUT_AUDIO_APPEND: ClientEventSpec(Obj({"audio": Str()}, required=("audio",)), _S._append),
    ClientEvent.INPUT_AUDIO_COMMIT: ClientEventSpec(Obj({}), _S._commit),
    ClientEvent.INPUT_AUDIO_CLEAR: ClientEventSpec(Obj({}), _S._clear),
    ClientEvent.ITEM_CREATE: ClientEventSpec(
        Obj({"item": _ANY, "previous_item_id": Str().nullable()}, required=("item",)), _S._item_create),
    ClientEvent.ITEM_TRUNCATE: ClientEventSpec(
        Obj({"item_id": _ID, "content_index": Int(0), "audio_end_ms": Int(0)},
            required=("item_id", "content_index", "audio_end_ms")), _S._item_truncate),
    ClientEvent.ITEM_DELETE: ClientEventSpec(Obj({"item_id": _ID}, required=("item_id",)), _S._item_delete),
    ClientEvent.ITEM_RETRIEVE: ClientEventSpec(Obj({"item_id": _ID}, required=("item_id",)), _S._item_retrieve),
    ClientEvent.RESPONSE_CREATE: ClientEventSpec(Obj({"response": _ANY}), _S._response_create,
                                                 frozenset({"realtime"})),
    ClientEvent.RESPONSE_CANCEL: ClientEventSpec(Obj({"response_id": _ID}), _S._response_cancel),
    # Azure Voice Live only (docs/protocol.md §12; handlers in core/voice_live_input.py)
    ClientEvent.INPUT_AUDIO_TURN_START: ClientEventSpec(Obj({"turn_id": _ID}, required=("turn_id",)),
                                                        vl.turn_start, _REALTIME),
    ClientEvent.INPUT_AUDIO_TURN_APPEND: ClientEventSpec(Obj({"turn_id": _ID, "audio": Str()},
                                                             required=("turn_id", "audio")), vl.turn_append, _REALTIME),
    ClientEvent.INPUT_AUDIO_TURN_END: ClientEventSpec(Obj({"turn_id": _ID}, required=("turn_id",)), vl.turn_end,
                                                      _REALTIME),
    ClientEvent.INPUT_AUDIO_TURN_CANCEL: ClientEventSpec(Obj({"turn_id": _ID}, required=("turn_id",)),
                                                         vl.turn_cancel, _REALTIME),
    ClientEvent.INPUT_TEXT_DELTA: ClientEventSpec(
        Obj({"id": _ID, "delta": Str(), "content_index": Int(0)}, required=("id", "delta")), vl.text_delta,
        _REALTIME),
    ClientEvent.INPUT_TEXT_DONE: ClientEventSpec(Obj({"id": _ID, "content_index": Int(0)}, required=("id",)),
                                                 vl.text_done, _REALTIME),
    ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR: ClientEventSpec(Obj({}), _S._output_audio_clear, _REALTIME),
    ClientEvent.AVATAR_CONNECT: ClientEventSpec(Obj({"client_sdp": Str()}, required=("client_sdp",)),
                                                vl.avatar_connect, _REALTIME),
    ClientEvent.MCP_APPROVAL_RESPONSE: ClientEventSpec(
        Obj({"approval_request_id": Str(), "approve": Bool(), "reason": Str().nullable(), "id": _ID},
            required=("approval_request_id", "approve")), vl.mcp_approval_response, _REALTIME),
}
_PLAYED = frozenset({ServerEvent.OUTPUT_AUDIO_DELTA, ServerEvent.OUTPUT_AUDIO_DONE})
