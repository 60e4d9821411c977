#!/usr/bin/env python3
"""Ingest throughput of the audio path: seconds of input audio per CPU-second (docs/vad.md §0.7, §5.5).

Measures, in the same run and on the same signal:

* **pipeline**: wire bytes of each ``input_audio_buffer.append`` -> :meth:`AudioFormat.decode` ->
  :meth:`TurnDetector.feed` (streaming resampler -> frame cutting -> detector -> turn state machine);
* **detector alone**: the bare detector scoring the same audio, already at its rate and cut into frames
  (handed over per append, as the pipeline does).

The signal is the committed speech clips in white noise at 20 dB SNR, concatenated and repeated to
``--seconds`` (speech and pauses, so the state machine opens and closes turns). CPU time is
``time.process_time`` (one process, one thread), best of ``--repeats`` runs. The JSON/base64 part of an
append is not included yet: :func:`pipeline_seconds_per_cpu_second` takes the per-append ``messages`` and
an ``extract`` function (identity by default) so the protocol layer can time e.g.
``lambda m: base64.b64decode(json.loads(m)["audio"])`` inside the same loop.

    python bench/ingest.py [--seconds 60] [--chunks 20,100] [--repeats 3] [--detectors webrtc,energy,silero]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockrt.audio.detectors import DetectorUnavailable, make_detector  # noqa: E402
from mockrt.audio.formats import AudioFormat  # noqa: E402
from mockrt.audio.resample import StreamResampler  # noqa: E402
from mockrt.audio.turns import TurnDetector, TurnSettings  # noqa: E402
from tests import audio_fixtures as af  # noqa: E402


def test_signal(seconds: float, fmt: AudioFormat) -> bytes:
    """Wire bytes of ``seconds`` of speech-in-noise (20 dB SNR) in ``fmt``."""
    parts = [af.speech_in_noise(af.load_speech(n), "white_20db") for n in af.SPEECH_CLIPS]
    base = np.concatenate(parts)
    reps = int(np.ceil(seconds * af.RATE / base.shape[0]))
    pcm24 = np.tile(base, reps)[: int(seconds * af.RATE)]
    if fmt is AudioFormat.PCM16:
        return fmt.encode(pcm24)
    pcm8 = StreamResampler(af.RATE, fmt.rate).process(pcm24)
    return fmt.encode(pcm8)


def split(wire: bytes, fmt: AudioFormat, chunk_ms: int) -> list[bytes]:
    """Cut wire bytes into appends of ``chunk_ms``."""
    step = fmt.bytes_per_ms * chunk_ms
    return [wire[i : i + step] for i in range(0, len(wire), step)]


def pipeline_seconds_per_cpu_second(
    messages: Sequence[Any],
    fmt: AudioFormat,
    detector: str = "webrtc",
    *,
    extract: Callable[[Any], bytes] = bytes,
    settings: TurnSettings | None = None,
    repeats: int = 3,
) -> float:
    """Audio seconds per CPU second for ``extract(message) -> decode -> TurnDetector.feed`` over all
    ``messages`` (best of ``repeats``; a fresh detector each run, construction included)."""
    settings = settings or TurnSettings("server_vad")
    audio_s = sum(len(extract(m)) for m in messages) / (fmt.bytes_per_ms * 1000)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        td = TurnDetector(make_detector(detector, fmt.rate), fmt.rate, settings)
        feed, decode = td.feed, fmt.decode
        for m in messages:
            feed(decode(extract(m)))
        best = min(best, time.process_time() - t0)
    return audio_s / best


def detector_seconds_per_cpu_second(
    wire: bytes, fmt: AudioFormat, detector: str, chunk_ms: int, repeats: int = 3
) -> float:
    """Audio seconds per CPU second of the bare detector on the same audio (pre-resampled, pre-framed,
    handed over one append's worth of frames at a time)."""
    det0 = make_detector(detector, fmt.rate)
    pcm = StreamResampler(fmt.rate, det0.rate).process(fmt.decode(wire))
    f = det0.frame_samples
    n = pcm.shape[0] // f
    frames = pcm[: n * f].reshape(n, f)
    per = max(1, round(chunk_ms * det0.rate / 1000 / f))
    blocks = [frames[i : i + per] for i in range(0, n, per)]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        det = make_detector(detector, fmt.rate)
        for b in blocks:
            det.score_frames(b)
        best = min(best, time.process_time() - t0)
    return float(n * f / det0.rate / best)


def session_seconds_per_cpu_second(wire: bytes, fmt: AudioFormat, det: str, chunk_ms: int, repeats: int) -> float:
    """The full path as the server runs it: JSON text frames into ``RealtimeSession.receive_text`` (JSON parse,
    envelope and field checks, base64, decode, resample, VAD, turn events), VAD on without auto-responses."""
    import base64
    import json

    from mockrt.core import RealtimeSession, SessionOptions
    from mockrt.core.dialects import GA
    from mockrt.core.turn_taking import VadOptions

    frames = [json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(m).decode()})
              for m in split(wire, fmt, chunk_ms)]
    fmt_type = {AudioFormat.PCM16: {"type": "audio/pcm", "rate": 24000}, AudioFormat.G711_ULAW: {"type": "audio/pcmu"},
                AudioFormat.G711_ALAW: {"type": "audio/pcma"}}[fmt]
    best = float("inf")
    for _ in range(repeats):
        session = RealtimeSession(SessionOptions(dialect=GA(), vad=VadOptions(detector=det)), 0.0)
        session.receive({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
            "format": fmt_type, "turn_detection": {"type": "server_vad", "create_response": False}}}}}, 0.0)
        t0 = time.process_time()
        for frame in frames:
            session.receive_text(frame, 0.0)
        best = min(best, time.process_time() - t0)
    return fmt.bytes_to_ms(len(wire)) / 1000.0 / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--chunks", default="20,100", help="append sizes in ms")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--detectors", default="webrtc,energy,silero")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    t_start = time.process_time()
    rows: list[dict[str, Any]] = []
    print(f"# {args.seconds:g} s of speech in white noise (20 dB SNR), best of {args.repeats}, one thread")
    print("| detector | input | append | full path: session (JSON, base64, VAD) | pipeline (decode, resample, VAD)"
          " | detector alone | full path CPU per audio s |")
    print("|---|---|---|---|---|---|---|")
    for det in args.detectors.split(","):
        try:
            make_detector(det, af.RATE)
        except DetectorUnavailable as exc:
            print(f"# skipping {det}: {exc}")
            continue
        for fmt in (AudioFormat.PCM16, AudioFormat.G711_ULAW):
            wire = test_signal(args.seconds, fmt)
            for chunk_ms in (int(c) for c in args.chunks.split(",")):
                msgs = split(wire, fmt, chunk_ms)
                pipe = pipeline_seconds_per_cpu_second(msgs, fmt, det, repeats=args.repeats)
                bare = detector_seconds_per_cpu_second(wire, fmt, det, chunk_ms, args.repeats)
                full = session_seconds_per_cpu_second(wire, fmt, det, chunk_ms, args.repeats)
                print(f"| {det} | {fmt.value} | {chunk_ms} ms | {full:,.0f}x | {pipe:,.0f}x | {bare:,.0f}x "
                      f"| {1e6 / full:,.0f} us |")
                rows.append({"detector": det, "input": fmt.value, "append_ms": chunk_ms, "full_path_x": full,
                             "pipeline_x": pipe, "detector_x": bare, "full_path_us_per_append": 1e6 / full
                             * chunk_ms / 1000})
    print(f"\n(CPU {time.process_time() - t_start:.1f} s)")
    if args.json:
        import json

        Path(args.json).write_text(json.dumps({"bench": "ingest", "seconds": args.seconds, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
