"""Hostile input at scale: hypothesis-generated client frames (valid, near-valid and junk) against the session core,
100,000 examples by default (the test suite runs a bounded number; issue: load, faults and hostile input).

Checks, per example: nothing raises out of the core, every error is well formed and echoes a client event_id it
was given (or null), the session is never closed by bad input, and a valid turn still works afterwards.

    python bench/fuzz.py [--examples 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mockrt.core import RealtimeSession, Send, SessionOptions
from mockrt.core.dialects import GA, Beta
from mockrt.core.responses import Pacing
from tests.test_core_framing import frames

FAST = Pacing(audio_speed=0)
stats = {"examples": 0, "frames": 0, "errors": 0}


def check(batch: list[Any], dialect: str) -> None:
    session = RealtimeSession(SessionOptions(dialect=GA() if dialect == "ga" else Beta(), pacing=FAST), 0.0)
    session.start()
    ids = set()
    for frame in batch:
        if isinstance(frame, bytes):
            out = session.receive_bytes(frame, 0.0)
        else:
            out = session.receive_text(frame, 0.0)
            try:
                parsed = json.loads(frame)
                if isinstance(parsed, dict) and isinstance(parsed.get("event_id"), str):
                    ids.add(parsed["event_id"])
            except ValueError:
                pass
        out += session.poll(0.0)
        for o in out:
            if isinstance(o, Send) and o.event["type"] == "error":
                err = o.event["error"]
                assert set(err) == {"type", "code", "message", "param", "event_id"}, err
                assert err["event_id"] is None or err["event_id"] in ids, err
                stats["errors"] += 1
        stats["frames"] += 1
        if session.closed:
            return  # only session.close closes
    if session.active_id is not None:
        session.receive({"type": "response.cancel"}, 0.0)
    out = session.receive({"type": "response.create", "response": {"conversation": "none"}}, 0.0)
    out += session.poll(0.0)
    assert any(isinstance(o, Send) and o.event["type"] == "response.done" for o in out)
    stats["examples"] += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=100_000)
    args = ap.parse_args()

    @settings(max_examples=args.examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(frames, min_size=1, max_size=8), st.sampled_from(["ga", "beta"]))
    def run(batch: list[Any], dialect: str) -> None:
        check(batch, dialect)

    start = time.process_time()
    run()
    cpu = time.process_time() - start
    print(f"{stats['examples']} examples, {stats['frames']} frames, {stats['errors']} error events, "
          f"no crash, no unexpected close; {cpu:.1f} CPU-s ({stats['frames'] / cpu:.0f} frames/CPU-s)")


if __name__ == "__main__":
    main()
