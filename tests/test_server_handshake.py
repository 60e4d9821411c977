"""Endpoints, dialect selection, auth and framing over real sockets (docs/protocol.md §1.1–§1.8)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mockrt.config import ServerConfig
from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event

KEY = "sk-test-key-1234567890"


def _recv(ws: ClientConnection, dialect: str = "ga") -> dict[str, Any]:
    event: dict[str, Any] = json.loads(ws.recv(timeout=10))
    validate_server_event(event, dialect)
    return event


def _closed_with(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=10)
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


def test_healthz(server: ServerThread) -> None:
    assert httpx.get(server.http_url + "/healthz").status_code == 200


@pytest.mark.parametrize(
    ("headers", "subprotocols", "code", "message", "reason"),
    [
        ({"Authorization": "Bearer sk-wrong-key-abcdefghijk"}, None, "invalid_api_key",
         "Incorrect API key provided: sk-wrong**********hijk. You can find your API key at "
         "https://platform.openai.com/account/api-keys.", "invalid_request_error.invalid_api_key"),
        ({}, None, None, "Missing bearer or basic authentication in header", "invalid_request_error"),
        ({}, ["realtime", "openai-insecure-api-key.sk-nope-nope-nope-1"], "invalid_api_key", None,
         "invalid_request_error.invalid_api_key"),
    ],
)
def test_openai_auth_failures_send_an_error_then_close_3000(
    keyed_server: ServerThread, headers: dict[str, str], subprotocols: list[str] | None, code: str | None,
    message: str | None, reason: str,
) -> None:
    with connect(keyed_server.ws_url + "/v1/realtime?model=gpt-realtime", additional_headers=headers,
                 subprotocols=subprotocols) as ws:  # type: ignore[arg-type]
        err = _recv(ws)["error"]
        assert err["code"] == code and err["event_id"] is None
        if message:
            assert err["message"] == message
        assert _closed_with(ws) == (3000, reason)


def test_valid_key_in_header_or_subprotocol(keyed_server: ServerThread) -> None:
    with connect(keyed_server.ws_url + "/v1/realtime?model=gpt-realtime",
                 additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
        assert _recv(ws)["type"] == "session.created"
    with connect(keyed_server.ws_url + "/v1/realtime?model=gpt-realtime",
                 subprotocols=["realtime", f"openai-insecure-api-key.{KEY}", "openai-beta.realtime-v1"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "realtime"
        created = _recv(ws, "beta")
        assert "modalities" in created["session"]  # the beta subprotocol selects the beta dialect


@pytest.mark.parametrize(
    ("url", "code", "reason"),
    [
        ("/v1/realtime", "missing_model", "invalid_request_error.missing_model"),
        ("/v1/realtime?model=gpt-nope", "invalid_model", "invalid_request_error.invalid_model"),
    ],
)
def test_model_errors_close_4000(keyed_server: ServerThread, url: str, code: str, reason: str) -> None:
    with connect(keyed_server.ws_url + url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
        assert _recv(ws)["error"]["code"] == code
        assert _closed_with(ws) == (4000, reason)


def test_transcription_intent_needs_no_model(server: ServerThread) -> None:
    with connect(server.ws_url + "/v1/realtime?intent=transcription") as ws:
        assert _recv(ws)["session"]["type"] == "transcription"


def test_beta_retired_mode() -> None:
    with ServerThread(ServerConfig(port=0, beta_retired=True, log_level="warning")) as srv, \
            connect(srv.ws_url + "/v1/realtime?model=gpt-realtime",
                    additional_headers={"OpenAI-Beta": "realtime=v1"}) as ws:
        assert _recv(ws)["error"]["code"] == "beta_api_shape_disabled"
        assert _closed_with(ws) == (4000, "invalid_request_error.beta_api_shape_disabled")


@pytest.mark.parametrize("path", ["/openai/realtime?api-version=2024-10-01-preview&deployment=d",
                                  "/openai/v1/realtime?model=d"])
def test_azure_refuses_bad_keys_with_http_401(keyed_server: ServerThread, path: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(keyed_server.ws_url + path, additional_headers={"api-key": "wrong"})
    assert info.value.response.status_code == 401
    with connect(keyed_server.ws_url + path, additional_headers={"api-key": KEY}) as ws:
        assert _recv(ws, "beta" if "preview" in path else "ga")["type"] == "session.created"


def test_azure_ga_rejects_api_version(server: ServerThread) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(server.ws_url + "/openai/v1/realtime?model=d&api-version=2025-04-01-preview")
    assert info.value.response.status_code == 401


def test_framing_errors_over_the_wire(server: ServerThread) -> None:
    with connect(server.ws_url + "/v1/realtime?model=gpt-realtime", max_size=None) as ws:
        _recv(ws)
        ws.send(b"\x00\x01\x02")
        assert _recv(ws)["error"]["code"] == "invalid_event"
        ws.send("{oops")
        assert _recv(ws)["error"]["code"] == "invalid_json"
        ws.send(json.dumps({"type": "input_audio_buffer.append", "event_id": "big",
                            "audio": "A" * (15 * 1024 * 1024 + 8)}))
        err = _recv(ws)["error"]
        assert err["code"] == "string_above_max_length" and err["event_id"] == "big"
        ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
        while (event := _recv(ws))["type"] != "response.done":
            pass
        assert event["response"]["status"] == "completed"


def test_session_expiry_closes_1001() -> None:
    with ServerThread(ServerConfig(port=0, max_session_s=0.3, log_level="warning")) as srv, \
            connect(srv.ws_url + "/v1/realtime?model=gpt-realtime") as ws:
        _recv(ws)
        err = _recv(ws)["error"]
        assert err["code"] == "session_expired"
        assert _closed_with(ws) == (1001, "Your session hit the maximum duration of 60 minutes.")


def test_rest_client_secret_requires_the_key(keyed_server: ServerThread) -> None:
    r = httpx.post(keyed_server.http_url + "/v1/realtime/client_secrets", json={})
    assert r.status_code == 401 and r.json()["error"]["message"].startswith("Missing bearer")
    r = httpx.post(keyed_server.http_url + "/v1/realtime/client_secrets", json={"session": {"type": "realtime",
                   "bogus": 1}}, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "session.bogus"


def test_beta_rest_sessions_mint_a_working_secret(keyed_server: ServerThread) -> None:
    r = httpx.post(keyed_server.http_url + "/v1/realtime/sessions", json={"model": "gpt-4o-realtime-preview",
                   "voice": "verse"}, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "realtime.session" and body["voice"] == "verse"
    secret = body["client_secret"]["value"]
    with connect(keyed_server.ws_url + "/v1/realtime?model=gpt-4o-realtime-preview",
                 additional_headers={"Authorization": f"Bearer {secret}", "OpenAI-Beta": "realtime=v1"}) as ws:
        assert _recv(ws, "beta")["session"]["voice"] == "verse"


def test_server_sends_websocket_pings() -> None:
    """§1.5: the server PINGs idle clients (every ~20 s live; here every 0.2 s). A raw sans-I/O client sees them."""
    import socket

    from websockets.client import ClientProtocol
    from websockets.frames import Opcode
    from websockets.http11 import Response as HttpResponse
    from websockets.uri import parse_uri

    with ServerThread(ServerConfig(port=0, ping_interval_s=0.2, log_level="warning")) as srv:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        protocol = ClientProtocol(parse_uri(srv.ws_url + "/v1/realtime?model=gpt-realtime"))
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))
        pings = 0
        while pings < 2:
            protocol.receive_data(sock.recv(65536))
            for event in protocol.events_received():
                if not isinstance(event, HttpResponse) and event.opcode is Opcode.PING:
                    pings += 1
            sock.sendall(b"".join(protocol.data_to_send()))  # the protocol answers each ping with a pong
        sock.close()
    assert pings == 2
