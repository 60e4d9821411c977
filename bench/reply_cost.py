"""The core's CPU per audio response, in process (issue 14): one session answers with a reply of W words (the
default assistant's reply is about 16 pieces and 5 s of audio; long scripted replies run for minutes), every event
journaled by the registry's recorder and encoded as the wire would. Beside it the same for a baseline tree (e.g.
an older commit unpacked with ``git archive``); the trees alternate in separate processes.

    python bench/reply_cost.py [--baseline TREE] [--words 16,200,1000] [--rounds 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(words: int, repeats: int) -> tuple[float, float, int]:
    """Median CPU milliseconds per response over ``repeats`` responses, the reply's audio seconds, its events (run
    with the tree to measure on sys.path)."""
    import mockrt  # from PYTHONPATH: the tree measured
    from mockrt.core.brain import MessageOut, ReplyPlan
    from mockrt.core.dialects.ga import GA
    from mockrt.core.session import RealtimeSession, SessionOptions
    try:  # the server's encoder (older trees: in the connection)
        from mockrt.core.outputs import encode_event
    except ImportError:
        from mockrt.server.connection import encode_event  # type: ignore[attr-defined,no-redef]
    from mockrt.server.registry import Registry, SessionRecord

    tree = os.environ.get("PYTHONPATH")
    assert tree is None or mockrt.__file__.startswith(tree), (mockrt.__file__, tree)
    text = " ".join(f"word{i % 50}" for i in range(words))

    class Scripted:
        def reply(self, ctx: Any) -> ReplyPlan:
            return ReplyPlan([MessageOut(text)])

    costs: list[float] = []
    audio_s, events = 0.0, 0
    for _ in range(repeats):
        registry = Registry()
        options = SessionOptions(dialect=GA(), brain=Scripted())
        session = RealtimeSession(options, 0.0)
        record = SessionRecord(session.session_id, "ga", "openai", None, "/", "", 0.0, 0.0, session=session)
        options.on_event = registry.recorder(record)
        registry.open(record)
        session.start()
        session.receive_text(json.dumps({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "go on"}]}}), 0.0)
        now, audio_b64, events = 0.0, 0, 0
        t0 = time.process_time()
        outputs = session.receive_text('{"type":"response.create"}', now)
        while True:
            for out in outputs:
                event = getattr(out, "event", None)
                if event is not None:
                    if getattr(out, "frame", None) is None:  # a Send's frame is its one encoding (older trees: here)
                        encode_event(event)
                    events += 1
                    if event["type"] == "response.output_audio.delta":
                        audio_b64 += len(event["delta"])
            deadline = session.next_deadline()
            if deadline is None or not session.runs:
                break
            now = max(now, deadline)
            outputs = session.poll(now)
        costs.append((time.process_time() - t0) * 1000)
        audio_s = audio_b64 * 3 / 4 / 48000
    return statistics.median(costs), audio_s, events


def run_tree(tree: str, words: int, repeats: int) -> tuple[float, float, int]:
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, __file__, "--child", "--words", str(words), "--repeats", str(repeats)],
                         env=env, capture_output=True, text=True, check=True, cwd=tree)
    ms, audio_s, events = out.stdout.strip().splitlines()[-1].split()
    return float(ms), float(audio_s), int(events)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default=str(ROOT), help="the mockrt tree to compare with (default: this one)")
    ap.add_argument("--words", default="16,200,1000", help="reply lengths in words, comma-separated")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of both trees")
    ap.add_argument("--repeats", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    if args.child:
        ms, audio_s, events = measure(int(args.words), args.repeats)
        print(f"{ms:.3f} {audio_s:.1f} {events}")
        return 0
    trees = {"this tree": str(ROOT), "baseline": str(Path(args.baseline).resolve())}
    rows = []
    print(f"# CPU per audio response, in process (journal on, events encoded); {args.rounds} alternating rounds, "
          f"median of each round's responses; load average {os.getloadavg()[0]:.1f}")
    print("| words | reply audio | events | this tree | baseline | ratio |\n|---|---|---|---|---|---|")
    for words in (int(w) for w in args.words.split(",")):
        repeats = max(1, 2000 // words)
        got: dict[str, list[float]] = {name: [] for name in trees}
        audio_s, events = 0.0, 0
        for _ in range(args.rounds):
            for name, tree in trees.items():
                ms, audio_s, events = run_tree(tree, words, repeats)
                got[name].append(ms)
        mine, base = statistics.median(got["this tree"]), statistics.median(got["baseline"])
        print(f"| {words} | {audio_s:.0f} s | {events} | {', '.join(f'{v:.1f}' for v in got['this tree'])} ms | "
              f"{', '.join(f'{v:.1f}' for v in got['baseline'])} ms | {mine / base:.2f}x |", flush=True)
        rows.append({"words": words, "audio_s": audio_s, "events": events, "ms": got, "ratio": mine / base})
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": "reply_cost", "rows": rows, "load": os.getloadavg()[0]},
                                              indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
