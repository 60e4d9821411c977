"""pytest-plugin costs (issue: pytest plugin, CLI and real clients): how long the ``realtime_server`` fixture takes
to start, and the per-test reset plus one text turn through the official openai SDK, beside a bare
``websockets`` connection to the same server measured in the same run (the floor any client pays).

    python bench/plugin.py [--turns 200]

Rows, each test timed alone, the variants interleaved in every round so that they see the same load:

* ``test``: ``control.reset()`` + ``client.realtime.connect`` + one text turn with one ``OpenAI`` client reused
  (issue 14's row; goal: median <= 2x ``bare``);
* ``bare``: a bare ``websockets`` connect to the same server and its ``session.created``;
* the test thread's CPU time in ``test`` (``time.thread_time``): the SDK client's own work;
* ``floor``: the same SDK test against a replay server in the same process that writes mockrt's recorded frames
  of the turn back with no logic at all: what the SDK and the in-process loop cost whatever the mock does;
  ``test`` minus ``floor`` is mockrt's own share;
* ``new OpenAI()``: ``test`` with ``OpenAI(**realtime_server.openai_kwargs)`` made in the test, as a suite that
  builds a client per test does, beside ``openai_client``: the plugin's fixture (a new client per test on
  ``RealtimeServer.http_client()``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai import OpenAI
from websockets.asyncio.server import ServerConnection, serve
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.pytest_plugin import RealtimeServer
from mockrt.thread import ServerThread

USER_TEXT = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}


def sdk_turn(client: OpenAI) -> None:
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.conversation.item.create(item=USER_TEXT)  # type: ignore[arg-type]
        conn.response.create(response={"output_modalities": ["text"]})
        next(e for e in conn if e.type == "response.done")


def record_turn(ws_url: str) -> list[str]:
    """mockrt's frames of one text turn, ``session.created`` first."""
    with connect(ws_url + "/v1/realtime?model=gpt-realtime", additional_headers={"Authorization": "Bearer sk"}) as ws:
        frames = [str(ws.recv())]
        ws.send(json.dumps({"type": "conversation.item.create", "item": USER_TEXT}))
        ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
        while json.loads(frames[-1])["type"] != "response.done":
            frames.append(str(ws.recv()))
    return frames


class ReplayServer:
    """A WebSocket server on its own thread and loop that sends ``frames[0]`` on connect and the rest after
    every ``response.create``: the same bytes as mockrt's turn, with no logic."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _handle(self, ws: ServerConnection) -> None:
        await ws.send(self.frames[0])
        async for message in ws:
            if '"response.create"' in str(message):
                for frame in self.frames[1:]:
                    await ws.send(frame)

    async def _main(self) -> None:
        self._stop = self._loop.create_future()
        async with serve(self._handle, "127.0.0.1", 0, compression=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set_result, None)
        self._thread.join(10)


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
        plugin = RealtimeServer(server, None)
        client = OpenAI(base_url=server.http_url + "/v1", api_key="sk-bench")
        with ReplayServer(record_turn(server.ws_url)) as replay:
            replay_client = OpenAI(base_url=f"http://127.0.0.1:{replay.port}/v1", api_key="sk-bench")

            def test() -> None:
                server.control.reset()
                sdk_turn(client)

            def bare() -> None:
                with connect(server.ws_url + "/v1/realtime?model=gpt-realtime") as ws:
                    ws.recv()

            def new_client() -> None:
                server.control.reset()
                sdk_turn(OpenAI(**plugin.openai_kwargs))

            def fixture_client() -> None:
                server.control.reset()
                with OpenAI(base_url=plugin.http_url + "/v1", api_key="sk-mockrt",
                            http_client=plugin.http_client()) as made:
                    sdk_turn(made)

            rows: dict[str, Callable[[], None]] = {
                "test": test, "bare": bare, "floor": lambda: sdk_turn(replay_client), "new OpenAI()": new_client}
            if hasattr(plugin, "http_client"):  # not in trees before the fixture (before/after runs)
                rows["openai_client"] = fixture_client
            times: dict[str, list[float]] = {name: [] for name in rows}
            client_cpu: list[float] = []  # the test thread's CPU in ``test``: the SDK client and the reset call
            for i in range(args.turns + 10):
                order = list(rows.items())
                for name, run in order[i % len(order):] + order[:i % len(order)]:
                    t, cpu = time.perf_counter(), time.thread_time()
                    run()
                    if i >= 10:
                        times[name].append(time.perf_counter() - t)
                        if name == "test":
                            client_cpu.append(time.thread_time() - cpu)
    ms = 1000
    med = {name: statistics.median(values) * ms for name, values in times.items()}
    p90 = sorted(times["test"])[int(len(times["test"]) * 0.9)] * ms
    print(f"fixture start (ServerThread on port 0), {args.starts} starts: "
          f"median {statistics.median(starts) * ms:.0f} ms, max {max(starts) * ms:.0f} ms  (aim <= 300 ms)")
    print(f"per-test reset + SDK connect + text turn, {args.turns} tests: "
          f"median {med['test']:.1f} ms, p90 {p90:.1f} ms  (aim <= 10 ms median)")
    print(f"baseline in the same run, bare websockets connect + session.created: median "
          f"{med['bare']:.1f} ms  (ratio {med['test'] / med['bare']:.2f}x, goal <= 2x)")
    cpu = statistics.median(client_cpu) * ms
    print(f"of which the test thread's CPU (the SDK client; its websockets reader thread and the server not counted): "
          f"median {cpu:.1f} ms = {cpu / med['bare']:.2f}x bare")
    print(f"floor in the same run, the same SDK test against a replay server (no logic): median {med['floor']:.1f} ms"
          f" = {med['floor'] / med['bare']:.2f}x bare; mockrt's own share {med['test'] - med['floor']:.1f} ms "
          f"(test = {med['test'] / med['floor']:.2f}x floor)")
    fixture = (f"{med['openai_client']:.1f} ms ({med['openai_client'] / med['bare']:.2f}x bare)"
               if "openai_client" in med else "n/a in this tree")
    print(f"per test with a new OpenAI(**openai_kwargs): median {med['new OpenAI()']:.1f} ms; with the openai_client "
          f"fixture's client: {fixture}")
    if args.json:
        figures: dict[str, Any] = {
            "bench": "plugin", "fixture_start_median_ms": statistics.median(starts) * ms,
            "per_test_median_ms": med["test"], "bare_connect_median_ms": med["bare"],
            "replay_floor_median_ms": med["floor"], "test_thread_cpu_median_ms": cpu,
            "new_openai_per_test_median_ms": med["new OpenAI()"],
            "openai_client_fixture_per_test_median_ms": med.get("openai_client")}
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
