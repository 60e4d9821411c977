"""LiveSession: the sans-I/O state machine of one GPT-Live session on a primary WebSocket (docs/protocol.md §13).

Same contract as :class:`~mockrt.core.session.RealtimeSession` (``start`` / ``receive_text`` / ``receive_bytes`` /
``poll`` / ``next_deadline``), so the same transport loop runs it. It reuses the Realtime core's parts: the input
buffer and timeline (:mod:`~mockrt.core.audio_buffer`), the real VAD (:mod:`~mockrt.core.turn_taking`), the
brain / transcriber seam (so one scenario drives both APIs), the synthesiser and the ids.

Timelines (§13.4): input transcript deltas are placed on the input timeline (ms of audio appended since
``session.started``); output audio and output transcript deltas on the output timeline, which advances in
100 ms chunks with wall time (scaled by ``time_scale``) and never falls behind the input timeline. With
``time_scale == 0`` (unpaced) the output advances only with input audio, and a reply goes out whole at once.

Wake and idle (§13.8, media sessions): with a speech ``wake_policy`` inference starts asleep and speech wakes it
(``session.resumed``; a second, independent detector at the policy's ``vad_threshold``); with ``idle_timeout_s``
as well, that many seconds of output timeline without speech on either side pause it again (``session.paused``).
Asleep, a caller's turn is not answered; the time is billed as ``paused_seconds``.
"""

from __future__ import annotations

import binascii
import contextlib
import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mockrt.audio import b64
from mockrt.audio.detectors import make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SpeechStarted, TurnDetector, TurnSettings
from mockrt.core import errors
from mockrt.core.audio_buffer import InputAudioBuffer
from mockrt.core.brain import (
    Brain,
    DefaultBrain,
    FunctionCallOut,
    McpCallOut,
    MessageOut,
    ReplyPlan,
    ResponseContext,
    mcp_reply_text,
    tokenize,
)
from mockrt.core.dialects.live import CLIENT_FIELDS, FORK_START, LIVE_MODELS, MEDIA_START, LiveConfig, LiveDialect
from mockrt.core.ids import IdGenerator
from mockrt.core.live.decisions import DEFAULT_MODEL, DecisionContext, evaluate, scripted, usage
from mockrt.core.live.events import LiveClientEvent as C
from mockrt.core.live.events import LiveServerEvent as S
from mockrt.core.live.mcp import LiveMcp, LiveMcpCall
from mockrt.core.live.output import CHUNK_MS, OutputStream, Utterance
from mockrt.core.live.recording import LiveRecording, to_pcm24k
from mockrt.core.mcp import McpResult
from mockrt.core.model import ContentPart, Item, ResponseParams, SessionConfig, TurnDetection
from mockrt.core.outputs import Close, JournalHook, Output, Send, text_size
from mockrt.core.synth import RATE, scripted_speech, synthesize
from mockrt.core.transcription import PlaceholderTranscriber, Transcriber, TranscriptionRequest
from mockrt.core.turn_taking import TurnEnded, TurnStarted, TurnTaking, VadOptions

MAX_FIXTURE_MS = 30_000
REPLY_LATENCY_MS = 300
"""Silence between the end of the caller's turn and the reply's first word on the output timeline."""
MAX_APPEND_BYTES = 15 * 1024 * 1024


@dataclass
class LiveOptions:
    dialect: LiveDialect = field(default_factory=LiveDialect)
    seed: int | str | None = None
    brain: Brain = field(default_factory=DefaultBrain)
    transcriber: Transcriber = field(default_factory=PlaceholderTranscriber)
    vad: VadOptions = field(default_factory=VadOptions)
    time_scale: float = 1.0
    known_models: tuple[str, ...] = LIVE_MODELS
    max_buffer_ms: int = 15 * 60 * 1000
    max_duration_s: float = 3600.0
    created_at: int = 0
    usage_every_ms: int = 10_000
    on_event: JournalHook | None = None
    """The journal hook (direction, event, now, its frame's size), as :class:`~mockrt.core.session.SessionOptions`'."""
    fork_of: LiveSnapshot | None = None
    """Start from a stored session's state (a fork, §13.6): ``session.start`` then carries overrides only."""
    sip: bool = False
    """The session answers a SIP call (§13.8): ``transport.dtmf.send`` sends a keypress to the caller."""
    media: bool = False
    """Created by ``POST /v1/live/sessions`` (WebRTC, outbound SIP): the start config is a ``MediaSessionConfig``
    (``idle_timeout_s``, ``wake_policy``, §13.8)."""
    max_recording_bytes: int = 96 * 1024 * 1024
    """A stored session's recording (§13.6, ``content``) keeps at most this many bytes (both channels)."""


@dataclass
class Delegation:
    id: str
    call_id: str
    name: str
    arguments: str
    response_id: str | None = None


@dataclass
class LiveSnapshot:
    """What a fork inherits from the original session (§13.6): its configuration and conversation."""

    session_id: str
    config: LiveConfig
    items: list[Item]
    context: list[str]
    delegations: dict[str, Delegation]
    decision_items: list[dict[str, Any]] = field(default_factory=list)


