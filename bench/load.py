"""Load: N concurrent sessions, each streaming 20 ms appends of a speech fixture in real time, getting server-VAD
turns (issue 14: no replies by default, audio replies with ``--replies``).

For each N (a ramp) it reports the latency of ``speech_stopped`` after the append that carries the audio ending the
silence window (``audio_end_ms``) — and after the append that completes the detector's look-ahead, which is the
earliest moment any server could decide — plus lost events, the load generator's own lateness (when the client is
the bottleneck the figures say so), the server's CPU time per append (all its processes, from /proc), the busiest
process's share of it (with ``--workers 2``, 50 % is an even split), how busy that process was while every caller
streamed (``busy``: its CPU time over the wall time, % of one core: a single-threaded event loop near 100 % has no
room left, and its queueing, not its work, then sets the 99th percentile), its RSS per session, and the full garbage
collections that stopped it while the callers streamed (how many, the longest; bench/gc_probe). The server runs in its
own process(es): ``mockrt serve --workers W``, once per worker count. Aim: the highest N with every turn detected
(no event lost) and speech_stopped p99 ≤ 100 ms; the baseline beside it is the load generator's own lateness and
the 1-worker figure. A worker count's capacity is the highest N of the ramp up to which every step met the aim: a
step that misses caps it even when a larger step meets it later (run to run noise, not capacity).

    python bench/load.py [--workers 1,2] [--ramp 50,100,150,200] [--seconds 12] [--replies] [--generators 1]
                         [--floor] [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import multiprocessing
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.speedups import apply_mask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import served  # noqa: E402
from served import NO_REPLIES  # noqa: E402

from tests.audio_fixtures import load_speech  # noqa: E402

CHUNK_MS = 20
AIM_P99_MS = 100.0


def detector_lookahead_ms() -> int:
    """The default (webrtc) detector's score look-ahead (mockrt/audio/detectors.py), from the installed mockrt."""
    from mockrt.audio.detectors import make_detector

    det = make_detector("webrtc", 24000)
    return det.latency_frames * det.frame_samples * 1000 // det.rate


LOOKAHEAD_MS = detector_lookahead_ms()


@dataclass
class SessionStats:
    sent: list[float] = field(default_factory=list)  # monotonic send time per append index
    stop_latency: list[float] = field(default_factory=list)  # vs the append carrying audio_end_ms
    stop_latency_decidable: list[float] = field(default_factory=list)  # vs the append completing the look-ahead
    counts: dict[str, int] = field(default_factory=dict)
    lateness: list[float] = field(default_factory=list)
    errors: int = 0


def clip_messages() -> list[str]:
    pcm = np.concatenate([load_speech("weather").pcm, np.zeros(24000, dtype=np.int16)])  # ~4.8 s per turn
    step = 24000 * CHUNK_MS // 1000
    return [json.dumps({"type": "input_audio_buffer.append",
                        "audio": base64.b64encode(pcm[i:i + step].astype("<i2").tobytes()).decode()})
            for i in range(0, len(pcm) - step + 1, step)]


_MASK = b"\x5a\x3c\x96\x0f"


def client_frame(text: str) -> bytes:
    """``text`` as one masked client text frame, ready to write (RFC 6455 §5.2; a fixed masking key is still a
    well-formed frame): the load generator encodes its appends once, not once per send."""
    payload = text.encode()
    n = len(payload)
    head = bytes([0x81, 0x80 | n]) if n < 126 else (bytes([0x81, 0xFE]) + struct.pack("!H", n) if n < 1 << 16
                                                     else bytes([0x81, 0xFF]) + struct.pack("!Q", n))
    return head + _MASK + apply_mask(payload, _MASK)


_TYPE = re.compile(rb'"type":"([^"]+)"')


