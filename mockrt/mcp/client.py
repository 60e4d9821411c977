"""A real MCP client for the mock's ``mcp`` tools, built on the ``mcp`` package (docs/protocol.md §9).

It connects over Streamable HTTP, or SSE when the URL's path ends in ``/sse`` (the convention of the SSE servers
the ``mcp`` package and others build), sends the tool's ``headers`` and its ``authorization`` as a bearer token,
keeps one connection per server, and runs each directive under one overall timeout. Every failure becomes the service's
error shape (:class:`~mockrt.core.mcp.McpError`): ``http_error`` with the server's status, or 424 for a server
that cannot be reached or does not answer in time; ``protocol_error`` with the JSON-RPC code of an MCP error;
``tool_execution_error`` with the text of a tool result flagged ``isError``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    CallToolResult,
    Implementation,
    TextContent,
    Tool,
)

from mockrt.core.mcp import (
    CallDone,
    CallFailed,
    CallTool,
    ListTools,
    McpError,
    McpServerConfig,
    McpTool,
    ToolsFailed,
    ToolsListed,
)
from mockrt.mcp.executor import McpExecutor

logger = logging.getLogger("mockrt.mcp")

_STATUS_STAND_INS = {(INTERNAL_ERROR, "Server returned an error response"), (METHOD_NOT_FOUND, "Not Found"),
                     (INVALID_REQUEST, "Session terminated")}
"""The errors the SDK's Streamable HTTP transport makes up for an HTTP error status without a JSON-RPC body: the
status itself is the better answer (``http_error``)."""

MAX_PAGES = 100
"""``tools/list`` pages followed before giving up on a server that paginates forever."""


def uses_sse(url: str) -> bool:
    """The transport rule: SSE when the URL's path ends in ``/sse`` (``/sse/`` too), else Streamable HTTP."""
    return urlsplit(url).path.rstrip("/").endswith("/sse")


class McpClient(McpExecutor):
    """Lists and calls tools on real MCP servers; ``timeout_s`` bounds each whole directive (connect included).

    One connection per server (URL and headers) is opened on first use and reused by later directives, so a
    call costs one request, not a protocol negotiation; a failed directive drops its connection (the next one
    reconnects). :meth:`aclose` (or ``async with``) closes them: the transport does it when the session ends.
    """

    def __init__(self, timeout_s: float = 30.0, client_name: str = "mockrt") -> None:
        self.timeout_s = timeout_s
        self.client_info = Implementation(name=client_name, version="1.0.0")
        self._connections: dict[tuple[str, tuple[tuple[str, str], ...]], _Connection] = {}

    async def __aenter__(self) -> McpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            conn.stop.set()
        await _settle([c.task for c in connections if c.task is not None], self.timeout_s)

    async def list_tools(self, directive: ListTools) -> ToolsListed | ToolsFailed:
        server, conn = directive.server, self._connection(directive.server)
        try:
            with anyio.fail_after(self.timeout_s):
                client = await conn.client()
                tools: list[McpTool] = []
                cursor: str | None = None
                for _page in range(MAX_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    tools += [_tool(t) for t in page.tools]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
        except Exception as exc:
            return ToolsFailed(directive.request_id, await self._failed(exc, server, conn))
        return ToolsListed(directive.request_id, tuple(server.filter_tools(tools)))

    async def call_tool(self, directive: CallTool) -> CallDone | CallFailed:
        server, conn = directive.server, self._connection(directive.server)
        try:
            with anyio.fail_after(self.timeout_s):
                client = await conn.client()
                result = await client.call_tool(directive.name, directive.arguments)
        except Exception as exc:
            return CallFailed(directive.request_id, await self._failed(exc, server, conn))
        if result.is_error:
            return CallFailed(directive.request_id, McpError("tool_execution_error", output_text(result)))
        return CallDone(directive.request_id, output_text(result))

    # -- connections ------------------------------------------------------------------------------------

    def _connection(self, server: McpServerConfig) -> _Connection:
        key = (server.server_url or f"{server.connector_id or server.tunnel_id}:", tuple(sorted(
            server.request_headers().items())))
        conn = self._connections.get(key)
        if conn is None or conn.dead:
            status = _StatusLog()
            conn = self._connections[key] = _Connection(key, self._connect(server, status), status)
        return conn

    async def _failed(self, exc: Exception, server: McpServerConfig, conn: _Connection) -> McpError:
        """The service's error for ``exc``; the connection is dropped unless the server answered with a JSON-RPC
        error (the connection is fine then)."""
        error = self._failure(exc, server, conn.status)
        if not (error.type == "protocol_error" and any(isinstance(e, MCPError) for e in _leaves(exc))):
            await self._drop(conn)
        return error

    async def _drop(self, conn: _Connection) -> None:
        """Forget a connection after a failure; its task is cancelled (a hung server gets no goodbye)."""
        if self._connections.get(conn.key) is conn:
            del self._connections[conn.key]
        if conn.task is not None:
            conn.task.cancel()
            await _settle([conn.task], 1.0)

    @asynccontextmanager
    async def _connect(self, server: McpServerConfig, status: _StatusLog) -> AsyncIterator[Client]:
        if server.server_url is None:
            raise _Unreachable(f"{server.server_label}: connectors and tunnels are not reachable from the mock")
        url = server.server_url
        headers = server.request_headers()
        # No read timeout on the long-lived streams: each directive is bounded by timeout_s as a whole.
        timeout = httpx2.Timeout(self.timeout_s, read=None)
        if uses_sse(url):

            def factory(headers: dict[str, str] | None = None, timeout: httpx2.Timeout | None = None,
                        auth: httpx2.Auth | None = None) -> httpx2.AsyncClient:
                return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth,
                                          event_hooks={"response": [status.record]})

            transport: Any = sse_client(url, headers=headers, timeout=self.timeout_s, sse_read_timeout=_DAY,
                                        httpx_client_factory=factory)
            async with Client(transport, client_info=self.client_info, cache=None) as client:
                yield client
        else:
            async with httpx2.AsyncClient(headers=headers, timeout=timeout,
                                          event_hooks={"response": [status.record]}) as http:
                transport = streamable_http_client(url, http_client=http)
                async with Client(transport, client_info=self.client_info, cache=None) as client:
                    yield client

    # -- failures -----------------------------------------------------------------------------------------

    def _failure(self, exc: BaseException, server: McpServerConfig, status: _StatusLog) -> McpError:
        leaves = list(_leaves(exc))
        logger.info("MCP server %r failed: %r", server.server_label, exc)
        if any(isinstance(e, TimeoutError | httpx2.TimeoutException) for e in leaves):
            return McpError.timeout(self.timeout_s)
        for e in leaves:
            if isinstance(e, httpx2.HTTPStatusError):
                return McpError.http(e.response.status_code)
        rpc = [e for e in leaves if isinstance(e, MCPError)]
        for e in rpc:
            if (e.code, e.message) not in _STATUS_STAND_INS:  # the server's own JSON-RPC error, whatever the status
                return McpError("protocol_error", e.message, e.code)
        if status.failed is not None:
            return McpError.http(status.failed)
        if rpc:
            return McpError("protocol_error", rpc[0].message, rpc[0].code)
        if any(isinstance(e, _Unreachable | httpx2.TransportError | OSError) for e in leaves):
            return McpError.unreachable()
        # A response the SDK could not parse (not JSON-RPC, wrong shapes): the server broke the protocol.
        return McpError("protocol_error", f"Invalid response from the MCP server: {exc}", -32603)


