"""GPT-Live's wire read back in the Realtime internal vocabulary (docs/protocol.md §13), for the code that reads
journals through a :class:`~mockrt.core.dialects.Dialect`: the inspector, the logs and the journal budgets.

The events both APIs have get their internal names: the session object (``session.started`` reads as a
created session), input audio appends, the output audio stream, both transcripts, ``session.close`` /
``session.closed`` and ``error``. Everything only Live has (context acknowledgements, delegation, the
``response.event`` envelope, usage) has no internal name: readers summarise it by its fields. A Live session's
output is one continuous stream with no responses (:attr:`LiveReader.continuous_output`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core.dialects.base import SessionAudio
from mockrt.core.dialects.ga import GA
from mockrt.core.dialects.live import LiveDialect
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.live.events import LiveClientEvent as C
from mockrt.core.live.events import LiveServerEvent as S
from mockrt.core.model import TurnDetection

_CLIENT = {kind: wire for wire, kind in LiveDialect.client_events.items()}
_SERVER = LiveDialect.server_events
_FORMATS = {"audio/pcm": AudioFormat.PCM16, "audio/pcmu": AudioFormat.G711_ULAW, "audio/pcma": AudioFormat.G711_ALAW}


class LiveReader(GA):
    """Reads a Live session's journal (never serves one: :class:`~mockrt.core.dialects.live.LiveDialect` does)."""

    name = "live"
    continuous_output = True
    client_events: ClassVar[Mapping[str, ClientEvent]] = {
        _CLIENT[C.AUDIO_APPEND]: ClientEvent.INPUT_AUDIO_APPEND,
        _CLIENT[C.UPDATE]: ClientEvent.SESSION_UPDATE,
        _CLIENT[C.CLOSE]: ClientEvent.SESSION_CLOSE,
    }
    server_events: ClassVar[Mapping[ServerEvent, str]] = {
        ServerEvent.ERROR: _SERVER[S.ERROR],
        ServerEvent.SESSION_CREATED: _SERVER[S.STARTED],
        ServerEvent.SESSION_UPDATED: _SERVER[S.UPDATED],
        ServerEvent.SESSION_CLOSED: _SERVER[S.CLOSED],
        ServerEvent.OUTPUT_AUDIO_DELTA: _SERVER[S.OUTPUT_AUDIO_DELTA],
        ServerEvent.TRANSCRIPTION_DELTA: _SERVER[S.INPUT_TRANSCRIPT_DELTA],
        ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA: _SERVER[S.OUTPUT_TRANSCRIPT_DELTA],
    }
    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {}
    obfuscated: ClassVar[frozenset[ServerEvent]] = frozenset()

    def session_audio(self, session: Mapping[str, Any]) -> SessionAudio:
        """The ``SessionResource``'s ``audio.format`` (input and output share it, §13.2) and the server VAD a
        Live session always runs, with its defaults (§13.4)."""
        audio = session.get("audio")
        fmt = audio.get("format") if isinstance(audio, dict) else None
        kind = _FORMATS.get(str(fmt.get("type"))) if isinstance(fmt, dict) else None
        vad = TurnDetection(type="server_vad", interrupt_response=True, create_response=True)
        return SessionAudio(kind, kind, True, vad, {"type": "server_vad"})

    def response_format(self, response: Mapping[str, Any]) -> AudioFormat | None:
        return None
