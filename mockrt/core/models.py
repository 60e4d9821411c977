"""The service's model list and what the mock knows about each model (docs/protocol.md §4.15).

Names come from the installed openai SDK's ``model`` Literals (``RealtimeSessionCreateRequest.model``,
``AudioTranscription.model``); deprecated names stay accepted until their shutdown date, as on the service.
Per-model facts (context window, reasoning, transcription billing) are the documented ones; where nothing is
documented the mock uses the ``gpt-realtime`` figures and says so in docs/protocol.md §4.15.
"""

from __future__ import annotations

from dataclasses import dataclass

REALTIME_MODELS: tuple[str, ...] = (
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2",
    "gpt-realtime-1.5",
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-realtime-mini",
    "gpt-realtime-mini-2025-10-06",
    "gpt-realtime-mini-2025-12-15",
    "gpt-audio-1.5",
    "gpt-audio-mini",
    "gpt-audio-mini-2025-10-06",
    "gpt-audio-mini-2025-12-15",
    "gpt-4o-realtime-preview",
    "gpt-4o-realtime-preview-2024-10-01",
    "gpt-4o-realtime-preview-2024-12-17",
    "gpt-4o-realtime-preview-2025-06-03",
    "gpt-4o-mini-realtime-preview",
    "gpt-4o-mini-realtime-preview-2024-12-17",
)
"""Every Realtime model name the SDK lists (openai 3.63), newest first."""

DEPRECATED_REALTIME_MODELS: frozenset[str] = frozenset({
    "gpt-realtime", "gpt-realtime-2025-08-28", "gpt-realtime-mini", "gpt-realtime-mini-2025-12-15",
    "gpt-audio-mini", "gpt-audio-mini-2025-12-15",
})
"""Names the SDK marks deprecated (shutdown 2027-01-20): still accepted."""

TRANSCRIPTION_MODELS: tuple[str, ...] = (
    "whisper-1",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
)
"""``audio.input.transcription.model`` values the service accepts (``AudioTranscription.model``)."""

DURATION_BILLED: frozenset[str] = frozenset({"whisper-1", "gpt-live-transcribe", "gpt-realtime-whisper"})
"""Transcription models whose usage is ``{"type": "duration", "seconds"}``; the others bill tokens."""

DIARIZING: frozenset[str] = frozenset({"gpt-4o-transcribe-diarize"})
"""Transcription models that label speakers (``...input_audio_transcription.segment`` events)."""

LOGPROB_MODELS: frozenset[str] = frozenset({
    "gpt-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-transcribe",
})
"""Transcription models that return log probabilities when ``include`` asks (not whisper-1, not diarize)."""


@dataclass(frozen=True)
class ModelFacts:
    """What a Realtime model is documented (or, tagged in §4.15, inferred) to have."""

    input_limit: int = 28_224
    """Tokens the context holds before truncation: the SDK's example for a 32k model with 4,096 output tokens."""
    reasoning: bool = False
    """Accepts ``reasoning.effort`` and ``parallel_tool_calls`` (the SDK: "reasoning Realtime models such as
    gpt-realtime-2")."""
    default_effort: str | None = None


_REASONING = ModelFacts(input_limit=128_000 - 4_096, reasoning=True, default_effort="low")
_LONG = ModelFacts(input_limit=128_000 - 4_096)
_FACTS: dict[str, ModelFacts] = {
    "gpt-realtime-2.1": _REASONING,
    "gpt-realtime-2.1-mini": _REASONING,
    "gpt-realtime-2": _REASONING,
    **{name: _LONG for name in REALTIME_MODELS if name.startswith("gpt-4o-")},
}
_DEFAULT = ModelFacts()


def facts(model: str | None) -> ModelFacts:
    """The facts of ``model`` (the ``gpt-realtime`` figures for any other name)."""
    return _FACTS.get(model or "", _DEFAULT)
