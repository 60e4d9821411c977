"""Strict shape validation of Azure Voice Live server events with the ``azure-ai-voicelive`` client's own models
(docs/protocol.md §12).

The client parses every frame with ``ServerEvent._deserialize``; its models deserialize lazily (a malformed field
only fails when read), so :func:`check_event` reads every field of every event, checks that each field the
client's model requires is present, that every discriminated object maps to a known subclass, and that no key is
unknown to the model. :func:`validate_voice_live_event` applies it to a raw wire event (the conformance client);
``tests/test_clients_voicelive*.py`` apply :func:`check_event` to what the async client yields.
"""

from __future__ import annotations

import typing
from typing import Any, Final

UNMODELLED_EVENTS: Final = frozenset({"rate_limits.updated"})
"""Events the mock sends in this flavour that the client does not model. ``rate_limits.updated``: the Azure preview
behaviour (an empty array after ``response.created``, docs/protocol.md §3.9); Voice Live's own event list has no
such type, so the client yields it as a plain ``ServerEvent`` (it does not fail)."""

TOLERATED_KEYS: Final[dict[str, frozenset[str]]] = {
    "ServerEventConversationItemInputAudioTranscriptionCompleted": frozenset({"usage"}),
    "ResponseSession": frozenset({"object", "client_secret", "speed", "tracing"}),
    "ResponseFunctionCallOutputItem": frozenset({"status"}),
}
"""Keys the mock sends that the client's models do not declare (the beta session / item / transcription shapes,
docs/protocol.md §4.2, §4.7, §5.11); the client keeps them in the mapping and ignores them."""

NOT_SENT: Final = frozenset({("RequestAudioContentPart", "audio")})
"""Fields a client model requires that the service leaves out: the client reuses its *request* model for
``input_audio`` parts in server events, but item events carry no audio bytes (only ``conversation.item.retrieved``
does; docs/protocol.md §2.8, §4.7)."""


class VoiceLiveShapeError(AssertionError):
    """A server event does not match the ``azure-ai-voicelive`` model for it."""


def available() -> bool:
    """Whether ``azure-ai-voicelive`` is installed (the ``conformance`` extra installs it)."""
    try:
        import azure.ai.voicelive.models  # noqa: F401
    except ImportError:
        return False
    return True


def _annotations(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        out.update(getattr(klass, "__annotations__", {}))
    return out


def _check(value: Any, path: str) -> None:
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
        return
    rest_fields = getattr(type(value), "_attr_to_rest_field", None)
    if rest_fields is None:
        return
    cls = type(value)
    if "__mapping__" in vars(cls):
        raise VoiceLiveShapeError(f"{path}: no {cls.__name__} subclass for {dict(value)!r:.200}")
    hints = _annotations(cls)
    known: set[str] = set()
    for attr, rf in rest_fields.items():
        name = rf._rest_name
        known.add(name)
        if name not in value:
            optional = type(None) in typing.get_args(hints.get(attr)) or (cls.__name__, name) in NOT_SENT
            if not optional:
                raise VoiceLiveShapeError(f"{path}.{name}: required by {cls.__name__}")
            continue
        try:
            read = getattr(value, attr)  # reading deserializes (and may raise)
        except Exception as exc:
            raise VoiceLiveShapeError(f"{path}.{name}: {cls.__name__} cannot read it: {exc}") from None
        _check(read, f"{path}.{name}")
    extra = set(value.keys()) - known - TOLERATED_KEYS.get(cls.__name__, frozenset())
    if extra:
        raise VoiceLiveShapeError(f"{path}: keys unknown to {cls.__name__}: {sorted(extra)}")


def check_event(event: Any) -> Any:
    """Strictly validate one event as the client parsed it (a ``ServerEvent``); returns it."""
    from azure.ai.voicelive.models import ServerEvent

    if not (isinstance(event.event_id, str) and event.event_id.startswith("event_")):
        raise VoiceLiveShapeError(f"{event.type}: 'event_id' must be a string starting with 'event_' (§1.8), "
                                  f"got {event.event_id!r}")
    if type(event) is ServerEvent:
        if event.type not in UNMODELLED_EVENTS:
            raise VoiceLiveShapeError(f"{event.type!r} is not a server event type of azure-ai-voicelive")
        return event
    _check(event, str(event.type))
    return event


def validate_voice_live_event(event: dict[str, Any]) -> None:
    """Raise :class:`VoiceLiveShapeError` unless the raw wire ``event`` is a valid Voice Live server event."""
    from azure.ai.voicelive.models import ServerEvent

    if not isinstance(event.get("type"), str):
        raise VoiceLiveShapeError(f"server event without a string 'type': {event!r:.300}")
    try:
        parsed = ServerEvent._deserialize(event, [])  # type: ignore[no-untyped-call]  # as the client parses
    except Exception as exc:  # the client itself could not parse it
        raise VoiceLiveShapeError(f"{event['type']}: azure-ai-voicelive cannot parse it: {exc}") from None
    check_event(parsed)
