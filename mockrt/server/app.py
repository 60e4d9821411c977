"""The Starlette application: WebSocket endpoints, REST token endpoints, health (docs/protocol.md §1).

Everything protocol-shaped is decided by :mod:`mockrt.server.handshake` and :mod:`mockrt.core`; this module
only wires requests to them.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from mockrt.config import ServerConfig
from mockrt.core import errors
from mockrt.core.ids import IdGenerator
from mockrt.core.model import SessionConfig, TurnDetection
from mockrt.inspector import endpoints as inspector
from mockrt.server import admin, calls_http, handshake, live, live_calls, sip, translations
from mockrt.server.auth import AdminAuth, login
from mockrt.server.connection import Connection
from mockrt.server.deadline import loop_clock
from mockrt.server.policy import ADMIN_PREFIX, RequestPolicy, is_loopback_host
from mockrt.server.rest_errors import error_response, protocol_error_response
from mockrt.server.state import MockState

REALTIME_PATHS = ("/v1/realtime", "/openai/v1/realtime", "/openai/realtime", *handshake.VOICE_LIVE_PATHS)
SESSION_PATHS = (*REALTIME_PATHS, *translations.TRANSLATION_PATHS)


def _query(ws_or_req: WebSocket | Request) -> dict[str, str]:
    return dict(ws_or_req.query_params)


def _headers(ws_or_req: WebSocket | Request) -> dict[str, str]:
    return {k.lower(): v for k, v in ws_or_req.headers.items()}


async def realtime_endpoint(ws: WebSocket) -> None:
    state: MockState = ws.app.state.mock
    cfg = state.config
    refusal = state.take_refusal()
    if refusal is not None:  # an injected fault: refuse the handshake like an overloaded or strict service
        headers = {"Retry-After": str(refusal["retry_after"])} if "retry_after" in refusal else {}
        await ws.send_denial_response(error_response(int(refusal["status"]), "Injected fault: handshake refused.",
                                                     f"http_{refusal['status']}", headers=headers))
        return
    if "call_id" in ws.query_params:  # the sideband of a WebRTC or SIP call (§11)
        await calls_http.sideband(ws, ws.query_params["call_id"])
        return
    subprotocols = list(ws.scope.get("subprotocols") or [])
    hs = handshake.resolve(
        ws.url.path, _query(ws), _headers(ws), subprotocols, state.keys, time.time(),
        known_models=cfg.known_models, beta_retired=cfg.beta_retired,
    )
    if hs.http_status is not None:
        await ws.send_denial_response(Response(status_code=hs.http_status))
        return
    await ws.accept(subprotocol=hs.subprotocol)
    dialect = state.dialects[(hs.flavour, hs.dialect)]
    if hs.fatal is not None:
        error = {"type": "error", "event_id": IdGenerator().event(), "error": hs.fatal.to_error_object(None)}
        await ws.send_text(json.dumps(error))
        await ws.close(hs.close_code, errors.close_reason(hs.fatal))
        return
    loop = asyncio.get_running_loop()
    session, record = state.new_session(hs, dialect, ws.url.path, ws.headers.get("user-agent", ""), loop.time())
    connection = Connection(ws, session, loop_clock(loop), cfg.max_send_buffer, cfg.send_timeout_s, state.mcp_executor)
    record.connection = connection
    try:
        await connection.run()
    finally:
        state.registry.close(record, connection.close_code)


# -- REST: ephemeral tokens (§1.6) ------------------------------------------------------------------------


async def _authorized_json(request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
    state: MockState = request.app.state.mock
    cred = handshake.find_credential(_headers(request), _query(request), ())
    if not state.keys.standard_ok(cred.key):
        err = errors.invalid_api_key(cred.key) if cred.key else errors.missing_auth()
        return None, protocol_error_response(401, err)
    try:
        body = await request.json() if await request.body() else {}
    except ValueError as exc:
        return None, protocol_error_response(400, errors.invalid_json(str(exc)))
    if not isinstance(body, dict):
        return None, protocol_error_response(400, errors.not_an_object())
    return body, None


async def client_secrets(request: Request) -> Response:
    """GA ``POST /v1/realtime/client_secrets`` (and Azure ``/openai/v1/...``)."""
    state: MockState = request.app.state.mock
    body, failure = await _authorized_json(request)
    if failure is not None or body is None:
        return failure or protocol_error_response(400, errors.not_an_object())
    dialect = state.dialects[("openai", "ga")]
    try:
        for key in body:
            if key not in ("expires_after", "session"):
                raise errors.unknown_parameter(key)
        seconds = 600
        if "expires_after" in body:
            from mockrt.core.schema import Const, Int, Obj

            ea = Obj({"anchor": Const("created_at"), "seconds": Int(10, 7200)}).check(body["expires_after"],
                                                                                     "expires_after")
            seconds = ea.get("seconds", 600)
        base = SessionConfig(model="gpt-realtime")
        cfg = dialect.parse_session_request(body.get("session", {"type": "realtime"}), base)
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    now = int(time.time())
    value = state.keys.mint(now + seconds, cfg, "ga", now)
    session = dialect.render_session(cfg, state.rest_ids.session(), 0)
    return JSONResponse({"value": value, "expires_at": now + seconds, "session": session})


async def translation_client_secrets(request: Request) -> Response:
    """``POST /v1/realtime/translations/client_secrets`` (§10): :mod:`mockrt.server.translations`."""
    body, failure = await _authorized_json(request)
    if failure is not None or body is None:
        return failure or protocol_error_response(400, errors.not_an_object())
    return translations.client_secret(request.app.state.mock, body)


async def beta_sessions(request: Request) -> Response:
    """Beta ``POST /v1/realtime/sessions`` / ``transcription_sessions`` and Azure preview sessions (§1.6)."""
    state: MockState = request.app.state.mock
    body, failure = await _authorized_json(request)
    if failure is not None or body is None:
        return failure or protocol_error_response(400, errors.not_an_object())
    beta = state.dialects[("openai", "beta")]
    transcription = request.url.path.endswith("transcription_sessions")
    try:
        if transcription:
            base = SessionConfig(kind="transcription", model=None,
                                 turn_detection=TurnDetection(create_response=False, interrupt_response=False))
            cfg = beta.parse_session_request(body, base) if body else base
        else:
            cfg = beta.parse_session_request(body, SessionConfig(model=body.get("model", "gpt-realtime")))
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    now = int(time.time())
    ttl = 60
    value = state.keys.mint(now + ttl, cfg, "beta", now)
    obj = beta.render_session(cfg, state.rest_ids.session(), now + 1800)
    obj["client_secret"] = {"value": value, "expires_at": now + ttl}
    return JSONResponse(obj)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


class KeepServerSend:
    """Keep the ASGI server's own ``send`` in the scope: the abrupt-drop fault needs the transport behind it
    (ASGI has no "abort"), and Starlette's exception handling wraps ``send`` before the endpoint sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope["mockrt.server_send"] = send
        await self.app(scope, receive, send)


