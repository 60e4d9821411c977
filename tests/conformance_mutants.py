"""Mutant mocks: deliberately broken variants of mockrt, each injecting ONE defect (negative controls,
like schemathesis' modifiers). They test the conformance suite, not the product, so they live in tests/.

A :class:`Mutant` monkeypatches mockrt internals for the duration of a ``with mutant.active():`` block; an
in-process mockrt server (:func:`mock_servers`, already running: handlers are looked up at call time) then
misbehaves in exactly one way, and the conformance catalogue judges it over the wire as a ``url`` target, like any
other server. ``kills`` names the cases that must fail against it. ``tests/test_conformance_mutants.py`` proves
that every case passes on the real mock, that every case is killed by at least one mutant, and that every mutant is
killed by the cases it names. A case that fails nowhere is dead weight: fix it or remove it.

A patch whose target no longer exists (a reshape renamed or removed it) raises :class:`PatchTargetMissing` (an
``AttributeError``) when the mutant is activated, so a mutant can never silently become a no-op.

Patches are process-wide, so mutants must not be active while another mock serves unrelated tests in the same
process (pytest runs tests one at a time per process; xdist workers are separate processes).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import Any

from conformance.catalogue import load_catalogue
from conformance.results import Result
from conformance.runner import run_catalogue
from conformance.targets import KNOWN_MODELS, MOCK_KEY, MOCK_PROMPT_ID, MOCK_PROMPTS, Target, UrlTarget

Json = dict[str, Any]
Patch = Callable[["Patcher"], None]


class PatchTargetMissing(AttributeError):
    """A mutant patches something mockrt no longer has: update the mutant to the new internals."""


class Patcher:
    """Attribute and dict-entry patches, undone when the surrounding ``ExitStack`` closes.

    Every patch replaces something that exists; a missing target raises :class:`PatchTargetMissing`.
    """

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack

    def attr(self, obj: Any, name: str, value: Any) -> None:
        if not hasattr(obj, name):
            raise PatchTargetMissing(f"mutant patch target {getattr(obj, '__name__', obj)!r}.{name} does not exist")
        missing = object()
        old = obj.__dict__.get(name, missing) if isinstance(obj, type) else getattr(obj, name, missing)

        def restore() -> None:
            if old is missing:
                delattr(obj, name)
            else:
                setattr(obj, name, old)

        setattr(obj, name, value)
        self.stack.callback(restore)

    def wrap(self, obj: Any, name: str, make: Callable[[Any], Any]) -> None:
        """Replace ``obj.name`` with ``make(original)``."""
        self.attr(obj, name, make(getattr(obj, name)))

    def item(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        if key not in mapping:
            raise PatchTargetMissing(f"mutant patch target: no entry {key!r} in the patched table")
        old = mapping[key]
        mapping[key] = value
        self.stack.callback(mapping.__setitem__, key, old)

    def handler(self, event_type: str, make: Callable[[Any], Any]) -> None:
        """Replace the session's handler of a client event type (a wire name) with ``make(original)``."""
        from mockrt.core.session import RealtimeSession

        ga, beta = _dialects()
        event = (ga().client_event(event_type) or beta().client_event(event_type)
                 or _voice_live()().client_event(event_type))
        rows = RealtimeSession.CLIENT_EVENTS
        if event is None or event not in rows:
            raise PatchTargetMissing(f"mutant patch target: RealtimeSession.CLIENT_EVENTS has no {event_type!r}")
        self.item(rows, event, replace(rows[event], handler=make(rows[event].handler)))

    def wire(self, transform: Callable[[Any, Json], list[Json]]) -> None:
        """Rewrite the session's outgoing wire events: ``transform(session, event)`` returns what is sent instead."""
        from mockrt.core.session import RealtimeSession

        original = RealtimeSession._send

        def _send(self: Any, wire: Json) -> None:
            for event in transform(self, wire):
                original(self, event)

        self.attr(RealtimeSession, "_send", _send)


def _state(session: Any) -> dict[str, Any]:
    """Per-session scratch space for stateful wire transforms."""
    state: dict[str, Any] = session.__dict__.setdefault("_conformance_mutant", {})
    return state


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    kills: tuple[str, ...]
    patch: Patch

    @contextmanager
    def active(self) -> Iterator[None]:
        with ExitStack() as stack:
            self.patch(Patcher(stack))
            yield


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, description: str, *kills: str) -> Callable[[Patch], Patch]:
    def register(fn: Patch) -> Patch:
        if name in MUTANTS:
            raise ValueError(f"duplicate mutant {name!r}")
        MUTANTS[name] = Mutant(name, description, tuple(kills), fn)
        return fn

    return register


def _errors() -> Any:
    from mockrt.core import errors

    return errors


def _dialects() -> tuple[Any, Any]:
    from mockrt.core.dialects.beta import Beta
    from mockrt.core.dialects.ga import GA

    return GA, Beta


# --- the input audio buffer (§2.2–§2.4) -------------------------------------------------------------------


@mutant("commit-min-50ms", "the commit rule is off: 50 ms commits are accepted",
        "audio-buffer/commit/too-small", "audio-buffer/commit/since-last-commit", "audio-buffer/format/g711")
def _commit_min_50(p: Patcher) -> None:
    from mockrt.core.audio_buffer import InputAudioBuffer

    def make(orig: Any) -> Any:
        def take(self: Any, *, min_ms: float = 100.0, upto_samples: int | None = None) -> bytes:
            return orig(self, min_ms=50.0 if min_ms >= 100.0 else min_ms, upto_samples=upto_samples)  # type: ignore[no-any-return]

        return take

    p.wrap(InputAudioBuffer, "take", make)


@mutant("commit-min-exclusive", "exactly 100 ms is refused (the rule is > 100 ms instead of >= 100 ms)",
        "audio-buffer/commit/minimum", "audio-buffer/format/g711")
def _commit_min_exclusive(p: Patcher) -> None:
    from mockrt.core.audio_buffer import InputAudioBuffer

    errors = _errors()

    def make(orig: Any) -> Any:
        def take(self: Any, *, min_ms: float = 100.0, upto_samples: int | None = None) -> bytes:
            if min_ms > 0 and self.buffered_ms <= min_ms:
                raise errors.commit_empty(self.buffered_ms)
            return orig(self, min_ms=min_ms, upto_samples=upto_samples)  # type: ignore[no-any-return]

        return take

    p.wrap(InputAudioBuffer, "take", make)


@mutant("commit-message-one-decimal", "the commit error formats the buffered time with one decimal (50.0ms)",
        "audio-buffer/commit/too-small", "audio-buffer/clear")
def _commit_message(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "commit_empty", lambda ms: errors.ProtocolError(
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only "
        f"has {ms:.1f}ms of audio.", "input_audio_buffer_commit_empty"))


@mutant("append-acknowledged-by-auto-commit", "with turn detection off, 200 ms of appended audio is committed anyway",
        "audio-buffer/append/no-ack")
