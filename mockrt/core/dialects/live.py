"""The GPT-Live wire dialect (``/v1/live/sessions``, docs/protocol.md §13): event names in both directions, the
strict schemas of every client event, and the shapes of the session resource and server events.

Ground truth: the openai SDK's ``openai.types.live`` (``ClientEvent``, ``ConnectServerEvent`` and their models).
This is the only module that knows a Live wire ``type`` string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects import mcp as mcp_wire
from mockrt.core.live.events import LiveClientEvent as C
from mockrt.core.live.events import LiveServerEvent as S
from mockrt.core.schema import AnyValue, Arr, Bool, Check, Const, Enum, Int, Nullable, Obj, OneOf, Str, Union

LIVE_MODELS = ("gpt-live-1", "gpt-live-1.1")
VOICES = ("alloy", "ash", "ballad", "beacon", "bossa", "cedar", "cinder", "coral", "delta", "echo", "gleam",
          "marin", "meridian", "quartz", "ripple", "sage", "shida", "shimmer", "stone", "tempo", "verse", "vesper",
          "willow")

_EVENT_ID = {"event_id": Str(max_len=512)}


def _ack_delay() -> dict[str, Check]:
    return {"acknowledgement_delay_ms": Int(0, 60_000)}


_AUDIO_FORMAT = Union({
    "audio/pcm": Obj({"type": Const("audio/pcm"), "rate": Int()}, required=("type", "rate")),
    "audio/pcmu": Obj({"type": Const("audio/pcmu"), "rate": Int()}, required=("type", "rate")),
    "audio/pcma": Obj({"type": Const("audio/pcma"), "rate": Int()}, required=("type", "rate")),
})
_VOICE = OneOf(Str(), Obj({"id": Str()}, required=("id",)), expected="a string or an object")
_TEXT_PART = Obj({"type": Enum("input_text"), "text": Str()}, required=("text",))
_ASSISTANT_PART = Obj({"type": Enum("text", "output_text"), "text": Str()}, required=("text",))


def _initial(part: Check) -> Check:
    return Obj({"type": Const("message"), "role": Str(), "id": Str(), "status": Enum("incomplete", "completed"),
                "content": Arr(part, max_len=1, min_len=1)}, required=("role", "content"))


_INITIAL_ITEM = Union({"developer": _initial(_TEXT_PART), "user": _initial(_TEXT_PART),
                       "assistant": _initial(_ASSISTANT_PART)}, key="role")
# The backend configurations (a Responses model, prompt and tools; Decisions questions) are passed through as
# given: the mock's delegated "model" is the scenario, not these settings (§13 "mockrt:").
_BACKEND = Obj({}, extra=AnyValue())
_DELEGATION = Nullable(Union({
    "client": Obj({"type": Const("client"), **_ack_delay()}, required=("type",)),
    "responses": Obj({"type": Const("responses"), "responses": _BACKEND, **_ack_delay()},
                     required=("type", "responses")),
    "decisions": Obj({"type": Const("decisions"), "decisions": _BACKEND, **_ack_delay()},
                     required=("type", "decisions")),
}))
_DELEGATION_UPDATE = Nullable(Union({
    "client": Obj({"type": Const("client"), **_ack_delay()}, required=("type",)),
    "responses": Obj({"type": Const("responses"), "responses": _BACKEND, **_ack_delay()}, required=("type",)),
    "decisions": Obj({"type": Const("decisions"), "decisions": _BACKEND, **_ack_delay()}, required=("type",)),
}))
_TRIGGER = Obj({"type": Const("decisions"), "decisions": _BACKEND,
                "event_type": Str()}, required=("type", "decisions", "event_type"))

SESSION_CONFIG = Obj({
    "model": Str(),
    "audio": Obj({"format": _AUDIO_FORMAT, "output": Obj({"voice": _VOICE})}),
    "client": Obj({"data_channel": _BACKEND}, required=("data_channel",)),
    "delegation": _DELEGATION,
    "input": Arr(_INITIAL_ITEM, max_len=128),
    "instructions": Str(),
    "safety_identifier": Str(max_len=64),
    "store": Bool(),
    "triggers": Arr(_TRIGGER, max_len=2),
}, required=("model",))
SESSION_UPDATE = Obj({"delegation": _DELEGATION_UPDATE, "triggers": Arr(_TRIGGER, max_len=2)})
FORK_CONFIG = Obj({
    "audio": Obj({"format": _AUDIO_FORMAT}),
    "client": Obj({"data_channel": _BACKEND}, required=("data_channel",)),
    "delegation": Obj({"type": Const("responses"), "responses": _BACKEND, **_ack_delay()}, required=("type",)),
    "store": Bool(),
})
"""``session.start`` on a fork WebSocket: overrides of the stored session; the model is inherited (§13.6)."""
FORK_START = Obj({"session": FORK_CONFIG, **_EVENT_ID}, required=("session",))
_CONTEXT = {"content": Str(), "delegation_id": Nullable(Str())}

CLIENT_FIELDS: Mapping[C, Obj] = {
    C.START: Obj({"session": SESSION_CONFIG, **_EVENT_ID}, required=("session",)),
    C.UPDATE: Obj({"session": SESSION_UPDATE, **_EVENT_ID}, required=("session",)),
    C.AUDIO_APPEND: Obj({"audio": Str(), **_EVENT_ID}, required=("audio",)),
    C.MUTE: Obj(_EVENT_ID),
    C.UNMUTE: Obj(_EVENT_ID),
    C.FIXTURE_PLAY: Obj({"audio": Str(), **_EVENT_ID}, required=("audio",)),
    C.INSTRUCTIONS_APPEND: Obj({**_CONTEXT, **_EVENT_ID}, required=("content", "delegation_id")),
    C.THINKING_APPEND: Obj({**_CONTEXT, **_EVENT_ID}, required=("content", "delegation_id")),
    C.COMMENTARY_APPEND: Obj({**_CONTEXT, **_EVENT_ID}, required=("content", "delegation_id")),
    C.DECISION_CREATE: Obj({}, extra=AnyValue()),
    C.DECISION_ITEM_CREATE: Obj({}, extra=AnyValue()),
    C.DECISION_ITEM_DELETE: Obj({}, extra=AnyValue()),
    C.RESPONSE_ITEM_CREATE: Obj({"item": Obj({}, extra=AnyValue()), **_EVENT_ID}, required=("item",)),
    C.RESPONSE_CREATE: Obj(_EVENT_ID),
    C.CLOSE: Obj(_EVENT_ID),
    C.DTMF_SEND: Obj({"event": Str(), **_EVENT_ID}, required=("event",)),
}


@dataclass
class LiveConfig:
    """The resolved configuration of one Live session (the internal model; ``SessionResource`` on the wire)."""

    model: str
    format: AudioFormat = AudioFormat.PCM16
    format_wire: dict[str, Any] = field(default_factory=lambda: {"type": "audio/pcm", "rate": 24000})
    voice: str | dict[str, Any] = "marin"
    instructions: str | None = None
    delegation: dict[str, Any] | None = None
    input: list[dict[str, Any]] = field(default_factory=list)
    safety_identifier: str | None = None
    store: bool = False
    triggers: list[dict[str, Any]] = field(default_factory=list)
    client: dict[str, Any] | None = None

    @property
    def delegation_type(self) -> str:
        return str(self.delegation["type"]) if self.delegation else "client"


class LiveDialect:
    """The Live API's wire (§13). Stateless; one instance per server."""

    name: ClassVar[str] = "live"
    client_events: ClassVar[Mapping[str, C]] = {
        "session.start": C.START,
        "session.update": C.UPDATE,
        "session.input_audio.append": C.AUDIO_APPEND,
        "session.input_audio.mute": C.MUTE,
        "session.input_audio.unmute": C.UNMUTE,
        "session.output_audio.fixture.play": C.FIXTURE_PLAY,
        "session.instructions.append": C.INSTRUCTIONS_APPEND,
        "session.thinking.append": C.THINKING_APPEND,
        "session.commentary.append": C.COMMENTARY_APPEND,
        "decision.create": C.DECISION_CREATE,
        "decision.item.create": C.DECISION_ITEM_CREATE,
        "decision.item.delete": C.DECISION_ITEM_DELETE,
        "response.item.create": C.RESPONSE_ITEM_CREATE,
        "response.create": C.RESPONSE_CREATE,
        "session.close": C.CLOSE,
        "transport.dtmf.send": C.DTMF_SEND,
    }
    server_events: ClassVar[Mapping[S, str]] = {
        S.STARTED: "session.started",
        S.UPDATED: "session.updated",
        S.MUTED: "session.input_audio.muted",
        S.UNMUTED: "session.input_audio.unmuted",
        S.FIXTURE_PLAYING: "session.output_audio.fixture.playing",
        S.FIXTURE_PLAYED: "session.output_audio.fixture.played",
        S.INSTRUCTIONS_APPENDED: "session.instructions.appended",
        S.THINKING_APPENDED: "session.thinking.appended",
        S.COMMENTARY_APPENDED: "session.commentary.appended",
        S.OUTPUT_AUDIO_DELTA: "session.output_audio.delta",
        S.INPUT_TRANSCRIPT_DELTA: "session.input_transcript.delta",
        S.OUTPUT_TRANSCRIPT_DELTA: "session.output_transcript.delta",
        S.DELEGATION_CREATED: "session.delegation.created",
        S.RESPONSE_EVENT: "response.event",
        S.USAGE_UPDATED: "session.usage.updated",
        S.CLOSED: "session.closed",
        S.ERROR: "error",
        S.INFO: "info",
        S.INPUT_AUDIO_REFLECTED: "session.input_audio.append",
        S.DTMF_RECEIVED: "transport.dtmf.received",
        S.DTMF_SENT: "transport.dtmf.sent",
    }

    without_event_id: ClassVar[frozenset[S]] = frozenset({S.OUTPUT_AUDIO_DELTA, S.INPUT_AUDIO_REFLECTED})

    # -- client events -------------------------------------------------------------------------------------

    def parse_start(self, session: dict[str, Any], known_models: tuple[str, ...] = LIVE_MODELS) -> LiveConfig:
        """A checked ``session.start`` config → :class:`LiveConfig` (§13.2): the model must be a Live model;
        mockrt serves PCM16 at 24 kHz and G.711 at 8 kHz."""
        model = session["model"]
        if model not in known_models:
            raise errors.live_unknown_model(model, known_models)
        cfg = LiveConfig(model=model)
        audio = session.get("audio") or {}
        fmt = audio.get("format")
        if fmt is not None:
            kind, rate = fmt["type"], fmt["rate"]
            expected = 24000 if kind == "audio/pcm" else 8000
            if rate != expected:
                raise errors.live_unsupported_rate(rate, "session.audio.format.rate")
            cfg.format = {"audio/pcm": AudioFormat.PCM16, "audio/pcmu": AudioFormat.G711_ULAW,
                          "audio/pcma": AudioFormat.G711_ALAW}[kind]
            cfg.format_wire = {"type": kind, "rate": rate}
        voice = (audio.get("output") or {}).get("voice")
        if voice is not None:
            if isinstance(voice, str) and voice not in VOICES:
                raise errors.invalid_value(voice, VOICES, "session.audio.output.voice")
            cfg.voice = voice
        instructions = session.get("instructions")
        cfg.instructions = instructions if instructions and instructions.strip() else None
        cfg.delegation = session.get("delegation")
        cfg.input = list(session.get("input") or [])
        cfg.safety_identifier = session.get("safety_identifier")
        cfg.store = bool(session.get("store", False))
        cfg.triggers = list(session.get("triggers") or [])
        cfg.client = session.get("client")
        return cfg

    def apply_fork(self, cfg: LiveConfig, overrides: dict[str, Any]) -> None:
        """A checked fork ``session.start`` (§13.6): the format of the new connection, the stored backend's
        settings (Responses delegation only), ``store``."""
        if "audio" in overrides and "format" in overrides["audio"]:
            fmt = self.parse_start({"model": cfg.model, "audio": overrides["audio"]}, (cfg.model,))
            cfg.format, cfg.format_wire = fmt.format, fmt.format_wire
        if "client" in overrides:
            raise errors.live_not_served("client overrides on a WebSocket fork (WebRTC forks only)")
        if "delegation" in overrides:
            if cfg.delegation_type != "responses":
                raise errors.live_delegation_type_change(cfg.delegation_type, "responses")
            self.apply_update(cfg, {"delegation": overrides["delegation"]})
        if "store" in overrides:
            cfg.store = overrides["store"]

    def apply_update(self, cfg: LiveConfig, update: dict[str, Any]) -> None:
        """A checked ``session.update`` (§13.2): the delegation type cannot change, omitted settings stay."""
        if "delegation" in update:
            new = update["delegation"]
            given = new["type"] if new else "client"
            if given != cfg.delegation_type:
                raise errors.live_delegation_type_change(cfg.delegation_type, given)
            if new is not None:
                merged = dict(cfg.delegation or {})
                for key, value in new.items():
                    if isinstance(value, dict) and isinstance(merged.get(key), dict):
                        merged[key] = {**merged[key], **value}
                    else:
                        merged[key] = value
                cfg.delegation = merged
        if "triggers" in update:
            cfg.triggers = list(update["triggers"])

    # -- server events ----------------------------------------------------------------------------------------

    def render_session(self, cfg: LiveConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        """The ``SessionResource`` (§13.3): resolved settings with the server defaults."""
        out: dict[str, Any] = {
            "id": session_id, "expires_at": expires_at, "model": cfg.model, "status": "active",
            "audio": {"format": dict(cfg.format_wire), "output": {"voice": cfg.voice}},
            "delegation": cfg.delegation, "instructions": cfg.instructions, "input": cfg.input,
            "store": cfg.store, "triggers": cfg.triggers,
        }
        if cfg.safety_identifier is not None:
            out["safety_identifier"] = cfg.safety_identifier
        if cfg.client is not None:
            out["client"] = cfg.client
        return out

    def render(self, kind: S, event_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """One server event: ``type`` first, then ``event_id`` and the fields (``None`` values dropped). Output
        audio deltas carry no ``event_id`` (the SDK's ``OutputAudioDeltaEvent`` has none, §13.3)."""
        head = {"type": self.server_events[kind]}
        if kind not in self.without_event_id:
            head["event_id"] = event_id
        return {**head, **{k: v for k, v in fields.items() if v is not None}}

    def render_error(self, event_id: str, err: errors.ProtocolError, client_event_id: str | None) -> dict[str, Any]:
        """The Live ``error`` event (§13.3): the error object carries ``client_event_id``, not ``event_id``."""
        error: dict[str, Any] = {"type": err.type, "code": err.code or "invalid_request", "message": err.message}
        if err.param is not None:
            error["param"] = err.param
        if client_event_id is not None:
            error["client_event_id"] = client_event_id
        return self.render(S.ERROR, event_id, {"error": error, "client_event_id": client_event_id})

    def render_responses_stream(self, response_id: str, model: str, created_at: int,
                                outputs: list[tuple[str, dict[str, Any]]],
                                usage: dict[str, int]) -> list[dict[str, Any]]:
        """The nested Responses API stream of one delegated response (§13.5), wrapped by ``response.event``:
        ``outputs`` are ``("function_call", {id, call_id, name, arguments})``, ``("mcp_call", {call})`` (a finished
        :class:`~mockrt.core.mcp.McpCall`, streamed as the Responses API streams a remote MCP call) and
        ``("message", {id, text, pieces})``. Lifecycle snapshots carry no input, instructions, tools or output (as
        the SDK documents)."""
        events: list[dict[str, Any]] = []

        def add(etype: str, **fields: Any) -> None:
            events.append({"type": etype, "sequence_number": len(events), **fields})

        snapshot = {"id": response_id, "object": "response", "created_at": created_at, "model": model,
                    "status": "in_progress", "output": []}
        add("response.created", response=dict(snapshot))
        add("response.in_progress", response=dict(snapshot))
        for index, (kind, out) in enumerate(outputs):
            if kind == "function_call":
                item = {"id": out["id"], "type": "function_call", "status": "in_progress", "call_id": out["call_id"],
                        "name": out["name"], "arguments": ""}
                add("response.output_item.added", output_index=index, item=item)
                add("response.function_call_arguments.delta", item_id=out["id"], output_index=index,
                    delta=out["arguments"])
                add("response.function_call_arguments.done", item_id=out["id"], output_index=index,
                    name=out["name"], arguments=out["arguments"])
                add("response.output_item.done", output_index=index,
                    item={**item, "status": "completed", "arguments": out["arguments"]})
            elif kind == "mcp_call":
                done = mcp_wire.render_call(out["call"])
                where = {"item_id": done["id"], "output_index": index}
                add("response.output_item.added", output_index=index,
                    item={**done, "arguments": "", "output": None, "error": None, "status": "in_progress"})
                add("response.mcp_call_arguments.delta", **where, delta=done["arguments"])
                add("response.mcp_call_arguments.done", **where, arguments=done["arguments"])
                add("response.mcp_call.in_progress", **where)
                failed = done["error"] is not None
                add("response.mcp_call.failed" if failed else "response.mcp_call.completed", **where)
                add("response.output_item.done", output_index=index,
                    item={**done, "status": "failed" if failed else "completed"})
            else:
                item = {"id": out["id"], "type": "message", "status": "in_progress", "role": "assistant",
                        "content": []}
                part = {"type": "output_text", "text": "", "annotations": []}
                ids = {"item_id": out["id"], "output_index": index, "content_index": 0}
                add("response.output_item.added", output_index=index, item=item)
                add("response.content_part.added", **ids, part=part)
                for piece in out["pieces"]:
                    add("response.output_text.delta", **ids, delta=piece)
                add("response.output_text.done", **ids, text=out["text"])
                done_part = {**part, "text": out["text"]}
                add("response.content_part.done", **ids, part=done_part)
                add("response.output_item.done", output_index=index,
                    item={**item, "status": "completed", "content": [done_part]})
        add("response.completed", response={**snapshot, "status": "completed", "usage": usage})
        return events

    def wire_name(self, kind: C) -> str:
        return next(name for name, value in self.client_events.items() if value is kind)
