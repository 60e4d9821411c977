#!/usr/bin/env python3
"""Text-turn latency and throughput of mockrt, beside a bare-``websockets`` baseline measured in the same run.

A *text turn* is ``conversation.item.create`` (one user ``input_text`` part) followed at once by
``response.create`` with ``{"output_modalities": ["text"]}`` (GA dialect, ``Pacing(audio_speed=0)``, i.e. no
pacing delays); its latency is the wall time (``time.perf_counter``) from sending the item to receiving
``response.done``. After each turn, untimed, the client drains the trailing ``rate_limits.updated`` and deletes
the turn's two items (user message, assistant reply) with ``conversation.item.delete``, so the conversation
stays at steady state instead of growing by two items per turn.

Measured:

1. **in-process**: one :class:`~mockrt.core.session.RealtimeSession`, client events handed over as JSON text
   (``receive_text``, which parses them) and every server event JSON-encoded with the server's encoder; the
   clock stops once the output batch holding ``response.done`` is encoded. The baseline column is the JSON
   floor: parsing the two client events and encoding the same server events, nothing else (the two
   alternate in blocks of 50 turns, as do mockrt and the baseline on a single connection).
2. **loopback**: :class:`~mockrt.thread.ServerThread` (uvicorn, own thread and event loop) and one
   ``websockets`` asyncio client connection; every received frame is ``json.loads``-ed, as an SDK does.
3. **throughput**: ``--connections`` concurrent connections doing turns back to back for ``--seconds``;
   turns/s aggregated (each turn includes its untimed cleanup), plus the latency seen under that load.
4. **baseline**: a trivial ``websockets.asyncio.server.serve`` server on its own thread and event loop that
   answers each client message with the frames mockrt sent for it (recorded from a real turn, replayed
   byte for byte: same count, same sizes, no work), driven by the same client code.

Client and servers share one process (so one GIL), for mockrt and the baseline alike. The aims (issue: at
most 1 ms median in-process, 3 ms over loopback) are printed beside the figures, never asserted.

5. **served** (``--served``, issue 14's table): ``mockrt serve`` and the same bare replay server each in their own
   process, this process the client: one connection's median turn, throughput in frames/s over
   ``--connections`` connections, and the per-turn median over a growing conversation (no deletes: 50 turns
   beside ``--growing`` turns, each on a fresh connection).

    python bench/text_latency.py [--turns 1000] [--connections 50] [--seconds 5] [--quick] [--profile]
                                 [--served [--growing 1000]] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import os
import platform
import pstats
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.version import version as websockets_version

from mockrt.config import ServerConfig
from mockrt.core import GA, RealtimeSession, Send, SessionOptions
from mockrt.core.outputs import Output
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread

AIM_IN_PROCESS_MS = 1.0
AIM_LOOPBACK_MS = 3.0
WARMUP_TURNS = 20

USER_TEXT = "What is the weather like in Paris today?"

# The server's encoder, so in-process encoding costs what it costs on the wire: a Send's own frame (encoded once,
# mockrt/core/outputs.py), orjson in the connection on older trees, the json module before issue 14 (so that the
# bench also measures those).
try:
    from mockrt.core.outputs import encode_event as _dumps
except ImportError:  # pragma: no cover - older mockrt
    try:
        from mockrt.server.connection import encode_event as _dumps
    except ImportError:
        _dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # type: ignore[assignment]


def _client_event(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


ITEM_CREATE = _client_event({
    "type": "conversation.item.create",
    "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": USER_TEXT}]},
})
RESPONSE_CREATE = _client_event({"type": "response.create", "response": {"output_modalities": ["text"]}})


def item_delete(item_id: str) -> str:
    return _client_event({"type": "conversation.item.delete", "item_id": item_id})


def event_type_of(message: str) -> str:
    """The ``type`` of a compact client event built by :func:`_client_event` (``{"type":"...",...}``)."""
    return message[9 : message.index('"', 9)]


# -- statistics and the table -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100.0 * len(ordered)) - 1)]


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 99.0)


@dataclass
class Throughput:
    turns: int
    elapsed_s: float
    latency: Latency

    @property
    def per_second(self) -> float:
        return self.turns / self.elapsed_s


# -- 1. in-process ----------------------------------------------------------------------------------------


@dataclass
class TurnFrames:
    """The server frames one text turn produces, per client message, as JSON text."""

    session_created: str
    item_create: list[str]
    response_create: list[str]
    item_delete: str

    @property
    def per_turn(self) -> int:
        return len(self.item_create) + len(self.response_create)


def _encode(outputs: list[Output]) -> list[Any]:
    """The server frames of ``outputs``, encoded as the server encodes them (UTF-8 bytes, or str on old trees)."""
    return [_frame(out) for out in outputs if isinstance(out, Send)]


def _frame(send: Send) -> Any:
    """A Send's frame: its own when it has one (encoded once for the journal and the wire), else encoded here."""
    frame = getattr(send, "frame", None)
    return frame if frame is not None else _dumps(send.event)


