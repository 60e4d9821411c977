"""A mockrt server on a thread of this process, with its Python control API: what tests, the pytest plugin and
notebooks embed (``mockrt serve`` is :func:`mockrt.server.runner.serve`).

This is a face, like :mod:`mockrt.control`: the transport (``mockrt.server``) knows nothing of it
(tests/test_architecture.py).
"""

from __future__ import annotations

import ssl
import threading
from types import TracebackType
from typing import Any

from mockrt.config import ServerConfig
from mockrt.control import MockControl
from mockrt.server.runner import _netloc, _run, _Server, secure_bind, uvicorn_config


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
        from mockrt.server.certs import prepare

        self.config = secure_bind(config or ServerConfig(port=0))
        self._ready = threading.Event()
        self.tls = prepare(self.config)  # TLSSetupError (a clear message) before anything listens
        uv_config = uvicorn_config(self.config, self.tls)
        self.app: Any = uv_config.app
        self._server = _Server(uv_config, self._ready)
        self._thread = threading.Thread(target=self._run, name="mockrt-server", daemon=True)
        self.port = 0
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            _run(self._server, self._server.serve())
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
        """The server's base URL: ``http://host:port``, or ``https://`` under TLS."""
        return f"{'https' if self.tls else 'http'}://{_netloc(self.config.host, self.port)}"

    @property
    def ws_url(self) -> str:
        """The WebSocket base URL: ``ws://host:port``, or ``wss://`` under TLS."""
        return f"{'wss' if self.tls else 'ws'}://{_netloc(self.config.host, self.port)}"

    # -- TLS --

    @property
    def https_url(self) -> str:
        """``https://host:port`` (a TLS server only)."""
        self._require_tls("https_url")
        return self.http_url

    @property
    def wss_url(self) -> str:
        """``wss://host:port`` (a TLS server only)."""
        self._require_tls("wss_url")
        return self.ws_url

    @property
    def ca_path(self) -> str | None:
        """The CA certificate (PEM) clients must trust: the local CA's under ``tls``; None without TLS or with
        the user's own certificate."""
        return self.tls.ca_path if self.tls else None

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server (the local CA, or the system's roots for a user's own
        certificate)."""
        self._require_tls("client_ssl_context")
        return ssl.create_default_context(cafile=self.ca_path)

    def _require_tls(self, name: str) -> None:
        if self.tls is None:
            raise RuntimeError(f"{name}: this server runs without TLS (ServerConfig(tls=True) serves https/wss)")

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
