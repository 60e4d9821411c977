#!/usr/bin/env python3
"""Server CPU per ``input_audio_buffer.append`` in the served process (issue 14), beside a baseline tree.

``mockrt serve`` runs in its own process for each tree (this one, and ``--baseline PATH``: another mockrt, e.g.
an older commit unpacked with ``git archive``; without it, this tree again, as a noise reference). Each round,
``--connections`` connections (server VAD on, no responses) each send ``--appends`` 20 ms pcm16 appends of a speech
fixture back to back, then ``input_audio_buffer.clear`` and wait for ``input_audio_buffer.cleared``; the figure is
the server's user + system CPU time over the round (from /proc, all its processes) divided by the appends. CPU time
is robust to other load on the machine, wall time is not. The trees alternate round by round; the best and median
round per tree are printed, with the ratio.

    python bench/append_cpu.py [--baseline PATH] [--connections 20] [--appends 500] [--rounds 4] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import served  # noqa: E402
from load import NO_REPLIES, clip_messages, cpu_seconds, server_pids  # noqa: E402

CLEAR = json.dumps({"type": "input_audio_buffer.clear"})


async def one_connection(url: str, messages: list[str], appends: int) -> None:
    async with connect(url, max_size=None, ping_interval=None, compression=None) as ws:
        await ws.send(NO_REPLIES)
        for k in range(appends):
            await ws.send(messages[k % len(messages)])
        await ws.send(CLEAR)
        async for frame in ws:
            if '"input_audio_buffer.cleared"' in (frame if isinstance(frame, str) else frame.decode()):
                return


async def one_round(url: str, pids: list[int], messages: list[str], connections: int, appends: int) -> float:
    cpu0 = cpu_seconds(pids)
    await asyncio.gather(*(one_connection(url, messages, appends) for _ in range(connections)))
    return (cpu_seconds(pids) - cpu0) / (connections * appends) * 1e6


def start(tree: str) -> tuple[object, str, list[int]]:
    os.environ["PYTHONPATH"] = tree
    proc, port = served.mockrt_serve()
    return proc, f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime", server_pids(proc.pid)  # type: ignore[attr-defined]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=str(ROOT), help="the mockrt tree to compare with (default: this one)")
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--appends", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    messages = clip_messages()
    trees = {"this tree": str(ROOT), "baseline": str(Path(args.baseline).resolve())}
    servers = {name: start(tree) for name, tree in trees.items()}
    rounds: dict[str, list[float]] = {name: [] for name in trees}
    try:
        for _ in range(args.rounds):
            for name, (_proc, url, pids) in servers.items():
                rounds[name].append(asyncio.run(one_round(url, pids, messages, args.connections, args.appends)))
    finally:
        for proc, _url, _pids in servers.values():
            served.stop(proc)  # type: ignore[arg-type]
    print(f"# server CPU per 20 ms append, {args.connections} connections x {args.appends} appends back to back, "
          f"{args.rounds} alternating rounds; load average {os.getloadavg()[0]:.1f}")
    print("| tree | path | best | median |")
    print("|---|---|---|---|")
    for name, tree in trees.items():
        print(f"| {name} | {tree} | {min(rounds[name]):.0f} us | {statistics.median(rounds[name]):.0f} us |")
    ratio = statistics.median(rounds["this tree"]) / statistics.median(rounds["baseline"])
    print(f"this tree / baseline (medians): {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds_us": rounds, "trees": trees, "ratio": ratio}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
