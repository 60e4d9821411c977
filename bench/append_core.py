"""The core's CPU per 20 ms append, in process, as a busy server sees it (issue 14): N sessions fed round robin (each
append meets a session whose state has left the cache), every event journaled by the registry's recorder, VAD on
without responses. Then, with the sessions and their journals still held, how long a full garbage collection
takes (``gc.collect()`` after freezing what existed before the sessions, as ``mockrt serve`` does): the pause the
journals add to the event loop's full collections. Beside both, the same for a baseline tree (e.g. an older
commit unpacked with ``git archive``), trees alternated in separate processes.

    python bench/append_core.py [--baseline TREE] [--sessions 100] [--seconds 8] [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from served import NO_REPLIES  # noqa: E402  (imports nothing of mockrt)


def measure(sessions: int, seconds: float) -> tuple[float, float]:
    """Best of three passes: microseconds of process CPU per append, and milliseconds of a full collection after
    the last pass (run with the tree to measure on sys.path)."""
    import mockrt  # noqa: I001 - first, from PYTHONPATH (the tree measured): ingest.py puts this tree on sys.path
    from mockrt.audio.formats import AudioFormat
    from mockrt.core.dialects.ga import GA
    from mockrt.core.session import RealtimeSession, SessionOptions
    from mockrt.core.turn_taking import VadOptions
    from mockrt.server.registry import Registry, SessionRecord

    import ingest  # the signal (speech clips in noise)

    tree = os.environ.get("PYTHONPATH")
    assert tree is None or mockrt.__file__.startswith(tree), (mockrt.__file__, tree)

    fmt = AudioFormat.PCM16
    chunks = ingest.split(ingest.test_signal(seconds, fmt), fmt, 20)
    frames = [json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(c).decode()})
              for c in chunks]
    best = float("inf")
    gc.collect()
    gc.freeze()
    for _ in range(3):
        registry = Registry()
        group = []
        for _ in range(sessions):
            options = SessionOptions(dialect=GA(), vad=VadOptions(detector="webrtc"))
            session = RealtimeSession(options, 0.0)
            record = SessionRecord(session.session_id, "ga", "openai", None, "/", "", 0.0, 0.0, session=session)
            options.on_event = registry.recorder(record)
            registry.open(record)
            session.receive_text(NO_REPLIES, 0.0)
            group.append(session)
        t0 = time.process_time()
        for i, frame in enumerate(frames):
            for session in group:
                session.receive_text(frame, i * 0.02)
        best = min(best, (time.process_time() - t0) / (len(frames) * sessions) * 1e6)
    pauses = []
    for _ in range(3):
        t0 = time.perf_counter()
        gc.collect()
        pauses.append((time.perf_counter() - t0) * 1e3)
    return best, min(pauses)


def run_tree(tree: str, sessions: int, seconds: float) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, __file__, "--child", "--sessions", str(sessions), "--seconds", str(seconds)],
                         env=env, capture_output=True, text=True, check=True, cwd=tree)
    us, ms = out.stdout.strip().splitlines()[-1].split()
    return float(us), float(ms)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default=str(ROOT), help="the mockrt tree to compare with (default: this one)")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=8.0, help="audio per session")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of both trees")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    if args.child:
        us, ms = measure(args.sessions, args.seconds)
        print(f"{us:.3f} {ms:.3f}")
        return 0
    trees = {"this tree": str(ROOT), "baseline": str(Path(args.baseline).resolve())}
    got: dict[str, list[float]] = {name: [] for name in trees}
    pause: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            us, ms = run_tree(tree, args.sessions, args.seconds)
            got[name].append(us)
            pause[name].append(ms)
    load = os.getloadavg()[0]
    print(f"# core CPU per 20 ms append, in process: {args.sessions} sessions round robin, journal on, VAD on, "
          f"no responses; {args.rounds} alternating rounds (best of 3 passes each); load average {load:.1f}")
    print("| tree | path | per round | median | full collection after it (per round) |\n|---|---|---|---|---|")
    for name, tree in trees.items():
        print(f"| {name} | {tree} | {', '.join(f'{v:.1f}' for v in got[name])} us | "
              f"{statistics.median(got[name]):.1f} us | {', '.join(f'{v:.1f}' for v in pause[name])} ms |")
    ratio = statistics.median(got["this tree"]) / statistics.median(got["baseline"])
    print(f"this tree / baseline (medians): {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": "append_core", "sessions": args.sessions, "us": got,
                                               "full_collection_ms": pause, "ratio": ratio, "load": load}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
