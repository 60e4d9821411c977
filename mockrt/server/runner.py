"""Running the app on uvicorn: in the foreground (``mockrt serve``) or in a background thread (tests)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import ssl
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

from mockrt.config import ServerConfig
from mockrt.logs import redact_query
from mockrt.server import http11
from mockrt.server.app import create_app
from mockrt.server.certs import TLSFiles
from mockrt.server.policy import is_loopback_host
from mockrt.server.websocket import SessionProtocol

logger = logging.getLogger("mockrt.server")


def uvicorn_config(config: ServerConfig, tls: TLSFiles | None = None, **overrides: Any) -> uvicorn.Config:
    """uvicorn settings for ``config``: WebSocket size limit, server PINGs (§1.5), no lifespan; with ``tls``
    (from :func:`mockrt.server.certs.prepare`) https:// and wss:// on the same port."""
    overrides.setdefault("loop", event_loop())
    overrides.setdefault("log_config", None)  # mockrt.logs (the CLI) or the host application configures logging
    if tls is not None:
        overrides.update(ssl_certfile=tls.certfile, ssl_keyfile=tls.keyfile, ssl_context_factory=_tls_context)
    return _Config(
        create_app(config),
        header_timeout_s=config.header_timeout_s,
        http=http11.PROTOCOL,  # h11 with a header-read timeout (slowloris)
        host=config.host,
        port=config.port,
        ws=SessionProtocol,  # uvicorn's websockets-sansio, with batched writes (mockrt/server/websocket.py)
        ws_max_size=config.max_frame_bytes,
        ws_ping_interval=config.ping_interval_s,
        ws_ping_timeout=config.ping_interval_s,
        ws_per_message_deflate=False,
        lifespan="off",
        # uvicorn's DEBUG logs raw WebSocket frames (audio included); mockrt's own trace elides audio.
        log_level="info" if config.log_level == "debug" else config.log_level,
        access_log=False,
        **overrides,
    )


def event_loop() -> str:
    """uvicorn's event loop: ``MOCKRT_LOOP`` = ``asyncio`` (the default), ``uvloop`` or ``auto`` (uvloop when it
    is installed). uvloop did not measure faster for sessions (bench/README.md), so it is not the default."""
    import os

    return os.environ.get("MOCKRT_LOOP", "asyncio")


def _run(server: uvicorn.Server, main: Any) -> None:
    """Run ``main`` (a coroutine) on the event loop ``server``'s config asks for."""
    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(main)


# -- TLS: scheme mismatches are logged (mockrt/server/tls.py) --