def _texts(outputs: list[Output]) -> list[str]:
    """The frames as text (what the replay server sends)."""
    return [f.decode() if isinstance(f, bytes) else f for f in _encode(outputs)]


def new_session() -> tuple[RealtimeSession, str]:
    """A GA session, unpaced, and its ``session.created`` frame."""
    session = RealtimeSession(SessionOptions(dialect=GA(), pacing=Pacing(audio_speed=0)), time.monotonic())
    (created,) = _texts(session.start())
    return session, created


def in_process_turn(session: RealtimeSession) -> tuple[float, list[str]]:
    """One timed turn: (seconds, ids of the turn's items). Deletes are the caller's business."""
    clock = time.monotonic
    t0 = time.perf_counter()
    added = session.receive_text(ITEM_CREATE, clock())
    _encode(added)
    outputs = session.receive_text(RESPONSE_CREATE, clock())
    _encode(outputs)
    while not any(isinstance(o, Send) and o.event["type"] == "response.done" for o in outputs):
        if not session.runs:
            raise RuntimeError("response finished without response.done")
        outputs = session.poll(clock())  # only reached with non-zero pacing
        _encode(outputs)
    elapsed = time.perf_counter() - t0
    ids = [o.event["item"]["id"] for o in _check(added) if o.event["type"] == "conversation.item.added"]
    for o in _check(outputs):
        if o.event["type"] == "response.done":
            ids += [item["id"] for item in o.event["response"]["output"]]
    return elapsed, ids


def _check(outputs: list[Output]) -> list[Send]:
    """The ``Send`` outputs; raises on an ``error`` event."""
    sends = [o for o in outputs if isinstance(o, Send)]
    for o in sends:
        if o.event["type"] == "error":
            raise RuntimeError(f"mockrt error: {o.event}")
    return sends


def in_process_cleanup(session: RealtimeSession, ids: list[str]) -> None:
    for item_id in ids:
        outputs = session.receive_text(item_delete(item_id), time.monotonic())
        _encode(outputs)
        _check(outputs)


def json_floor_turn(events: list[dict[str, Any]]) -> float:
    """The JSON work of one turn alone: parse the two client events, encode the turn's server events."""
    t0 = time.perf_counter()
    json.loads(ITEM_CREATE)
    json.loads(RESPONSE_CREATE)
    for event in events:
        _dumps(event)
    return time.perf_counter() - t0


def bench_in_process(frames: TurnFrames, turns: int, block: int = 50) -> tuple[Latency, Latency]:
    """(mockrt, JSON floor): ``turns`` turns on one session, alternating with the floor in blocks of ``block``
    turns so that drift in machine speed hits both alike."""
    session, _ = new_session()
    events = [json.loads(f) for f in frames.item_create + frames.response_create]
    mock, floor = Latency(), Latency()
    for _ in range(WARMUP_TURNS):
        in_process_cleanup(session, in_process_turn(session)[1])
        json_floor_turn(events)
    for start in range(0, turns, block):
        for _ in range(min(block, turns - start)):
            elapsed, ids = in_process_turn(session)
            in_process_cleanup(session, ids)
            mock.samples_ms.append(elapsed * 1000.0)
        for _ in range(min(block, turns - start)):
            floor.samples_ms.append(json_floor_turn(events) * 1000.0)
    if session.conversation.items:
        raise RuntimeError(f"conversation not empty after cleanup: {len(session.conversation.items)} items")
    return mock, floor


