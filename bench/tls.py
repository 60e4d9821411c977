"""What TLS costs: connection setup and text-turn latency over ``wss://`` beside the same server over ``ws://``.

Two mockrt servers in this process (one plain, one ``--tls`` with a fresh local CA), the same ``websockets``
sync client for both. *Setup* is the wall time from opening the TCP connection to receiving ``session.created``
(TCP + TLS handshake + WebSocket upgrade + the first event); a *turn* is ``conversation.item.create`` +
``response.create`` (text, unpaced) until ``response.done``, on one long-lived connection. Plain and TLS
alternate in blocks of 20 so both see the same machine load. Client and servers share one process and GIL.

    python bench/tls.py [--connections 300] [--turns 600]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread

BLOCK = 20
TURN = [json.dumps({"type": "conversation.item.create", "item": {
    "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello!"}]}}),
    json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})]


def open_session(server: ServerThread) -> tuple[ClientConnection, float]:
    context = server.client_ssl_context() if server.tls else None
    start = time.perf_counter()
    ws = connect(server.ws_url + "/v1/realtime?model=gpt-realtime", max_size=None, ssl=context)
    assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
    return ws, time.perf_counter() - start


def turn(ws: ClientConnection) -> float:
    start = time.perf_counter()
    for frame in TURN:
        ws.send(frame)
    while json.loads(ws.recv(timeout=10))["type"] != "response.done":
        pass
    elapsed = time.perf_counter() - start
    assert json.loads(ws.recv(timeout=10))["type"] == "rate_limits.updated"  # untimed: GA sends it after done
    return elapsed


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (f"median {statistics.median(ordered) * 1e3:7.2f} ms   p95 {ordered[int(len(ordered) * 0.95)] * 1e3:7.2f} ms"
            f"   n={len(ordered)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--turns", type=int, default=600)
    args = ap.parse_args()
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="error")
    with tempfile.TemporaryDirectory() as state, ServerThread(config) as plain, \
            ServerThread(dataclasses.replace(config, tls=True, tls_dir=state)) as tls:
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        setup: dict[str, list[float]] = {"ws://": [], "wss://": []}
        turns: dict[str, list[float]] = {"ws://": [], "wss://": []}
        for _ in range(max(1, args.connections // BLOCK)):
            for name, server in (("ws://", plain), ("wss://", tls)):
                for _ in range(BLOCK):
                    ws, elapsed = open_session(server)
                    setup[name].append(elapsed)
                    ws.close()
        sessions = {"ws://": open_session(plain)[0], "wss://": open_session(tls)[0]}
        for _ in range(max(1, args.turns // BLOCK)):
            for name, ws in sessions.items():
                turns[name].extend(turn(ws) for _ in range(BLOCK))
        for ws in sessions.values():
            ws.close()
    for title, data in (("connection setup (to session.created)", setup), ("text turn (to response.done)", turns)):
        print(title)
        for name in ("ws://", "wss://"):
            print(f"  {name:7} {summary(data[name])}")
        ratio = statistics.median(data["wss://"]) / statistics.median(data["ws://"])
        print(f"  wss:// / ws:// (baseline) median: {ratio:.2f}x")


if __name__ == "__main__":
    main()
