"""Imported at start-up by a served process of the benches (``bench/served.py`` puts this folder first on its
``PYTHONPATH`` when asked to): appends one line per full garbage collection to the file that
``MOCKRT_BENCH_GC_LOG`` names, ``<time.monotonic() at its start> <milliseconds>``, so ``load.py`` can show the
pauses, which stop the server's event loop, that fell inside each step (bench/README.md, seventh pass)."""

from __future__ import annotations

import gc
import os
import time
from typing import Any

_LOG = os.environ.get("MOCKRT_BENCH_GC_LOG")
_started = [0.0]


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    if info["generation"] != 2 or _LOG is None:
        return
    if phase == "start":
        _started[0] = time.monotonic()
        return
    ms = (time.monotonic() - _started[0]) * 1e3
    with open(_LOG, "a", encoding="ascii") as log:
        log.write(f"{_started[0]:.6f} {ms:.3f}\n")


if _LOG:
    gc.callbacks.append(_on_collection)
