#!/usr/bin/env python3
"""What recording a stored GPT-Live session costs (docs/protocol.md §13.6), beside a same-run baseline.

One in-process ``LiveSession`` (unpaced: the output stream follows the input) takes ``--seconds`` of 20 ms pcm16
appends of a speech-like signal; the figure is the CPU time per append (``time.process_time``) with ``store: true``
(input and output recorded) beside ``store: false`` (no recording), the two alternating round by round; then the
time to build the ``content`` WAV of a ``--wav-minutes`` recording.

    python bench/live_recording.py [--seconds 60] [--rounds 5] [--wav-minutes 10] [--json PATH]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockrt.audio.formats import AudioFormat  # noqa: E402
from mockrt.core.live.recording import LiveRecording  # noqa: E402
from mockrt.core.live.session import LiveOptions, LiveSession  # noqa: E402

FRAME = 480  # 20 ms at 24 kHz


def appends(seconds: int) -> list[str]:
    rng = np.random.default_rng(7)
    n = seconds * 24000
    t = np.arange(n) / 24000
    voiced = (np.sin(2 * np.pi * 0.5 * t) > 0).astype(np.float64)  # 1 s of "speech", 1 s of silence
    pcm = (voiced * (3000 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 300, n))).astype("<i2")
    return [json.dumps({"type": "session.input_audio.append",
                        "audio": base64.b64encode(pcm[k:k + FRAME].tobytes()).decode("ascii")})
            for k in range(0, n - FRAME + 1, FRAME)]


def run(frames: list[str], store: bool) -> float:
    """CPU seconds per append for one session."""
    session = LiveSession(LiveOptions(time_scale=0.0), 0.0)
    session.receive_text(json.dumps({"type": "session.start", "session": {"model": "gpt-live-1",
                                                                           "store": store}}), 0.0)
    start = time.process_time()
    for k, frame in enumerate(frames):
        session.receive_text(frame, k * 0.02)
    elapsed = time.process_time() - start
    assert (session.recording is not None) == store
    return elapsed / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--wav-minutes", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    frames = appends(args.seconds)
    per: dict[str, list[float]] = {"store: false (baseline)": [], "store: true (recorded)": []}
    for _ in range(args.rounds):
        per["store: false (baseline)"].append(run(frames, False))
        per["store: true (recorded)"].append(run(frames, True))
    print(f"CPU per 20 ms append, {len(frames)} appends a round, {args.rounds} rounds (best / median):")
    for name, values in per.items():
        print(f"  {name:26s} {min(values) * 1e6:7.1f} / {statistics.median(values) * 1e6:7.1f} us")
    base, rec = (statistics.median(v) for v in per.values())
    print(f"  ratio (median)             {rec / base:7.2f}x")
    rec_obj = LiveRecording(1 << 31)
    chunk = bytes(4800)
    for _ in range(int(args.wav_minutes * 600)):
        rec_obj.add_input(chunk, AudioFormat.PCM16)
        rec_obj.add_output(chunk, AudioFormat.PCM16)
    start = time.perf_counter()
    wav = rec_obj.wav()
    wav_s = time.perf_counter() - start
    print(f"content WAV of {args.wav_minutes:g} min: {wav_s * 1e3:.0f} ms wall, {len(wav) / 1e6:.1f} MB "
          f"(served off the event loop)")
    if args.json:
        args.json.write_text(json.dumps({"per_append_us": {k: [v * 1e6 for v in vs] for k, vs in per.items()},
                                         "ratio_median": rec / base, "wav_ms": wav_s * 1e3,
                                         "wav_mb": len(wav) / 1e6}, indent=2))


if __name__ == "__main__":
    main()
