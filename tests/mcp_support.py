"""Real MCP servers for the tests: the ``mcp`` package's ``MCPServer`` over Streamable HTTP and SSE on loopback
ports, a server that answers 401, one that never answers, and a port nobody listens on."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import ToolAnnotations
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class Recorder:
    """What the test server saw: each tool call's arguments, each HTTP request's headers."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def build_server(recorder: Recorder) -> MCPServer:
    server = MCPServer("weather")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def forecast(city: str, days: int = 1) -> str:
        """Forecast the weather for a city."""
        recorder.calls.append(("forecast", {"city": city, "days": days}))
        return f"{days}-day forecast for {city}: sunny, 21 C"

    @server.tool()
    def book(city: str, nights: int, guests: list[str]) -> dict[str, Any]:
        """Book a hotel room (changes data)."""
        recorder.calls.append(("book", {"city": city, "nights": nights, "guests": guests}))
        return {"confirmation": f"BK-{city[:3].upper()}-{nights}", "guests": len(guests)}

    @server.tool()
    def explode(reason: str) -> str:
        """Always fails with a tool error."""
        recorder.calls.append(("explode", {"reason": reason}))
        raise ToolError(f"the tool failed: {reason}")

    @server.tool()
    def reject(value: int) -> str:
        """Always answers with a JSON-RPC error."""
        recorder.calls.append(("reject", {"value": value}))
        raise MCPError(-32602, f"value {value} is not acceptable")

    return server


class _HeaderLog:
    """ASGI middleware that records each HTTP request's headers."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app, self.recorder = app, recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.recorder.headers.append({k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]})
        await self.app(scope, receive, send)


@contextmanager
def serve(app: ASGIApp) -> Iterator[int]:
    """Run ``app`` on uvicorn on a free loopback port (its own thread); yields the port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="auto"))
    ready = threading.Event()
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        ready.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not ready.wait(30) or not server.started:
        raise RuntimeError("MCP test server failed to start")
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class McpServers:
    recorder: Recorder
    http_url: str
    sse_url: str
    deny_url: str
    hang_url: str
    closed_url: str


@contextmanager
def mcp_servers() -> Iterator[McpServers]:
    """Every kind of server the client meets: working (Streamable HTTP and SSE), 401, silent, absent."""
    recorder = Recorder()
    server = build_server(recorder)

    async def deny(request: Request) -> Response:
        return PlainTextResponse("unauthorized", status_code=401)

    denier = Starlette(routes=[Route("/mcp", deny, methods=["GET", "POST", "DELETE"]), Route("/sse", deny)])
    silent = socket.socket()  # listens (the kernel completes handshakes) but never accepts nor answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    absent = socket.socket()
    absent.bind(("127.0.0.1", 0))
    closed_port = absent.getsockname()[1]
    absent.close()
    try:
        with (serve(_HeaderLog(server.streamable_http_app(), recorder)) as http_port,
              serve(_HeaderLog(server.sse_app(), recorder)) as sse_port,
              serve(denier) as deny_port):
            yield McpServers(
                recorder=recorder,
                http_url=f"http://127.0.0.1:{http_port}/mcp",
                sse_url=f"http://127.0.0.1:{sse_port}/sse",
                deny_url=f"http://127.0.0.1:{deny_port}/mcp",
                hang_url=f"http://127.0.0.1:{silent.getsockname()[1]}/mcp",
                closed_url=f"http://127.0.0.1:{closed_port}/mcp",
            )
    finally:
        silent.close()
