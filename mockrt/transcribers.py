"""Transcribers that really listen: a local recogniser behind the :class:`~mockrt.core.transcription.Transcriber`
seam (docs/protocol.md §5.11), chosen with ``mockrt serve --transcriber``.

``pocketsphinx`` (the ``mockrt[transcriber]`` extra) ships its US-English acoustic model, dictionary and language
model inside its wheel, so nothing is downloaded at run time. It is small and fast enough for tests, not
accurate: on the synthetic speech fixtures its word error rate is high (``bench/transcriber_wer.py`` prints it
beside the placeholder's), so scenario rules that match what was said should match on a word or two. A scenario's
scripted transcripts still take precedence over it.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import numpy as np

from mockrt.audio.formats import AudioFormat
from mockrt.audio.resample import StreamResampler
from mockrt.core.transcription import PlaceholderTranscriber, Transcriber, Transcript, TranscriptionRequest

TRANSCRIBERS: Final[tuple[str, ...]] = ("placeholder", "pocketsphinx")
RECOGNISER_RATE = 16000
_TAIL_MS = 100  # silence appended so the resampler's look-ahead flushes the last words


class PocketsphinxTranscriber:
    """Recognise committed user audio with pocketsphinx (one decoder per process, used under a lock)."""

    _decoder: Any = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        with self._lock:
            if PocketsphinxTranscriber._decoder is None:
                from pocketsphinx import Decoder  # the optional extra: imported only when chosen

                PocketsphinxTranscriber._decoder = Decoder(samprate=RECOGNISER_RATE, loglevel="FATAL")

    def transcribe(self, request: TranscriptionRequest) -> Transcript:
        return Transcript(self.recognise(request.audio, request.audio_format))

    def recognise(self, audio: bytes, fmt: AudioFormat) -> str:
        """The words pocketsphinx hears in ``audio`` (lower case, no punctuation; ``""`` for none)."""
        samples, rate = fmt.decode(audio[: len(audio) - len(audio) % fmt.sample_width]), fmt.rate
        tail = np.zeros(rate * _TAIL_MS // 1000, dtype=np.int16)
        pcm = StreamResampler(rate, RECOGNISER_RATE).process(np.concatenate([samples, tail]))
        with self._lock:
            decoder = PocketsphinxTranscriber._decoder
            decoder.start_utt()
            decoder.process_raw(pcm.astype("<i2").tobytes(), full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
        return str(hyp.hypstr) if hyp is not None else ""


def make_transcriber(name: str) -> Transcriber:
    """The transcriber named by ``--transcriber`` (``placeholder`` or ``pocketsphinx``)."""
    if name == "pocketsphinx":
        return PocketsphinxTranscriber()
    if name != "placeholder":
        raise ValueError(f"unknown transcriber {name!r}: choose one of {', '.join(TRANSCRIBERS)}")
    return PlaceholderTranscriber()
