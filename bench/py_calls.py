#!/usr/bin/env python3
"""Python function calls per ``input_audio_buffer.append`` in the served process (issue 14), beside a baseline tree.

The served process spends most of its CPU in the Python interpreter (bench/README.md, eighth pass), so the calls it
makes per client message are a figure that moves with that cost and, unlike CPU time, hardly with the machine's
load. For each tree (this one, and ``--baseline PATH``: another mockrt, e.g. an older commit unpacked with ``git
archive``; without it, this tree again) ``mockrt serve`` runs with ``bench/call_probe`` loaded; ``--connections``
connections (server VAD on, no responses) each send ``--appends`` 20 ms pcm16 appends of a speech fixture back to back
and wait for ``input_audio_buffer.cleared``, once to warm up and once counted (``SIGUSR1`` around the round). Printed:
the calls per append of each tree and the functions called most, per append.

    python bench/py_calls.py [--baseline PATH] [--connections 20] [--appends 300] [--top 12] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import served  # noqa: E402
from append_cpu import one_connection  # noqa: E402
from load import clip_messages  # noqa: E402


def count(tree: str, messages: list[str], connections: int, appends: int) -> tuple[float, list[tuple[float, str]]]:
    """(calls per append, [(calls per append, function)] most called first) for the mockrt at ``tree``."""
    fd, out = tempfile.mkstemp(prefix="mockrt-calls-", suffix=".txt")
    os.close(fd)
    os.environ["PYTHONPATH"] = tree
    proc, port = served.mockrt_serve(calls_log=out)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"

    async def round_() -> None:
        await asyncio.gather(*(one_connection(url, messages, appends) for _ in range(connections)))

    try:
        asyncio.run(round_())  # warm-up: imports, caches, the interpreter's specialisation
        proc.send_signal(signal.SIGUSR1)
        asyncio.run(round_())
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not Path(out).stat().st_size and time.monotonic() < deadline:
            time.sleep(0.05)  # the probe writes when the server's loop next runs Python code
        lines = Path(out).read_text(encoding="utf-8").splitlines()
    finally:
        served.stop(proc)
        os.unlink(out)
    n = connections * appends
    rows = []
    for line in lines:
        calls, name, path = line.split(" ", 2)
        rows.append((int(calls) / n, f"{name} ({Path(path).name})"))
    return sum(r[0] for r in rows), rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=str(ROOT), help="the mockrt tree to compare with (default: this one)")
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--appends", type=int, default=300)
    ap.add_argument("--top", type=int, default=12, help="functions listed per tree")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    messages = clip_messages()
    trees = {"this tree": str(ROOT), "baseline": str(Path(args.baseline).resolve())}
    results = {name: count(tree, messages, args.connections, args.appends) for name, tree in trees.items()}
    print(f"# Python calls per 20 ms append in the served process, {args.connections} connections x {args.appends} "
          "appends back to back (server VAD on, no responses)")
    print("| tree | path | calls per append |")
    print("|---|---|---|")
    for name, tree in trees.items():
        print(f"| {name} | {tree} | {results[name][0]:.1f} |")
    ratio = results["this tree"][0] / results["baseline"][0]
    print(f"this tree / baseline: {ratio:.2f}x")
    for name in trees:
        print(f"\n{name}, the {args.top} functions called most (calls per append):")
        for per, function in results[name][1][:args.top]:
            print(f"  {per:6.2f}  {function}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "trees": trees, "calls_per_append": {k: v[0] for k, v in results.items()}, "ratio": ratio,
            "top": {k: v[1][:args.top] for k, v in results.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