def record_turn_frames() -> TurnFrames:
    """The frames of one real text turn, grouped by the client message that produced them."""
    session, created = new_session()
    first = _texts(session.receive_text(ITEM_CREATE, time.monotonic()))
    second = _texts(session.receive_text(RESPONSE_CREATE, time.monotonic()))
    if session.runs or not second or json.loads(second[-1])["type"] != "rate_limits.updated":
        raise RuntimeError("expected one unpaced text turn ending with rate_limits.updated")
    user_id = json.loads(first[0])["item"]["id"]
    deleted = _texts(session.receive_text(item_delete(user_id), time.monotonic()))
    if len(deleted) != 1:
        raise RuntimeError(f"expected one frame per item delete, got {len(deleted)}")
    return TurnFrames(created, first, second, deleted[0])


def profile_in_process(turns: int, top: int = 10) -> str:
    session, _ = new_session()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(turns):
        _, ids = in_process_turn(session)
        in_process_cleanup(session, ids)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- 2./3. over a socket ----------------------------------------------------------------------------------


async def socket_turn(ws: ClientConnection) -> float:
    """One text turn over a connection: seconds to response.done, then the untimed cleanup."""
    t0 = time.perf_counter()
    await ws.send(ITEM_CREATE)
    await ws.send(RESPONSE_CREATE)
    ids: list[str] = []
    while True:
        event = json.loads(await ws.recv())
        etype = event["type"]
        if etype == "response.done":
            elapsed = time.perf_counter() - t0
            break
        if etype == "conversation.item.added":
            ids.append(event["item"]["id"])
        elif etype == "error":
            raise RuntimeError(f"server error: {event}")
    while (etype := json.loads(await ws.recv())["type"]) != "rate_limits.updated":
        if etype == "error":
            raise RuntimeError("server error after response.done")
    for item_id in ids:
        await ws.send(item_delete(item_id))
    for _ in ids:
        if json.loads(await ws.recv())["type"] != "conversation.item.deleted":
            raise RuntimeError("expected conversation.item.deleted")
    return elapsed


async def open_connection(url: str) -> ClientConnection:
    ws = await connect(url, compression=None, open_timeout=30)
    greeting = json.loads(await ws.recv())
    if greeting["type"] != "session.created":
        raise RuntimeError(f"unexpected first event: {greeting}")
    return ws


async def count_frames_per_turn(url: str) -> int:
    """Server frames between sending a turn's item and the trailing rate_limits.updated, on a real socket."""
    ws = await open_connection(url)
    try:
        await ws.send(ITEM_CREATE)
        await ws.send(RESPONSE_CREATE)
        count = 0
        while True:
            count += 1
            if json.loads(await ws.recv())["type"] == "rate_limits.updated":
                return count
    finally:
        await ws.close()


async def bench_one_connection(urls: Sequence[str], turns: int, block: int = 50) -> list[Latency]:
    """``turns`` sequential turns on one connection to each of ``urls``, alternating between the servers in
    blocks of ``block`` turns so that drift in machine load hits all of them alike."""
    results = [Latency() for _ in urls]
    sockets = [await open_connection(url) for url in urls]
    try:
        for ws in sockets:
            for _ in range(WARMUP_TURNS):
                await socket_turn(ws)
        for start in range(0, turns, block):
            for ws, result in zip(sockets, results, strict=True):
                for _ in range(min(block, turns - start)):
                    result.samples_ms.append(await socket_turn(ws) * 1000.0)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    return results


async def bench_throughput(urls: Sequence[str], connections: int, seconds: float,
                           window_s: float = 1.0) -> list[Throughput]:
    """``connections`` connections to each of ``urls`` doing turns back to back, ``seconds`` per server in all,
    alternating between the servers in windows of ``window_s`` (the idle server's connections stay open)."""
    pools = [await asyncio.gather(*(open_connection(url) for _ in range(connections))) for url in urls]
    results = [Throughput(0, 0.0, Latency()) for _ in urls]
    try:
        for pool in pools:
            await asyncio.gather(*(socket_turn(ws) for ws in pool))  # warm every connection
        left = seconds
        while left > 1e-9:
            window = min(window_s, left)
            left -= window
            for pool, result in zip(pools, results, strict=True):
                start = time.perf_counter()
                stop_at = start + window

                async def loop(ws: ClientConnection, result: Throughput = result, stop_at: float = stop_at) -> None:
                    while time.perf_counter() < stop_at:
                        result.latency.samples_ms.append(await socket_turn(ws) * 1000.0)
                        result.turns += 1

                await asyncio.gather(*(loop(ws) for ws in pool))
                result.elapsed_s += time.perf_counter() - start
    finally:
        await asyncio.gather(*(ws.close() for pool in pools for ws in pool))
    return results