class AdmitSessions:
    """``--max-sessions``: a WebSocket handshake on a realtime path beyond the limit is refused with HTTP 503,
    ``Retry-After: 1`` and the service's error body, the way an overloaded service refuses before the upgrade
    (SECURITY.md). The place is held until the endpoint returns."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").rstrip("/")
        if scope["type"] != "websocket" or (path not in SESSION_PATHS and not live.is_live_path(path)):
            await self.app(scope, receive, send)
            return
        state: MockState = scope["app"].state.mock
        if not state.admit():
            await receive()  # websocket.connect
            refusal = error_response(503, f"Too many concurrent sessions (--max-sessions "
                                          f"{state.config.max_sessions}).", "server_overloaded",
                                     type="server_error", headers={"Retry-After": "1"})
            await refusal(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            state.release()


def create_app(config: ServerConfig | None = None) -> Starlette:
    """The ASGI app for ``config`` (defaults: any key, seeded ids, live-like pacing)."""
    config = config or ServerConfig()
    routes: list[BaseRoute] = [WebSocketRoute(p, realtime_endpoint) for p in REALTIME_PATHS]
    routes += [WebSocketRoute(p, translations.translation_endpoint) for p in translations.TRANSLATION_PATHS]
    routes += [
        Route("/healthz", healthz),
        Route("/v1/realtime/client_secrets", client_secrets, methods=["POST"]),
        Route("/openai/v1/realtime/client_secrets", client_secrets, methods=["POST"]),
        Route("/v1/realtime/translations/client_secrets", translation_client_secrets, methods=["POST"]),
        Route("/v1/realtime/sessions", beta_sessions, methods=["POST"]),
        Route("/v1/realtime/transcription_sessions", beta_sessions, methods=["POST"]),
        Route("/openai/realtimeapi/sessions", beta_sessions, methods=["POST"]),
        *calls_http.routes,
    ]
    routes += live_calls.routes + live.routes  # GPT-Live (docs/protocol.md §13; its SIP calls: §13.8)
    routes += [
        Mount(f"{ADMIN_PREFIX}/static", app=inspector.static_files(), name="static"),
        Route(f"{ADMIN_PREFIX}/login", login, methods=["POST"]),
        Mount(ADMIN_PREFIX, routes=admin.routes + inspector.routes + sip.admin_routes, middleware=[
            Middleware(AdminAuth), Middleware(GZipMiddleware, minimum_size=inspector.GZIP_ABOVE,
                                                   compresslevel=inspector.GZIP_LEVEL)]),
    ]
    policy = Middleware(RequestPolicy, allowed_hosts=config.allowed_hosts, allowed_origins=config.allowed_origins,
                        max_body_bytes=config.max_body_bytes, check_host=is_loopback_host(config.host))
    app = Starlette(routes=routes, middleware=[policy, Middleware(AdmitSessions), Middleware(KeepServerSend)])
    app.state.mock = MockState(config)
    return app