def _auto_commit(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def append(self: Any, fields: Json, now: float) -> None:
            orig(self, fields, now)
            if self.turn_taking.detector is None and self.buffer.buffered_ms >= 200:
                self.commit_audio(self.ids.item(), now)

        return append

    p.handler("input_audio_buffer.append", make)


@mutant("append-lenient-base64", "invalid base64 audio is silently dropped instead of rejected",
        "audio-buffer/append/invalid-base64")
def _lenient_base64(p: Patcher) -> None:
    import binascii

    import mockrt.core.session as session_module

    def decode(b64: str, fmt: Any, path: str = "audio") -> bytes:
        try:
            return base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            return b""

    p.attr(session_module, "decode_audio", decode)


@mutant("clear-silent", "input_audio_buffer.clear drops the audio but sends no input_audio_buffer.cleared",
        "audio-buffer/clear")
def _clear_silent(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def clear(self: Any, fields: Json, now: float) -> None:
            self.buffer.clear()
            self.turn_taking.buffer_moved()

        return clear

    p.handler("input_audio_buffer.clear", make)


@mutant("commit-creates-response", "a manual commit also starts a response",
        "audio-buffer/commit/creates-user-item")
def _commit_response(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def commit(self: Any, fields: Json, now: float) -> None:
            orig(self, fields, now)
            self.auto_response(now)

        return commit

    p.handler("input_audio_buffer.commit", make)


@mutant("g711-16-bytes-per-ms", "G.711 durations use 16 bytes per ms instead of 8",
        "audio-buffer/format/g711")
def _g711_time_base(p: Patcher) -> None:
    from mockrt.audio.formats import AudioFormat

    p.attr(AudioFormat, "bytes_per_ms", property(lambda self: 48 if self is AudioFormat.PCM16 else 16))


# --- framing, errors, handshake (§1, §2, §6) --------------------------------------------------------------


@mutant("error-event-id-not-echoed", "errors never echo the client's event_id",
        "connection/framing/event-id-echo", "audio-buffer/commit/too-small")
def _no_echo(p: Patcher) -> None:
    errors = _errors()

    def make(orig: Any) -> Any:
        def to_error_object(self: Any, event_id: str | None) -> Json:
            return orig(self, None)  # type: ignore[no-any-return]

        return to_error_object

    p.wrap(errors.ProtocolError, "to_error_object", make)


@mutant("binary-frame-closes", "a binary frame closes the socket after its error",
        "connection/framing/binary-frame")
def _binary_closes(p: Patcher) -> None:
    from mockrt.core.outputs import Close
    from mockrt.core.session import RealtimeSession

    def make(orig: Any) -> Any:
        def receive_bytes(self: Any, data: bytes, now: float) -> list[Any]:
            out = list(orig(self, data, now))
            out.append(Close(1003, "binary frames are not supported"))
            self.closed = True
            return out

        return receive_bytes

    p.wrap(RealtimeSession, "receive_bytes", make)


@mutant("invalid-json-code", "invalid JSON is reported with code invalid_event instead of invalid_json",
        "connection/framing/invalid-json")
def _invalid_json(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "invalid_json", lambda detail: errors.ProtocolError(
        f"Invalid event: failed to parse JSON value. {detail}".rstrip(), "invalid_event"))


@mutant("unknown-type-code", "an unknown event type is reported as code unknown_event (not invalid_value on type)",
        "connection/framing/unknown-type", "events/client-types/webrtc-only")
def _unknown_type(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "unknown_event_type", lambda value, accepted: errors.ProtocolError(
        f"Unknown event type: '{value}'.", "unknown_event", None))


@mutant("missing-type-message", "a missing 'type' is reported with another message",
        "connection/framing/missing-type")
def _missing_type(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "missing_type", lambda: errors.ProtocolError("Missing event type.", "invalid_event"))


@mutant("unknown-parameters-ignored", "unknown keys in client events are silently ignored",
        "connection/framing/unknown-parameter", "session/update/rejected-whole", "session/update/foreign-field",
        "responses/create/foreign-field")
def _unknown_ignored(p: Patcher) -> None:
    from mockrt.core.schema import Obj

    def make(orig: Any) -> Any:
        def check(self: Any, value: Any, path: str) -> Any:
            if isinstance(value, dict) and self.extra is None:
                value = {k: v for k, v in value.items() if k in self.fields}
            return orig(self, value, path)

        return check

    p.wrap(Obj, "check", make)


@mutant("missing-required-message", "missing_required_parameter messages do not quote the path",
        "items/create/missing-type", "session/update/type-required")
def _missing_required(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "missing_required_parameter", lambda path: errors.ProtocolError(
        f"Missing required parameter: {path}.", "missing_required_parameter", path))


@mutant("invalid-type-message", "invalid_type messages drop 'but' and 'instead'",
        "session/update/invalid-type", "items/create/content-not-array")
def _invalid_type(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "invalid_type", lambda path, expected, got: errors.ProtocolError(
        f"Invalid type for '{path}': expected {expected}, got {got}.", "invalid_type", path))


@mutant("range-clamped", "out-of-range decimals are silently clamped (a VAD threshold of 1.5 becomes 1.0)",
        "session/update/out-of-range")
def _range_clamped(p: Patcher) -> None:
    from mockrt.core.schema import Num

    def make(orig: Any) -> Any:
        def check(self: Any, value: Any, path: str) -> Any:
            if isinstance(value, int | float) and not isinstance(value, bool):
                lo = self.lo if self.lo is not None else value
                hi = self.hi if self.hi is not None else value
                value = min(max(value, lo), hi)
            return orig(self, value, path)

        return check

    p.wrap(Num, "check", make)


@mutant("auth-not-checked", "any key (or none) is accepted although keys are configured",
        "connection/auth/wrong-key", "connection/auth/missing-key")
def _auth_off(p: Patcher) -> None:
    from mockrt.server.handshake import KeyChecker

    p.attr(KeyChecker, "open", property(lambda self: True))


@mutant("subprotocol-not-echoed", "the 'realtime' subprotocol is not echoed", "connection/auth/subprotocol-key")
def _subprotocol(p: Patcher) -> None:
    import mockrt.server.handshake as handshake

    def make(orig: Any) -> Any:
        def resolve(*args: Any, **kwargs: Any) -> Any:
            return replace(orig(*args, **kwargs), subprotocol=None)

        return resolve

    p.wrap(handshake, "resolve", make)


@mutant("model-error-close-1008", "fatal model errors close with 1008 instead of 4000",
        "connection/model/missing", "connection/model/unknown")
def _close_code(p: Patcher) -> None:
    import mockrt.server.handshake as handshake

    def make(orig: Any) -> Any:
        def resolve(*args: Any, **kwargs: Any) -> Any:
            hs = orig(*args, **kwargs)
            return replace(hs, close_code=1008) if hs.close_code == 4000 else hs

        return resolve

    p.wrap(handshake, "resolve", make)


@mutant("event-id-first", "server frames list event_id before type", "connection/session-created/first-event")
def _event_id_first(p: Patcher) -> None:
    p.wire(lambda session, wire: [{"event_id": wire["event_id"], **wire}])


@mutant("event-id-20-chars", "server event ids have 20 characters after 'event_' instead of 21",
        "connection/ids/format")
def _event_id_length(p: Patcher) -> None:
    from mockrt.core.ids import IdGenerator

    p.wrap(IdGenerator, "event", lambda orig: lambda self: orig(self)[:-1])


@mutant("session-close-rejected", "GA session.close is rejected as an unknown type", "connection/session-close")
def _session_close(p: Patcher) -> None:
    ga, _ = _dialects()
    p.attr(ga, "client_events", {t: e for t, e in ga.client_events.items() if t != "session.close"})


@mutant("beta-without-item-retrieve", "the beta dialect does not accept conversation.item.retrieve (pre-2025)",
        "events/client-types/accepted")
def _beta_retrieve(p: Patcher) -> None:
    _, beta = _dialects()
    p.attr(beta, "client_events", {t: e for t, e in beta.client_events.items() if t != "conversation.item.retrieve"})


@mutant("webrtc-clear-accepted", "GA accepts output_audio_buffer.clear over WebSocket (as a no-op)",
        "events/client-types/webrtc-only")
def _webrtc_accepted(p: Patcher) -> None:
    from mockrt.core.schema import Obj
    from mockrt.core.session import ClientEventSpec, RealtimeSession

    ga, _ = _dialects()
    clear = "mutant_output_audio_buffer_clear"  # an internal event the core does not have
    p.attr(ga, "client_events", {**ga.client_events, "output_audio_buffer.clear": clear})
    RealtimeSession.CLIENT_EVENTS[clear] = ClientEventSpec(Obj({}), lambda self, fields, now: None)  # type: ignore[index]
    p.stack.callback(RealtimeSession.CLIENT_EVENTS.pop, clear, None)  # type: ignore[arg-type]


# --- session (§2.1, §4) -------------------------------------------------------------------------------------


@mutant("session-missing-default-key", "session objects lack a key (GA truncation, beta temperature)",
        "session/defaults", "session/update/full-object")
def _session_key(p: Patcher) -> None:
    ga, beta = _dialects()
    for cls, key in ((ga, "truncation"), (beta, "temperature")):
        def make(orig: Any, key: str = key) -> Any:
            def render_session(self: Any, cfg: Any, session_id: str, expires_at: int) -> Json:
                out: Json = orig(self, cfg, session_id, expires_at)
                out.pop(key, None)
                return out

            return render_session

        p.wrap(cls, "render_session", make)


@mutant("expires-at-30-minutes", "GA sessions expire after 30 minutes (the beta maximum)", "session/expires-at")
def _expires(p: Patcher) -> None:
    ga, _ = _dialects()
    p.attr(ga, "max_session_minutes", 30)


@mutant("update-resets-unnamed-keys", "session.update resets every key it does not name to its default",
        "session/update/partial")
def _update_resets(p: Patcher) -> None:
    from mockrt.core.model import SessionConfig

    ga, beta = _dialects()
    for cls in (ga, beta):
        def make(orig: Any) -> Any:
            def parse(self: Any, payload: Any, current: Any) -> Any:
                fresh = SessionConfig(kind=current.kind, model=current.model)
                return orig(self, payload, fresh)

            return parse

        p.wrap(cls, "parse_session_update", make)


@mutant("rejected-update-partly-applied", "a rejected session.update still applies its instructions",
        "session/update/rejected-whole")
def _partial_apply(p: Patcher) -> None:
    errors = _errors()

    def make(orig: Any) -> Any:
        def update(self: Any, fields: Json, now: float) -> None:
            try:
                orig(self, fields, now)
            except errors.ProtocolError:
                session = fields.get("session")
                if isinstance(session, dict) and isinstance(session.get("instructions"), str):
                    self.config.instructions = session["instructions"]
                raise

        return update

    p.handler("session.update", make)


@mutant("ga-session-type-optional", "GA session.update without session.type is accepted",
        "session/update/type-required")
def _type_optional(p: Patcher) -> None:
    ga, _ = _dialects()

    def make(orig: Any) -> Any:
        def parse(self: Any, payload: Any, current: Any) -> Any:
            if isinstance(payload, dict) and "type" not in payload:
                payload = {**payload, "type": current.kind}
            return orig(self, payload, current)

        return parse

    p.wrap(ga, "parse_session_update", make)


@mutant("session-type-mismatch-message", "a transcription update to a realtime session reports another message",
        "session/update/type-mismatch")
def _type_mismatch(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "session_type_mismatch", lambda: errors.ProtocolError(
        "Cannot change the session type.", "invalid_value", "session.type"))


@mutant("pcm-rate-unchecked", "GA accepts audio/pcm at any rate", "session/update/pcm-rate")
def _pcm_rate(p: Patcher) -> None:
    from mockrt.core.dialects import ga as ga_module

    pcm: Any = ga_module.FORMAT.variants["audio/pcm"]
    rate = pcm.fields["rate"]
    p.attr(rate, "lo", None)
    p.attr(rate, "hi", None)


@mutant("turn-detection-null-ignored", "turn_detection null is accepted but VAD stays on",
        "session/update/turn-detection-off")
def _td_null(p: Patcher) -> None:
    ga, beta = _dialects()
    for cls in (ga, beta):
        def make(orig: Any) -> Any:
            def parse(self: Any, payload: Any, current: Any) -> Any:
                new = orig(self, payload, current)
                if new.turn_detection is None and current.turn_detection is not None:
                    new.turn_detection = current.turn_detection
                return new

            return parse

        p.wrap(cls, "parse_session_update", make)


@mutant("voice-lock-off", "the voice can change after assistant audio", "session/update/voice-lock")
def _voice_lock(p: Patcher) -> None:
    from mockrt.core.conversation import Conversation

    p.attr(Conversation, "has_assistant_audio", lambda self: False)


# --- items (§2.5–§2.8, §5.12) -------------------------------------------------------------------------------


@mutant("duplicate-item-id-rejected", "creating an item with an id that exists is rejected",
        "items/create/duplicate-id")
def _duplicate_rejected(p: Patcher) -> None:
    errors = _errors()

    def make(orig: Any) -> Any:
        def create(self: Any, fields: Json, now: float) -> None:
            item = fields.get("item")
            if isinstance(item, dict) and item.get("id") and self.conversation.find(str(item["id"])) is not None:
                raise errors.ProtocolError(f"Item with id '{item['id']}' already exists.", "invalid_value", "item.id")
            orig(self, fields, now)

        return create

    p.handler("conversation.item.create", make)


@mutant("assistant-audio-accepted", "assistant audio parts from the client are accepted (kept as text)",
        "items/create/assistant-audio-rejected")
def _assistant_audio(p: Patcher) -> None:
    ga, beta = _dialects()
    for cls, text_type in ((ga, "output_text"), (beta, "text")):
        def make(orig: Any, text_type: str = text_type) -> Any:
            def parse_item(self: Any, payload: Any, path: str, cfg: Any) -> Any:
                if isinstance(payload, dict) and payload.get("role") == "assistant":
                    payload = {**payload, "content": [
                        {"type": text_type, "text": part.get("transcript", "")}
                        if isinstance(part, dict) and part.get("type") in ("output_audio", "audio") else part
                        for part in payload.get("content") or []]}
                return orig(self, payload, path, cfg)

            return parse_item

        p.wrap(cls, "parse_item", make)


@mutant("previous-item-id-skips-one", "previous_item_id names the item two before instead of the one before",
        "items/create/user-text", "responses/text/lifecycle")
def _previous_skips(p: Patcher) -> None:
    from mockrt.core.conversation import Conversation

    def make(orig: Any) -> Any:
        def insert(self: Any, item: Any, previous_item_id: str | None = None) -> str | None:
            prev = orig(self, item, previous_item_id)
            ids = [i.id for i in self.items]
            if prev is None or prev not in ids:
                return prev  # type: ignore[no-any-return]
            index = ids.index(prev)
            return ids[index - 1] if index > 0 else None

        return insert

    p.wrap(Conversation, "insert", make)


@mutant("previous-item-id-ignored", "previous_item_id is ignored: every item is appended",
        "items/create/previous-root", "items/create/previous-explicit", "items/create/previous-unknown")
def _previous_ignored(p: Patcher) -> None:
    from mockrt.core.conversation import Conversation

    p.wrap(Conversation, "check_insert", lambda orig: lambda self, previous_item_id: orig(self, None))
    p.wrap(Conversation, "insert", lambda orig: lambda self, item, previous_item_id=None: orig(self, item, None))


@mutant("empty-previous-rejected", "previous_item_id '' is treated as an unknown id",
        "items/create/previous-empty-string")
def _empty_previous(p: Patcher) -> None:
    from mockrt.core.conversation import Conversation

    errors = _errors()

    def make(orig: Any) -> Any:
        def check_insert(self: Any, previous_item_id: str | None) -> None:
            if previous_item_id == "":
                raise errors.previous_item_unknown("")
            orig(self, previous_item_id)

        return check_insert

    p.wrap(Conversation, "check_insert", make)


@mutant("client-item-id-ignored", "the server mints its own id even when the client gives one",
        "items/create/client-id")
def _client_id(p: Patcher) -> None:
    ga, beta = _dialects()
    for cls in (ga, beta):
        def make(orig: Any) -> Any:
            def parse_item(self: Any, payload: Any, path: str, cfg: Any) -> Any:
                item = orig(self, payload, path, cfg)
                item.id = ""
                return item

            return parse_item

        p.wrap(cls, "parse_item", make)


@mutant("delete-unknown-message", "deleting an unknown item reports another message",
        "items/delete/ok-then-unknown")
def _delete_message(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "delete_unknown_item", lambda item_id: errors.ProtocolError(
        f"Error deleting item: item '{item_id}' not found.", "item_delete_invalid_item_id"))


@mutant("delete-keeps-item", "conversation.item.deleted is sent but the item stays in the conversation",
        "items/delete/rechain")
def _delete_keeps(p: Patcher) -> None:
    from mockrt.core.conversation import Conversation

    errors = _errors()

    def delete(self: Any, item_id: str) -> None:
        if self.find(item_id) is None:
            raise errors.delete_unknown_item(item_id)

    p.attr(Conversation, "delete", delete)


@mutant("retrieved-content-dropped", "conversation.item.retrieved carries the item without its content",
        "items/retrieve/text", "items/retrieve/audio")
def _retrieved_empty(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") == "conversation.item.retrieved":
            wire = {**wire, "item": {**wire["item"], "content": []}}
        return [wire]

    p.wire(transform)


@mutant("retrieve-unknown-message", "retrieving an unknown item reports another message", "items/retrieve/unknown")
def _retrieve_message(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "retrieve_unknown_item", lambda item_id: errors.ProtocolError(
        f"Error retrieving item: the item with id {item_id} does not exist.", "item_retrieve_invalid_item_id"))


@mutant("retrieve-without-audio", "retrieved items lack their audio bytes", "items/retrieve/audio",
        "items/truncate/assistant-audio")
def _retrieve_no_audio(p: Patcher) -> None:
    ga, beta = _dialects()
    for cls in (ga, beta):
        def make(orig: Any) -> Any:
            def render_item(self: Any, item: Any, *, with_audio: bool = False) -> Json:
                return orig(self, item, with_audio=False)  # type: ignore[no-any-return]

            return render_item

        p.wrap(cls, "render_item", make)


@mutant("truncate-keeps-audio", "conversation.item.truncated is sent but the audio is not cut",
        "items/truncate/assistant-audio")
def _truncate_keeps(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def truncate(self: Any, fields: Json, now: float) -> None:
            item = self.conversation.find(fields["item_id"])
            saved = None
            index = fields.get("content_index", 0)
            if item is not None and isinstance(index, int) and 0 <= index < len(item.content):
                part = item.content[index]
                saved = (part, part.audio, part.audio_ms)
            orig(self, fields, now)
            if saved is not None:
                saved[0].audio, saved[0].audio_ms = saved[1], saved[2]

        return truncate

    p.handler("conversation.item.truncate", make)


@mutant("truncate-unchecked", "truncate does not check the item: any item, any length is 'truncated'",
        "items/truncate/too-long", "items/truncate/not-audio")
def _truncate_unchecked(p: Patcher) -> None:
    from mockrt.core.events import ServerEvent

    errors = _errors()

    def make(orig: Any) -> Any:
        def truncate(self: Any, fields: Json, now: float) -> None:
            item = self.conversation.find(fields["item_id"])
            if item is None:
                raise errors.truncate_unknown_item(fields["item_id"])
            self.emit({"type": ServerEvent.ITEM_TRUNCATED, "item_id": item.id,
                       "content_index": fields["content_index"], "audio_end_ms": fields["audio_end_ms"]})

        return truncate

    p.handler("conversation.item.truncate", make)


@mutant("truncate-unknown-code", "truncating an unknown item reports code item_not_found",
        "items/truncate/unknown-item")
def _truncate_code(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "truncate_unknown_item", lambda item_id: errors.ProtocolError(
        f"Item with item_id not found: {item_id}", "item_not_found", "item_id"))


# --- responses (§2.9, §2.10, §3.7, §4.10, §4.11, §5.2–§5.9) -----------------------------------------------


@mutant("response-done-missing", "response.done is never sent", "responses/text/lifecycle",
        "responses/usage/invariants")
def _no_done(p: Patcher) -> None:
    p.wire(lambda session, wire: [] if wire.get("type") == "response.done" else [wire])


@mutant("text-deltas-reordered", "the first two text deltas of each item are sent in swapped order",
        "responses/text/lifecycle", "responses/text/obfuscation")
def _reorder(p: Patcher) -> None:
    names = ("response.output_text.delta", "response.text.delta")
    dones = ("response.output_text.done", "response.text.done")

    def transform(session: Any, wire: Json) -> list[Json]:
        state = _state(session)
        held: Json | None = state.get("held")
        etype = wire.get("type")
        if etype in names:
            if wire["item_id"] in state.setdefault("swapped", set()):
                return [wire]
            if held is None:
                state["held"] = wire
                return []
            state["held"] = None
            state["swapped"].add(wire["item_id"])
            return [wire, held]
        if etype in dones and held is not None:
            state["held"] = None
            return [held, wire]
        return [wire]

    p.wire(transform)


@mutant("obfuscation-missing", "GA text-like deltas carry no obfuscation", "responses/text/obfuscation",
        "transcription/conversation/completed")
def _obfuscation(p: Patcher) -> None:
    ga, _ = _dialects()
    p.attr(ga, "obfuscated", frozenset())


@mutant("rate-limits-before-done-ga", "GA sends rate_limits.updated after response.created (the beta timing)",
        "responses/rate-limits/order", "responses/text/lifecycle")
def _rate_limits(p: Patcher) -> None:
    ga, _ = _dialects()
    p.attr(ga, "rate_limits_after_created", True)


@mutant("audio-delta-odd-bytes", "the first pcm16 audio delta of each item carries one stray byte",
        "responses/audio/lifecycle")
def _odd_bytes(p: Patcher) -> None:
    names = ("response.output_audio.delta", "response.audio.delta")

    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") in names and wire["item_id"] not in _state(session).setdefault("odd", set()):
            _state(session)["odd"].add(wire["item_id"])
            data = base64.b64decode(wire["delta"]) + b"\x00"
            wire = {**wire, "delta": base64.b64encode(data).decode("ascii")}
        return [wire]

    p.wire(transform)


@mutant("g711-output-sent-as-pcm16", "with G.711 output the audio deltas are 24 kHz pcm16 (the format is ignored)",
        "responses/audio/g711-output")
def _g711_output(p: Patcher) -> None:
    import numpy as np

    from mockrt.audio.g711 import alaw_decode, ulaw_decode

    names = ("response.output_audio.delta", "response.audio.delta")

    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") in ("response.created",):
            response = wire["response"]
            fmt = (response.get("audio") or {}).get("output", {}).get("format", {}).get("type") \
                or response.get("output_audio_format")
            _state(session).setdefault("formats", {})[response["id"]] = fmt
        if wire.get("type") in names:
            fmt = _state(session).get("formats", {}).get(wire["response_id"])
            decode = {"audio/pcmu": ulaw_decode, "g711_ulaw": ulaw_decode,
                      "audio/pcma": alaw_decode, "g711_alaw": alaw_decode}.get(fmt)
            if decode is not None:
                pcm = np.repeat(decode(base64.b64decode(wire["delta"])), 3).astype("<i2")
                wire = {**wire, "delta": base64.b64encode(pcm.tobytes()).decode("ascii")}
        return [wire]

    p.wire(transform)


@mutant("function-call-id-mismatch", "function_call_arguments.done names another call_id",
        "responses/function-call/lifecycle")
def _call_id(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") == "response.function_call_arguments.done":
            wire = {**wire, "call_id": str(wire["call_id"])[:-1] + "Z"}
        return [wire]

    p.wire(transform)


@mutant("named-tool-choice-ignored", "a named function tool_choice calls the first tool instead",
        "responses/function-call/named")
def _named_choice(p: Patcher) -> None:
    from mockrt.core.brain import DefaultBrain

    def forced(params: Any) -> Any:
        functions = [t for t in params.tools if t.get("type", "function") == "function"]
        choice = params.tool_choice
        if (isinstance(choice, dict) or choice == "required") and functions:
            return functions[0]
        return None

    p.attr(DefaultBrain, "_forced_tool", staticmethod(forced))


@mutant("usage-total-off-by-one", "usage.total_tokens is one more than input + output", "responses/usage/invariants")
def _usage(p: Patcher) -> None:
    from mockrt.core.model import Usage

    p.attr(Usage, "total_tokens", property(lambda self: self.input_tokens + self.output_tokens + 1))


@mutant("response-overrides-stick", "response.create overrides of the modality change the session",
        "responses/create/overrides")
def _overrides(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def create(self: Any, fields: Json, now: float) -> None:
            orig(self, fields, now)
            params, _ = self.dialect.parse_response_params(fields.get("response"), self.config)
            self.config.modality = params.modality

        return create

    p.handler("response.create", make)


@mutant("no-one-active-response-rule", "a second response.create is accepted while one is in progress",
        "responses/active/second-create-rejected")
def _no_active_rule(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def create(self: Any, fields: Json, now: float) -> None:
            saved, self.active_id = self.active_id, None
            try:
                orig(self, fields, now)
            finally:
                if self.active_id is None:
                    self.active_id = saved

        return create

    p.handler("response.create", make)


@mutant("cancel-ignored", "response.cancel of an in-progress response is silently ignored",
        "responses/cancel/active", "responses/cancel/partial-content")
def _cancel_ignored(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def cancel(self: Any, fields: Json, now: float) -> None:
            rid = fields.get("response_id") or self.active_id
            run = self.runs.get(rid) if rid else None
            if run is not None and not run.finished:
                return
            orig(self, fields, now)

        return cancel

    p.handler("response.cancel", make)


@mutant("cancel-not-active-code", "cancel with nothing in progress reports code response_not_active",
        "responses/cancel/not-active", "responses/cancel/active")
def _cancel_code(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "cancel_not_active", lambda: errors.ProtocolError(
        "Cancellation failed: no active response found", "response_not_active"))


@mutant("out-of-band-joins-conversation", "conversation 'none' is treated as 'auto'",
        "responses/out-of-band/basic", "responses/out-of-band/not-in-conversation", "responses/out-of-band/concurrent")
def _oob(p: Patcher) -> None:
    ga, beta = _dialects()
    for cls in (ga, beta):
        def make(orig: Any) -> Any:
            def parse(self: Any, payload: Any, cfg: Any) -> Any:
                params, raw_input = orig(self, payload, cfg)
                params.conversation = "auto"
                return params, raw_input

            return parse

        p.wrap(cls, "parse_response_params", make)


@mutant("response-prompt-ignored", "a prompt on response.create is validated only: the session's prompt is used",
        "responses/prompt/per-response")
def _response_prompt_ignored(p: Patcher) -> None:
    ga, _ = _dialects()

    def make(orig: Any) -> Any:
        def parse(self: Any, payload: Any, cfg: Any) -> Any:
            params, raw_input = orig(self, payload, cfg)
            params.prompt = cfg.prompt
            return params, raw_input

        return parse

    p.wrap(ga, "parse_response_params", make)


@mutant("response-prompt-sticks", "a prompt on response.create becomes the session's prompt",
        "responses/prompt/per-response")
def _response_prompt_sticks(p: Patcher) -> None:
    ga, _ = _dialects()

    def make(orig: Any) -> Any:
        def parse(self: Any, payload: Any, cfg: Any) -> Any:
            params, raw_input = orig(self, payload, cfg)
            cfg.prompt = params.prompt
            return params, raw_input

        return parse

    p.wrap(ga, "parse_response_params", make)


@mutant("item-reference-rejected", "response.input item references are rejected as unknown",
        "responses/out-of-band/input-reference")
def _item_reference(p: Patcher) -> None:
    from mockrt.core.session import RealtimeSession

    errors = _errors()

    def make(orig: Any) -> Any:
        def resolve(self: Any, raw_input: list[Any]) -> Any:
            for index, raw in enumerate(raw_input):
                if isinstance(raw, dict) and raw.get("type") == "item_reference":
                    raise errors.item_reference_unknown(str(raw.get("id")), f"response.input[{index}].id")
            return orig(self, raw_input)

        return resolve

    p.wrap(RealtimeSession, "_resolve_input", make)


@mutant("max-output-tokens-ignored", "max_output_tokens does not limit the response",
        "responses/max-output-tokens")
def _max_tokens(p: Patcher) -> None:
    from mockrt.core.responses import ResponseRun

    p.attr(ResponseRun, "_budget", lambda self: None)


# --- VAD (§5.5, §5.7, §5.10) --------------------------------------------------------------------------------


@mutant("speech-started-item-id-mismatch", "speech_started announces another item id than the turn commits",
        "vad/turn/events", "vad/manual-commit-during-speech")
def _speech_id(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") == "input_audio_buffer.speech_started":
            wire = {**wire, "item_id": str(wire["item_id"])[:-1] + "Q"}
        return [wire]

    p.wire(transform)


@mutant("vad-no-prefix-padding", "audio_start_ms is the speech onset, without prefix_padding_ms",
        "vad/turn/offsets")
def _no_padding(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") == "input_audio_buffer.speech_started":
            wire = {**wire, "audio_start_ms": wire["audio_start_ms"] + 300}
        return [wire]

    p.wire(transform)


@mutant("vad-timeline-resets-at-commit", "VAD offsets restart from 0 after each committed turn",
        "vad/turn/timeline")
def _timeline_resets(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        state = _state(session)
        base = state.get("base", 0)
        etype = wire.get("type")
        if etype == "input_audio_buffer.speech_started":
            wire = {**wire, "audio_start_ms": max(0, wire["audio_start_ms"] - base)}
        elif etype == "input_audio_buffer.speech_stopped":
            state["base"] = wire["audio_end_ms"]
            wire = {**wire, "audio_end_ms": max(0, wire["audio_end_ms"] - base)}
        return [wire]

    p.wire(transform)


@mutant("vad-offsets-pcm16-time-base", "with G.711 input, VAD offsets are computed as if 48 bytes were a ms",
        "vad/turn/g711")
def _g711_offsets(p: Patcher) -> None:
    from mockrt.audio.formats import AudioFormat

    def transform(session: Any, wire: Json) -> list[Json]:
        if session.config.input_format is not AudioFormat.PCM16:
            for key in ("audio_start_ms", "audio_end_ms"):
                if key in wire and wire.get("type", "").startswith("input_audio_buffer.speech_"):
                    wire = {**wire, key: wire[key] // 6}
        return [wire]

    p.wire(transform)


@mutant("vad-auto-response-off", "create_response is ignored: VAD turns never start a response",
        "vad/turn/auto-response", "vad/idle-timeout")
def _auto_response(p: Patcher) -> None:
    from mockrt.core.turn_taking import TurnTaking

    p.attr(TurnTaking, "creates_response", lambda self, session_kind: False)


@mutant("barge-in-off", "interrupt_response is ignored: speech does not cancel the response", "vad/barge-in")
def _barge_in(p: Patcher) -> None:
    from mockrt.core.session import RealtimeSession

    p.attr(RealtimeSession, "interrupt", lambda self, now: None)


@mutant("manual-commit-mints-id", "a manual commit during speech uses a new item id", "vad/manual-commit-during-speech")
def _manual_commit(p: Patcher) -> None:
    from mockrt.core.turn_taking import TurnTaking

    def take(self: Any) -> None:
        self.pending_item_id = None

    p.attr(TurnTaking, "take_item_id", take)


@mutant("idle-timeout-off", "idle_timeout_ms never fires", "vad/idle-timeout")
def _idle(p: Patcher) -> None:
    from mockrt.core.turn_taking import TurnTaking

    p.attr(TurnTaking, "arm_idle", lambda self, now, playback_ms: None)


# --- transcription (§3.4, §4.5, §4.12, §5.11) --------------------------------------------------------------


@mutant("transcription-item-id-mismatch", "transcription events name another item id",
        "transcription/conversation/completed", "transcription/session/transcribe",
        "transcription/conversation/usage")
def _transcription_id(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        if str(wire.get("type", "")).startswith("conversation.item.input_audio_transcription."):
            wire = {**wire, "item_id": str(wire["item_id"])[:-1] + "T"}
        return [wire]

    p.wire(transform)


@mutant("transcription-usage-rounded-down", "duration-billed transcription usage rounds the seconds down",
        "transcription/conversation/usage")
def _usage_round(p: Patcher) -> None:
    import mockrt.core.transcription as transcription

    def make(orig: Any) -> Any:
        def usage(model: str, audio_ms: float, text: str) -> Json:
            out: Json = orig(model, audio_ms, text)
            if out.get("type") == "duration":
                out = {**out, "seconds": math.floor(audio_ms / 1000.0)}
            return out

        return usage

    p.wrap(transcription, "transcription_usage", make)


@mutant("transcription-session-vad-keys", "a GA transcription session's turn_detection carries response keys",
        "transcription/session/created")
def _transcription_shape(p: Patcher) -> None:
    ga, _ = _dialects()

    def make(orig: Any) -> Any:
        def render_session(self: Any, cfg: Any, session_id: str, expires_at: int) -> Json:
            out: Json = orig(self, cfg, session_id, expires_at)
            td = (out.get("audio") or {}).get("input", {}).get("turn_detection")
            if out.get("type") == "transcription" and isinstance(td, dict):
                td["create_response"] = False
            return out

        return render_session

    p.wrap(ga, "render_session", make)


@mutant("transcription-session-rate-limits", "transcription sessions send rate_limits.updated after each commit",
        "transcription/session/transcribe")
def _transcription_rate_limits(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        out = [wire]
        if wire.get("type") == "input_audio_buffer.committed" and session.config.kind == "transcription":
            out.append({"type": "rate_limits.updated", "event_id": session.ids.event(), "rate_limits": [
                {"name": "tokens", "limit": 40000, "remaining": 40000, "reset_seconds": 0.0}]})
        return out

    p.wire(transform)


# --- transcription details and session settings (issue 13: §4.3, §4.12, §4.15, §5.11, §5.14) ---------------


@mutant("transcription-logprobs-never", "the logprobs include is echoed but no event carries logprobs",
        "transcription/logprobs")
def _logprobs_never(p: Patcher) -> None:
    import mockrt.core.transcription as transcription

    p.attr(transcription, "LOGPROB_MODELS", frozenset())


@mutant("transcription-logprobs-always", "transcription events carry logprobs even without the include",
        "transcription/logprobs/not-included")
def _logprobs_always(p: Patcher) -> None:
    import mockrt.core.session as session

    def make(orig: Any) -> Any:
        def events(request: Any, result: Any) -> list[Json]:
            return orig(replace(request, logprobs=True), result)  # type: ignore[no-any-return]

        return events

    p.wrap(session, "transcription_events", make)


@mutant("diarize-without-segments", "the diarizing model streams plain deltas and no speaker segments",
        "transcription/diarize/segments")
def _diarize_plain(p: Patcher) -> None:
    import mockrt.core.transcription as transcription

    p.attr(transcription, "DIARIZING", frozenset())


@mutant("diarize-segments-in-ms", "segment start/end are milliseconds instead of seconds",
        "transcription/diarize/segments")
def _diarize_ms(p: Patcher) -> None:
    def transform(session: Any, wire: Json) -> list[Json]:
        if wire.get("type") == "conversation.item.input_audio_transcription.segment":
            return [{**wire, "start": wire["start"] * 1000, "end": wire["end"] * 1000}]
        return [wire]

    p.wire(transform)


@mutant("transcription-any-model", "any transcription model name is accepted",
        "transcription/model/unknown")
def _any_transcription_model(p: Patcher) -> None:
    from mockrt.core.dialects import beta, common

    p.attr(common.TRANSCRIPTION.fields["model"], "choices", None)
    p.attr(beta.BETA_TRANSCRIPTION.fields["model"], "choices", None)


@mutant("reasoning-no-defaults", "a reasoning model's session shows no reasoning or parallel_tool_calls defaults",
        "session/reasoning/defaults")
def _reasoning_defaults(p: Patcher) -> None:
    import mockrt.core.dialects.ga as ga_module
    from mockrt.core.models import ModelFacts

    p.attr(ga_module, "facts", lambda model: ModelFacts())


@mutant("truncation-ignored", "truncation has no effect: every response sees (and bills) the whole conversation",
        "session/truncation/retention-ratio", "session/truncation/disabled")
def _truncation_ignored(p: Patcher) -> None:
    import mockrt.core.truncation as truncation

    p.attr(truncation, "fit", lambda items, instructions, strategy, model: truncation.Context(list(items)))


# -- translation sessions (docs/protocol.md §10) -------------------------------------------------------------------


def _translation() -> tuple[Any, Any]:
    from mockrt.core.dialects.translation import Translation
    from mockrt.core.translation import TranslationSession

    return Translation, TranslationSession


def _translation_handler(p: Patcher, event: str, make: Callable[[Any], Any]) -> None:
    """Replace the handler of a translation client event (a ``ClientEvent`` member name) in its table row."""
    from mockrt.core.events import ClientEvent

    _, session_cls = _translation()
    rows = session_cls.CLIENT_EVENTS
    fields, handler = rows[ClientEvent[event]]
    p.item(rows, ClientEvent[event], (fields, make(handler)))


@mutant("translation-session-type", "the translation session object says type realtime",
        "translation/session/created")
def _translation_type(p: Patcher) -> None:
    dialect, _ = _translation()

    def make(orig: Any) -> Any:
        def render(self: Any, cfg: Any, session_id: str, expires_at: int) -> Json:
            return {**orig(self, cfg, session_id, expires_at), "type": "realtime"}

        return render

    p.wrap(dialect, "render_translation_session", make)


@mutant("translation-update-ignored", "session.update answers session.updated but changes nothing",
        "translation/session/update")
def _translation_update_ignored(p: Patcher) -> None:
    dialect, _ = _translation()
    p.attr(dialect, "parse_translation_update", lambda self, payload, current: current)


@mutant("translation-frame-per-append", "every append is consumed as a whole 200 ms frame, whatever its length",
        "translation/audio/frames")
def _translation_frame_per_append(p: Patcher) -> None:
    from mockrt.core.translation import FRAME_BYTES

    def make(orig: Any) -> Any:
        def append(self: Any, fields: Json) -> None:
            data = base64.b64decode(fields["audio"])
            self._frame((data + bytes(FRAME_BYTES))[:FRAME_BYTES])

        return append

    _translation_handler(p, "INPUT_AUDIO_APPEND", make)


@mutant("translation-no-audio", "the translation streams its transcript but no audio deltas",
        "translation/output/deltas")
def _translation_no_audio(p: Patcher) -> None:
    _, session_cls = _translation()
    from mockrt.core.events import ServerEvent

    def make(orig: Any) -> Any:
        def emit(self: Any, event: Json) -> None:
            if event["type"] is not ServerEvent.TRANSLATION_OUTPUT_AUDIO_DELTA:
                orig(self, event)

        return emit

    p.wrap(session_cls, "_emit", make)


@mutant("translation-source-transcript-always", "source transcript deltas are sent even when not configured",
        "translation/output/deltas")
def _translation_source_always(p: Patcher) -> None:
    _, session_cls = _translation()

    def make(orig: Any) -> Any:
        def turn_ended(self: Any) -> None:
            if self.config.transcription is None:
                self.config.transcription = {"model": "gpt-4o-transcribe"}
            orig(self)

        return turn_ended

    p.wrap(session_cls, "_turn_ended", make)


@mutant("translation-source-transcript-never", "audio.input.transcription is echoed but never transcribes",
        "translation/output/source-transcript")
def _translation_source_never(p: Patcher) -> None:
    _, session_cls = _translation()
    from mockrt.core.events import ServerEvent

    def make(orig: Any) -> Any:
        def emit(self: Any, event: Json) -> None:
            if event["type"] is not ServerEvent.TRANSLATION_INPUT_TRANSCRIPT_DELTA:
                orig(self, event)

        return emit

    p.wrap(session_cls, "_emit", make)


@mutant("translation-close-no-flush", "session.close drops the pending input, the turn in progress and the backlog",
        "translation/close/flush")
def _translation_close_no_flush(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def close(self: Any, fields: Json) -> None:
            self._pending.clear()
            self._turn_open = False
            self._backlog.clear()
            orig(self, fields)

        return close

    _translation_handler(p, "SESSION_CLOSE", make)


@mutant("translation-error-no-event-id", "translation errors do not echo the client's event_id",
        "translation/bad-input/realtime-events", "translation/bad-input/fields")
def _translation_error_no_event_id(p: Patcher) -> None:
    _, session_cls = _translation()

    def make(orig: Any) -> Any:
        def error(self: Any, err: Any, event_id: str | None) -> None:
            orig(self, err, None)

        return error

    p.wrap(session_cls, "_error", make)


@mutant("translation-any-model", "a translation socket accepts realtime models",
        "translation/handshake/model")
def _translation_any_model(p: Patcher) -> None:
    dialect, _ = _translation()
    p.attr(dialect, "models", (*dialect.models, "gpt-realtime"))


# --- MCP tools (§9) -----------------------------------------------------------------------------------------


@mutant("mcp-ignores-allowed-tools", "allowed_tools is ignored: every tool of the server is listed",
        "mcp/list/completed")
def _mcp_allowed(p: Patcher) -> None:
    from mockrt.core.mcp import McpServerConfig

    p.attr(McpServerConfig, "filter_tools", lambda self, tools: list(tools))


@mutant("mcp-list-failure-as-server-error", "a failed listing reports a generic server_error",
        "mcp/list/failed")
def _mcp_list_error(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "mcp_list_tools_failed", lambda label, detail: errors.ProtocolError(
        "The server had an error while processing your request.", None, None, type="server_error"))


@mutant("mcp-call-not-run", "the call is never made: every MCP call 'completes' with an empty output",
        "mcp/call/forced", "mcp/approval/approve")
def _mcp_not_run(p: Patcher) -> None:
    from mockrt.core.mcp import CallDone
    from mockrt.core.mcp_session import McpSession

    def make(orig: Any) -> Any:
        def dispatch(self: Any, run: Any, wait: Any, now: float) -> None:
            if wait.kind == "call":
                run.resume(CallDone("fake", ""), now)
            else:
                orig(self, run, wait, now)

        return dispatch

    p.wrap(McpSession, "dispatch", make)


@mutant("mcp-tool-error-as-output", "a tool's error comes back as its output (mcp_call.completed)",
        "mcp/call/tool-error")
def _mcp_error_output(p: Patcher) -> None:
    from mockrt.core.mcp import CallDone, CallFailed
    from mockrt.core.mcp_session import McpSession

    def make(orig: Any) -> Any:
        def on_result(self: Any, result: Any, now: float) -> None:
            if isinstance(result, CallFailed):
                result = CallDone(result.request_id, result.error.message)
            orig(self, result, now)

        return on_result

    p.wrap(McpSession, "on_result", make)


@mutant("mcp-no-approval", "require_approval is ignored: tools run without asking",
        "mcp/approval/approve", "mcp/approval/deny", "mcp/approval/unknown-request")
def _mcp_no_approval(p: Patcher) -> None:
    from mockrt.core.mcp import McpServerConfig

    p.attr(McpServerConfig, "needs_approval", lambda self, tool: False)


@mutant("mcp-deny-runs-anyway", "a denied approval runs the call anyway",
        "mcp/approval/deny")
def _mcp_deny(p: Patcher) -> None:
    from mockrt.core.mcp_session import McpSession

    def make(orig: Any) -> Any:
        def answer(self: Any, response: Any) -> None:
            orig(self, replace(response, approve=True))

        return answer

    p.wrap(McpSession, "answer", make)


@mutant("mcp-any-approval-id", "an approval response for an unknown request is accepted (and ignored)",
        "mcp/approval/unknown-request")
def _mcp_any_id(p: Patcher) -> None:
    from mockrt.core.mcp_session import McpSession

    def answer(self: Any, response: Any) -> None:
        if response.approval_request_id in self.approvals:
            self.approvals[response.approval_request_id].answer = response

    p.attr(McpSession, "check_answer", lambda self, response: None)
    p.attr(McpSession, "answer", answer)


@mutant("mcp-client-items-refused", "client-created mcp_call / mcp_list_tools items are refused (as before)",
        "mcp/item/client-created")
def _mcp_client_items(p: Patcher) -> None:
    from mockrt.core import errors
    from mockrt.core.dialects import mcp as mcp_wire

    def refuse(raw: Any) -> Any:
        raise errors.invalid_value(raw["type"], ["message", "function_call", "function_call_output"], "item.type")

    p.attr(mcp_wire, "parse_client_item", refuse)


@mutant("mcp-items-not-context", "MCP items cost no input tokens: a response does not see them",
        "mcp/item/client-created")
def _mcp_not_context(p: Patcher) -> None:
    from mockrt.core import usage

    def make(orig: Any) -> Any:
        return lambda item: (0, 0, 0) if item.mcp is not None else orig(item)

    p.wrap(usage, "item_tokens", make)


@mutant("mcp-beta-accepts", "beta silently drops mcp tools from session.update instead of refusing them",
        "mcp/beta/refused")
def _mcp_beta(p: Patcher) -> None:
    _, beta = _dialects()

    def make(orig: Any) -> Any:
        def parse(self: Any, payload: Any, current: Any) -> Any:
            if isinstance(payload, dict) and isinstance(payload.get("tools"), list):
                payload = {**payload, "tools": [t for t in payload["tools"]
                                                if not (isinstance(t, dict) and t.get("type") == "mcp")]}
            return orig(self, payload, current)

        return parse

    p.wrap(beta, "parse_session_update", make)


# --- calls: WebRTC, SIP and the sideband (§11) -------------------------------------------------------------


@mutant("calls-no-backlog", "a call's events before the data channel opened are lost (no session.created)",
        "calls/webrtc/create")
def _calls_no_backlog(p: Patcher) -> None:
    from mockrt.server.calls import Call

    def make(orig: Any) -> Any:
        def attach(self: Any, channel: Any) -> None:
            self.backlog = None
            orig(self, channel)

        return attach

    p.wrap(Call, "attach", make)


@mutant("calls-never-stopped", "the output audio buffer never reports output_audio_buffer.stopped",
        "calls/webrtc/output-audio-buffer")
def _calls_never_stopped(p: Patcher) -> None:
    from mockrt.core.playout import Playout

    def make(orig: Any) -> Any:
        def pull(self: Any, n_bytes: int) -> Any:
            data, events = orig(self, n_bytes)
            return data, [e for e in events if e[0] != "stopped"]

        return pull

    p.wrap(Playout, "pull", make)


@mutant("calls-clear-ignored", "output_audio_buffer.clear is accepted in a call and does nothing", "calls/webrtc/clear")
def _calls_clear_ignored(p: Patcher) -> None:
    from mockrt.core.events import ClientEvent
    from mockrt.core.session import ClientEventSpec, RealtimeSession

    table = RealtimeSession.CLIENT_EVENTS
    spec = table[ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR]
    p.item(table, ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR,
           ClientEventSpec(spec.fields, lambda self, fields, now: None, spec.sessions))


@mutant("calls-any-offer", "every SDP offer is taken, even one without audio", "calls/webrtc/bad-offer")
def _calls_any_offer(p: Patcher) -> None:
    from mockrt.server import webrtc

    p.attr(webrtc, "check_offer", lambda sdp: None)


@mutant("calls-unknown-call-code", "an unknown call id gets a generic not_found code",
        "calls/control/unknown-call", "calls/sideband/unknown-call")
def _calls_unknown_code(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "call_not_found", lambda call_id: errors.ProtocolError("Not found.", "not_found", "call_id"))


@mutant("calls-dtmf-event-id", "DTMF events carry an event_id the SDK does not model", "calls/sip/dtmf-and-sideband")
def _calls_dtmf_event_id(p: Patcher) -> None:
    ga, _ = _dialects()
    p.attr(ga, "dropped_fields", {})


# -- GPT-Live (docs/protocol.md §13) ---------------------------------------------------------------------------


def _live() -> Any:
    import mockrt.core.dialects.live as live_dialect
    import mockrt.core.live.session as live_session

    return live_dialect, live_session


@mutant("live-start-lenient", "session.start accepts unknown config fields (the config is not strict)",
        "live/start/strict")
def _live_start_lenient(p: Patcher) -> None:
    from mockrt.core.live.events import LiveClientEvent
    from mockrt.core.schema import AnyValue, Obj

    dialect, _ = _live()
    strict = dialect.CLIENT_FIELDS[LiveClientEvent.START]
    p.item(dialect.CLIENT_FIELDS, LiveClientEvent.START, Obj({"session": Obj(strict.fields["session"].fields,
                                                                             extra=AnyValue()),
                                                              "event_id": AnyValue()}))


@mutant("live-acks-without-id", "acknowledgements do not echo the command's event_id as client_event_id",
        "live/start/started", "live/update/acks", "live/context/acks", "live/close")
def _live_acks_without_id(p: Patcher) -> None:
    _, session = _live()

    def make(orig: Any) -> Any:
        def send(self: Any, kind: Any, fields: Json, mirror: bool = True) -> Any:
            return orig(self, kind, {k: v for k, v in fields.items() if k != "client_event_id"}, mirror)

        return send

    p.wrap(session.LiveSession, "_send", make)


@mutant("live-errors-without-id", "errors do not carry the command's event_id (neither on the event nor the error)",
        "live/start/strict", "live/start/first", "live/update/acks", "live/fixture/play")
def _live_errors_without_id(p: Patcher) -> None:
    dialect, _ = _live()

    def make(orig: Any) -> Any:
        def render_error(self: Any, event_id: str, err: Any, client_event_id: str | None) -> Json:
            return orig(self, event_id, err, None)  # type: ignore[no-any-return]

        return render_error

    p.wrap(dialect.LiveDialect, "render_error", make)


@mutant("live-output-follows-input-only", "output audio only advances with input audio: no continuous stream",
        "live/output/continuous", "live/audio/turn")
def _live_output_on_input(p: Patcher) -> None:
    _, session = _live()
    p.attr(session.LiveSession, "_target_ms", lambda self, now: self.buffer.position_ms)


@mutant("live-fixture-never-drains", "a fixture plays as ordinary speech: no .played, appends accepted meanwhile",
        "live/fixture/play")
def _live_fixture_never_drains(p: Patcher) -> None:
    _, session = _live()

    def make(orig: Any) -> Any:
        def fixture(self: Any, audio: str, cid: str | None) -> Any:
            out = orig(self, audio, cid)
            self.fixture.kind, self.fixture = "reply", None
            return out

        return fixture

    p.wrap(session.LiveSession, "_fixture", make)


@mutant("live-sip-dtmf-sent-without-id", "transport.dtmf.sent does not echo the command's event_id",
        "live/sip/dtmf-and-sideband")
def _live_sip_dtmf_sent_without_id(p: Patcher) -> None:
    from mockrt.core.live.events import LiveServerEvent

    dialect, _ = _live()

    def make(orig: Any) -> Any:
        def render(self: Any, kind: Any, event_id: str, fields: dict[str, Any]) -> Any:
            if kind is LiveServerEvent.DTMF_SENT:
                fields = {k: v for k, v in fields.items() if k != "client_event_id"}
            return orig(self, kind, event_id, fields)

        return render

    p.wrap(dialect.LiveDialect, "render", make)


@mutant("live-responses-unserved", "response.create with Responses delegation answers an error instead of a "
        "stream", "live/responses/create")
def _live_responses_unserved(p: Patcher) -> None:
    _, session = _live()
    errors = _errors()

    def backend(self: Any, at_ms: float, out: Any, cid: str | None) -> None:
        raise errors.live_not_served("Responses delegation")

    p.attr(session.LiveSession, "_backend_response", backend)


@mutant("live-responses-unguarded", "response.create without Responses delegation is served anyway",
        "live/responses/requires-delegation")
def _live_responses_unguarded(p: Patcher) -> None:
    dialect, _ = _live()
    p.attr(dialect.LiveConfig, "delegation_type", property(lambda self: "responses"))


@mutant("live-no-input-transcript", "the caller's turn is answered but never transcribed",
        "live/audio/turn")
def _live_no_input_transcript(p: Patcher) -> None:
    from mockrt.core.live.events import LiveServerEvent

    _, session = _live()

    def make(orig: Any) -> Any:
        def send(self: Any, kind: Any, fields: Json, mirror: bool = True) -> Any:
            if kind is LiveServerEvent.INPUT_TRANSCRIPT_DELTA:
                kind, fields = LiveServerEvent.INFO, {"code": "mutant", "message": "no transcript"}
            return orig(self, kind, fields, mirror)

        return send

    p.wrap(session.LiveSession, "_send", make)


@mutant("live-decision-acks-without-id", "decision.item.created/.deleted do not echo the command's event_id",
        "live/decisions/items")
def _live_decision_acks_without_id(p: Patcher) -> None:
    from mockrt.core.live.events import LiveServerEvent

    dialect, _ = _live()
    acks = (LiveServerEvent.DECISION_ITEM_CREATED, LiveServerEvent.DECISION_ITEM_DELETED)

    def make(orig: Any) -> Any:
        def render(self: Any, kind: Any, event_id: str, fields: dict[str, Any]) -> Any:
            if kind in acks:
                fields = {k: v for k, v in fields.items() if k != "client_event_id"}
            return orig(self, kind, event_id, fields)

        return render

    p.wrap(dialect.LiveDialect, "render", make)


@mutant("live-decision-delete-lenient", "deleting an unknown Decision item succeeds",
        "live/decisions/items")
def _live_decision_delete_lenient(p: Patcher) -> None:
    from mockrt.core.live.decisions import DecisionContext

    p.attr(DecisionContext, "delete", lambda self, item_id: None)


@mutant("live-decision-unlinked", "decision.event does not name the delegation it answers", "live/decisions/create")
def _live_decision_unlinked(p: Patcher) -> None:
    _, session = _live()

    def make(orig: Any) -> Any:
        def decide(self: Any, questions: Any, script: Any, out: Any, *, delegation_id: str | None = None,
                   source: Any = None) -> None:
            orig(self, questions, script, out, source=source)

        return decide

    p.wrap(session.LiveSession, "_decision_event", make)


@mutant("live-decision-answers-reversed", "the Decision's answers are not in question order",
        "live/decisions/create", "live/decisions/trigger")
def _live_decision_answers_reversed(p: Patcher) -> None:
    _, session = _live()

    def make(orig: Any) -> Any:
        def evaluate(questions: Any, answers: Any, context: str) -> Any:
            return list(reversed(orig(questions, answers, context)))

        return evaluate

    p.wrap(session, "evaluate", make)


@mutant("live-decision-event-id-reusable", "decision.create accepts an event_id already used in the session",
        "live/decisions/event-id-reuse")
def _live_decision_event_id_reusable(p: Patcher) -> None:
    _, session = _live()

    def make(orig: Any) -> Any:
        def create(self: Any, cid: str, now: float) -> Any:
            self._decision_ids.discard(cid)
            return orig(self, cid, now)

        return create

    p.wrap(session.LiveSession, "_decision_create", make)


@mutant("live-decision-unguarded", "decision.create without Decisions delegation is evaluated anyway",
        "live/decisions/requires-delegation")
def _live_decision_unguarded(p: Patcher) -> None:
    dialect, _ = _live()
    p.attr(dialect.LiveConfig, "delegation_type", property(lambda self: "decisions"))


@mutant("live-triggers-ignored", "transcript triggers never fire", "live/decisions/trigger")
def _live_triggers_ignored(p: Patcher) -> None:
    _, session = _live()
    p.attr(session.LiveSession, "_fire_triggers", lambda self, source, source_event_id, out: None)


# --- GPT-Live's REST side (§13.6): recordings and the REST fork ------------------------------------------------


@mutant("live-content-never-final", "a stored session's recording is never finalized: content answers "
        "session_active even after the session closed", "live/content/recording", "live/content/wav")
def _live_content_never_final(p: Patcher) -> None:
    from mockrt.server.live import LiveHub

    p.attr(LiveHub, "recording", lambda self, session_id: True)


@mutant("live-recording-without-input", "the recording keeps the output stream but not the caller's audio",
        "live/content/wav")
def _live_recording_without_input(p: Patcher) -> None:
    from mockrt.core.live.recording import LiveRecording

    p.attr(LiveRecording, "add_input", lambda self, data, fmt: None)


@mutant("live-records-unstored", "every session is recorded and downloadable, store: true or not",
        "live/rest/unknown-session")
def _live_records_unstored(p: Patcher) -> None:
    from mockrt.core.live.recording import LiveRecording

    _, session = _live()

    def make(orig: Any) -> Any:
        def start(self: Any, config: Json, cid: str | None, now: float) -> Any:
            out = orig(self, config, cid, now)
            if self.recording is None:
                self.recording = LiveRecording(1 << 20)
            return out

        return start

    p.wrap(session.LiveSession, "_start", make)


@mutant("live-rest-fork-forgets", "the REST fork starts a session from scratch: the stored instructions are lost",
        "live/fork/rest")
def _live_rest_fork_forgets(p: Patcher) -> None:
    import mockrt.server.live_calls as live_calls

    def make(orig: Any) -> Any:
        def start(state: Any, session_id: str, config: Json, on_channel: bool, fork_of: Any = None) -> Any:
            if fork_of is not None:
                fork_of = replace(fork_of, config=replace(fork_of.config, instructions=None), items=[], context=[])
            return orig(state, session_id, config, on_channel, fork_of)

        return start

    p.wrap(live_calls, "_start", make)


def killed_cases() -> set[str]:
    """Every case id some mutant names."""
    return {case_id for m in MUTANTS.values() for case_id in m.kills}


@contextmanager
def mock_servers() -> Iterator[UrlTarget]:
    """Two in-process mockrt servers configured like the conformance ``mock`` target (``conformance/targets.py``
    ``MockTarget``: keyed, known models; one unpaced, one with live-like pacing), as a ``url`` target.

    In-process, so that a mutant's patches reach the code serving the sessions.
    """
    from mockrt.config import ServerConfig
    from mockrt.core.responses import Pacing
    from mockrt.thread import ServerThread

    common: dict[str, Any] = {"port": 0, "api_keys": (MOCK_KEY,), "known_models": KNOWN_MODELS,
                              "scenario": MOCK_PROMPTS, "log_level": "warning"}
    # time_scale: GPT-Live output (§13.4) runs 10× faster on the unpaced server; Realtime pacing there is off anyway.
    with ServerThread(ServerConfig(pacing=Pacing(audio_speed=0), time_scale=0.1, **common)) as fast, \
            ServerThread(ServerConfig(pacing=Pacing(audio_speed=10.0, first_delta_ms=100.0), **common)) as paced:
        target = UrlTarget(fast.ws_url, {"CONFORMANCE_API_KEY": MOCK_KEY, "CONFORMANCE_PROMPT_ID": MOCK_PROMPT_ID},
                           paced_url=paced.ws_url)
        target.start()
        yield target
        target.stop()


def run_mutant(mutant: Mutant, target: Target, case_ids: Iterable[str] | None = None, *,
               timeout_scale: float = 0.2) -> dict[str, list[Result]]:
    """Run cases (default: the mutant's ``kills``) on :func:`mock_servers` with the mutant active.

    Returns ``{case id: [Result per dialect]}``.
    """
    catalogue = load_catalogue()
    ids = list(case_ids) if case_ids is not None else list(mutant.kills)
    out: dict[str, list[Result]] = {}
    with mutant.active():
        for case_id in ids:
            out[case_id] = run_catalogue(target, cases=[catalogue[case_id]], timeout_scale=timeout_scale)
    return out


@mutant("live-outbound-leg-silent", "the outbound SIP leg's transport.ringing/.answered/.failed never reach the "
        "sideband", "live/sip/outbound")
def _live_outbound_leg_silent(p: Patcher) -> None:
    _, session = _live()
    p.attr(session.LiveSession, "to_sideband", lambda self, kind, fields: None)


@mutant("live-data-channel-unfiltered", "a WebRTC frontend's data channel gets every server event, whatever its "
        "allowed_server_events say", "live/webrtc/wake-idle-permissions")
def _live_data_channel_unfiltered(p: Patcher) -> None:
    dialect, _ = _live()
    p.attr(dialect.LiveDialect, "data_channel_allows", lambda self, cfg, event: True)


@mutant("live-never-idle", "idle_timeout_s is ignored: a woken session never pauses",
        "live/webrtc/wake-idle-permissions")
def _live_never_idle(p: Patcher) -> None:
    _, session = _live()
    p.attr(session.LiveSession, "_idle_due", lambda self, at_ms: False)


# --- Azure Voice Live (docs/protocol.md §12) -------------------------------------------------------------------


def _voice_live() -> Any:
    from mockrt.core.dialects.voice_live import VoiceLive

    return VoiceLive


def _vl_never_sends(p: Patcher, *names: str) -> None:
    """The Voice Live dialect no longer sends the server events of these internal names."""
    from mockrt.core.events import ServerEvent

    vl = _voice_live()
    dropped = {getattr(ServerEvent, n) for n in names}
    missing = dropped - set(vl.server_events)
    if missing:
        raise PatchTargetMissing(f"mutant patch target: VoiceLive.server_events has no {sorted(missing)}")
    p.attr(vl, "server_events", {k: v for k, v in vl.server_events.items() if k not in dropped})


@mutant("vl-settings-not-echoed", "reasoning_effort and metadata are accepted but not echoed in session.updated",
        "voice-live/session/azure-settings")
def _vl_not_echoed(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def render_session(self: Any, cfg: Any, session_id: str, expires_at: int) -> Json:
            out: Json = orig(self, cfg, session_id, expires_at)
            out.pop("reasoning_effort", None)
            out.pop("metadata", None)
            return out

        return render_session

    p.wrap(_voice_live(), "render_session", make)


@mutant("vl-sampling-rate-param", "a sampling rate the format lacks is refused on session.input_audio_format",
        "voice-live/session/validation")
def _vl_rate_param(p: Patcher) -> None:
    errors = _errors()
    p.attr(errors, "voice_live_sampling_rate", lambda rate, fmt: errors.invalid_value(
        fmt, ("pcm16",), "session.input_audio_format"))


@mutant("vl-8k-output-at-24k", "pcm16_8000hz output is synthesised and labelled as 24 kHz pcm16",
        "voice-live/output/rates")
def _vl_8k(p: Patcher) -> None:
    from mockrt.audio.formats import AudioFormat
    from mockrt.core.dialects import voice_live

    p.item(voice_live._OUTPUT_FORMATS, "pcm16_8000hz", AudioFormat.PCM16)


@mutant("vl-no-timestamp-done", "word timestamps are streamed but never closed with response.audio_timestamp.done",
        "voice-live/output/word-timestamps")
def _vl_no_timestamp_done(p: Patcher) -> None:
    _vl_never_sends(p, "AUDIO_TIMESTAMP_DONE")


@mutant("vl-no-visemes", "animation outputs viseme_id is echoed but no viseme events are sent",
        "voice-live/output/animation")
def _vl_no_visemes(p: Patcher) -> None:
    _vl_never_sends(p, "ANIMATION_VISEME_DELTA", "ANIMATION_VISEME_DONE")


@mutant("vl-turn-id-ignored", "input_audio.turn.append takes audio for any turn_id",
        "voice-live/input/turns")
def _vl_turn_id(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def append(session: Any, fields: Json, now: float) -> None:
            session._append({"audio": fields["audio"]}, now)

        return append

    p.handler("input_audio.turn.append", make)


@mutant("vl-input-clear-ignored", "input_audio.clear is accepted and does nothing", "voice-live/input/clear")
def _vl_input_clear(p: Patcher) -> None:
    p.handler("input_audio.clear", lambda orig: lambda session, fields, now: None)


@mutant("vl-text-stream-last-delta", "input_text.done adds only the last input_text.delta",
        "voice-live/input/text-stream")
def _vl_text_last(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def delta(session: Any, fields: Json, now: float) -> None:
            session.input_text.pop(fields["id"], None)
            orig(session, fields, now)

        return delta

    p.handler("input_text.delta", make)


@mutant("vl-avatar-unconfigured", "session.avatar.connect is answered without an avatar configured",
        "voice-live/avatar/connect")
def _vl_avatar(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def connect(session: Any, fields: Json, now: float) -> None:
            if session.config.avatar is None:
                session.config.avatar = {"character": "lisa", "customized": False}
            orig(session, fields, now)

        return connect

    p.handler("session.avatar.connect", make)


@mutant("vl-pre-generated-ignored", "pre_generated_assistant_message is accepted; the model answers instead",
        "voice-live/response/pre-generated")
def _vl_pre_generated(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def response_directives(self: Any, payload: Any, cfg: Any) -> Any:
            return replace(orig(self, payload, cfg), pre_generated_text=None)

        return response_directives

    p.wrap(_voice_live(), "response_directives", make)


@mutant("vl-commit-ignored", "response.create commit: false is accepted; the reply joins the conversation",
        "voice-live/response/commit-and-items")
def _vl_commit(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def parse_response_params(self: Any, payload: Any, cfg: Any) -> Any:
            params, raw_input = orig(self, payload, cfg)
            if isinstance(payload, dict) and payload.get("commit") is False:
                params.conversation = "auto"
            return params, raw_input

        return parse_response_params

    p.wrap(_voice_live(), "parse_response_params", make)


@mutant("vl-cancel-previous-always", "cancel_previous: false cancels the response in progress anyway",
        "voice-live/response/cancel-previous")
def _vl_cancel_previous(p: Patcher) -> None:
    def make(orig: Any) -> Any:
        def response_directives(self: Any, payload: Any, cfg: Any) -> Any:
            return replace(orig(self, payload, cfg), cancel_previous=True)

        return response_directives

    p.wrap(_voice_live(), "response_directives", make)


@mutant("vl-image-detail-dropped", "input_image parts lose their detail", "voice-live/items/image-and-lifecycle")
def _vl_image(p: Patcher) -> None:
    from mockrt.core.dialects import voice_live

    def make(orig: Any) -> Any:
        def part(pt: Any, with_audio: bool) -> Json:
            out: Json = orig(pt, with_audio)
            out.pop("detail", None)
            return out

        return part

    p.wrap(voice_live, "_part", make)


@mutant("vl-transcription-no-deltas", "input transcription sends completed but never its deltas",
        "voice-live/audio/vad-and-transcription")
def _vl_no_deltas(p: Patcher) -> None:
    _vl_never_sends(p, "TRANSCRIPTION_DELTA")


@mutant("vl-16k-input-as-8k", "pcm16 input declared at 16 kHz is read as 8 kHz", "voice-live/audio/manual-commit")
def _vl_16k(p: Patcher) -> None:
    from mockrt.audio.formats import AudioFormat
    from mockrt.core.dialects import voice_live

    p.item(voice_live._PCM_AT, 16000, AudioFormat.PCM16_8K)


@mutant("vl-function-done-without-name", "response.function_call_arguments.done drops name (as beta does)",
        "voice-live/tools/function-call")
def _vl_function_name(p: Patcher) -> None:
    from mockrt.core.events import ServerEvent

    p.attr(_voice_live(), "dropped_fields", {ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE: frozenset({"name"})})


@mutant("vl-approval-object-ignored", "require_approval's per-tool object is ignored: every tool asks first",
        "voice-live/mcp/approvals-and-calls")
def _vl_approval_object(p: Patcher) -> None:
    from mockrt.core.mcp import McpServerConfig

    p.attr(McpServerConfig, "needs_approval", lambda self, tool: self.approval != "never")