# -- 4. the bare websockets baseline ----------------------------------------------------------------------


class ReplayServerThread:
    """A bare ``websockets`` server on its own thread and event loop that answers each client message with
    the frames mockrt produced for that message type (no parsing, no JSON, no state)."""

    def __init__(self, frames: TurnFrames) -> None:
        self.replies: dict[str, list[str]] = {
            "conversation.item.create": frames.item_create,
            "response.create": frames.response_create,
            "conversation.item.delete": [frames.item_delete],
        }
        self.greeting = frames.session_created
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="replay", daemon=True)

    async def _handler(self, ws: ServerConnection) -> None:
        replies = self.replies
        await ws.send(self.greeting)
        async for message in ws:
            for frame in replies[event_type_of(str(message))]:
                await ws.send(frame)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(self._handler, "127.0.0.1", 0, compression=None, ping_interval=20.0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ReplayServerThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("baseline server failed to start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


# -- 5. served: each server in its own process ------------------------------------------------------------


def bare_server_main(frames_path: str) -> None:
    """``--bare-server FRAMES``: the replay server in the foreground, printing its port (served mode)."""
    raw = json.loads(Path(frames_path).read_text())
    frames = TurnFrames(raw["session_created"], raw["item_create"], raw["response_create"], raw["item_delete"])
    with ReplayServerThread(frames) as replay:
        print(f"bare server on 127.0.0.1:{replay.port}", flush=True)
        threading.Event().wait()


async def growing_conversation(url: str, turns: int) -> Latency:
    """``turns`` turns on one fresh connection without deleting anything: the conversation grows by two items a
    turn (issue 14: per-turn cost independent of conversation length)."""
    result = Latency()
    ws = await open_connection(url)
    try:
        for _ in range(turns):
            t0 = time.perf_counter()
            await ws.send(ITEM_CREATE)
            await ws.send(RESPONSE_CREATE)
            while (etype := json.loads(await ws.recv())["type"]) != "response.done":
                if etype == "error":
                    raise RuntimeError("server error")
            result.samples_ms.append((time.perf_counter() - t0) * 1000.0)
            if json.loads(await ws.recv())["type"] != "rate_limits.updated":
                raise RuntimeError("expected rate_limits.updated")
    finally:
        await ws.close()
    return result


@dataclass
class Served:
    frames_per_turn: int  # server frames of one turn and its cleanup, the same for both servers
    loopback: Latency
    baseline: Latency
    throughput: Throughput
    baseline_throughput: Throughput
    growing: dict[int, Latency]


def run_served(frames: TurnFrames, turns: int, connections: int, seconds: float, growing: int,
               progress: Callable[[str], None]) -> Served:
    import tempfile

    import served

    path = Path(tempfile.mkdtemp(prefix="mockrt-bench-")) / "frames.json"
    path.write_text(json.dumps(vars(frames)))
    mock, mock_port = served.mockrt_serve("--audio-speed", "0")
    try:
        bare, bare_port = served.spawn(str(Path(__file__).resolve()), "--bare-server", str(path))
    except BaseException:
        served.stop(mock)
        raise
    try:
        mock_url = f"ws://127.0.0.1:{mock_port}/v1/realtime?model=gpt-realtime"
        bare_url = f"ws://127.0.0.1:{bare_port}/"

        async def main() -> Served:
            progress("served: loopback, 1 connection, alternating")
            loopback, baseline = await bench_one_connection([mock_url, bare_url], turns)
            progress("served: throughput, alternating")
            thr, base_thr = await bench_throughput([mock_url, bare_url], connections, seconds)
            sizes = sorted({min(50, growing), growing})
            progress(f"served: growing conversation, {' and '.join(map(str, sizes))} turns")
            grown = {n: await growing_conversation(mock_url, n) for n in sizes}
            return Served(frames.per_turn + 2, loopback, baseline, thr, base_thr, grown)

        return asyncio.run(main())
    finally:
        served.stop(mock)
        served.stop(bare)


def render_served(r: Served, connections: int) -> str:
    m, b = r.throughput, r.baseline_throughput
    fm, fb = m.per_second * r.frames_per_turn, b.per_second * r.frames_per_turn
    sizes = sorted(r.growing)
    small, big = r.growing[sizes[0]], r.growing[sizes[-1]]
    rows = [
        ("served: text turn, 1 connection, median (ms)", f"{r.loopback.median:.3f}", f"{r.baseline.median:.3f}",
         f"{r.loopback.median / r.baseline.median:.2f}x", "<= 1.5x the bare server"),
        ("served: text turn, 1 connection, p99 (ms)", f"{r.loopback.p99:.3f}", f"{r.baseline.p99:.3f}",
         f"{r.loopback.p99 / r.baseline.p99:.2f}x", ""),
        (f"served: {connections} connections, frames/s", f"{fm:.0f}", f"{fb:.0f}", f"{fm / fb:.2f}x",
         ">= 0.8x the bare server"),
        (f"served: per-turn median, {sizes[-1]} vs {sizes[0]} turns (ms)", f"{big.median:.3f}",
         f"{small.median:.3f}", f"{big.median / small.median:.2f}x", "<= 1.2x"),
    ]
    header = ("measure (served, client in another process)", "mockrt", "baseline", "ratio", "goal")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    lines = [f"served: mockrt serve and the bare replay server in their own processes; {r.frames_per_turn} "
             "frames a turn incl. the cleanup deletes, the same for both; growing conversation: baseline = the "
             "short session"]
    for row in [header, *rows]:
        lines.append("  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:4], widths[1:4],
                                                                                     strict=True)), row[4]]))
    return "\n".join(lines)


