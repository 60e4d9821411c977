"""The GPT-Live event vocabulary inside the core (docs/protocol.md §13).

Like :mod:`mockrt.core.events` for the Realtime API, the members' values are deliberately not wire names: only
:mod:`mockrt.core.dialects.live` knows the Live API's ``type`` strings, in both directions.
"""

from __future__ import annotations

from enum import StrEnum, auto


class LiveClientEvent(StrEnum):
    """What a Live client can send (§13.2)."""

    START = auto()
    UPDATE = auto()
    AUDIO_APPEND = auto()
    MUTE = auto()
    UNMUTE = auto()
    FIXTURE_PLAY = auto()
    INSTRUCTIONS_APPEND = auto()
    THINKING_APPEND = auto()
    COMMENTARY_APPEND = auto()
    DECISION_CREATE = auto()
    DECISION_ITEM_CREATE = auto()
    DECISION_ITEM_DELETE = auto()
    RESPONSE_ITEM_CREATE = auto()
    RESPONSE_CREATE = auto()
    CLOSE = auto()
    DTMF_SEND = auto()


class LiveServerEvent(StrEnum):
    """What a Live session tells its client (§13.3)."""

    STARTED = auto()
    UPDATED = auto()
    MUTED = auto()
    UNMUTED = auto()
    FIXTURE_PLAYING = auto()
    FIXTURE_PLAYED = auto()
    INSTRUCTIONS_APPENDED = auto()
    THINKING_APPENDED = auto()
    COMMENTARY_APPENDED = auto()
    OUTPUT_AUDIO_DELTA = auto()
    INPUT_TRANSCRIPT_DELTA = auto()
    OUTPUT_TRANSCRIPT_DELTA = auto()
    DELEGATION_CREATED = auto()
    RESPONSE_EVENT = auto()
    """The envelope of one event of the delegated Responses stream (§13.5)."""
    USAGE_UPDATED = auto()
    CLOSED = auto()
    ERROR = auto()
    INFO = auto()
    INPUT_AUDIO_REFLECTED = auto()
    """Sideband only: the primary's input audio, reflected before muting (§13.7)."""
    DTMF_RECEIVED = auto()
    """Sideband only: a SIP caller's keypress (§13.8)."""
    DTMF_SENT = auto()
    """Sideband only: a keypress sent to the SIP caller on ``transport.dtmf.send`` (§13.8)."""
    PAUSED = auto()
    """The idle timeout paused inference (``idle_timeout_s`` with a speech ``wake_policy``, §13.8)."""
    RESUMED = auto()
    """Speech woke inference (the first wake and each later one, §13.8)."""
    TRANSPORT_RINGING = auto()
    """Sideband only: the outbound SIP leg rings (§13.8)."""
    TRANSPORT_ANSWERED = auto()
    """Sideband only: the outbound SIP leg answered; media flows (§13.8)."""
    TRANSPORT_FAILED = auto()
    """Sideband only: the outbound SIP leg could not be set up (§13.8)."""
    DECISION_EVENT = auto()
    """The envelope of a completed Decision (a Decisions delegation or a transcript trigger, §13.5)."""
    DECISION_ITEM_CREATED = auto()
    DECISION_ITEM_DELETED = auto()
