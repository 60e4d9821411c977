"""Abrupt disconnects in a loop: mid-response, mid-append and mid-handshake (issue: load, faults and hostile input).

Prints the server loop's task count and the process RSS as the loop goes on, and checks that the server still
serves a text turn at the end. Default 10,000 iterations (three connections each).

    python bench/disconnects.py [--iterations 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import socket
import sys
import time
from pathlib import Path

from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tasks(server: ServerThread) -> int:
    async def count() -> int:
        return len(asyncio.all_tasks())
    return asyncio.run_coroutine_threadsafe(count(), server.control.loop).result(5)


def drop(ws: object) -> None:
    sock = ws.socket  # type: ignore[attr-defined]
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=10_000)
    args = ap.parse_args()
    append = json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\0" * 9600).decode()})
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=5), log_level="error")
    with ServerThread(config) as srv:
        url = srv.ws_url + "/v1/realtime?model=gpt-realtime"
        print(f"{'iteration':>10} {'live':>5} {'loop tasks':>11} {'RSS MiB':>8} {'s':>6}")
        start = time.monotonic()
        checkpoints = {1, 100, 1000} | set(range(0, args.iterations + 1, max(1, args.iterations // 10)))
        for i in range(1, args.iterations + 1):
            ws = connect(url, max_size=None)
            ws.recv(timeout=5)
            ws.send(json.dumps({"type": "response.create"}))  # mid-response
            ws.recv(timeout=5)
            drop(ws)
            ws = connect(url, max_size=None)
            ws.recv(timeout=5)
            ws.send(append)  # mid-append
            drop(ws)
            raw = socket.create_connection(("127.0.0.1", srv.port))  # mid-handshake
            raw.sendall(b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            raw.close()
            if i in checkpoints:
                registry = srv.control.state.registry
                registry.wait(lambda r=registry: not r.live, 10)
                print(f"{i:>10} {len(registry.live):>5} {tasks(srv):>11} {rss_mib():>8.1f} "
                      f"{time.monotonic() - start:>6.1f}", flush=True)
        with connect(url) as ws:
            ws.recv(timeout=5)
            ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
            while json.loads(ws.recv(timeout=10))["type"] != "response.done":
                pass
        print("the server still serves new sessions: ok")


if __name__ == "__main__":
    main()
