"""A real MCP server the MCP cases give the target (docs/protocol.md §9): the ``mcp`` package's server over
Streamable HTTP on a loopback port, started once per process, recording every call it runs.

Only a target on this machine can reach it (the mock, a ``url`` target on loopback); the live services cannot, so
the MCP cases apply to the ``mock`` and ``url`` targets.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

SERVER_LABEL = "conformance"


@dataclass
class McpTestServer:
    url: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self) -> int:
        """A point in the call log (cases in one process run one at a time)."""
        with self.lock:
            return len(self.calls)

    def since(self, mark: int) -> list[tuple[str, dict[str, Any]]]:
        """The calls the server ran after ``mark``."""
        with self.lock:
            return self.calls[mark:]


_server: McpTestServer | None = None
_start = threading.Lock()


def mcp_server() -> McpTestServer:
    """The process's MCP test server (started on first use, a daemon thread)."""
    global _server
    with _start:
        if _server is None:
            _server = _serve()
        return _server


def closed_url() -> str:
    """A loopback URL nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mcp"


def _serve() -> McpTestServer:
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    server = MCPServer("conformance")
    holder: list[McpTestServer] = []

    def record(name: str, args: dict[str, Any]) -> None:
        with holder[0].lock:
            holder[0].calls.append((name, args))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def forecast(city: str, days: int = 1) -> str:
        """Forecast the weather for a city."""
        record("forecast", {"city": city, "days": days})
        return f"{days}-day forecast for {city}: sunny, 21 C"

    @server.tool()
    def explode(reason: str) -> str:
        """Always fails."""
        record("explode", {"reason": reason})
        raise ToolError(f"the tool failed: {reason}")

    @server.tool()
    def book(city: str, nights: int) -> str:
        """Not allowed by the cases' allowed_tools."""
        record("book", {"city": city, "nights": nights})
        return "booked"

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(server.streamable_http_app(), log_level="warning", lifespan="auto"))
    ready = threading.Event()
    original = uv.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        ready.set()

    uv.startup = startup  # type: ignore[method-assign]
    threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True).start()
    if not ready.wait(30):
        raise RuntimeError("the MCP test server did not start")
    holder.append(McpTestServer(f"http://127.0.0.1:{port}/mcp"))
    return holder[0]