def served_json(r: Served) -> dict[str, Any]:
    fm = r.throughput.per_second * r.frames_per_turn
    fb = r.baseline_throughput.per_second * r.frames_per_turn
    return {
        "frames_per_turn": r.frames_per_turn,
        "turn_1conn_median_ms": {"mockrt": r.loopback.median, "bare": r.baseline.median},
        "turn_1conn_p99_ms": {"mockrt": r.loopback.p99, "bare": r.baseline.p99},
        "frames_per_s": {"mockrt": fm, "bare": fb, "ratio": fm / fb},
        "growing_median_ms": {str(n): lat.median for n, lat in sorted(r.growing.items())},
    }


# -- driver -----------------------------------------------------------------------------------------------


@dataclass
class Results:
    load_average: float
    frames: TurnFrames
    loopback_frames: int
    in_process: Latency
    json_floor: Latency
    loopback: Latency
    baseline: Latency
    throughput: Throughput
    baseline_throughput: Throughput


async def bench_sockets(frames: TurnFrames, turns: int, connections: int, seconds: float,
                        progress: Callable[[str], None]) -> tuple[int, Latency, Latency, Throughput, Throughput]:
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning")
    with ServerThread(config) as server, ReplayServerThread(frames) as replay:
        mock_url = server.ws_url + "/v1/realtime?model=gpt-realtime"
        loopback_frames = await count_frames_per_turn(mock_url)

        progress("loopback: mockrt and baseline, alternating")
        loopback, baseline = await bench_one_connection([mock_url, replay.url], turns)
        progress("throughput: mockrt and baseline, alternating")
        thr, base_thr = await bench_throughput([mock_url, replay.url], connections, seconds)
    return loopback_frames, loopback, baseline, thr, base_thr


def run_all(turns: int, connections: int, seconds: float, progress: Callable[[str], None]) -> Results:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    frames = record_turn_frames()
    progress("in-process")
    in_process, json_floor = bench_in_process(frames, turns)
    loopback_frames, loopback, baseline, thr, base_thr = asyncio.run(
        bench_sockets(frames, turns, connections, seconds, progress))
    return Results(load, frames, loopback_frames, in_process, json_floor, loopback, baseline, thr, base_thr)


def _verdict(value: float, aim: float) -> str:
    return "aim met" if value <= aim else "aim missed"


