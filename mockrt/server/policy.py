"""Who may talk to the server at all: the ``Host`` / ``Origin`` policy, admin content types and body sizes.

One pure ASGI middleware, outermost, for HTTP and WebSocket scopes alike (SECURITY.md):

* **Host** (DNS rebinding): on a loopback bind only ``localhost``, ``127.0.0.1`` and ``[::1]`` (any port) and the
  ``--allowed-host`` values are accepted; anything else gets 403 on every route, WebSocket upgrades included
  (an HTTP 403 through the ASGI ``websocket.http.response`` extension, so a client sees the status).
* **Origin** (cross-site pages): a WebSocket upgrade or a state-changing request (not GET/HEAD/OPTIONS) with an
  ``Origin`` that is not loopback is refused with 403 unless listed with ``--allow-origin`` (``*`` only when
  named). No ``Origin`` at all (SDKs, curl) is fine.
* **Content type**: admin writes (``POST``/``PUT`` under ``/_mockrt/``) need ``application/json`` (or a YAML media
  type for a scenario), which no cross-site HTML form can send without a CORS preflight mockrt never grants.
* **Body size**: request bodies are counted while they are read; beyond ``--max-body-bytes`` the request is
  answered with 413 and the application sees a disconnect.

Refusals use the service's error object (:mod:`mockrt.server.rest_errors`, docs/protocol.md §6.1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockrt.server.rest_errors import error_response

ADMIN_PREFIX = "/_mockrt"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
FORM_ROUTES = frozenset({f"{ADMIN_PREFIX}/login"})
"""Admin routes a same-origin HTML form may post to (the inspector's login: it only sets a cookie)."""
SCENARIO_ROUTE = f"{ADMIN_PREFIX}/scenario"


def is_loopback_host(host: str) -> bool:
    """``True`` for the names and addresses that only reach this machine (the bind address check)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, str | None]:
    """``Host`` header → (lower-case name without brackets, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else None
    name, sep, port = value.rpartition(":")
    if not sep or ":" in name:  # no port, or a bare IPv6 address
        return value, None
    return name, port


class RequestPolicy:
    """The ASGI middleware (see the module docstring). ``check_host`` is off for non-loopback binds unless
    ``allowed_hosts`` are named (the admin token protects those binds instead)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = (),
                 max_body_bytes: int = 1024 * 1024, check_host: bool = True) -> None:
        self.app = app
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        self.max_body_bytes = max_body_bytes
        self.check_host = check_host or bool(self.allowed_hosts)

    # -- the rules (pure) ---------------------------------------------------------------------------------------

    def host_ok(self, host: str | None) -> bool:
        if not self.check_host:
            return True
        if not host:
            return False  # HTTP/1.1 requires Host; a request without one is not from a real client
        name, port = split_host(host)
        if name in LOOPBACK_NAMES:
            return True
        return name in self.allowed_hosts or (port is not None and f"{name}:{port}" in self.allowed_hosts)

    def origin_ok(self, origin: str | None) -> bool:
        if origin is None:
            return True
        value = origin.strip().rstrip("/").lower()
        if "*" in self.allowed_origins or value in self.allowed_origins:
            return True
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_NAMES

    def refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str] | None:
        """``(status, message, code)`` when the request must be refused, else ``None``."""
        if not self.host_ok(headers.get("host")):
            return 403, "Host not allowed (mockrt accepts loopback names and --allowed-host).", "host_not_allowed"
        origin = headers.get("origin")
        method = scope.get("method", "GET")
        if (scope["type"] == "websocket" or method not in SAFE_METHODS) and not self.origin_ok(origin):
            return 403, "Origin not allowed (mockrt accepts loopback origins and --allow-origin).", \
                "origin_not_allowed"
        path: str = scope.get("path", "")
        if scope["type"] == "http" and method in ("POST", "PUT", "PATCH") and path.startswith(ADMIN_PREFIX + "/") \
                and path not in FORM_ROUTES:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            allowed = JSON_TYPES | YAML_TYPES if path == SCENARIO_ROUTE else JSON_TYPES
            if media not in allowed:
                return 415, f"Admin writes need Content-Type {' or '.join(sorted(allowed))}.", \
                    "unsupported_media_type"
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return 413, f"Request body larger than {self.max_body_bytes} bytes.", "request_too_large"
        return None

    # -- ASGI ----------------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refused = self.refusal(scope, headers)
        if refused is not None:
            await self._deny(scope, receive, send, *refused)
            return
        if scope["type"] == "http":
            await self._capped(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _deny(self, scope: Scope, receive: Receive, send: Send, status: int, message: str,
                    code: str) -> None:
        response: Response = error_response(status, message, code)
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send({"type": "websocket.close", "code": 1008})  # servers answer a close before accept: 403
                return
        await response(scope, receive, send)

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the body while the app reads it; beyond the cap answer 413 and hand the app a disconnect."""
        cap = self.max_body_bytes
        seen = 0
        refused = False
        started = False

        async def capped_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    refused = True
                    if not started:
                        await error_response(413, f"Request body larger than {cap} bytes.",
                                             "request_too_large")(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # the app saw the disconnect we handed it (Starlette raises ClientDisconnect); the 413 went out
