"""Streams derived from the output audio's time axis: word timestamps, visemes and blendshape frames (Azure
Voice Live's ``output_audio_timestamp_types`` and ``animation``), and a connected avatar's switches between
speaking and idle (docs/protocol.md §12).

The session feeds every internal event it emits to :meth:`OutputSync.observe`, which returns the derived events
to emit right after it. Times are those of the synthesised speech (:func:`mockrt.core.synth.word_timing_ms`,
the same function the audio is rendered with), so a word's ``audio_offset_ms`` is where its voiced burst starts in
the audio the client receives, and visemes / blendshape frames move exactly while a word sounds. Scripted audio
clips spread their words evenly instead (:func:`mockrt.core.synth.scripted_speech`); their derived times follow the
synthesised timing, not the clip (a documented mock limitation, §12).

Everything is deterministic: viseme ids come from the letters of each word, blendshape weights from the viseme.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockrt.audio import b64
from mockrt.audio.formats import AudioFormat
from mockrt.core.events import ServerEvent
from mockrt.core.synth import word_timing_ms

BLENDSHAPE_FPS = 60
"""Azure's facial blendshape frames: 60 per second of audio, 55 weights each (docs/protocol.md §12)."""
BLENDSHAPE_COUNT = 55
_JAW_OPEN = 17  # index of ``jawOpen`` in Azure's 55 blendshape names
_MOUTH_CLOSE = 18
_MOUTH_FUNNEL = 19
_MOUTH_PUCKER = 20

# Azure's 22 visemes (0 = silence) for the letters of a word: a coarse, deterministic letter-to-viseme table.
_VISEME_OF = {
    **dict.fromkeys("a", 2), **dict.fromkeys("e", 4), **dict.fromkeys("i", 6), **dict.fromkeys("o", 8),
    **dict.fromkeys("u", 7), **dict.fromkeys("y", 6), **dict.fromkeys("w", 7), **dict.fromkeys("r", 13),
    **dict.fromkeys("l", 14), **dict.fromkeys("sz", 15), **dict.fromkeys("j", 16), **dict.fromkeys("h", 12),
    **dict.fromkeys("td", 19), **dict.fromkeys("n", 19), **dict.fromkeys("fv", 18), **dict.fromkeys("kgqxc", 20),
    **dict.fromkeys("pbm", 21),
}

ResponseInfo = Callable[[str], tuple[AudioFormat, float] | None]
"""``response_id`` → (output format, speed) of a response in progress, or ``None``."""


@dataclass
class _Part:
    ids: dict[str, Any]
    fmt: AudioFormat
    speed: float
    pos_ms: float = 0.0  # where the next word starts in the audio
    spans: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, viseme) of each letter
    audio_ms: float = 0.0  # audio sent so far
    frame: int = 0  # next blendshape frame index
    word: tuple[str, float, float] | None = None  # the word being spoken: (text, start, end of its voice)