class LiveSession:
    """One Live session: client event + now → outputs (docs/protocol.md §13)."""

    def __init__(self, options: LiveOptions, now: float) -> None:
        self.options = options
        self.dialect = options.dialect
        self.ids = IdGenerator(options.seed)
        self.session_id = self.ids.session()
        self.created = now
        self.now = now  # the time of the event being handled (the journal's timestamps)
        self.closed = False
        self.started_at: float | None = None
        self.config: LiveConfig | None = None
        self.buffer = InputAudioBuffer(AudioFormat.PCM16, options.max_buffer_ms)
        self.turns = TurnTaking(self.buffer, self.ids.item, options.vad)
        self.output = OutputStream(AudioFormat.PCM16)
        self.items: list[Item] = []
        self.context: list[str] = []  # appended developer instructions (§13.5)
        self.muted = False
        self.fixture: Utterance | None = None
        self.delegations: dict[str, Delegation] = {}
        self.decisions = DecisionContext()  # the shared Decision items (§13.5)
        self._decision_ids: set[str] = set()  # decision.create event_ids: never reused in a session
        self._last_output_delta: str | None = None  # the source of output transcript triggers
        self.mcp = LiveMcp()  # a scenario's mcp_call: the backend's MCP servers (§13.5)
        self.replies = 0
        self._turn_start_ms: float | None = None
        self._next_usage_ms = options.usage_every_ms
        self._anchor_ms, self._anchor_at = 0.0, now  # the output timeline's wall-clock anchor (§13.4)
        self.sideband: Callable[[dict[str, Any]], None] | None = None
        """Where a sideband connection gets its copy of every event (§13.7); set by the transport."""
        self.asleep = False  # a speech wake policy: inference waits for speech (§13.8)
        self._wake: TurnDetector | None = None
        self._paused_ms = 0.0  # output-timeline ms spent asleep before ``_asleep_since``
        self._asleep_since = 0.0
        self._last_active_ms = 0.0  # the last speech of either side, for ``idle_timeout_s``
        self.recording: LiveRecording | None = None
        """The session's input and output audio, kept when it is stored (``store: true``, §13.6)."""

    def snapshot(self) -> LiveSnapshot:
        """The state a fork starts from (deep copies: both sessions continue independently)."""
        assert self.config is not None
        return LiveSnapshot(self.session_id, copy.deepcopy(self.config), copy.deepcopy(self.items),
                            list(self.context), copy.deepcopy(self.delegations), copy.deepcopy(self.decisions.items))

    def receive_sideband(self, text: str, now: float) -> list[Output]:
        """A command from a sideband connection (``ConnectClientEvent``, §13.7): never ``session.start`` or
        audio; its outputs go to the primary connection and, like every event, to the sideband."""
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        wire = event.get("type") if isinstance(event, dict) else None
        kind = self.dialect.client_events.get(wire) if isinstance(wire, str) else None
        if kind in (C.START, C.AUDIO_APPEND):
            self.now = now
            self._journal("client", event)
            cid = event.get("event_id") if isinstance(event, dict) else None
            return [self._error(errors.unknown_event_type(wire, [
                w for w, k in self.dialect.client_events.items() if k not in (C.START, C.AUDIO_APPEND)]),
                cid if isinstance(cid, str) else None)]
        return self.receive_text(text, now)

    def notice(self, code: str, message: str) -> Send:
        """An ``info`` event (§13.3), e.g. ``data_channel_permissions`` on a WebRTC frontend's channel (§13.8)."""
        return self._send(S.INFO, {"code": code, "message": message})

    def refuse(self, err: errors.ProtocolError, client_event_id: str | None) -> Send:
        """An ``error`` for a command a transport refused before the session saw it (a frontend's data channel
        permissions, §13.8)."""
        return self._error(err, client_event_id)

    def to_sideband(self, kind: S, fields: dict[str, Any]) -> None:
        """An event delivered only to sideband observers (``transport.*``, §13.8); dropped without one."""
        if self.sideband is not None:
            self.sideband(self.dialect.render(kind, self.ids.event(), fields))

    # -- the transport contract -----------------------------------------------------------------------------

    def start(self) -> list[Output]:
        """Nothing until the client's ``session.start`` (§13.2)."""
        return []

    def receive_bytes(self, data: bytes, now: float) -> list[Output]:
        self.now = now
        self._journal("client", {"type": "<binary frame>", "bytes": len(data)})
        return [self._error(errors.binary_frame(), None)]

    def receive_text(self, text: str, now: float) -> list[Output]:
        if self.closed:
            return []
        self.now = now
        client_event_id: str | None = None
        try:
            try:
                event = json.loads(text)
            except ValueError as exc:
                self._journal("client", {"type": "<invalid json>", "raw": text[:1000]})
                raise errors.invalid_json(str(exc)) from None
            self._journal("client", event if isinstance(event, dict) else {"type": "<not an object>"},
                          text_size(text))
            if not isinstance(event, dict):
                raise errors.not_an_object()
            raw_id = event.get("event_id")
            client_event_id = raw_id if isinstance(raw_id, str) else None
            wire = event.get("type")
            if wire is None:
                raise errors.missing_type()
            kind = self.dialect.client_events.get(wire) if isinstance(wire, str) else None
            if kind is None:
                raise errors.unknown_event_type(wire, list(self.dialect.client_events))
            fields = {k: v for k, v in event.items() if k != "type"}
            schema = CLIENT_FIELDS[kind]
            if kind is C.START and self.options.fork_of is not None:
                schema = FORK_START
            elif kind is C.START and self.options.media:
                schema = MEDIA_START
            checked = schema.check(fields, "")
            if kind is not C.START and self.config is None:
                raise errors.live_start_required()
            out = self._handle(kind, checked, client_event_id, now)
        except errors.ProtocolError as err:
            return [self._error(err, client_event_id)]
        return out + self.poll(now)

    def poll(self, now: float) -> list[Output]:
        self.now = now
        if self.config is None or self.closed or self.started_at is None:
            return []
        out: list[Output] = []
        if now - self.started_at >= self.options.max_duration_s:
            return self._close("expired", None)
        self._advance(self._target_ms(now), out)
        return out

    def next_deadline(self) -> float | None:
        if self.config is None or self.closed or self.started_at is None:
            return None
        scale = self.options.time_scale
        expiry = self.started_at + self.options.max_duration_s
        if scale <= 0:
            return expiry
        due = self._anchor_at + (self.output.position_ms + CHUNK_MS - self._anchor_ms) / 1000.0 * scale
        return min(expiry, due)

    # -- handlers ---------------------------------------------------------------------------------------------

    def _handle(self, kind: C, ev: dict[str, Any], cid: str | None, now: float) -> list[Output]:
        if kind is C.START:
            return self._start(ev["session"], cid, now)
        cfg = self.config
        assert cfg is not None
        if kind is C.UPDATE:
            self.dialect.apply_update(cfg, ev["session"])
            self.mcp.configure(cfg.delegation)
            return [self._send(S.UPDATED, {"session": self._resource(), "client_event_id": cid})]
        if kind is C.AUDIO_APPEND:
            return self._append(ev["audio"], cid, now)
        if kind is C.MUTE:
            self.muted = True
            return [self._send(S.MUTED, {"client_event_id": cid})]
        if kind is C.UNMUTE:
            self.muted = False
            return [self._send(S.UNMUTED, {"client_event_id": cid})]
        if kind in (C.INSTRUCTIONS_APPEND, C.THINKING_APPEND, C.COMMENTARY_APPEND):
            return self._context(kind, ev, cid, now)
        if kind is C.FIXTURE_PLAY:
            return self._fixture(ev["audio"], cid)
        if kind is C.CLOSE:
            return self._close("close_requested", cid)
        if kind in (C.RESPONSE_CREATE, C.RESPONSE_ITEM_CREATE):
            if cfg.delegation_type != "responses":
                raise errors.live_requires_responses_delegation()
            if kind is C.RESPONSE_ITEM_CREATE:
                self.items.append(self._backend_item(ev["item"]))
                return []
            out: list[Output] = []
            self._backend_response(self._target_ms(now), out, cid)
            return out
        if kind is C.DTMF_SEND:
            if not self.options.sip:
                raise errors.live_not_served("SIP transports (DTMF)")
            if len(ev["event"]) != 1 or ev["event"] not in "0123456789*#ABCD":
                raise errors.live_dtmf_digit(ev["event"])
            self.to_sideband(S.DTMF_SENT, {"event": ev["event"], "client_event_id": cid})  # sideband only (§13.8)
            return []
        if kind is C.DECISION_ITEM_CREATE:
            item = self.decisions.add(ev["item"], self.ids.item())
            return [self._send(S.DECISION_ITEM_CREATED, {"item": item, "client_event_id": cid})]
        if kind is C.DECISION_ITEM_DELETE:
            self.decisions.delete(ev["item_id"])
            return [self._send(S.DECISION_ITEM_DELETED, {"item_id": ev["item_id"], "client_event_id": cid})]
        assert kind is C.DECISION_CREATE
        return self._decision_create(ev["event_id"], now)

    def _start(self, session: dict[str, Any], cid: str | None, now: float) -> list[Output]:
        if self.config is not None:
            raise errors.live_already_started()
        fork = self.options.fork_of
        if fork is not None:
            cfg = copy.deepcopy(fork.config)
            self.dialect.apply_fork(cfg, session)
            self.items = copy.deepcopy(fork.items)
            self.context = list(fork.context)
            self.delegations = copy.deepcopy(fork.delegations)
            self.decisions.items = copy.deepcopy(fork.decision_items)
        else:
            cfg = self.dialect.parse_start(session, self.options.known_models)
        if not self.options.media:  # a WebSocket (a fork of a WebRTC session too) has no wake or idle (§13.8)
            cfg.wake_policy, cfg.idle_timeout_s = None, None
        self.config = cfg
        self.mcp.configure(cfg.delegation)
        self.started_at = now
        if cfg.store:
            self.recording = LiveRecording(self.options.max_recording_bytes)
        self._anchor_ms, self._anchor_at = 0.0, now
        self.buffer.set_format(cfg.format)
        self.output.format = cfg.format
        self.turns.configure(TurnDetection(type="server_vad", interrupt_response=True, create_response=True),
                             cfg.format)
        if cfg.wake_policy is not None:  # inference starts on the first speech (§13.8)
            vad = self.options.vad
            settings = TurnSettings(type="server_vad", threshold=float(cfg.wake_policy.get("vad_threshold", 0.5)),
                                    min_speech_ms=vad.min_speech_ms)
            self._wake = TurnDetector(make_detector(vad.detector, cfg.format.rate), cfg.format.rate, settings,
                                      wire=cfg.format)
            self.asleep, self._asleep_since = True, 0.0
        for entry in cfg.input if fork is None else ():
            text = entry["content"][0]["text"]
            role = entry["role"]
            part = ContentPart("text" if role == "assistant" else "input_text", text=text)
            self.items.append(Item(self.ids.item(), "message", role="system" if role == "developer" else role,
                                   content=[part]))
        return [self._send(S.STARTED, {"session": self._resource(), "client_event_id": cid})]

    def _append(self, audio: str, cid: str | None, now: float) -> list[Output]:
        cfg = self.config
        assert cfg is not None
        data = _b64(audio, "audio")
        if len(data) > MAX_APPEND_BYTES:
            raise errors.append_too_large(len(data), MAX_APPEND_BYTES)
        width = cfg.format.sample_width
        data = data[: len(data) - len(data) % width]
        if self.recording is not None:  # what the caller said, before muting
            self.recording.add_input(data, cfg.format)
        if self.sideband is not None:  # reflected before muting, always PCM16 at 24 kHz (§13.7)
            pcm = to_pcm24k(data, cfg.format)
            self.sideband(self.dialect.render(S.INPUT_AUDIO_REFLECTED, "", {
                "audio": b64.encode(pcm)}))
        if self.muted or self.fixture is not None:
            data = bytes(len(data)) if cfg.format is AudioFormat.PCM16 else cfg.format.encode(
                np.zeros(len(data), dtype=np.int16))
        out: list[Output] = []
        self.buffer.append(data)
        if self._wake is not None:  # the wake detector hears everything the model would (muting included)
            for event in self._wake.feed_bytes(data):
                if isinstance(event, SpeechStarted) and self.asleep:
                    self._advance(float(event.onset_ms), out)
                    self._resume(out)
        for decision in self.turns.on_audio(data, now):
            self._advance(decision_ms(decision), out)
            self._last_active_ms = max(self._last_active_ms, self.output.position_ms)
            if isinstance(decision, TurnStarted):
                self._turn_start_ms = decision.audio_start_ms
                self.output.cut(self.output.position_ms)  # model-controlled barge-in (§13.4)
            elif isinstance(decision, TurnEnded):
                if self.asleep:  # inference is paused: the turn is not heard (§13.8)
                    self._turn_start_ms = None
                    with contextlib.suppress(errors.ProtocolError):
                        self.buffer.take(min_ms=0, upto_samples=decision.commit_upto_samples)
                else:
                    self._turn_ended(decision, out)
                self.turns.buffer_moved()
        return out

    def _resume(self, out: list[Output]) -> None:
        """Speech woke inference (§13.8): ``session.resumed``, on the first wake and every later one."""
        at = float(self.output.position_ms)
        self._paused_ms += at - self._asleep_since
        self.asleep, self._last_active_ms = False, at
        out.append(self._send(S.RESUMED, {}))

    def _idle_due(self, at_ms: float) -> bool:
        """``idle_timeout_s`` of output timeline since the last speech, nobody speaking (§13.8)."""
        cfg = self.config
        if cfg is None or cfg.idle_timeout_s is None or self._wake is None or self.asleep:
            return False
        if self._turn_start_ms is not None or self.output.queue or self.fixture is not None:
            return False
        return at_ms >= self._last_active_ms + cfg.idle_timeout_s * 1000.0

    def _pause(self, out: list[Output]) -> None:
        self.asleep, self._asleep_since = True, float(self.output.position_ms)
        if self._wake is not None:
            self._wake.reset(round(self.buffer.position_ms))  # the next speech onset wakes it
        out.append(self._send(S.PAUSED, {}))

    def _turn_ended(self, decision: TurnEnded, out: list[Output]) -> None:
        start_ms = self._turn_start_ms if self._turn_start_ms is not None else self.buffer.start_ms
        self._turn_start_ms = None
        try:
            audio = self.buffer.take(min_ms=0, upto_samples=decision.commit_upto_samples)
        except errors.ProtocolError:
            return
        cfg = self.config
        assert cfg is not None
        audio_ms = cfg.format.bytes_to_ms(len(audio))
        item = Item(decision.item_id, "message", role="user",
                    content=[ContentPart("input_audio", audio_ms=audio_ms)])
        transcript = self.options.transcriber.transcribe(TranscriptionRequest(
            decision.item_id, audio, audio_ms, "gpt-live-transcribe", None,
            sum(1 for i in self.items if i.role == "user") + 1))
        text = transcript.text or ""
        item.content[0].transcript = text
        self.items.append(item)
        pieces = tokenize(text)
        end_ms = float(decision.audio_end_ms)
        span = max(end_ms - start_ms, 0.0)
        last: Send | None = None
        for k, piece in enumerate(pieces):
            a = start_ms + span * k / len(pieces)
            b = start_ms + span * (k + 1) / len(pieces)
            last = self._send(S.INPUT_TRANSCRIPT_DELTA, {"delta": piece, "start_ms": round(a), "end_ms": round(b)})
            out.append(last)
        if last is not None:
            self._fire_triggers(S.INPUT_TRANSCRIPT_DELTA, last.event["event_id"], out)
        self._reply(end_ms + REPLY_LATENCY_MS, out)

    def _context(self, kind: C, ev: dict[str, Any], cid: str | None, now: float) -> list[Output]:
        cfg = self.config
        assert cfg is not None
        if self.fixture is not None:
            raise errors.live_fixture_active()
        delegation_id = ev["delegation_id"]
        if delegation_id is not None:
            if cfg.delegation_type == "responses":
                raise errors.live_delegation_id_with_responses()
            if delegation_id not in self.delegations:
                raise errors.live_unknown_delegation(delegation_id)
        at = self._target_ms(now)
        out: list[Output] = []
        self._advance(at, out)
        at_ms = self.output.position_ms
        content: str = ev["content"]
        ack = {C.INSTRUCTIONS_APPEND: S.INSTRUCTIONS_APPENDED, C.THINKING_APPEND: S.THINKING_APPENDED,
               C.COMMENTARY_APPEND: S.COMMENTARY_APPENDED}[kind]
        out.append(self._send(ack, {"start_ms": at_ms, "end_ms": at_ms, "client_event_id": cid}))
        if kind is C.INSTRUCTIONS_APPEND:
            self.context.append(content)
            self.items.append(Item(self.ids.item(), "message", role="system",
                                   content=[ContentPart("input_text", text=content)]))
        elif kind is C.THINKING_APPEND:
            self.items.append(Item(self.ids.item(), "message", role="system",
                                   content=[ContentPart("input_text", text=content)]))
        elif delegation_id is not None:  # a client delegation's result: the model continues from it
            d = self.delegations[delegation_id]
            self.items.append(Item(self.ids.item(), "function_call_output", call_id=d.call_id, output=content))
            self._reply(at_ms, out)
        else:  # speakable context: the model communicates it (§13.5)
            self._speak(content, at_ms)
        return out

    def _fixture(self, audio: str, cid: str | None) -> list[Output]:
        data = _b64(audio, "audio")
        pcm = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int16)
        ms = len(pcm) * 1000.0 / RATE
        if ms > MAX_FIXTURE_MS:
            raise errors.live_fixture_too_long(ms)
        if self.fixture is not None:
            raise errors.live_fixture_active()
        self.output.cut(self.output.position_ms)
        speech = scripted_speech(pcm, [], RATE)
        self.fixture = self.output.add(speech, [], self.output.position_ms, "fixture", cid)
        return [self._send(S.FIXTURE_PLAYING, {"client_event_id": cid})]

    def _close(self, reason: str, cid: str | None) -> list[Output]:
        self.closed = True
        return [self._send(S.CLOSED, {"reason": reason, "session": self._resource(), "usage": self._usage(),
                                      "client_event_id": cid}), Close(1000, "session closed")]

    # -- the scripted model -------------------------------------------------------------------------------------

    def _reply(self, at_ms: float, out: list[Output]) -> None:
        cfg = self.config
        assert cfg is not None
        self.replies += 1
        instructions = "\n".join(x for x in [cfg.instructions or "", *self.context] if x)
        params = ResponseParams(modality="audio", instructions=instructions,
                                voice=cfg.voice, output_format=cfg.format, tools=[], tool_choice="auto",
                                temperature=0.8, max_output_tokens="inf")
        ctx = ResponseContext(SessionConfig(model=cfg.model, instructions=instructions), params, self.items,
                              self.replies)
        plan = self.options.brain.reply(ctx) or ReplyPlan([MessageOut("Okay.")])
        if cfg.delegation_type == "responses" and any(isinstance(o, FunctionCallOut | McpCallOut)
                                                      for o in plan.outputs):
            self._backend_stream(plan, at_ms, out, None, new_delegation=True)  # the backend works on the task
            return
        self._say(plan.outputs, at_ms, out)

    def _say(self, outputs: list[Any], at_ms: float, out: list[Output]) -> None:
        """The model's turn: words are spoken, a function call is delegated, and at an MCP call the turn waits
        for the tool's result (then the rest of the turn, :meth:`mcp_result`)."""
        for k, output in enumerate(outputs):
            if isinstance(output, MessageOut):
                self._speak(output.transcript or output.text, at_ms, output.audio)
            elif isinstance(output, FunctionCallOut):
                self._delegate(output, at_ms, out)
            elif isinstance(output, McpCallOut):
                self._mcp_start(LiveMcpCall(output, at_ms, outputs[k + 1:]), out)
                return

    # -- MCP tools (§13.5, §9): the call runs on the transport, its result is spoken ------------------------------

    def mcp_result(self, result: McpResult, now: float) -> list[Output]:
        """The outcome of a ``ListTools`` / ``CallTool`` directive, arrived at ``now``."""
        if self.closed or self.config is None:
            return []
        self.now = now
        directives, finished = self.mcp.result(result)
        out: list[Output] = [*directives]
        self._advance(self._target_ms(now), out)
        for call in finished:
            self._mcp_done(call, max(call.at_ms, self.output.position_ms), out)
        return out + self.poll(now)

    def _mcp_start(self, call: LiveMcpCall, out: list[Output]) -> None:
        directives, finished = self.mcp.start(call, "mcp_" + self.ids.item()[5:])
        out.extend(directives)
        for done in finished:
            self._mcp_done(done, call.at_ms, out)

    def _mcp_done(self, call: LiveMcpCall, at_ms: float, out: list[Output]) -> None:
        """The model goes on with the result: the backend's stream (Responses delegation), else the turn's rest,
        led by the default words about the result when the scenario gives none (as a Realtime response, §9)."""
        item = call.call
        self.items.append(Item(self.ids.item(), "function_call_output", call_id=item.item_id,
                               output=item.output if item.error is None else item.error.message))
        if call.context is not None:
            self._backend_stream(ReplyPlan([call.out, *call.rest]), at_ms, out, None, new_delegation=False,
                                 resume=call)
            return
        rest = call.rest
        if not any(isinstance(o, MessageOut) for o in rest):
            text = mcp_reply_text(item.name, item.output, item.error.message if item.error else None)
            rest = [MessageOut(text), *rest]
        self._say(rest, at_ms, out)

    def _speak(self, text: str, at_ms: float, audio: Any = None) -> None:
        cfg = self.config
        assert cfg is not None
        words = tokenize(text)
        voice = cfg.voice if isinstance(cfg.voice, str) else "marin"
        speech = scripted_speech(audio, words, RATE) if audio is not None else synthesize(words, voice)
        self.output.add(speech, words, at_ms)
        self.items.append(Item(self.ids.item(), "message", role="assistant",
                               content=[ContentPart("audio", transcript=text)]))

    def _delegate(self, call: FunctionCallOut, at_ms: float, out: list[Output]) -> None:
        cfg = self.config
        assert cfg is not None
        target = cfg.delegation_type
        d = Delegation("del_" + self.ids.call()[5:], call.call_id or self.ids.call(), call.name, call.arguments)
        self.delegations[d.id] = d
        self.items.append(Item(self.ids.item(), "function_call", name=call.name, call_id=d.call_id,
                               arguments=call.arguments))
        self._advance(at_ms, out)
        out.append(self._send(S.DELEGATION_CREATED, {
            "delegation": {"id": d.id, "target": "decisions" if target == "decisions" else "client",
                           "type": "delegation"},
            "offset_ms": self.output.position_ms}))
        if target == "decisions":  # the Decision model answers at once; the call's arguments script it (§13.5)
            self._decision_event(self._questions(), scripted(ReplyPlan([call])), out, delegation_id=d.id)

    # -- Decisions (§13.5): a delegation, decision.create or a transcript trigger; the Decision model is scripted --

    def _decision_create(self, cid: str, now: float) -> list[Output]:
        """``decision.create``: a manual evaluation of the Decisions delegation's questions. It is a delegation:
        ``session.delegation.created`` (echoing the required ``event_id``) names the ``decision.event`` that
        follows [U: inferred — ``decision.event`` has no ``client_event_id``]."""
        cfg = self.config
        assert cfg is not None
        if cfg.delegation_type != "decisions":
            raise errors.live_requires_decisions_delegation()
        if cid in self._decision_ids:
            raise errors.live_decision_event_id_reused(cid)
        self._decision_ids.add(cid)
        out: list[Output] = []
        self._advance(self._target_ms(now), out)
        d = Delegation("del_" + self.ids.call()[5:], "", "decisions", "")
        self.delegations[d.id] = d
        out.append(self._send(S.DELEGATION_CREATED, {
            "delegation": {"id": d.id, "target": "decisions", "type": "delegation"},
            "offset_ms": self.output.position_ms, "client_event_id": cid}))
        self.replies += 1  # the scenario answers, as for any response
        instructions = cfg.instructions or ""
        params = ResponseParams(modality="text", instructions=instructions, voice=cfg.voice,
                                output_format=cfg.format, tools=[], tool_choice="auto", temperature=0.8,
                                max_output_tokens="inf")
        ctx = ResponseContext(SessionConfig(model=cfg.model, instructions=instructions), params,
                              self.items + self.decisions.as_items(), self.replies)
        self._decision_event(self._questions(), scripted(self.options.brain.reply(ctx)), out, delegation_id=d.id)
        return out

    def _questions(self) -> list[dict[str, Any]]:
        """The Decisions delegation's questions (``session.update`` may have replaced them)."""
        cfg = self.config
        assert cfg is not None
        backend = (cfg.delegation or {}).get("decisions") or {}
        questions: list[dict[str, Any]] = backend.get("questions") or []
        return questions

    def _fire_triggers(self, source: S, source_event_id: str, out: list[Output]) -> None:
        """The session's ``triggers`` for ``source`` (a transcript delta type): one evaluation per caller turn or
        model utterance, at its last delta [U: how often the service fires], with the default answers."""
        cfg = self.config
        assert cfg is not None
        wire = self.dialect.server_events[source]
        for trigger in cfg.triggers:
            if trigger["event_type"] == wire:
                self._decision_event(trigger["decisions"]["questions"], {}, out, source=(
                    "trig_" + self.ids.call()[5:], source_event_id, wire))

    def _decision_event(self, questions: list[dict[str, Any]], script: dict[str, Any], out: list[Output], *,
                        delegation_id: str | None = None, source: tuple[str, str, str] | None = None) -> None:
        cfg = self.config
        assert cfg is not None
        said = [p.text or p.transcript or "" for i in self.items if i.role in ("user", "assistant") for p in i.content]
        context = " ".join([*said, *(i.output or "" for i in self.items), self.decisions.text()])
        answers = evaluate(questions, script, context)
        backend = (cfg.delegation or {}).get("decisions") if cfg.delegation_type == "decisions" else None
        model = str((backend or {}).get("model") or DEFAULT_MODEL)
        fields: dict[str, Any] = {"event": self.dialect.render_decision(model, answers, usage(context, answers)),
                                  "delegation_id": delegation_id}
        if source is not None:
            fields.update(trigger_id=source[0], source_event_id=source[1], source_event_type=source[2])
        out.append(self._send(S.DECISION_EVENT, fields))

    # -- Responses delegation (§13.5): the backend is the same brain, streamed in response.event envelopes --

    def _backend_item(self, item: dict[str, Any]) -> Item:
        """A ``response.item.create`` item: a tool result or a message for the backend conversation."""
        if item.get("type") == "function_call_output":
            output = item.get("output")
            return Item(self.ids.item(), "function_call_output", call_id=str(item.get("call_id")),
                        output=output if isinstance(output, str) else json.dumps(output))
        content = item.get("content")
        text = content if isinstance(content, str) else " ".join(
            str(p.get("text", "")) for p in content or [] if isinstance(p, dict))
        return Item(self.ids.item(), "message", role="user", content=[ContentPart("input_text", text=text)])

    def _backend_response(self, at_ms: float, out: list[Output], cid: str | None) -> None:
        """``response.create``: the backend answers from its conversation (tool results included)."""
        cfg = self.config
        assert cfg is not None
        self.replies += 1
        params = ResponseParams(modality="text", instructions=cfg.instructions or "", voice=cfg.voice,
                                output_format=cfg.format, tools=[], tool_choice="auto", temperature=0.8,
                                max_output_tokens="inf")
        ctx = ResponseContext(SessionConfig(model=cfg.model), params, self.items, self.replies)
        plan = self.options.brain.reply(ctx) or ReplyPlan([MessageOut("Okay.")])
        self._backend_stream(plan, at_ms, out, cid, new_delegation=False)

    def _backend_stream(self, plan: ReplyPlan, at_ms: float, out: list[Output], cid: str | None, *,
                        new_delegation: bool, resume: LiveMcpCall | None = None) -> None:
        """The backend's answer as a nested Responses stream; an MCP call in it runs first (the stream follows
        once its result is in: ``resume``, one MCP call per delegated response [mockrt])."""
        cfg = self.config
        assert cfg is not None
        response_id = self.ids.response() if resume is None else resume.context[1]
        delegation = next(reversed(self.delegations.values()), None) if not new_delegation else None
        if resume is not None:
            delegation = resume.context[0]
        if new_delegation:
            delegation = Delegation("del_" + self.ids.call()[5:], "", "", "", response_id)
            self.delegations[delegation.id] = delegation
            self._advance(at_ms, out)
            out.append(self._send(S.DELEGATION_CREATED, {
                "delegation": {"id": delegation.id, "target": "responses", "type": "delegation",
                               "response_id": response_id},
                "offset_ms": self.output.position_ms, "client_event_id": cid}))
        outputs: list[tuple[str, dict[str, Any]]] = []
        spoken: list[str] = []
        for k, o in enumerate(plan.outputs):
            if isinstance(o, McpCallOut):
                if resume is None:  # the backend calls the tool, then answers
                    self._mcp_start(LiveMcpCall(o, at_ms, plan.outputs[k + 1:], (delegation, response_id)), out)
                    return
                if o is not resume.out:  # one MCP call per delegated response
                    continue
                outputs.append(("mcp_call", {"call": resume.call}))
                if not any(isinstance(x, MessageOut) for x in plan.outputs):
                    item = resume.call
                    text = mcp_reply_text(item.name, item.output, item.error.message if item.error else None)
                    outputs.append(("message", {"id": "msg_" + self.ids.item()[5:], "text": text,
                                                "pieces": tokenize(text)}))
                    spoken.append(text)
            elif isinstance(o, FunctionCallOut):
                call_id = o.call_id or self.ids.call()
                self.items.append(Item(self.ids.item(), "function_call", name=o.name, call_id=call_id,
                                       arguments=o.arguments))
                outputs.append(("function_call", {"id": "fc_" + self.ids.item()[5:], "call_id": call_id,
                                                  "name": o.name, "arguments": o.arguments}))
            elif isinstance(o, MessageOut):
                text = o.transcript or o.text
                outputs.append(("message", {"id": "msg_" + self.ids.item()[5:], "text": text,
                                            "pieces": tokenize(text)}))
                spoken.append(text)
        backend = (cfg.delegation or {}).get("responses") or {}
        model = str(backend.get("model") or "gpt-5")
        usage_in = sum(len(tokenize(i.output or "")) + sum(len(tokenize(p.text or p.transcript or ""))
                                                           for p in i.content) for i in self.items)
        usage_out = sum(len(tokenize(o[1].get("text") or o[1].get("arguments") or "")) for o in outputs)
        usage = {"input_tokens": usage_in, "output_tokens": usage_out, "total_tokens": usage_in + usage_out}
        for nested in self.dialect.render_responses_stream(response_id, model, self.options.created_at, outputs,
                                                           usage):
            out.append(self._send(S.RESPONSE_EVENT, {"event": nested, "delegation_id":
                                                     delegation.id if delegation else None}))
        for text in spoken:  # the Live model communicates the backend's answer
            self._speak(text, at_ms)

    # -- the output stream ----------------------------------------------------------------------------------------

    def _target_ms(self, now: float) -> float:
        assert self.started_at is not None
        target = self.buffer.position_ms
        scale = self.options.time_scale
        if scale > 0:
            wall = self._anchor_ms + (now - self._anchor_at) * 1000.0 / scale
            if target > wall:  # input ran ahead of the wall clock: output continues at pace from there
                self._anchor_ms, self._anchor_at, wall = target, now, target
            target = wall
        elif self.output.queue:  # unpaced: the queued speech goes out whole, to the end of its last chunk
            target = max(target, math.ceil(self.output.busy_until_ms / CHUNK_MS) * CHUNK_MS)
        return target

    def _advance(self, target_ms: float, out: list[Output]) -> None:
        """Send the output timeline's chunks up to ``target_ms`` (§13.4)."""
        while self.output.position_ms + CHUNK_MS <= target_ms + 1e-6 and not self.closed:
            speaking = bool(self.output.queue)
            chunk = self.output.step()
            if speaking:
                self._last_active_ms = float(chunk.end_ms)
            if self.recording is not None:
                self.recording.add_output(chunk.audio, self.output.format)
            out.append(self._send(S.OUTPUT_AUDIO_DELTA, {"delta": b64.encode(chunk.audio)},
                                  mirror=False))
            if self.sideband is not None:  # reflected output: PCM16 at 24 kHz with its place on the timeline
                self.sideband(self.dialect.render(S.OUTPUT_AUDIO_DELTA, "", {
                    "delta": b64.encode(to_pcm24k(chunk.audio, self.output.format)),
                    "start_ms": chunk.start_ms, "end_ms": chunk.end_ms}))
            for text, a, b in chunk.words:
                word = self._send(S.OUTPUT_TRANSCRIPT_DELTA, {"delta": text, "start_ms": a, "end_ms": b})
                self._last_output_delta = word.event["event_id"]
                out.append(word)
            replied = False
            for u in chunk.finished:
                if u is self.fixture:
                    self.fixture = None
                    out.append(self._send(S.FIXTURE_PLAYED, {"client_event_id": u.client_event_id}))
                if u.kind == "reply" and u.next_word > 0 and self._last_output_delta is not None:
                    self._fire_triggers(S.OUTPUT_TRANSCRIPT_DELTA, self._last_output_delta, out)
                replied = replied or u.kind == "reply"
            if replied:  # after each model turn, and every ``usage_every_ms`` of output (§13.6)
                out.append(self._send(S.USAGE_UPDATED, {"usage": self._usage()}))
            elif chunk.end_ms >= self._next_usage_ms:
                self._next_usage_ms += self.options.usage_every_ms
                out.append(self._send(S.USAGE_UPDATED, {"usage": self._usage()}))
            if self._idle_due(chunk.end_ms):
                self._pause(out)

    # -- rendering ------------------------------------------------------------------------------------------

    def _resource(self) -> dict[str, Any]:
        cfg = self.config
        assert cfg is not None
        start = self.started_at if self.started_at is not None else self.created
        expires = self.options.created_at + int(self.options.max_duration_s) + int(start - self.created)
        return self.dialect.render_session(cfg, self.session_id, expires)

    def _usage(self) -> dict[str, Any]:
        seconds = math.floor(max(self.output.position_ms, self.buffer.position_ms) / 1000.0)
        usage: dict[str, Any] = {"seconds": float(seconds)}
        if self._wake is not None:  # the active/paused breakdown of sessions that can pause (§13.6, §13.8)
            paused_ms = self._paused_ms + (self.output.position_ms - self._asleep_since if self.asleep else 0.0)
            paused = min(seconds, math.floor(paused_ms / 1000.0))
            usage.update(active_seconds=seconds - paused, paused_seconds=paused)
        return usage

    def _send(self, kind: S, fields: dict[str, Any], mirror: bool = True) -> Send:
        return self._sent(self.dialect.render(kind, self.ids.event(), fields), mirror)

    def _journal(self, direction: str, event: dict[str, Any], size: int | None = None) -> None:
        if self.options.on_event is not None:
            self.options.on_event(direction, event, self.now, size)

    def _error(self, err: errors.ProtocolError, cid: str | None) -> Send:
        return self._sent(self.dialect.render_error(self.ids.event(), err, cid), True)

    def _sent(self, event: dict[str, Any], mirror: bool) -> Send:
        """``event`` as sent: journaled with its frame's size, mirrored to the sideband (§13.7)."""
        send = Send(event)
        self._journal("server", event, len(send.frame))
        if mirror and self.sideband is not None:
            self.sideband(event)
        return send


def decision_ms(decision: TurnStarted | TurnEnded) -> float:
    """Where a turn decision sits on the input timeline (the output catches up to it first)."""
    return float(decision.audio_start_ms if isinstance(decision, TurnStarted) else decision.audio_end_ms)


def _b64(value: str, path: str) -> bytes:
    try:
        return b64.decode_strict(value)
    except (binascii.Error, ValueError):
        raise errors.live_invalid_audio(path) from None
