"""pytest-plugin costs (issue: pytest plugin, CLI and real clients): how long the ``realtime_server`` fixture takes
to start, and the per-test reset plus one text turn through the official openai SDK, beside a bare
``websockets`` connection to the same server measured in the same run (the floor any client pays).

    python bench/plugin.py [--turns 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from openai import OpenAI
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    starts = []
    for _ in range(args.starts):
        t = time.perf_counter()
        server = ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning")).start()
        starts.append(time.perf_counter() - t)
        server.stop()
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning")) as server:
        client = OpenAI(base_url=server.http_url + "/v1", api_key="sk-bench")
        turns, bare = [], []
        for i in range(args.turns + 10):
            t = time.perf_counter()
            server.control.reset()
            with client.realtime.connect(model="gpt-realtime") as conn:
                conn.conversation.item.create(item={"type": "message", "role": "user",
                                                    "content": [{"type": "input_text", "text": "hi"}]})
                conn.response.create(response={"output_modalities": ["text"]})
                next(e for e in conn if e.type == "response.done")
            if i >= 10:
                turns.append(time.perf_counter() - t)
            t = time.perf_counter()
            with connect(server.ws_url + "/v1/realtime?model=gpt-realtime") as ws:
                ws.recv()
            if i >= 10:
                bare.append(time.perf_counter() - t)
    ms = 1000
    print(f"fixture start (ServerThread on port 0), {args.starts} starts: "
          f"median {statistics.median(starts) * ms:.0f} ms, max {max(starts) * ms:.0f} ms  (aim <= 300 ms)")
    print(f"per-test reset + SDK connect + text turn, {args.turns} tests: "
          f"median {statistics.median(turns) * ms:.1f} ms, p90 {sorted(turns)[int(len(turns) * 0.9)] * ms:.1f} ms"
          "  (aim <= 10 ms median)")
    print(f"baseline in the same run, bare websockets connect + session.created: median "
          f"{statistics.median(bare) * ms:.1f} ms  (ratio {statistics.median(turns) / statistics.median(bare):.2f}x, "
          "goal <= 2x)")
    if args.json:
        import json

        Path(args.json).write_text(json.dumps({
            "bench": "plugin", "fixture_start_median_ms": statistics.median(starts) * ms,
            "per_test_median_ms": statistics.median(turns) * ms, "bare_connect_median_ms": statistics.median(bare) * ms,
        }, indent=2))


if __name__ == "__main__":
    main()
