"""The REST face of calls (docs/protocol.md §11): ``POST /v1/realtime/calls`` (WebRTC offer → answer) and
``/v1/realtime/calls/{call_id}/accept|reject|refer|hangup``; the sideband WebSocket (``?call_id=``); the admin
API's simulated SIP call (``POST /_mockrt/calls``) and the caller's recorded audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket, WebSocketDisconnect

from mockrt.core import errors
from mockrt.core.ids import IdGenerator
from mockrt.core.model import SessionConfig
from mockrt.server import handshake, sip, webrtc
from mockrt.server.calls import Call, QueueChannel, new_call_id
from mockrt.server.rest_errors import error_response, protocol_error_response
from mockrt.server.state import MockState

SDP = "application/sdp"


def _state(request: Request | WebSocket) -> MockState:
    state: MockState = request.app.state.mock
    return state


def _credential(request: Request | WebSocket) -> str | None:
    headers = {k.lower(): v for k, v in request.headers.items()}
    return handshake.find_credential(headers, dict(request.query_params), ()).key


def _unauthorized(key: str | None) -> JSONResponse:
    return protocol_error_response(401, errors.invalid_api_key(key) if key else errors.missing_auth())


def start_session(state: MockState, call: Call, config: SessionConfig, path: str, user_agent: str) -> None:
    """The call's one session, in the GA dialect, registered (journal, inspector) like any WebSocket session."""
    hs = handshake.Handshake("openai", "ga", config.model or "gpt-realtime", "realtime", None,
                             initial_config=config)
    loop = asyncio.get_running_loop()
    session, record = state.new_session(hs, state.dialects[("openai", "ga")], path, user_agent, loop.time(),
                                        call=True)

    async def close_record() -> None:
        state.registry.close(record, 1000)

    call.on_end.insert(0, close_record)  # the journal closes with the call, before transports take time to release
    call.start(session, record, state.mcp_executor)


async def _offer(request: Request) -> tuple[str, dict[str, Any] | None]:
    """The SDP offer and the optional session config, from either form the service takes."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == SDP:
        return (await request.body()).decode("utf-8", "replace"), None
    if media == "multipart/form-data":
        form = await request.form()
        sdp = form.get("sdp")
        if sdp is None:
            raise errors.missing_required_parameter("sdp")
        text = sdp if isinstance(sdp, str) else (await sdp.read()).decode("utf-8", "replace")
        raw = form.get("session")
        if raw is None:
            return text, None
        raw_text = raw if isinstance(raw, str) else (await raw.read()).decode("utf-8", "replace")
        try:
            session = json.loads(raw_text)
        except ValueError as exc:
            raise errors.invalid_json(str(exc)[:200]) from None
        if not isinstance(session, dict):
            raise errors.not_an_object()
        return text, session
    raise errors.sdp_content_type(media or "none")


async def create_call(request: Request) -> Response:
    """``POST /v1/realtime/calls``: 201, the SDP answer, ``Location: /v1/realtime/calls/{call_id}`` (§11)."""
    state = _state(request)
    key = _credential(request)
    token = state.keys.ephemeral(key, time.time()) if key else None
    token_cfg = token if isinstance(token, SessionConfig) else None  # a translation secret opens no call (§10)
    if token_cfg is None and not state.keys.standard_ok(key):
        return _unauthorized(key)
    if not webrtc.available():
        return error_response(501, "WebRTC needs the 'calls' extra (aiortc).", "not_implemented")
    ga = state.dialects[("openai", "ga")]
    try:
        sdp, session_body = await _offer(request)
        webrtc.check_offer(sdp)
        base = copy.deepcopy(token_cfg) if token_cfg is not None else SessionConfig(model="gpt-realtime")
        config = ga.parse_session_request(session_body, base) if session_body is not None else base
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    call = state.calls.add(Call(new_call_id(state.rest_ids), "webrtc", int(time.time())))
    try:
        answer = await webrtc.answer(call, sdp)
    except errors.ProtocolError as err:
        await call.end("bad offer")
        return protocol_error_response(400, err)
    start_session(state, call, config, request.url.path, request.headers.get("user-agent", ""))
    return Response(answer, status_code=201, media_type=SDP,
                    headers={"Location": f"/v1/realtime/calls/{call.id}", **_cors(request)})


def _cors(request: Request) -> dict[str, str]:
    """A browser page calls ``/v1/realtime/calls`` cross-origin (its own origin, an ephemeral key): the answer
    names the origin (the request policy already refused origins that are not allowed) and exposes ``Location``."""
    origin = request.headers.get("origin")
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Location",
            "Vary": "Origin"} if origin else {}


async def preflight(request: Request) -> Response:
    """CORS preflight of a browser's offer (``Content-Type: application/sdp`` is not a simple request)."""
    headers = _cors(request)
    if headers:
        headers |= {"Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": "authorization, content-type",
                    "Access-Control-Max-Age": "600"}
    return Response(status_code=204, headers=headers)


async def _control(request: Request, *, pending: bool = False) -> tuple[MockState, Call, dict[str, Any]] | Response:
    """Auth, the call by its ``call_id``, the JSON body (possibly empty) of a call control request (``pending``:
    the call must still be ringing)."""

    def by_id(state: MockState) -> Call | Response:
        call_id = request.path_params["call_id"]
        call = state.calls.get(call_id)
        return call if call is not None else protocol_error_response(404, errors.call_not_found(call_id))

    return await control(request, by_id, pending=pending)


