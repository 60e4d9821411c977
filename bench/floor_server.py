"""The transport floor for ``load.py --floor``: the WebSocket server mockrt runs (uvicorn, h11 and mockrt's
:class:`~mockrt.server.websocket.SessionProtocol`, each client message handed over as soon as it is parsed, as a
session's connection takes it) with an application that only accepts the connection and drops every message: no
JSON, no session, no VAD, no journal. Its CPU per append is what any session costs before mockrt's own work.

    python bench/floor_server.py   # prints "listening on 127.0.0.1:PORT" and serves until killed
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mockrt.server.websocket import SessionProtocol


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    protocol = getattr(send, "__self__", None)
    if isinstance(protocol, SessionProtocol):
        protocol.on_message = lambda message: True  # taken and dropped where the session would handle it
    while (await receive())["type"] != "websocket.disconnect":
        pass


def main() -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, ws=SessionProtocol, ws_per_message_deflate=False,
                            lifespan="off", log_level="warning", access_log=False, loop="asyncio")
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        print(f"listening on 127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", flush=True)
        await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
