"""Translation sessions over HTTP and WebSocket (docs/protocol.md §10).

``wss /v1/realtime/translations?model=gpt-realtime-translate`` opens a
:class:`~mockrt.core.translation.TranslationSession`, driven by the same transport loop as realtime sessions
(:class:`~mockrt.server.connection.Connection`); ``POST /v1/realtime/translations/client_secrets`` mints an
ephemeral key in the same key table as ``/v1/realtime/client_secrets`` (§1.6), which opens translation sessions
only (and a realtime key opens no translation session).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from mockrt.core import errors
from mockrt.core.dialects.translation import Translation
from mockrt.core.ids import IdGenerator
from mockrt.core.model import TranslationConfig
from mockrt.core.schema import Const, Int, Obj
from mockrt.core.translation import Interpreter, PlaceholderInterpreter, TranslationOptions, TranslationSession
from mockrt.core.turn_taking import VadOptions
from mockrt.scenarios.script import ScriptedInterpreter
from mockrt.server import handshake
from mockrt.server.connection import Connection
from mockrt.server.deadline import loop_clock
from mockrt.server.registry import SessionRecord
from mockrt.server.rest_errors import protocol_error_response
from mockrt.server.state import MockState

TRANSLATION_PATHS = ("/v1/realtime/translations",)
"""The WebSocket path (§10 [D]); the docs give no Azure path."""
DIALECT = Translation()


@dataclass(frozen=True)
class TranslationHandshake:
    """The outcome of a translation upgrade request: a model and config, or a fatal error (§1.4 forms)."""

    model: str
    config: TranslationConfig | None = None
    fatal: errors.ProtocolError | None = None
    close_code: int = 0


def resolve(query: Mapping[str, str], headers: Mapping[str, str], subprotocols: list[str],
            keys: handshake.KeyChecker, now_unix: float) -> TranslationHandshake:
    """Auth and model of a translation handshake: like a GA realtime handshake (§1.3, §1.4), with the
    translation models and translation client secrets (§10)."""
    cred = handshake.find_credential(headers, query, subprotocols)
    token = keys.ephemeral(cred.key, now_unix)
    token_cfg = token if isinstance(token, TranslationConfig) else None
    model = query.get("model") or (token_cfg.model if token_cfg is not None else "")
    base = TranslationHandshake(model, token_cfg)
    if cred.key is None and not keys.open:
        return TranslationHandshake(model, fatal=errors.missing_auth(), close_code=3000)
    if token is not None and token_cfg is None and not keys.standard_ok(cred.key):
        return TranslationHandshake(model, fatal=errors.translation_wrong_key(), close_code=3000)
    if not keys.standard_ok(cred.key) and token_cfg is None:
        return TranslationHandshake(model, fatal=errors.invalid_api_key(cred.key or ""), close_code=3000)
    if not model:
        return TranslationHandshake(model, fatal=errors.missing_model(), close_code=4000)
    if model not in DIALECT.models:
        return TranslationHandshake(model, fatal=errors.invalid_model(model), close_code=4000)
    return base


def interpreter(state: MockState) -> Interpreter:
    """The loaded scenario's translations, or the placeholder."""
    return ScriptedInterpreter(state.scenario) if state.scenario is not None else PlaceholderInterpreter()


async def translation_endpoint(ws: WebSocket) -> None:
    state: MockState = ws.app.state.mock
    cfg = state.config
    subprotocols = list(ws.scope.get("subprotocols") or [])
    headers = {k.lower(): v for k, v in ws.headers.items()}
    hs = resolve(dict(ws.query_params), headers, subprotocols, state.keys, time.time())
    await ws.accept(subprotocol="realtime" if "realtime" in subprotocols else None)
    if hs.fatal is not None:
        error = {"type": "error", "event_id": IdGenerator().event(), "error": hs.fatal.to_error_object(None)}
        await ws.send_text(json.dumps(error))
        await ws.close(hs.close_code, errors.close_reason(hs.fatal))
        return
    loop = asyncio.get_running_loop()
    initial = TranslationConfig(**vars(hs.config)) if hs.config is not None else None
    options = TranslationOptions(
        dialect=DIALECT, model=hs.model, seed=state.session_seed(), interpreter=interpreter(state),
        vad=VadOptions(detector=cfg.vad, end_includes_silence=cfg.vad_end_includes_silence),
        initial_config=initial, max_duration_s=cfg.max_session_s, created_at=int(time.time()))
    session = TranslationSession(options, loop.time())
    record = SessionRecord(session.session_id, DIALECT.name, "openai", hs.model, ws.url.path,
                           ws.headers.get("user-agent", ""), time.time(), loop.time())
    options.on_event = state.registry.recorder(record)
    state.registry.open(record)
    connection = Connection(ws, session, loop_clock(loop), cfg.max_send_buffer, cfg.send_timeout_s)
    record.connection = connection
    try:
        await connection.run()
    finally:
        state.registry.close(record, connection.close_code)


_EXPIRES_AFTER = Obj({"anchor": Const("created_at"), "seconds": Int(10, 7200)})


def client_secret(state: MockState, body: dict[str, Any]) -> Response:
    """``POST /v1/realtime/translations/client_secrets`` (its body already authorized and parsed by
    ``server/app.py``): an ``ek_`` key and the effective translation session
    (``RealtimeTranslationClientSecretCreateResponse``); the same key table, TTL rules and errors as
    ``/v1/realtime/client_secrets`` (§1.6, §10)."""
    try:
        for key in body:
            if key not in ("expires_after", "session"):
                raise errors.unknown_parameter(key)
        if "session" not in body:
            raise errors.missing_required_parameter("session")
        seconds = 600
        if "expires_after" in body:
            seconds = _EXPIRES_AFTER.check(body["expires_after"], "expires_after").get("seconds", 600)
        config = DIALECT.parse_translation_request(body["session"])
    except errors.ProtocolError as err:
        return protocol_error_response(400, err)
    now = int(time.time())
    value = state.keys.mint(now + seconds, config, DIALECT.name, now)
    session = DIALECT.render_translation_session(config, state.rest_ids.session(), 0)
    return JSONResponse({"value": value, "expires_at": now + seconds, "session": session})