def render(r: Results, turns: int, connections: int, seconds: float) -> str:
    f = r.frames
    lines = [
        f"mockrt text-turn benchmark: Python {platform.python_version()}, websockets {websockets_version}, "
        f"{platform.machine()}, {_cpus()} CPUs, load average {r.load_average:.2f} at start",
        f"{turns} turns per latency series (+{WARMUP_TURNS} warm-up), {connections} connections x {seconds:g} s "
        f"for throughput; GA dialect, Pacing(audio_speed=0)",
        f"server frames per text turn: {f.per_turn} ({len(f.item_create)} for conversation.item.create, "
        f"{len(f.response_create)} for response.create incl. the trailing rate_limits.updated; "
        f"{r.loopback_frames} counted on the socket) + 1 per conversation.item.delete",
        "baseline: in-process = JSON work only (parse 2 client events, encode the server events); "
        "sockets = bare websockets server replaying the recorded frames",
        "slowdown = mockrt cost / baseline cost (latency: mockrt / baseline; throughput: baseline / mockrt)",
        "",
    ]
    header = ("measure", "mockrt", "baseline", "slowdown", "aim", "")
    rows: list[tuple[str, str, str, str, str, str]] = []

    def latency_rows(name: str, m: Latency, b: Latency, aim: float | None) -> None:
        for stat in ("median", "p99"):
            mv, bv = getattr(m, stat), getattr(b, stat)
            aim_s = f"<= {aim:g} ms" if aim is not None and stat == "median" else ""
            verdict = _verdict(mv, aim) if aim is not None and stat == "median" else ""
            rows.append((f"{name} {stat} (ms)", f"{mv:.3f}", f"{bv:.3f}", f"{mv / bv:.2f}x", aim_s, verdict))

    latency_rows("in-process latency", r.in_process, r.json_floor, AIM_IN_PROCESS_MS)
    latency_rows("loopback latency, 1 conn", r.loopback, r.baseline, AIM_LOOPBACK_MS)
    m, b = r.throughput, r.baseline_throughput
    rows.append((f"throughput, {connections} conns (turns/s)", f"{m.per_second:.0f}", f"{b.per_second:.0f}",
                 f"{b.per_second / m.per_second:.2f}x", "", ""))
    latency_rows(f"latency under load, {connections} conns", m.latency, b.latency, None)

    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:5], widths[1:5], strict=True)]
        lines.append("  ".join([*cells, row[5]]).rstrip())
        if row is header:
            lines.append("-" * (sum(widths) + 2 * (len(widths) - 1) + len("aim missed")))
    return "\n".join(lines)


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=1000, help="timed turns per latency series (default 1000)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections for throughput")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per server (1 s windows)")
    parser.add_argument("--quick", action="store_true", help="smoke-test size: 100 turns, 10 connections, 0.5 s")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile the in-process loop and print the top 10 by cumulative time")
    parser.add_argument("--served", action="store_true",
                        help="also measure with each server in its own process (issue 14's table)")
    parser.add_argument("--growing", type=int, default=1000,
                        help="served: turns of the growing-conversation series (beside 50)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--bare-server", metavar="FRAMES", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        bare_server_main(args.bare_server)
        return 0
    turns, connections, seconds = args.turns, args.connections, args.seconds
    if args.quick:
        turns, connections, seconds = min(turns, 100), min(connections, 10), min(seconds, 0.5)

    def progress(label: str) -> None:
        print(f"... {label}", file=sys.stderr, flush=True)

    results = run_all(turns, connections, seconds, progress)
    print(render(results, turns, connections, seconds))
    out: dict[str, Any] = {"bench": "text_latency", "turns": turns, "connections": connections, "seconds": seconds,
                           "load_average": results.load_average, "frames_per_turn": results.frames.per_turn}
    for name, m, b in (("in_process", results.in_process, results.json_floor),
                       ("loopback", results.loopback, results.baseline),
                       ("under_load", results.throughput.latency, results.baseline_throughput.latency)):
        out[name] = {"median_ms": [m.median, b.median], "p99_ms": [m.p99, b.p99]}
    out["throughput_turns_per_s"] = [results.throughput.per_second, results.baseline_throughput.per_second]
    if args.served:
        growing = min(args.growing, 100) if args.quick else args.growing
        srv = run_served(results.frames, turns, connections, seconds, growing, progress)
        print()
        print(render_served(srv, connections))
        out["served"] = served_json(srv)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    if args.profile:
        print(f"\ncProfile of {turns} in-process turns (with their cleanup), top 10 by cumulative time:")
        print(profile_in_process(turns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