class OutputSync:
    """Derives the enabled streams (``word``, ``viseme_id``, ``blendshapes``) for one session."""

    def __init__(self, enabled: frozenset[str], info: ResponseInfo) -> None:
        self.enabled = enabled
        self.info = info
        self._parts: dict[tuple[str, str, int], _Part] = {}

    def observe(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The derived events that follow ``event`` (an internal server event) on the wire."""
        kind = event["type"]
        if kind is ServerEvent.CONTENT_PART_ADDED and event["part"].type == "audio":
            info = self.info(event["response_id"])
            if info is not None:
                ids = {k: event[k] for k in ("response_id", "item_id", "output_index", "content_index")}
                self._parts[_key(event)] = _Part(ids, info[0], info[1])
                if "avatar" in self.enabled:
                    return [{"type": ServerEvent.AVATAR_SPEAKING}]
            return []
        part = self._parts.get(_key(event)) if "content_index" in event else None
        if part is None:
            return []
        if kind is ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA:
            return self._word(part, event["delta"])
        if kind is ServerEvent.OUTPUT_AUDIO_DELTA:
            part.audio_ms += part.fmt.bytes_to_ms(len(b64.decode_strict(event["delta"])))
            return self._frames(part, part.audio_ms)
        if kind is ServerEvent.OUTPUT_AUDIO_DONE:
            del self._parts[_key(event)]
            idle = [{"type": ServerEvent.AVATAR_IDLE}] if "avatar" in self.enabled else []
            return self._done(part) + idle
        return []

    def _word(self, part: _Part, piece: str) -> list[dict[str, Any]]:
        """A transcript piece (one synthesised burst): its visemes now; its word's timestamp once the word is
        complete (the next piece starts with a space, or the audio ends), spanning all of the word's pieces."""
        voiced, step = word_timing_ms(piece, part.speed, part.fmt.rate)
        start, part.pos_ms = part.pos_ms, part.pos_ms + step
        text = piece.strip()
        out: list[dict[str, Any]] = []
        if part.word is not None and (piece[:1].isspace() or not text):
            out += self._flush_word(part)
        if text:
            if part.word is None:
                part.word = (text, start, start + voiced)
            else:
                part.word = (part.word[0] + text, part.word[1], start + voiced)
        letters = [ch for ch in text.lower() if ch.isalpha()] or ["a"]
        each = voiced / len(letters)
        for i, ch in enumerate(letters):
            viseme = _VISEME_OF.get(ch, 1)
            t0 = start + i * each
            part.spans.append((t0, t0 + each, viseme))
            if "viseme_id" in self.enabled:
                out.append({"type": ServerEvent.ANIMATION_VISEME_DELTA, **part.ids, "audio_offset_ms": round(t0),
                            "viseme_id": viseme})
        if "viseme_id" in self.enabled:  # back to silence in the gap after the word
            out.append({"type": ServerEvent.ANIMATION_VISEME_DELTA, **part.ids,
                        "audio_offset_ms": round(start + voiced), "viseme_id": 0})
        return out

    def _frames(self, part: _Part, until_ms: float) -> list[dict[str, Any]]:
        if "blendshapes" not in self.enabled:
            return []
        first = part.frame
        frames: list[list[float]] = []
        while (part.frame + 1) * 1000.0 / BLENDSHAPE_FPS <= until_ms:
            frames.append(_blendshape(part.spans, part.frame * 1000.0 / BLENDSHAPE_FPS))
            part.frame += 1
        if not frames:
            return []
        return [{"type": ServerEvent.ANIMATION_BLENDSHAPES_DELTA, **part.ids, "frames": frames,
                 "frame_index": first}]

    def _flush_word(self, part: _Part) -> list[dict[str, Any]]:
        word, part.word = part.word, None
        if word is None or "word" not in self.enabled:
            return []
        text, start, end = word
        return [{"type": ServerEvent.AUDIO_TIMESTAMP_DELTA, **part.ids, "audio_offset_ms": round(start),
                 "audio_duration_ms": round(end - start), "text": text, "timestamp_type": "word"}]

    def _done(self, part: _Part) -> list[dict[str, Any]]:
        out = self._flush_word(part)
        if "word" in self.enabled:
            out.append({"type": ServerEvent.AUDIO_TIMESTAMP_DONE, **part.ids})
        if "viseme_id" in self.enabled:
            out.append({"type": ServerEvent.ANIMATION_VISEME_DONE, **part.ids})
        if "blendshapes" in self.enabled:
            out.append({"type": ServerEvent.ANIMATION_BLENDSHAPES_DONE,
                        **{k: v for k, v in part.ids.items() if k != "content_index"}})
        return out


def _key(event: dict[str, Any]) -> tuple[str, str, int]:
    return event.get("response_id", ""), event.get("item_id", ""), event.get("content_index", 0)


def _blendshape(spans: list[tuple[float, float, int]], t: float) -> list[float]:
    """The 55 weights at audio time ``t``: the mouth follows the viseme sounding then (neutral in gaps)."""
    weights = [0.0] * BLENDSHAPE_COUNT
    for start, end, viseme in reversed(spans):
        if start <= t < end:
            openness = 0.15 + 0.04 * (viseme % 16)
            weights[_JAW_OPEN] = round(min(openness, 0.8), 3)
            if viseme == 21:
                weights[_MOUTH_CLOSE] = 0.6
            elif viseme in (7, 8):
                weights[_MOUTH_FUNNEL] = 0.4
                weights[_MOUTH_PUCKER] = 0.3
            break
    return weights
