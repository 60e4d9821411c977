"""Servers in their own processes for the benches that measure from the outside (issue 14): ``mockrt serve`` and
other scripts that print the port they listen on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NO_REPLIES = json.dumps({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
    "turn_detection": {"type": "server_vad", "create_response": False}}}}})
"""The ``session.update`` the audio benches start each session with: server VAD turns without responses. Here,
in a module that imports nothing of mockrt, so a bench can import it before the tree it measures."""


GC_PROBE = Path(__file__).resolve().parent / "gc_probe"
"""A ``sitecustomize`` that logs the served process's full garbage collections (``gc_log`` below)."""

CALL_PROBE = Path(__file__).resolve().parent / "call_probe"
"""A ``sitecustomize`` that counts the served process's Python calls between two ``SIGUSR1`` (``calls_log``)."""


def spawn(*args: str, gc_log: str | None = None, calls_log: str | None = None,
          tree: str | None = None) -> tuple[subprocess.Popen[str], int]:
    """Run ``python ARGS`` with the mockrt of ``tree``, else the one ``PYTHONPATH`` names (this tree by default), so
    a bench can serve another tree, e.g. an older commit, for a same-run baseline; returns the process and the port
    it printed. With ``gc_log``, the process appends its full garbage collections to that file (:data:`GC_PROBE`);
    with ``calls_log``, it writes the Python calls it made between two ``SIGUSR1`` there (:data:`CALL_PROBE`). One
    probe at a time: each is a ``sitecustomize``, and Python imports the first one on the path."""
    env = {**os.environ, "PYTHONPATH": tree or os.environ.get("PYTHONPATH") or str(ROOT)}
    if gc_log is not None and calls_log is not None:
        raise ValueError("one probe at a time")
    if gc_log is not None:
        env["PYTHONPATH"] = f"{GC_PROBE}{os.pathsep}{env['PYTHONPATH']}"
        env["MOCKRT_BENCH_GC_LOG"] = gc_log
    if calls_log is not None:
        env["PYTHONPATH"] = f"{CALL_PROBE}{os.pathsep}{env['PYTHONPATH']}"
        env["MOCKRT_BENCH_CALLS"] = calls_log
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True, cwd="/", env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, int(match.group(1))


def mockrt_serve(*args: str, gc_log: str | None = None,
                 calls_log: str | None = None) -> tuple[subprocess.Popen[str], int]:
    """``mockrt serve --port 0 ARGS`` in its own process (its ``--workers`` children included), with the mockrt
    that ``MOCKRT_BENCH_SERVE`` names if set: another tree served to a bench that runs with this one (for trees
    older than the modules the bench imports); the bench's helper servers keep the bench's own tree."""
    return spawn("-m", "mockrt", "serve", "--port", "0", "--log-level", "warning", *args, gc_log=gc_log,
                 calls_log=calls_log, tree=os.environ.get("MOCKRT_BENCH_SERVE"))


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
