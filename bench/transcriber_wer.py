"""Word error rate of ``--transcriber pocketsphinx`` on the speech fixtures, beside the placeholder's.

    python bench/transcriber_wer.py

Each speech clip of ``fixtures/audio`` (24 kHz pcm16, its text in the clip's JSON) goes through
:class:`mockrt.transcribers.PocketsphinxTranscriber` exactly as a committed user item would (the same resampling
to 16 kHz); the G.711 copies go through it too. WER = word-level edit distance / reference words, after lower-casing
and dropping punctuation. The baseline is the default placeholder transcriber, run on the same clips (its WER is
100 % or more: it says what it is). Also printed: recognition time per clip.
"""

from __future__ import annotations

import json
import re
import sys
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockrt.audio.formats import AudioFormat
from mockrt.core.transcription import PlaceholderTranscriber, TranscriptionRequest
from mockrt.transcribers import PocketsphinxTranscriber
from tests.audio_fixtures import FIXTURE_DIR, SPEECH_CLIPS


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference words): Levenshtein distance over words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)


def main() -> None:
    recogniser = PocketsphinxTranscriber()
    placeholder = PlaceholderTranscriber()
    totals = {"pocketsphinx": [0, 0], "placeholder": [0, 0]}
    print(f"{'clip':<16} {'format':<6} {'ps WER':>7} {'base WER':>8} {'secs':>6}  pocketsphinx heard")
    for clip in SPEECH_CLIPS:
        meta = json.loads((FIXTURE_DIR / f"speech_{clip}.json").read_text())
        for fmt, suffix in ((AudioFormat.PCM16, "wav"), (AudioFormat.G711_ULAW, "ulaw")):
            path = FIXTURE_DIR / f"speech_{clip}.{suffix}"
            if suffix == "wav":
                with wave.open(str(path), "rb") as w:
                    data = w.readframes(w.getnframes())
            else:
                data = path.read_bytes()
            request = TranscriptionRequest("item", data, fmt.bytes_to_ms(len(data)), "gpt-4o-transcribe", None, 1,
                                           audio_format=fmt)
            start = time.perf_counter()
            heard = recogniser.transcribe(request).text or ""
            secs = time.perf_counter() - start
            base = placeholder.transcribe(request).text or ""
            e, n = wer(meta["text"], heard)
            be, _ = wer(meta["text"], base)
            totals["pocketsphinx"][0] += e
            totals["pocketsphinx"][1] += n
            totals["placeholder"][0] += be
            totals["placeholder"][1] += n
            print(f"{clip:<16} {suffix:<6} {e / n:>7.0%} {be / n:>8.0%} {secs:>6.1f}  {heard!r}")
    ps, base = totals["pocketsphinx"], totals["placeholder"]
    print(f"{'all clips':<16} {'':<6} {ps[0] / ps[1]:>7.0%} {base[0] / base[1]:>8.0%}")


if __name__ == "__main__":
    main()
