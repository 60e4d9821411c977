#!/usr/bin/env python3
"""The server's read path for one client frame, in process (issue 14): a 20 ms ``input_audio_buffer.append`` frame
through :meth:`mockrt.server.websocket.SessionProtocol.data_received` to the session's handler, beside the same
frames through websockets' parser and uvicorn's dispatch (the path every frame took before, and still takes when it
is not a whole text frame), alternating, best of ``--rounds``; CPU time (``time.process_time``).

    python bench/read_path.py [--frames 20000] [--rounds 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from load import clip_messages  # noqa: E402

from mockrt.server.websocket import SessionProtocol  # noqa: E402


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def pause_reading(self) -> None:
        pass


async def _per_frame(fast: bool, frames: list[bytes], count: int) -> float:
    """CPU microseconds per frame on an open connection (a real handshake through websockets first)."""
    config = uvicorn.Config(app=None, ws=SessionProtocol, lifespan="off", log_config=None, ws_max_size=2**24)
    config.load()
    protocol = SessionProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    protocol.transport = _Transport()  # type: ignore[assignment]
    protocol.conn.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    (request,) = protocol.conn.events_received()
    protocol.conn.send_response(protocol.conn.accept(request))  # type: ignore[arg-type]
    protocol.conn.data_to_send()
    protocol.handshake_complete = True
    protocol.on_message = lambda message: True
    if not fast:
        protocol._at_frame_boundary = lambda: False  # type: ignore[method-assign]
    t0 = time.process_time()
    for k in range(count):
        protocol.data_received(frames[k % len(frames)])
    return (time.process_time() - t0) / count * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    frames = [Frame(Opcode.TEXT, m.encode()).serialize(mask=True) for m in clip_messages()]
    best: dict[str, float] = {"SessionProtocol": float("inf"), "websockets + uvicorn": float("inf")}
    for _ in range(args.rounds):
        for name, fast in (("SessionProtocol", True), ("websockets + uvicorn", False)):
            best[name] = min(best[name], asyncio.run(_per_frame(fast, frames, args.frames)))
    print(f"# read path per 20 ms append frame ({len(frames[0])} bytes), in process, best of {args.rounds}")
    for name, us in best.items():
        print(f"{name:<22} {us:6.2f} us")
    ratio = best["SessionProtocol"] / best["websockets + uvicorn"]
    print(f"ratio {ratio:.2f}x")
    if args.json:
        out: dict[str, Any] = {"bench": "read_path", "us_per_frame": best, "ratio": ratio}
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
