"""The transports' clock (mockrt/server/deadline.py)."""

from __future__ import annotations

import asyncio
import time

from mockrt.server.deadline import loop_clock


def test_loop_clock_is_the_loops_own_time() -> None:
    class Shifted(asyncio.SelectorEventLoop):
        def time(self) -> float:
            return 1000.0 + super().time()

    plain, shifted = asyncio.new_event_loop(), Shifted()
    try:
        assert loop_clock(plain) is time.monotonic  # asyncio's time() returns time.monotonic()
        assert abs(loop_clock(plain)() - plain.time()) < 0.1
        clock = loop_clock(shifted)
        assert clock() > 999.0 and abs(clock() - shifted.time()) < 0.1
    finally:
        plain.close()
        shifted.close()