async def control(request: Request, find: Callable[[MockState], Call | Response], *, pending: bool = False
                  ) -> tuple[MockState, Call, dict[str, Any]] | Response:
    """A call control request (Realtime §11, Live §13.8): auth, the call ``find`` names (or its error), the JSON
    body (possibly empty); with ``pending`` (accept, reject) the call must still be ringing."""
    state = _state(request)
    key = _credential(request)
    if not state.keys.standard_ok(key):
        return _unauthorized(key)
    call = find(state)
    if isinstance(call, Response):
        return call
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return protocol_error_response(400, errors.invalid_json(str(exc)[:200]))
    if not isinstance(body, dict):
        return protocol_error_response(400, errors.not_an_object())
    if pending and (call.status != "incoming" or call.ended.is_set()):
        err = errors.call_ended(call.id) if call.status == "ended" else errors.call_not_pending(call.id, call.status)
        return protocol_error_response(400, err)
    return state, call, body


async def accept_call(request: Request) -> Response:
    """Accept a ringing SIP call with the session config (the GA session object, ``type: realtime``)."""
    found = await _control(request, pending=True)
    if isinstance(found, Response):
        return found
    state, call, body = found
    try:
        config = state.dialects[("openai", "ga")].parse_session_request(body, SessionConfig(model="gpt-realtime"))
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    start_session(state, call, config, request.url.path, request.headers.get("user-agent", ""))
    sip.answered(state, call)
    return Response(status_code=200)


async def reject_call(request: Request) -> Response:
    found = await _control(request, pending=True)
    if isinstance(found, Response):
        return found
    _, call, body = found
    status = body.get("status_code", 603)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 699:
        return protocol_error_response(400, errors.ProtocolError(
            "Invalid 'status_code': expected a SIP final response code between 400 and 699.", "invalid_value",
            "status_code"))
    call.sip["rejected_with"] = status
    await call.end(f"rejected with SIP {status}", status="rejected")
    return Response(status_code=200)


async def refer_call(request: Request) -> Response:
    found = await _control(request)
    return found if isinstance(found, Response) else await refer(found[1], found[2])


async def hangup_call(request: Request) -> Response:
    found = await _control(request)
    return found if isinstance(found, Response) else await hangup(found[1])


async def refer(call: Call, body: dict[str, Any]) -> Response:
    """``refer``: the call is transferred to ``target_uri`` and ends here (§11; Live calls too, §13.8)."""
    if call.ended.is_set():
        return protocol_error_response(400, errors.call_ended(call.id))
    target = body.get("target_uri")
    if not isinstance(target, str) or not target.strip():
        return protocol_error_response(400, errors.missing_required_parameter("target_uri"))
    call.sip["referred_to"] = target
    await call.end(f"referred to {target}", status="referred")
    return Response(status_code=200)


async def hangup(call: Call) -> Response:
    """``hangup``: the application ends the call (§11; Live calls too, §13.8)."""
    if call.ended.is_set():
        return protocol_error_response(400, errors.call_ended(call.id))
    await call.end("hung up by the application")
    return Response(status_code=200)


async def sideband(ws: WebSocket, call_id: str) -> None:
    """``wss …/v1/realtime?call_id=…``: one more control connection to a live call's session (§11). It sees every
    event the session sends from now on; what it sends goes into the same session."""
    state = _state(ws)
    key = _credential(ws)
    if not state.keys.standard_ok(key):
        await ws.send_denial_response(_unauthorized(key))
        return
    call = state.calls.get(call_id)
    subprotocols = list(ws.scope.get("subprotocols") or [])
    await ws.accept(subprotocol="realtime" if "realtime" in subprotocols else None)
    if call is None or not call.live:
        err = errors.call_not_found(call_id) if call is None else errors.call_ended(call_id)
        event = {"type": "error", "event_id": IdGenerator().event(), "error": err.to_error_object(None)}
        await ws.send_text(json.dumps(event))
        await ws.close(4000 if call is None else 1000, err.message[:120])
        return
    channel = QueueChannel()
    call.attach(channel)

    async def write() -> None:
        while True:
            item = await channel.queue.get()
            if isinstance(item, tuple):
                await ws.close(*item)
                return
            await ws.send_text(item)

    writer = asyncio.get_running_loop().create_task(write())
    try:
        while not call.ended.is_set():
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is not None:
                call.receive_text(message["text"])
            else:
                call.receive_bytes(message.get("bytes") or b"")
    except WebSocketDisconnect:
        pass
    finally:
        call.detach(channel)
        if not writer.done():
            channel.close(1000, "")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 2.0)
            writer.cancel()


routes = [
    Route("/v1/realtime/calls", create_call, methods=["POST"]),
    Route("/openai/v1/realtime/calls", create_call, methods=["POST"]),
    Route("/v1/realtime/calls", preflight, methods=["OPTIONS"]),
    Route("/openai/v1/realtime/calls", preflight, methods=["OPTIONS"]),
    Route("/v1/realtime/calls/{call_id}/accept", accept_call, methods=["POST"]),
    Route("/v1/realtime/calls/{call_id}/reject", reject_call, methods=["POST"]),
    Route("/v1/realtime/calls/{call_id}/refer", refer_call, methods=["POST"]),
    Route("/v1/realtime/calls/{call_id}/hangup", hangup_call, methods=["POST"]),
]