async def read_events(ws: ClientConnection, stats: SessionStats) -> None:
    """Count a session's server events; time ``speech_stopped`` against the appends that decided it."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(ConnectionClosed):
        while True:
            text = await ws.recv(decode=False)  # bytes: no UTF-8 decode of every audio delta (--replies)
            m = _TYPE.search(text, 0, 80)
            etype = m.group(1).decode() if m else "?"
            stats.counts[etype] = stats.counts.get(etype, 0) + 1
            if etype == "input_audio_buffer.speech_stopped":
                now = loop.time()
                end_ms = json.loads(text)["audio_end_ms"]
                idx = math.ceil(end_ms / CHUNK_MS) - 1
                idx_decidable = (end_ms + LOOKAHEAD_MS) // CHUNK_MS  # the append holding audio_end + look-ahead
                if idx < len(stats.sent):
                    stats.stop_latency.append(now - stats.sent[idx])
                if idx_decidable < len(stats.sent):
                    stats.stop_latency_decidable.append(now - stats.sent[idx_decidable])
            elif etype == "error":
                stats.errors += 1


async def drive(url: str, first: int, n_total: int, count: int, seconds: float, frames: list[bytes],
                start_at: float, replies: bool) -> tuple[list[SessionStats], float]:
    """Sessions ``first`` .. ``first + count - 1`` of ``n_total``: connect them all, then from ``start_at``
    (``time.monotonic``, shared by every generator process) send each one's appends in real time.

    The callers are staggered over one turn (whole chunks, so their turns do not all end in the same instant)
    and over 20 one-millisecond slots within a chunk (so the appends do not all land in the same millisecond).
    One ticker sends every append due in a slot with a plain ``transport.write`` of a frame encoded in advance,
    so the generator wakes at most once a millisecond whatever the number of callers, and its own lateness (the
    ``client late`` column) says when it, not the server, is behind. Returns the stats and this process's CPU
    seconds spent while sending."""
    loop = asyncio.get_running_loop()
    stats = [SessionStats() for _ in range(count)]
    conns = await asyncio.gather(*(connect(url, max_size=None, ping_interval=None, compression=None)
                                   for _ in range(count)))
    try:
        if not replies:
            await asyncio.gather(*(ws.send(NO_REPLIES) for ws in conns))
        readers = [asyncio.create_task(read_events(ws, s)) for ws, s in zip(conns, stats, strict=True)]
        appends = int(seconds * 1000 / CHUNK_MS)
        slots: list[list[tuple[int, Any, SessionStats]]] = [[] for _ in range(CHUNK_MS)]
        for j, (ws, s) in enumerate(zip(conns, stats, strict=True)):
            i = first + j
            lag = len(frames) * i // n_total  # whole chunks of stagger: turns spread over one turn
            slots[i % CHUNK_MS].append((lag, ws.transport, s))
        lag_max = max(lag for slot in slots for lag, _t, _s in slot)
        cpu0 = time.process_time()
        for chunk in range(appends + lag_max):
            for ms, slot in enumerate(slots):
                if not slot:
                    continue
                due = start_at + (chunk * CHUNK_MS + ms) / 1000
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = loop.time()
                for lag, transport, s in slot:
                    k = chunk - lag
                    if 0 <= k < appends:
                        s.lateness.append(max(0.0, now - due))
                        s.sent.append(now)
                        transport.write(frames[k % len(frames)])
        cpu = time.process_time() - cpu0
        await asyncio.sleep(2.0)  # let the last turn's events arrive
        for task in readers:
            task.cancel()
    finally:
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    return stats, cpu


def _drive_process(args: tuple[str, int, int, int, float, list[bytes], float, bool]) -> tuple[list[SessionStats],
                                                                                                   float]:
    return asyncio.run(drive(*args))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` so far (/proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(root: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(root)], capture_output=True, text=True).stdout
    return [root, *(int(p) for p in out.split())]


def full_collections(gc_log: str | None, start: float, end: float) -> tuple[int, float]:
    """The served process's full garbage collections that started between ``start`` and ``end`` (``time.monotonic``,
    system-wide on Linux), from its ``gc_log`` (bench/gc_probe): how many, and the longest in ms."""
    if gc_log is None or not os.path.exists(gc_log):
        return 0, 0.0
    pauses = [float(ms) for at, ms in (line.split() for line in Path(gc_log).read_text().splitlines())
              if start <= float(at) <= end]
    return len(pauses), max(pauses, default=0.0)


def measure(url: str, n: int, seconds: float, messages: list[str], pids: list[int], replies: bool,
            generators: int = 1, gc_log: str | None = None) -> dict[str, float]:
    """``n`` callers for ``seconds`` from ``generators`` processes; the server's CPU per append over the run, and
    (with ``gc_log``) its full garbage collections while the callers streamed."""
    frames = [client_frame(m) for m in messages]
    generators = max(1, min(generators, n))
    start = time.monotonic() + 1.0 + n / 200  # every generator connects its callers before the first append
    parts = [(url, g * n // generators, n, (g + 1) * n // generators - g * n // generators, seconds, frames, start,
              replies) for g in range(generators)]
    rss: list[int] = []
    sampler = threading.Timer(max(0.0, start - time.monotonic()) + seconds / 2, lambda: rss.append(rss_kb(pids)))
    sampler.start()
    # While every caller streams: from the last caller's first append (they start a turn apart) to the first
    # caller's last (a step shorter than a turn plus a second has no such window).
    busy: list[float] = []
    full_from = (len(messages) - 1) * CHUNK_MS / 1000 + 0.2
    window = seconds - 0.2 - full_from

    def sample_busy() -> None:  # the busiest server process's share of a core
        t0, before = time.monotonic(), [cpu_seconds([pid]) for pid in pids]
        time.sleep(window)
        after, elapsed = [cpu_seconds([pid]) for pid in pids], time.monotonic() - t0
        busy.append(max(b - a for a, b in zip(before, after, strict=True)) / elapsed * 100)

    busy_sampler = threading.Timer(max(0.0, start - time.monotonic()) + full_from, sample_busy)
    if window >= 1.0:
        busy_sampler.start()
    cpu0 = [cpu_seconds([pid]) for pid in pids]
    if generators == 1:
        results = [_drive_process(parts[0])]
    else:
        with ProcessPoolExecutor(generators, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_drive_process, parts))
    per_process = [cpu_seconds([pid]) - before for pid, before in zip(pids, cpu0, strict=True)]
    cpu = sum(per_process)
    sampler.join()
    if window >= 1.0:
        busy_sampler.join()
    stats = [s for part, _cpu in results for s in part]
    gen_cpu = sum(c for _part, c in results)
    appends = sum(len(s.sent) for s in stats)
    turns_expected = int(seconds * 1000 / CHUNK_MS) // len(messages)
    kinds = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed"]
    lost = sum(max(0, turns_expected - s.counts.get(t, 0)) for s in stats
               for t in [*kinds, *(["response.done"] if replies else [])])
    streaming_end = start + seconds + (len(messages) - 1) * CHUNK_MS / 1000  # the callers are staggered by a turn
    gcs, gc_max = full_collections(gc_log, start, streaming_end)
    lat = [x for s in stats for x in s.stop_latency]
    lat_d = [x for s in stats for x in s.stop_latency_decidable]
    late = [x for s in stats for x in s.lateness]
    return {"n": n, "turns": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "p50_d": pct(lat_d, 50),
            "p99_d": pct(lat_d, 99), "lost": lost, "errors": sum(s.errors for s in stats),
            "client_late_p99": pct(late, 99), "rss_kb": rss[0] if rss else rss_kb(pids),
            "client_cpu_us_per_append": gen_cpu / appends * 1e6 if appends else float("nan"),
            "cpu_us_per_append": cpu / appends * 1e6 if appends else float("nan"),
            "busiest_share": max(per_process) / cpu * 100 if cpu else float("nan"),
            "busy_pct": busy[0] if busy else float("nan"),
            "full_collections": gcs, "full_collection_max_ms": gc_max}


def run_workers(workers: int, ramp: list[int], seconds: float, replies: bool, generators: int = 1) -> dict[str, object]:
    fd, gc_log = tempfile.mkstemp(prefix="mockrt-gc-", suffix=".log")
    os.close(fd)
    proc, port = served.mockrt_serve("--workers", str(workers), gc_log=gc_log)
    steps: list[dict[str, float]] = []
    try:
        url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
        time.sleep(1.0 if workers > 1 else 0.2)
        pids = server_pids(proc.pid)
        base_rss = rss_kb(pids)
        messages = clip_messages()
        print(f"\nmockrt load: {workers} worker(s), {os.cpu_count()} CPUs; each session streams 20 ms appends "
              f"in real time ({len(messages) * CHUNK_MS / 1000:.1f} s per VAD turn, "
              f"{'audio responses at 10x' if replies else 'no responses'}); {seconds:g} s per step; "
              f"server RSS at rest {base_rss / 1024:.0f} MiB; {generators} load generator process(es)")
        print(f"{'N':>5} {'turns':>6} {'stop p50':>9} {'stop p99':>9} {'dec. p50':>9} {'dec. p99':>9} "
              f"{'lost':>5} {'err':>4} {'client late p99':>16} {'CPU/append':>11} {'client CPU':>11} "
              f"{'RSS/session':>12} {'busiest':>8} {'busy':>5} {'full GCs':>12}  "
              f"aim (p99 <= {AIM_P99_MS:g} ms, 0 lost)")
        best = best_decidable = 0
        capped = capped_decidable = False  # a step missed: no larger N counts (module docstring)
        for n in ramp:
            r = measure(url, n, seconds, messages, server_pids(proc.pid), replies, generators, gc_log)
            r["rss_per_session_mib"] = (r["rss_kb"] - base_rss) / n / 1024
            steps.append(r)
            ok = r["p99"] <= AIM_P99_MS and r["lost"] == 0
            capped = capped or not ok
            capped_decidable = capped_decidable or not (r["p99_d"] <= AIM_P99_MS and r["lost"] == 0)
            if not capped:
                best = n
            if not capped_decidable:
                best_decidable = n
            note = "met" if ok else "missed"
            if r["client_late_p99"] > 10:
                note += " (load generator late: client-bound)"
            print(f"{n:>5} {r['turns']:>6} {r['p50']:>8.1f}ms {r['p99']:>8.1f}ms {r['p50_d']:>8.1f}ms "
                  f"{r['p99_d']:>8.1f}ms {r['lost']:>5} {r['errors']:>4} {r['client_late_p99']:>14.1f}ms "
                  f"{r['cpu_us_per_append']:>9.0f}us {r['client_cpu_us_per_append']:>9.0f}us "
                  f"{r['rss_per_session_mib']:>10.2f}MiB {r['busiest_share']:>7.0f}% {r['busy_pct']:>4.0f}% "
                  f"{r['full_collections']:>3.0f}, {r['full_collection_max_ms']:>4.0f}ms  {note}", flush=True)
            if not ok and r["p99"] > 4 * AIM_P99_MS:
                break
        print(f"{workers} worker(s): highest N up to which every step met the aim, after the append carrying "
              f"audio_end_ms: {best}; after the append that completes the detector's {LOOKAHEAD_MS} ms look-ahead: "
              f"{best_decidable}")
    finally:
        served.stop(proc)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(gc_log)
    return {"workers": workers, "replies": replies, "highest_n": best, "highest_n_decidable": best_decidable,
            "steps": steps}


def run_floor(ramp: list[int], seconds: float, generators: int = 1) -> dict[str, object]:
    """The transport floor beside mockrt: the same callers against ``floor_server.py`` (mockrt's WebSocket server
    stack with an application that drops every message), the server's CPU per append for each N."""
    proc, port = served.spawn(str(Path(__file__).resolve().parent / "floor_server.py"))
    steps: list[dict[str, float]] = []
    try:
        url = f"ws://127.0.0.1:{port}/v1/realtime"
        messages = clip_messages()
        print("\ntransport floor (bench/floor_server.py: uvicorn + SessionProtocol, every message dropped; no session)")
        print(f"{'N':>5} {'CPU/append':>11} {'client CPU':>11} {'client late p99':>16}")
        for n in ramp:
            r = measure(url, n, seconds, messages, server_pids(proc.pid), False, generators)
            steps.append(r)
            print(f"{n:>5} {r['cpu_us_per_append']:>9.0f}us {r['client_cpu_us_per_append']:>9.0f}us "
                  f"{r['client_late_p99']:>14.1f}ms", flush=True)
    finally:
        served.stop(proc)
    return {"floor": True, "steps": steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1", help="worker counts, comma-separated (one server each)")
    ap.add_argument("--ramp", default="50,100,150,200,250")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--replies", action="store_true", help="VAD turns get audio responses (default: none)")
    ap.add_argument("--generators", type=int, default=1,
                    help="load generator processes sharing the callers (default 1)")
    ap.add_argument("--floor", action="store_true",
                    help="also measure the transport floor (bench/floor_server.py) at the same N, first")
    ap.add_argument("--quick", action="store_true", help="a few seconds, for a smoke run")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    ramp = [2, 5] if args.quick else [int(x) for x in args.ramp.split(",")]
    seconds = 6.0 if args.quick else args.seconds
    floor = run_floor(ramp, seconds, args.generators) if args.floor else None
    runs = [run_workers(int(w), ramp, seconds, args.replies, args.generators) for w in args.workers.split(",")]
    if len(runs) > 1:
        base = runs[0]["highest_n"]
        for run in runs[1:]:
            ratio = f"{run['highest_n'] / base:.2f}x" if base else "n/a"
            print(f"capacity with {run['workers']} workers: {run['highest_n']} vs {base} with {runs[0]['workers']} "
                  f"({ratio})")
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": "load", "lookahead_ms": LOOKAHEAD_MS, "seconds": seconds,
                                               "runs": runs, "floor": floor}, indent=2))


if __name__ == "__main__":
    main()
