"""The GPT-Live wire dialect (``/v1/live/sessions``, docs/protocol.md §13): event names in both directions, the
strict schemas of every client event, and the shapes of the session resource and server events.

Ground truth: the openai SDK's ``openai.types.live`` (``ClientEvent``, ``ConnectServerEvent`` and their models).
This is the only module that knows a Live wire ``type`` string.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects import mcp as mcp_wire
from mockrt.core.live.decisions import Answer
from mockrt.core.live.events import LiveClientEvent as C
from mockrt.core.live.events import LiveServerEvent as S
from mockrt.core.schema import (
    AnyValue,
    Arr,
    Bool,
    Check,
    Const,
    Custom,
    Enum,
    Int,
    Nullable,
    Num,
    Obj,
    OneOf,
    Str,
    Union,
)

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
# The Responses backend configuration (model, prompt, tools) is passed through as given: the mock's delegated
# "model" is the scenario, not these settings (§13 "mockrt:").
_BACKEND = Obj({}, extra=AnyValue())


# -- Decisions (§13.5): the questions are validated (the mock answers them), the items of the shared context too --

def _json_part() -> Check:
    return Obj({"type": Const("input_json"), "data": OneOf(Arr(Obj({}, extra=AnyValue())), Obj({}, extra=AnyValue()),
                                                           expected="an object or an array of objects")},
               required=("type", "data"))


_IMAGE_PART = Obj({"type": Const("input_image"), "image_url": Str(), "detail": Enum("low", "high", "auto", "original")},
                  required=("type", "image_url"))
_INPUT_TEXT = Obj({"type": Const("input_text"), "text": Str()}, required=("type", "text"))
_QUESTION_PARTS = Arr(Union({"input_text": _INPUT_TEXT, "input_image": _IMAGE_PART, "input_json": _json_part()}))
_INSTRUCTIONS = OneOf(Str(), _QUESTION_PARTS, expected="a string or an array of content parts")


def _unique_choices(choices: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    seen: set[tuple[type, object]] = set()
    for k, c in enumerate(choices):
        key = (type(c["value"]), c["value"])
        if key in seen:
            raise errors.live_decision_duplicate_choice(c["value"], f"{path}[{k}].value")
        seen.add(key)
    return choices


_QUESTION = Union({
    "predicate": Obj({"type": Const("predicate"), "instructions": _INSTRUCTIONS, "name": Str()},
                     required=("type", "instructions")),
    "choice": Obj({"type": Const("choice"), "instructions": _INSTRUCTIONS, "name": Str(),
                   "choices": Custom(Arr(Obj({"value": OneOf(Str(), Bool(), expected="a string or a boolean"),
                                              "description": Str()}, required=("value",)), min_len=2, max_len=255),
                                     _unique_choices)},
                  required=("type", "instructions", "choices")),
    "score": Obj({"type": Const("score"), "instructions": _INSTRUCTIONS, "name": Str(),
                  "levels": Arr(Obj({"label": Str(), "description": Str()}, required=("label",)), min_len=1)},
                 required=("type", "instructions", "levels")),
})
_QUESTIONS = Arr(_QUESTION, min_len=1, max_len=400)
_DECISIONS = Obj({"model": Str(), "questions": _QUESTIONS}, required=("model", "questions"))
_DECISIONS_UPDATE = Obj({"model": Str(), "questions": _QUESTIONS})
_DELEGATION = Nullable(Union({
    "client": Obj({"type": Const("client"), **_ack_delay()}, required=("type",)),
    "responses": Obj({"type": Const("responses"), "responses": _BACKEND, **_ack_delay()},
                     required=("type", "responses")),
    "decisions": Obj({"type": Const("decisions"), "decisions": _DECISIONS, **_ack_delay()},
                     required=("type", "decisions")),
}))
_DELEGATION_UPDATE = Nullable(Union({
    "client": Obj({"type": Const("client"), **_ack_delay()}, required=("type",)),
    "responses": Obj({"type": Const("responses"), "responses": _BACKEND, **_ack_delay()}, required=("type",)),
    "decisions": Obj({"type": Const("decisions"), "decisions": _DECISIONS_UPDATE, **_ack_delay()},
                     required=("type",)),
}))
TRIGGER_EVENT_TYPES = ("session.input_transcript.delta", "session.output_transcript.delta")
_TRIGGER = Obj({"type": Const("decisions"), "decisions": Obj({"questions": _QUESTIONS}, required=("questions",)),
                "event_type": Enum(*TRIGGER_EVENT_TYPES)}, required=("type", "decisions", "event_type"))


def _message(role: str, part: Check) -> Obj:
    return Obj({"type": Const("message"), "role": Const(role), "id": Str(),
                "content": OneOf(Str(), Arr(part), expected="a string or an array of content parts")},
               required=("role", "content"))


_OUTPUT_PARTS = Arr(Union({"input_text": _INPUT_TEXT, "input_image": _IMAGE_PART}))
_STATUS = Enum("in_progress", "completed", "incomplete")


def _tool_output(kind: str) -> Obj:
    return Obj({"type": Const(kind), "id": Str(), "call_id": Str(), "status": _STATUS,
                "output": OneOf(Str(), _OUTPUT_PARTS, expected="a string or an array of content parts")},
               required=("type", "call_id", "output"))


DECISION_ITEM = Union({
    "message": Union({
        "user": _message("user", Union({"input_text": _INPUT_TEXT, "input_image": _IMAGE_PART,
                                        "input_json": _json_part()})),
        "developer": _message("developer", Union({"input_text": _INPUT_TEXT})),
        "system": _message("system", Union({"input_text": _INPUT_TEXT})),
        "assistant": Obj({**_message("assistant", Union({
            "output_text": Obj({"type": Const("output_text"), "text": Str()}, required=("type", "text")),
            "refusal": Obj({"type": Const("refusal"), "refusal": Str()}, required=("type", "refusal")),
        })).fields, "phase": Nullable(Enum("commentary", "final_answer"))}, required=("role", "content")),
    }, key="role"),
    "function_call": Obj({"type": Const("function_call"), "id": Str(), "call_id": Str(), "name": Str(),
                          "arguments": Str(), "namespace": Str(), "status": _STATUS},
                         required=("type", "call_id", "name", "arguments")),
    "function_call_output": _tool_output("function_call_output"),
    "custom_tool_call": Obj({"type": Const("custom_tool_call"), "id": Str(), "call_id": Str(), "name": Str(),
                             "input": Str(), "namespace": Str(), "status": _STATUS},
                            required=("type", "call_id", "name", "input")),
    "custom_tool_call_output": _tool_output("custom_tool_call_output"),
}, default="message")
"""An item of the shared Decision context (``decision.item.create``, §13.5): messages by role, tool calls and
their outputs, strict like every Live command."""

_SELECTOR = Obj({"type": Str(), "response_event": Str()}, required=("type",))
_DATA_CHANNEL = Obj({
    "allowed_client_events": Nullable(OneOf(Const("all"), Arr(Str()),
                                            expected="'all' or an array of event types")),
    "allowed_server_events": Nullable(OneOf(Const("all"), Arr(_SELECTOR),
                                            expected="'all' or an array of server event selectors")),
})
"""``client.data_channel`` (``DataChannelConfig``): what an untrusted WebRTC frontend may send and receive on its
data channel (§13.8); the event names are checked by :meth:`LiveDialect.parse_start`."""
_CLIENT = Obj({"data_channel": _DATA_CHANNEL}, required=("data_channel",))
_START_FIELDS: dict[str, Check] = {
    "model": Str(),
    "audio": Obj({"format": _AUDIO_FORMAT, "output": Obj({"voice": _VOICE})}),
    "client": _CLIENT,
    "delegation": _DELEGATION,
    "input": Arr(_INITIAL_ITEM, max_len=128),
    "instructions": Str(),
    "safety_identifier": Str(max_len=64),
    "store": Bool(),
    "triggers": Arr(_TRIGGER, max_len=2),
}
SESSION_CONFIG = Obj(_START_FIELDS, required=("model",))
MEDIA_SESSION_CONFIG = Obj({
    **_START_FIELDS,
    "idle_timeout_s": Int(1, 86_400),
    "wake_policy": Obj({"type": Const("speech"), "vad_threshold": Num(0.0, 1.0)}, required=("type",)),
}, required=("model",))
"""``MediaSessionConfig``: the startup config of a WebRTC or SIP session created by ``POST /v1/live/sessions``
(§13.8), which alone has ``idle_timeout_s`` and ``wake_policy``; a WebSocket's ``session.start`` refuses them as
unknown parameters."""
SESSION_UPDATE = Obj({"delegation": _DELEGATION_UPDATE, "triggers": Arr(_TRIGGER, max_len=2)})
FORK_CONFIG = Obj({
    "audio": Obj({"format": _AUDIO_FORMAT}),
    "client": _CLIENT,
    "delegation": Obj({"type": Const("responses"), "responses": _BACKEND, **_ack_delay()}, required=("type",)),
    "store": Bool(),
})
"""``session.start`` on a fork WebSocket: overrides of the stored session; the model is inherited (§13.6)."""
FORK_START = Obj({"session": FORK_CONFIG, **_EVENT_ID}, required=("session",))
MEDIA_START = Obj({"session": MEDIA_SESSION_CONFIG, **_EVENT_ID}, required=("session",))
"""The start of a session created over REST (WebRTC, outbound SIP): its ``MediaSessionConfig`` (§13.8)."""
_CONTEXT = {"content": Str(), "delegation_id": Nullable(Str())}
SIP_TRANSPORT = Obj({
    "type": Const("sip"),
    "destination": Str(),
    "trunk": Obj({
        "provider_url": Str(),
        "auth": Obj({"type": Const("digest"), "username": Str(), "password": Str()},
                    required=("type", "username", "password")),
        "caller_number": Str(),
    }, required=("provider_url", "auth", "caller_number")),
}, required=("type", "destination", "trunk"))
"""``LiveSipTransport``: ``POST /v1/live/sessions`` placing an outbound call through the caller's own trunk
(§13.8; the openai SDK types only the WebRTC transport, the API reference has this one)."""
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SIPS_URL = re.compile(r"sips:(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?"
                       r"(?:;transport=tcp)?")

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
    C.DECISION_CREATE: Obj({"event_id": Str(max_len=512)}, required=("event_id",)),
    C.DECISION_ITEM_CREATE: Obj({"item": DECISION_ITEM, **_EVENT_ID}, required=("item",)),
    C.DECISION_ITEM_DELETE: Obj({"item_id": Str(), **_EVENT_ID}, required=("item_id",)),
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
    idle_timeout_s: int | None = None
    """Media sessions only (§13.8): seconds of inactivity after which a woken session pauses inference."""
    wake_policy: dict[str, Any] | None = None
    """Media sessions only (§13.8): ``{"type": "speech", "vad_threshold"}``: inference starts on speech."""

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
        S.PAUSED: "session.paused",
        S.RESUMED: "session.resumed",
        S.TRANSPORT_RINGING: "transport.ringing",
        S.TRANSPORT_ANSWERED: "transport.answered",
        S.TRANSPORT_FAILED: "transport.failed",
        S.DECISION_EVENT: "decision.event",
        S.DECISION_ITEM_CREATED: "decision.item.created",
        S.DECISION_ITEM_DELETED: "decision.item.deleted",
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
        if cfg.client is not None:
            self._check_data_channel(cfg.client["data_channel"])
        cfg.idle_timeout_s = session.get("idle_timeout_s")
        cfg.wake_policy = session.get("wake_policy")
        return cfg

    def _check_data_channel(self, data_channel: dict[str, Any]) -> None:
        """Every named event is a Live event; a selector names ``response_event`` exactly when its type is
        ``response.event`` (``ServerEventSelector``)."""
        base = "session.client.data_channel."
        allowed = data_channel.get("allowed_client_events")
        if isinstance(allowed, list):
            for i, name in enumerate(allowed):
                if name not in self.client_events:
                    raise errors.invalid_value(name, list(self.client_events), f"{base}allowed_client_events[{i}]")
        selectors = data_channel.get("allowed_server_events")
        if isinstance(selectors, list):
            names = sorted(set(self.server_events.values()))
            for i, sel in enumerate(selectors):
                path = f"{base}allowed_server_events[{i}]"
                if sel["type"] not in names:
                    raise errors.invalid_value(sel["type"], names, path + ".type")
                if (sel["type"] == "response.event") != ("response_event" in sel):
                    raise errors.live_selector_response_event(path)

    def data_channel_allows(self, cfg: LiveConfig, event: dict[str, Any]) -> bool:
        """Whether a server event may go to the WebRTC frontend's data channel (``allowed_server_events``;
        omitted or ``'all'``: every event). ``error`` and ``info`` always reach it [U]."""
        selectors = ((cfg.client or {}).get("data_channel") or {}).get("allowed_server_events")
        if not isinstance(selectors, list) or event.get("type") in ("error", "info"):
            return True
        nested = event.get("event") if event.get("type") == "response.event" else None
        for sel in selectors:
            if sel["type"] == event.get("type") and (
                    nested is None or sel.get("response_event") == (nested or {}).get("type")):
                return True
        return False

    def data_channel_accepts(self, cfg: LiveConfig, wire_type: object) -> bool:
        """Whether the frontend may send a client event of this type (``allowed_client_events``)."""
        allowed = ((cfg.client or {}).get("data_channel") or {}).get("allowed_client_events")
        return not isinstance(allowed, list) or wire_type in allowed

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

    def check_sip_transport(self, transport: dict[str, Any]) -> tuple[str, str]:
        """An outbound SIP transport (§13.8), checked the way the reference describes it: E.164 numbers, a
        ``sips:`` provider URL (TLS signalling; no userinfo, path or other parameters; no local or private
        literal addresses), digest credentials without CR, LF or NUL. The ``(destination, caller_number)``."""
        checked = SIP_TRANSPORT.check(transport, "transport")
        trunk, auth = checked["trunk"], checked["trunk"]["auth"]
        for path, number in (("transport.destination", checked["destination"]),
                             ("transport.trunk.caller_number", trunk["caller_number"])):
            if not _E164.fullmatch(number):
                raise errors.live_sip_transport(path, "expected a phone number in E.164 format (SIP URIs are not "
                                                      "supported)")
        url = _SIPS_URL.fullmatch(trunk["provider_url"])
        path = "transport.trunk.provider_url"
        if url is None:
            raise errors.live_sip_transport(path, "expected 'sips:host[:port][;transport=tcp]' (TLS signalling)")
        host = url["host"].strip("[]")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if (address is not None and not address.is_global) or (address is None and (
                "." not in host or host.endswith((".local", ".localhost", ".internal")))):
            raise errors.live_sip_transport(path, "local hostnames and private, loopback or link-local addresses "
                                                  "are not allowed")
        if url["port"] is not None and not 0 < int(url["port"]) < 65536:
            raise errors.live_sip_transport(path, "the port must be between 1 and 65535")
        bad = ("\r", "\n", "\0")
        if not auth["username"].strip() or len(auth["username"].encode()) > 256 or any(
                c in auth["username"] for c in bad):
            raise errors.live_sip_transport("transport.trunk.auth.username",
                                            "a non-blank username of at most 256 bytes without CR, LF or NUL")
        if len(auth["password"].encode()) > 4096 or any(c in auth["password"] for c in bad):
            raise errors.live_sip_transport("transport.trunk.auth.password",
                                            "at most 4096 bytes without CR, LF or NUL")
        return checked["destination"], trunk["caller_number"]

    def render_decision(self, model: str, answers: list[Answer], tokens: tuple[int, int]) -> dict[str, Any]:
        """The ``decision.completed`` event a ``decision.event`` envelope carries (§13.5): the Decision API's
        response, answers in question order. A choice's or score's other options share what its confidence
        leaves; a score's ``value`` is the level's index and ``score`` the expected value [U]."""
        rendered: list[dict[str, Any]] = []
        for a in answers:
            if a.kind == "predicate":
                rendered.append({"type": "predicate", "name": a.name, "probability": a.probability})
            elif a.kind == "refusal":
                rendered.append({"type": "refusal", "name": a.name})
            else:
                n = len(a.options)
                rest = (1.0 - a.confidence) / (n - 1) if n > 1 else 0.0
                chosen = a.options.index(a.choice) if a.kind == "choice" else a.level
                probs = [round(a.confidence if k == chosen else rest, 6) for k in range(n)]
                if a.kind == "choice":
                    rendered.append({"type": "choice", "name": a.name, "choice": a.choice, "confidence": a.confidence,
                                     "probabilities": [{"value": v, "probability": p}
                                                       for v, p in zip(a.options, probs, strict=True)]})
                else:
                    rendered.append({"type": "score", "name": a.name, "confidence": a.confidence,
                                     "score": float(sum(k * p for k, p in enumerate(probs))),
                                     "probabilities": [{"label": v, "probability": p, "value": k}
                                                       for k, (v, p) in enumerate(zip(a.options, probs, strict=True))]})
        tokens_in, tokens_out = tokens
        usage = {"input_tokens": tokens_in, "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
                 "output_tokens": tokens_out, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": tokens_in + tokens_out}
        return {"type": "decision.completed", "decision": {"answers": rendered, "model": model, "usage": usage}}

    def wire_name(self, kind: C) -> str:
        return next(name for name, value in self.client_events.items() if value is kind)
