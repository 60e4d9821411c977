"""Wire dialects over one internal model (docs/protocol.md §0.2): GA, beta (incl. the Azure preview flavour)
and Azure Voice Live (beta plus Azure's extensions)."""

from mockrt.core.dialects.base import Dialect, SessionAudio
from mockrt.core.dialects.beta import Beta
from mockrt.core.dialects.ga import GA
from mockrt.core.dialects.live_reader import LiveReader
from mockrt.core.dialects.translation import Translation
from mockrt.core.dialects.voice_live import VoiceLive
from mockrt.core.events import ClientEvent, ServerEvent


def dialect_named(name: str | None) -> Dialect:
    """A reader for a journal or recording labelled with a dialect name (``ga`` / ``beta``): beta's reader is
    Voice Live's, which also reads what Voice Live adds to the beta shapes; ``translation`` sessions' is theirs,
    and GPT-Live sessions' (``live``) reads the Live wire (:mod:`mockrt.core.dialects.live_reader`)."""
    if name == "translation":
        return Translation()
    if name == "live":
        return LiveReader()
    return VoiceLive() if name == "beta" else GA()


def _audio_event_types() -> frozenset[str]:
    out: set[str] = set()
    for dialect in (GA, Beta, VoiceLive, Translation, LiveReader):
        out.update(wire for wire, event in dialect.client_events.items() if event is ClientEvent.INPUT_AUDIO_APPEND)
        out.update(wire for event, wire in dialect.server_events.items()
                   if event in (ServerEvent.OUTPUT_AUDIO_DELTA, ServerEvent.ITEM_RETRIEVED,
                                ServerEvent.TRANSLATION_OUTPUT_AUDIO_DELTA))
    return frozenset(out)


AUDIO_EVENT_TYPES = _audio_event_types()
"""The wire ``type`` of every event that carries base64 audio, in any dialect (appends, output audio deltas,
``conversation.item.retrieved``): what logs elide when the dialect is not at hand."""


def _audio_payloads() -> dict[str, str]:
    out: dict[str, str] = {}
    for dialect in (GA, Beta, VoiceLive, Translation, LiveReader):
        out.update({wire: "audio" for wire, event in dialect.client_events.items()
                    if event is ClientEvent.INPUT_AUDIO_APPEND})
        out.update({wire: "delta" for event, wire in dialect.server_events.items()
                    if event in (ServerEvent.OUTPUT_AUDIO_DELTA, ServerEvent.TRANSLATION_OUTPUT_AUDIO_DELTA)})
    return out


AUDIO_PAYLOADS = _audio_payloads()
"""Wire ``type`` -> the top-level key holding its base64 audio, in any dialect (appends and output audio deltas):
what a journal over its byte budget may elide."""

__all__ = ["AUDIO_EVENT_TYPES", "AUDIO_PAYLOADS", "GA", "Beta", "Dialect", "SessionAudio", "Translation", "VoiceLive",
           "dialect_named"]
