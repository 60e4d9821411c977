"""MCP tool-call latency: mockrt's McpClient running CallTool directives beside the bare mcp.Client.

    python bench/mcp_calls.py [--calls 50]

Both call the same real MCP server (the ``mcp`` package's MCPServer on uvicorn, loopback, the tests' weather
server) with the same tool and arguments, over Streamable HTTP and over SSE. The baseline is the ``mcp``
package's own ``Client``, connected once and kept; mockrt's client also keeps its connection (opened by an
untimed warm-up directive), so the difference is what a directive adds: the timeout scope, the shared-connection
hand-over, the result mapping. The two alternate in blocks of 10 calls so both see the same machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mockrt.core.mcp import CallDone, CallTool, McpServerConfig
from mockrt.mcp import McpClient
from tests.mcp_support import mcp_servers

BLOCK = 10


async def timed(n: int, call: Callable[[], Awaitable[None]]) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def measure(url: str, sse: bool, calls: int) -> tuple[list[float], list[float]]:
    cfg = McpServerConfig.parse({"type": "mcp", "server_label": "weather", "server_url": url})
    client = McpClient(30)
    directive = CallTool("bench", cfg, "forecast", {"city": "Paris"})

    async def mock_call() -> None:
        assert isinstance(await client.call_tool(directive), CallDone)

    mock: list[float] = []
    base: list[float] = []
    async with httpx2.AsyncClient(timeout=30) as http:
        transport = sse_client(url) if sse else streamable_http_client(url, http_client=http)
        async with Client(transport, cache=None) as persistent:

            async def base_call() -> None:
                result = await persistent.call_tool("forecast", {"city": "Paris"})
                assert not result.is_error

            await mock_call()  # warm-up, untimed
            await base_call()
            while len(mock) < calls:
                mock += await timed(BLOCK, mock_call)
                base += await timed(BLOCK, base_call)
    return mock, base


def row(name: str, mock: list[float], base: list[float]) -> str:
    m, b = statistics.median(mock), statistics.median(base)
    p95 = sorted(mock)[int(len(mock) * 0.95) - 1]
    return f"{name:<18} {m:8.2f} {p95:8.2f} {b:11.2f} {m / b:9.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    print(f"MCP tools/call over loopback, {args.calls} calls each; load average {os.getloadavg()[0]:.2f}")
    print(f"{'transport':<18} {'mockrt':>8} {'p95':>8} {'persistent':>11} {'slowdown':>10}   (ms, medians)")
    with mcp_servers() as servers:
        for name, url, sse in (("streamable http", servers.http_url, False), ("sse", servers.sse_url, True)):
            mock, base = asyncio.run(measure(url, sse, args.calls))
            print(row(name, mock, base))


if __name__ == "__main__":
    main()
