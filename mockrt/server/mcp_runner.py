"""Runs a session's MCP directives (docs/protocol.md §9): the transport half of MCP tools in sessions.

The core returns :class:`~mockrt.core.mcp.ListTools` / :class:`~mockrt.core.mcp.CallTool` beside its ``Send``
outputs; :class:`McpRunner` runs each one as a task with the session's executor (the scenario's stand-in servers,
falling back to the real MCP client), stamps the result with the loop clock when it arrives and hands the core's
answer to the connection's ordered output queue. The executor is created on the first directive, on a worker
thread (the first one imports the ``mcp`` package, which takes a while: the loop keeps serving meanwhile), and
closed when the session ends, which closes the MCP connections the session opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from mockrt.core.mcp import CallTool, ListTools, McpResult
from mockrt.core.outputs import Output
from mockrt.mcp.executor import McpExecutor

logger = logging.getLogger("mockrt.mcp")

ExecutorFactory = Callable[[], McpExecutor]


@runtime_checkable
class McpHost(Protocol):
    """A session that issues MCP directives and takes their results back: a
    :class:`~mockrt.core.session.RealtimeSession` (§9) or a :class:`~mockrt.core.live.session.LiveSession`
    (§13.5)."""

    closed: bool

    def mcp_result(self, result: McpResult, now: float) -> list[Output]: ...


class McpRunner:
    """One session's MCP directives in flight."""

    def __init__(self, session: McpHost, clock: Callable[[], float], push: Callable[[list[Output]], None],
                 make_executor: ExecutorFactory) -> None:
        self.session = session
        self.clock = clock
        self.push = push
        self.make_executor = make_executor
        self._executor: asyncio.Future[McpExecutor] | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    def start(self, directive: ListTools | CallTool) -> None:
        """Run ``directive`` concurrently; its result goes back to the core when it arrives."""
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = asyncio.ensure_future(asyncio.to_thread(self.make_executor))
        task = loop.create_task(self._run(self._executor, directive))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, executor: asyncio.Future[McpExecutor], directive: ListTools | CallTool) -> None:
        try:
            result = await (await asyncio.shield(executor)).run(directive)
        except Exception:  # the executors map failures to results; anything else must not kill the session
            logger.exception("MCP executor failed on %r", directive)
            return
        if not self.closed and not self.session.closed:
            self.push(self.session.mcp_result(result, self.clock()))

    async def aclose(self) -> None:
        """The session ended: drop the directives in flight and close the executor's connections."""
        self.closed = True
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._executor is not None:
            with contextlib.suppress(Exception):
                await (await self._executor).aclose()
