"""Running the app on uvicorn: in the foreground (``mockrt serve``) or in a background thread (tests)."""

from __future__ import annotations

import asyncio
import logging
import threading
from types import TracebackType
from typing import Any

import uvicorn

from mockrt.config import ServerConfig
from mockrt.control import MockControl
from mockrt.server.app import create_app


def uvicorn_config(config: ServerConfig, **overrides: Any) -> uvicorn.Config:
    """uvicorn settings for ``config``: WebSocket size limit, server PINGs (§1.5), no lifespan."""
    return uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        ws="websockets-sansio",
        ws_max_size=config.max_frame_bytes,
        ws_ping_interval=config.ping_interval_s,
        ws_ping_timeout=config.ping_interval_s,
        ws_per_message_deflate=False,
        lifespan="off",
        log_level=config.log_level,
        access_log=False,
        **overrides,
    )


class _DenialLogFilter(logging.Filter):
    """uvicorn's sans-I/O WebSocket protocol logs a spurious error after an ASGI denial response (the HTTP 401
    that Azure answers with, §1.2) because it never marks that handshake complete. Our endpoint always either
    accepts or denies, so the message carries no information here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


logging.getLogger("uvicorn.error").addFilter(_DenialLogFilter())


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        self._ready.set()


class ServerThread:
    """A mockrt server on its own thread and event loop; ``port=0`` picks a free port.

    Example::

        with ServerThread(ServerConfig(port=0)) as server:
            client = openai.OpenAI(base_url=server.http_url + "/v1", api_key="x")
            server.control.wait_for("response.done")

    ``control`` (a :class:`~mockrt.control.MockControl`) loads scenarios, sets faults, reads the journal.
    """

    control: MockControl

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig(port=0)
        self._ready = threading.Event()
        uv_config = uvicorn_config(self.config)
        self.app: Any = uv_config.app
        self._server = _Server(uv_config, self._ready)
        self._thread = threading.Thread(target=self._run, name="mockrt-server", daemon=True)
        self.port = 0
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
        finally:
            self._ready.set()

    def start(self, timeout: float = 30.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None or not self._server.started:
            raise RuntimeError(f"mockrt server failed to start: {self._error!r}")
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self.control = MockControl(self.app.state.mock, self._server.loop)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.port}"

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(config: ServerConfig) -> None:
    """Run in the foreground until interrupted; prints the bound address (useful with ``--port 0``)."""
    ready = threading.Event()
    server = _Server(uvicorn_config(config), ready)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not ready.is_set() and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            print(f"mockrt listening on http://{config.host}:{port} (ws://{config.host}:{port}/v1/realtime)",
                  flush=True)
        await task

    asyncio.run(main())
