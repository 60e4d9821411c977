"""A recording WebSocket proxy: a client on loopback, the real service (or any mock) upstream, a transcript on disk.

Like WireMock's recorder and a VCR.py cassette being written: the client connects to
``ws://127.0.0.1:<port><path>?<query>``; the proxy opens ``<upstream><path>?<query>`` with the dialect markers
the client sent (the ``OpenAI-Beta`` header, subprotocols other than the insecure-key one) and with credentials
taken **from the environment only** (``OPENAI_API_KEY`` as ``Authorization: Bearer`` for OpenAI,
``AZURE_OPENAI_API_KEY`` as ``api-key`` for Azure); whatever key the client presents is dropped. Then every
frame is forwarded unchanged in both directions and written, redacted, to the transcript.

The proxy holds the developer's real key, so it is not an open relay (SECURITY.md): a handshake must present the
proxy's **client token** wherever a client puts its API key (``Authorization: Bearer``, ``api-key``, the
``openai-insecure-api-key.`` subprotocol or the query; so ``OpenAI(api_key=<client token>)`` just works), and a
handshake with an ``Origin`` that is not loopback (a web page the developer happens to have open) is refused
with 403. The token is generated (:mod:`secrets`) unless given, and ``mockrt record`` prints it at start.

Python API (tests run it on a thread, see :class:`ProxyThread`)::

    proxy = RecordingProxy("wss://api.openai.com", "fixtures/recordings/hello.jsonl")
    await proxy.start()          # proxy.port is now bound
    ...                          # point a client at ws://127.0.0.1:{proxy.port}
    await proxy.stop()           # proxy.recordings lists the files written (one per session)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http
import logging
import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.http11 import USER_AGENT, Request, Response
from websockets.typing import Subprotocol

from mockrt.recording import transcript as tr

logger = logging.getLogger("mockrt.recording")

Flavour = Literal["auto", "openai", "azure", "none"]

INSECURE_KEY_PREFIX = "openai-insecure-api-key."
BETA_SUBPROTOCOL = "openai-beta.realtime-v1"
AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com",
                       ".api.cognitive.microsoft.com")
CREDENTIAL_QUERY_KEYS = frozenset({"api-key", "authorization", "key", "token", "access_token"})
FORWARDED_HEADERS = ("openai-beta", "user-agent")
MAX_FRAME = 32 * 1024 * 1024
_SENDABLE_CLOSE = frozenset(range(3000, 5000)) | {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                                                   1014}


# -- pure helpers -------------------------------------------------------------------------------------------


def upstream_url(base: str, request_path: str) -> str:
    """``base`` (``wss://host[/prefix]``, ``https://`` accepted) + the client's path and query, minus any
    credential in the query (the proxy authenticates itself)."""
    b = urlsplit(base if "://" in base else "wss://" + base)
    scheme = {"https": "wss", "http": "ws"}.get(b.scheme, b.scheme)
    r = urlsplit(request_path)
    query = [(k, v) for k, v in parse_qsl(r.query, keep_blank_values=True) if k.lower() not in CREDENTIAL_QUERY_KEYS]
    path = b.path.rstrip("/") + (r.path if r.path.startswith("/") else "/" + r.path)
    return urlunsplit((scheme, b.netloc, path, urlencode(query), ""))


def resolve_flavour(flavour: Flavour, url: str) -> Literal["openai", "azure", "none"]:
    """``auto``: Azure for Azure hosts and ``/openai/…`` paths, otherwise OpenAI."""
    if flavour != "auto":
        return flavour
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.endswith(AZURE_HOST_SUFFIXES) or parts.path.startswith("/openai/"):
        return "azure"
    return "openai"


def auth_headers(flavour: Literal["openai", "azure", "none"], env: Mapping[str, str]) -> dict[str, str]:
    """Upstream credentials from the environment (never from the client)."""
    if flavour == "openai" and env.get("OPENAI_API_KEY"):
        return {"Authorization": f"Bearer {env['OPENAI_API_KEY']}"}
    if flavour == "azure" and env.get("AZURE_OPENAI_API_KEY"):
        return {"api-key": env["AZURE_OPENAI_API_KEY"]}
    return {}


def dialect_of(path: str, headers: Mapping[str, str], subprotocols: Sequence[str]) -> str:
    """``beta`` for the ``OpenAI-Beta: realtime=v1`` header, the beta subprotocol or the Azure preview path."""
    if headers.get("openai-beta", "").replace(" ", "").lower() == "realtime=v1" or BETA_SUBPROTOCOL in subprotocols:
        return "beta"
    route = urlsplit(path).path.rstrip("/")
    return "beta" if route in ("/openai/realtime", "/voice-live/realtime", "/voice-agent/realtime") else "ga"


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _offered(request: Request) -> list[str]:
    out: list[str] = []
    for value in request.headers.get_all("Sec-WebSocket-Protocol"):
        out += [p.strip() for p in value.split(",") if p.strip()]
    return out


def _free_path(path: Path, taken: set[Path]) -> Path:
    if not path.exists() and path not in taken:
        return path
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists() and candidate not in taken:
            return candidate
        n += 1


# -- the proxy -----------------------------------------------------------------------------------------------


@dataclass
class _Session:
    upstream: ClientConnection
    url: str
    dialect: str
    offered: list[str]
    headers: dict[str, str]
    started_mono: float
    started_at: float
    secrets: list[str] = field(default_factory=list)
    writer: tr.TranscriptWriter | None = None
    closed_by: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RecordingProxy:
    """Record every session a client opens through this proxy into a JSONL transcript.

    Args:
        upstream: base URL of the service, e.g. ``wss://api.openai.com`` or ``https://NAME.openai.azure.com``
            or a running mock (``ws://127.0.0.1:8000``); the client's path and query are appended.
        out_path: the transcript of the first session. Later sessions (and, unless ``overwrite``, an existing
            file) get ``NAME-2.jsonl``, ``NAME-3.jsonl``, …
        host, port: where to listen (loopback; ``port=0`` picks a free port, see :attr:`port`).
        flavour: how to authenticate upstream (``auto`` decides by host and path; ``none`` sends no key).
        meta: extra header fields (e.g. ``{"upstream": "mockrt"}``).
        env: where keys come from (default ``os.environ``).
        client_token: what clients must present as their key (default: a new random token, see
            :attr:`client_token`).
    """

    def __init__(self, upstream: str, out_path: str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 flavour: Flavour = "auto", meta: Mapping[str, Any] | None = None, overwrite: bool = False,
                 env: Mapping[str, str] | None = None, open_timeout: float = 15.0,
                 client_token: str | None = None) -> None:
        self.upstream = upstream
        self.out_path = Path(out_path)
        self.host = host
        self.port = port
        self.flavour = flavour
        self.meta = dict(meta or {})
        self.overwrite = overwrite
        self.env = os.environ if env is None else env
        self.open_timeout = open_timeout
        self.client_token = client_token or secrets.token_urlsafe(18)
        self.recordings: list[Path] = []
        self.active = 0
        self._sessions: dict[ServerConnection, _Session] = {}
        self._server: Server | None = None
        self._changed = threading.Condition()

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> RecordingProxy:
        self._server = await serve(
            self._handle, self.host, self.port, process_request=self._open_upstream,
            select_subprotocol=self._select_subprotocol, max_size=MAX_FRAME, compression=None,
            server_header=None,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for session in list(self._sessions.values()):
            await session.upstream.close()
            if session.writer is not None:
                session.writer.close()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def wait_recordings(self, count: int = 1, timeout: float = 10.0) -> list[Path]:
        """Block (from another thread) until ``count`` sessions have finished and their files are closed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.recordings) - self.active < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self.recordings) - self.active} recording(s) finished, wanted {count}")
                self._changed.wait(remaining)
            return list(self.recordings)

    # -- handshake ---------------------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        return [v for k in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY") if (v := self.env.get(k))]

    def _refusal(self, conn: ServerConnection, headers: Mapping[str, str], presented: Sequence[str]) -> Response | None:
        """403 for a foreign ``Origin``, 401 without the client token (compared in constant time)."""
        origin = headers.get("origin")
        if origin is not None and not _is_loopback(origin):
            logger.warning("refused a handshake from Origin %s", origin[:200])
            return conn.respond(http.HTTPStatus.FORBIDDEN, "mockrt record: only loopback origins may connect\n")
        token = self.client_token.encode()
        if not any(hmac.compare_digest(value.encode("utf-8", "surrogatepass"), token) for value in presented if value):
            return conn.respond(http.HTTPStatus.UNAUTHORIZED,
                                "mockrt record: present the client token printed at start as the API key\n")
        return None

    async def _open_upstream(self, conn: ServerConnection, request: Request) -> Response | None:
        url = upstream_url(self.upstream, request.path)
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        offered = _offered(request)
        presented = [p[len(INSECURE_KEY_PREFIX):] for p in offered if p.startswith(INSECURE_KEY_PREFIX)]
        presented += [headers.get("authorization", "").partition(" ")[2].strip(), headers.get("api-key", "")]
        presented += [v for k, v in parse_qsl(urlsplit(request.path).query) if k.lower() in CREDENTIAL_QUERY_KEYS]
        refused = self._refusal(conn, headers, presented)
        if refused is not None:
            return refused
        forward = [Subprotocol(p) for p in offered if not p.startswith(INSECURE_KEY_PREFIX)]
        extra = Headers(auth_headers(resolve_flavour(self.flavour, url), self.env))
        if "openai-beta" in headers:
            extra["OpenAI-Beta"] = headers["openai-beta"]
        # The client's secrets travel only as far as this proxy; redact them too in case the service echoes them.
        known_secrets = self._secrets() + presented
        loop = asyncio.get_running_loop()
        started_mono, started_at = loop.time(), time.time()
        dialect = dialect_of(request.path, headers, offered)
        try:
            upstream = await connect(
                url, additional_headers=extra, subprotocols=forward or None, compression=None, max_size=MAX_FRAME,
                user_agent_header=headers.get("user-agent", USER_AGENT), open_timeout=self.open_timeout,
                proxy=None if _is_loopback(url) else True,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
            writer = self._new_writer(url, dialect, started_at, None, headers)
            writer.write(tr.rejected_line(loop.time() - started_mono, status, tr.redact_text(body, known_secrets)))
            writer.close()
            self._finished()
            logger.info("upstream refused the handshake: HTTP %s", status)
            reply = conn.respond(http.HTTPStatus(status), body)
            for name in ("Retry-After", "Content-Type"):
                if name in exc.response.headers:
                    reply.headers[name] = exc.response.headers[name]
            return reply
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            logger.warning("cannot reach %s: %r", tr.redact_url(url), exc)
            return conn.respond(http.HTTPStatus.BAD_GATEWAY, f"mockrt record: cannot reach upstream: {exc}\n")
        self._sessions[conn] = _Session(upstream, url, dialect, offered, headers, started_mono, started_at,
                                        known_secrets)
        return None

    def _select_subprotocol(self, conn: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        session = self._sessions.get(conn)
        chosen = session.upstream.subprotocol if session is not None else None
        return chosen if chosen in offered else None

    def _new_writer(self, url: str, dialect: str, started_at: float, subprotocol: str | None,
                    headers: Mapping[str, str]) -> tr.TranscriptWriter:
        with self._changed:
            path = self.out_path if (not self.recordings and self.overwrite) else _free_path(self.out_path,
                                                                                          set(self.recordings))
            self.recordings.append(path)
            self.active += 1
        head = tr.header(url, dialect, started_at, subprotocol=subprotocol, client=headers.get("user-agent"),
                         recorder="mockrt record", **self.meta)
        return tr.TranscriptWriter(path, head)

    def _finished(self) -> None:
        with self._changed:
            self.active -= 1
            self._changed.notify_all()

    # -- piping ------------------------------------------------------------------------------------------

    async def _handle(self, client: ServerConnection) -> None:
        session = self._sessions.get(client)
        if session is None:  # pragma: no cover - process_request always registers or rejects
            return
        known = session.secrets
        loop = asyncio.get_running_loop()
        session.writer = writer = self._new_writer(session.url, session.dialect, session.started_at,
                                                   session.upstream.subprotocol, session.headers)
        logger.info("recording %s -> %s", tr.redact_url(session.url), writer.path)

        def record(direction: str, message: str | bytes) -> None:
            writer.write(tr.frame_line(loop.time() - session.started_mono, direction, message, known))

        async def pipe(src: ServerConnection | ClientConnection, dst: ServerConnection | ClientConnection,
                       direction: str) -> None:
            with contextlib.suppress(ConnectionClosed):
                async for message in src:
                    record(direction, message)
                    try:
                        await dst.send(message)
                    except ConnectionClosed:
                        return  # the other side closed first: its pipe records that and closes this side
            code, reason = src.close_code, src.close_reason or ""
            if session.closed_by is None:
                session.closed_by = direction
                writer.write(tr.close_line(loop.time() - session.started_mono, direction, code, reason))
            await _close(dst, code, reason)

        try:
            # Upstream first: what it sent during the client's handshake (session.created) is already buffered.
            tasks = [asyncio.create_task(pipe(session.upstream, client, "server")),
                     asyncio.create_task(pipe(client, session.upstream, "client"))]
            await asyncio.gather(*tasks)
        finally:
            self._sessions.pop(client, None)
            writer.close()
            self._finished()
            logger.info("recorded %d lines to %s", writer.lines, writer.path)


async def _close(conn: ServerConnection | ClientConnection, code: int | None, reason: str) -> None:
    """Close the other side like the first side closed: same code and reason, or an abrupt drop for 1006."""
    if code == 1006 or code is None:
        conn.transport.abort()
        return
    with contextlib.suppress(ConnectionClosed, OSError):
        await conn.close(code if code in _SENDABLE_CLOSE else 1000, reason)


class ProxyThread:
    """A :class:`RecordingProxy` on its own thread and event loop (for synchronous tests and clients).

    Example::

        with ProxyThread(RecordingProxy(server.ws_url, tmp_path / "s.jsonl")) as proxy:
            client = OpenAI(base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key="sk-anything")
            ...
        proxy.proxy.recordings
    """

    def __init__(self, proxy: RecordingProxy) -> None:
        self.proxy = proxy
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mockrt-record", daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    def start(self, timeout: float = 10.0) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop).result(timeout)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> ProxyThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