def _tls_context(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    from mockrt.server.tls import tune_server_context

    return tune_server_context(default())


class _Config(http11.Config):
    """uvicorn's config; on a plain port its HTTP protocol also recognises a TLS handshake and says so."""

    def load(self) -> None:
        super().load()
        if self.ssl is None:
            from mockrt.server.tls import plain_port_protocol

            self.http_protocol_class = plain_port_protocol(self.http_protocol_class)


class _DenialLogFilter(logging.Filter):
    """uvicorn's sans-I/O WebSocket protocol logs a spurious error after an ASGI denial response (the HTTP 401
    that Azure answers with, §1.2) because it never marks that handshake complete. Our endpoint always either
    accepts or denies, so the message carries no information here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


class _RedactQueryFilter(logging.Filter):
    """uvicorn logs each WebSocket request line with its query string, where Azure browser clients put their key
    (``?api-key=…``, ``?Authorization=Bearer …``, docs/protocol.md §1.2): redact it so keys never reach the logs
    (:func:`mockrt.logs.redact_query`, which decodes percent-encoded names first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


for _name in ("uvicorn.error", "uvicorn.access"):
    logging.getLogger(_name).addFilter(_RedactQueryFilter())
logging.getLogger("uvicorn.error").addFilter(_DenialLogFilter())


def secure_bind(config: ServerConfig, announce: Any = None) -> ServerConfig:
    """A bind that other machines can reach (not loopback) gets a warning and always an admin token: the one
    given, or one generated here and announced once (``announce``, default: printed to stderr). SECURITY.md."""
    if is_loopback_host(config.host):
        return config
    logger.warning("mockrt is listening on %s, which other machines can reach: it is a test double with no "
                   "protection of its own beyond the admin token (see SECURITY.md)", config.host)
    if config.admin_token:
        return config
    import dataclasses
    import sys

    token = secrets.token_urlsafe(24)
    line = f"mockrt: the admin API under /_mockrt/ needs this token (Authorization: Bearer): {token}"
    if announce is None:
        print(line, file=sys.stderr, flush=True)
    else:
        announce(line)
    return dataclasses.replace(config, admin_token=token)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        self._ready.set()

    async def shutdown(self, sockets: Any = None) -> None:
        """Close live sessions with 1001 (going away) before uvicorn closes what is left with 1012."""
        mock = getattr(getattr(self.config.app, "state", None), "mock", None)
        if mock is not None:
            await mock.close_all(1001, "server shutting down")
        await super().shutdown(sockets)


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


CONFIG_FILE_VAR = "MOCKRT_CONFIG_FILE"
"""Names the file (mode 0600, in a private temporary directory) that hands the config, secrets included, to
``--workers`` children: the environment, which every grandchild inherits, carries only its path."""


def app_from_env() -> Any:
    """The app factory worker processes import (``--workers N``): the config is read from the file that
    :data:`CONFIG_FILE_VAR` names."""
    from pathlib import Path

    from mockrt.config import from_json
    from mockrt.logs import configure

    config = from_json(Path(os.environ[CONFIG_FILE_VAR]).read_text(encoding="utf-8"))
    configure(config.log_level, os.environ.get("MOCKRT_LOG_FORMAT", "text"))
    app = create_app(config)
    settle_heap()
    return app


def settle_heap() -> None:
    """Ready the garbage collector of a ``mockrt serve`` process, which owns its heap (never a server embedded in
    a host application or a test run, ``ServerThread``): its full collections stop the event loop for their whole
    length, so

    * every object alive once the server is set up (modules, the app, the SDK types the dialects import: ~110,000
      objects) moves into the permanent generation, which full collections no longer walk: 47-95 ms pauses under
      120 real-time sessions, 14-27 ms once frozen (bench/README.md, fourth pass);
    * a full collection waits for :data:`FULL_COLLECTION_EVERY` middle-generation collections instead of Python's
      10: under 160 streaming callers that is one 30-60 ms pause every 40 s or so instead of every 7 s, which
      took a turn's ``speech_stopped`` past 100 ms often enough to reach the 99th percentile (seventh pass).
      Realtime sessions leave no cyclic garbage, streaming (measured with ``gc.DEBUG_SAVEALL``) or closed
      (reference counting frees them, tests/test_server_transport.py), so nothing of theirs waits longer; what
      other work leaves in cycles is freed at the next full collection, as before.
    """
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


FULL_COLLECTION_EVERY = 100
"""Collections of the middle generation between two full collections in a ``mockrt serve`` process (Python: 10)."""


def _write_private(text: str) -> tuple[str, str]:
    """Write ``text`` to a new 0600 file in a new 0700 directory; returns (directory, file)."""
    directory = tempfile.mkdtemp(prefix="mockrt-")
    path = os.path.join(directory, "config.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return directory, path


def serve(config: ServerConfig, workers: int = 1) -> None:
    """Run in the foreground until interrupted; prints the bound address (useful with ``--port 0``).

    With ``workers > 1`` uvicorn's supervisor runs that many processes, each on its own listening socket of one
    port (:mod:`mockrt.server.workers`), and the address is printed once they serve; sessions are independent, so
    no state is shared (ARCHITECTURE.md, Concurrency). TLS files are checked (or generated) first: a
    :class:`~mockrt.server.certs.TLSSetupError` is raised before anything listens.
    """
    from mockrt.server.certs import prepare

    config = secure_bind(config)
    tls = prepare(config)
    if workers > 1:
        import shutil

        from mockrt.config import to_json
        from mockrt.server.workers import Supervisor, listening_sockets

        directory, path = _write_private(to_json(config))
        os.environ[CONFIG_FILE_VAR] = path
        try:
            uv = uvicorn_config(config, tls, workers=workers)
            uv.app, uv.factory = "mockrt.server.runner:app_from_env", True
            slots = listening_sockets(uv, workers)
            banner = _banner(config, tls, slots[0][0].getsockname()[1], workers)
            Supervisor(uv, slots, on_ready=lambda: print(banner, flush=True)).run()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    ready = threading.Event()
    server = _Server(uvicorn_config(config, tls), ready)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not ready.is_set() and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            settle_heap()
            print(_banner(config, tls, server.servers[0].sockets[0].getsockname()[1]), flush=True)
        await task

    _run(server, main())


def _banner(config: ServerConfig, tls: TLSFiles | None, port: int, workers: int = 1) -> str:
    netloc = _netloc(config.host, port)
    http, ws = ("https", "wss") if tls else ("http", "ws")
    banner = f"mockrt listening on {http}://{netloc} ({ws}://{netloc}/v1/realtime)"
    if workers > 1:
        banner += f", {workers} workers"
    if tls is not None and tls.ca_path is not None:  # the listening line stays first: scripts read the address from it
        banner += (f"\nmockrt TLS CA certificate: {tls.ca_path} (trust it with NODE_EXTRA_CA_CERTS={tls.ca_path}, "
                   f"SSL_CERT_FILE or ssl.create_default_context(cafile=...))")
    return banner