_DAY = 24 * 3600.0


class _Connection:
    """One live MCP connection, held open by its own task.

    The ``mcp`` package's client lives in anyio task groups, which must be entered and exited by the same task:
    the holder task enters them, publishes the client and waits for ``stop``; directives (other tasks) send their
    requests through the client. ``dead`` once the holder has ended (failed to connect, or the server went away).
    """

    def __init__(self, key: tuple[str, tuple[tuple[str, str], ...]], connect: AbstractAsyncContextManager[Client],
                 status: _StatusLog) -> None:
        self.key = key
        self.status = status
        self.stop = asyncio.Event()
        self.dead = False
        self._connect = connect
        self._ready: asyncio.Future[Client] | None = None
        self.task: asyncio.Task[None] | None = None

    async def client(self) -> Client:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self.task = asyncio.create_task(self._hold(self._ready), name=f"mcp {self.key[0]}")
        return await asyncio.shield(self._ready)

    async def _hold(self, ready: asyncio.Future[Client]) -> None:
        try:
            async with self._connect as client:
                ready.set_result(client)
                await self.stop.wait()
        except BaseException as exc:
            if not ready.done():
                # Waiters get an error, never a cancellation (a directive must not die with its connection).
                failure = exc if isinstance(exc, Exception) else ConnectionAbortedError("MCP connection closed")
                ready.set_exception(failure)
                ready.exception()  # retrieved here too: a waiter that timed out must not leave it unlogged
            if not isinstance(exc, Exception):
                raise
            logger.debug("MCP connection to %s ended: %r", self.key[0], exc)
        finally:
            self.dead = True


async def _settle(tasks: list[asyncio.Task[None]], timeout_s: float) -> None:
    """Wait (bounded) for connection tasks to finish; cancel the ones that do not."""
    pending = [t for t in tasks if not t.done()]
    if pending:
        _done, late = await asyncio.wait(pending, timeout=timeout_s)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)


class _Unreachable(Exception):
    """The server has no URL the mock can reach (``connector_id`` / ``tunnel_id``)."""


class _StatusLog:
    """Remembers the first HTTP error status of the MCP exchange (the SDK reports it as a bare MCP error)."""

    def __init__(self) -> None:
        self.failed: int | None = None

    async def record(self, response: httpx2.Response) -> None:
        method = response.request.method
        if response.status_code < 400 or method == "DELETE" or (method == "GET" and response.status_code == 405):
            return  # session termination, and servers without the optional GET stream, are not failures
        if self.failed is None:
            self.failed = response.status_code


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions inside (nested) exception groups, and their causes."""
    if isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            yield from _leaves(sub)
        return
    yield exc
    if exc.__cause__ is not None:
        yield from _leaves(exc.__cause__)


def _tool(tool: Tool) -> McpTool:
    annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None
    return McpTool(name=tool.name, input_schema=dict(tool.input_schema), description=tool.description,
                   annotations=annotations or None)


def output_text(result: CallToolResult) -> str:
    """The ``mcp_call`` item's ``output``: the text blocks joined by newlines; the structured content as JSON when
    there is no text; other blocks as JSON."""
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content, separators=(",", ":"))
    blocks = [block.model_dump(by_alias=True, exclude_none=True, mode="json") for block in result.content]
    return json.dumps(blocks, separators=(",", ":")) if blocks else ""
