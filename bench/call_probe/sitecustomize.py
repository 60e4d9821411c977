"""Imported at start-up by a served process of ``bench/py_calls.py`` (it puts this folder first on the process's
``PYTHONPATH``): on ``SIGUSR1`` starts counting the Python function calls the process makes (``sys.setprofile``), on
the next ``SIGUSR1`` stops and writes ``<calls> <function> <file>`` lines, most called first, to the file that
``MOCKRT_BENCH_CALLS`` names. Signals reach the main thread, the one the server's event loop runs on, so that is the
thread counted (bench/README.md, eighth pass)."""

from __future__ import annotations

import collections
import os
import signal
import sys
from types import FrameType
from typing import Any

_OUT = os.environ.get("MOCKRT_BENCH_CALLS")
_calls: collections.Counter[tuple[str, str]] = collections.Counter()


def _count(frame: FrameType, event: str, arg: Any) -> None:
    if event == "call":
        code = frame.f_code
        _calls[code.co_qualname, code.co_filename] += 1


def _toggle(signum: int, frame: FrameType | None) -> None:
    if sys.getprofile() is None:
        _calls.clear()
        sys.setprofile(_count)
        return
    sys.setprofile(None)
    assert _OUT is not None
    with open(_OUT, "w", encoding="utf-8") as out:
        for (name, path), n in _calls.most_common():
            out.write(f"{n} {name} {path}\n")


if _OUT:
    signal.signal(signal.SIGUSR1, _toggle)
