"""``--tls``: the local CA and its reuse, the user's own files, https:// and wss:// on one port, and scheme
mismatches that fail fast with a clear log line (real sockets, real clients)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509
from openai import AzureOpenAI, DefaultHttpxClient, OpenAI
from websockets.sync.client import connect

from mockrt.cli import main
from mockrt.config import ServerConfig, from_json, to_json
from mockrt.server.certs import CA_FILE, CERT_FILE, KEY_FILE, TLSSetupError, check_files, local_ca, prepare
from mockrt.thread import ServerThread
from tests.test_cli import serving

MODEL = "gpt-realtime"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    config = ServerConfig(port=0, tls=True, tls_dir=str(tmp_path_factory.mktemp("tls")), log_level="warning")
    with ServerThread(config) as server:
        yield server


# -- the local CA ---------------------------------------------------------------------------------------------


def _san(path: str) -> set[str]:
    cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)}


def test_local_ca_is_created_with_private_keys_and_reused(tmp_path: Path) -> None:
    files = local_ca(tmp_path / "state")
    assert files.ca_path == str(tmp_path / "state" / CA_FILE)
    assert _san(files.certfile) == {"localhost", "127.0.0.1", "::1"}
    for key in (files.keyfile, str(tmp_path / "state" / "ca-key.pem")):
        assert key is not None and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # the server certificate verifies against the CA for each local name, like a client would check it
    ssl.create_default_context(cafile=files.ca_path).load_verify_locations(files.ca_path)
    before = {name: (tmp_path / "state" / name).read_bytes() for name in (CA_FILE, CERT_FILE, KEY_FILE)}
    again = local_ca(tmp_path / "state")
    assert again == files
    assert {name: (tmp_path / "state" / name).read_bytes() for name in before} == before


def test_a_new_name_reissues_the_certificate_but_keeps_the_ca(tmp_path: Path) -> None:
    files = local_ca(tmp_path)
    ca_before, cert_before = Path(files.ca_path or "").read_bytes(), Path(files.certfile).read_bytes()
    local_ca(tmp_path, ("localhost", "127.0.0.1", "::1", "mock.internal"))
    assert Path(files.ca_path or "").read_bytes() == ca_before
    assert Path(files.certfile).read_bytes() != cert_before
    assert "mock.internal" in _san(files.certfile)


def test_an_unusable_tls_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(TLSSetupError, match=r"cannot write the TLS files in .*file/tls"):
        local_ca(tmp_path / "file" / "tls")


def test_a_damaged_certificate_is_reissued(tmp_path: Path) -> None:
    files = local_ca(tmp_path)
    Path(files.certfile).write_text("not a certificate")
    local_ca(tmp_path)
    assert _san(files.certfile) == {"localhost", "127.0.0.1", "::1"}


def test_concurrent_first_starts_agree_on_one_ca(tmp_path: Path) -> None:
    results: list[bytes] = []

    def start() -> None:
        files = local_ca(tmp_path)
        results.append(Path(files.ca_path or "").read_bytes() + Path(files.certfile).read_bytes())

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4 and len(set(results)) == 1


# -- the user's own files ---------------------------------------------------------------------------------------


def test_own_files_are_checked_before_listening(tmp_path: Path) -> None:
    a, b = local_ca(tmp_path / "a"), local_ca(tmp_path / "b")
    assert check_files(a.certfile, a.keyfile).ca_path is None
    with pytest.raises(TLSSetupError, match=r"--ssl-certfile .*missing\.pem: no such file"):
        check_files(str(tmp_path / "missing.pem"), None)
    with pytest.raises(TLSSetupError, match="the private key does not match the certificate"):
        check_files(a.certfile, b.keyfile)
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(TLSSetupError, match=r"--ssl-certfile .*junk\.pem: not a PEM certificate"):
        check_files(str(junk), a.keyfile)
    with pytest.raises(TLSSetupError, match=r"--ssl-keyfile .*junk\.pem: no unencrypted PEM private key"):
        check_files(a.certfile, str(junk))
    with pytest.raises(TLSSetupError, match=r"--ssl-certfile .*server\.pem: no unencrypted PEM private key"):
        check_files(a.certfile, None)
    with pytest.raises(TLSSetupError, match="--ssl-keyfile needs --ssl-certfile"):
        prepare(ServerConfig(ssl_keyfile=a.keyfile))
    with pytest.raises(TLSSetupError, match="--tls-ca-out"):
        prepare(ServerConfig(ssl_certfile=a.certfile, ssl_keyfile=a.keyfile, tls_ca_out=str(tmp_path / "ca.pem")))
    with pytest.raises(TLSSetupError, match="no such file"):
        ServerThread(ServerConfig(port=0, ssl_certfile=str(tmp_path / "missing.pem")))


def test_cli_reports_bad_files_before_listening(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--ssl-certfile", str(tmp_path / "nope.pem")])
    assert result.exit_code == 1
    assert "Error: --ssl-certfile" in result.output and "no such file" in result.output
    assert "listening" not in result.output


def test_tls_settings_travel_to_worker_processes() -> None:
    config = ServerConfig(tls=True, tls_dir="/x", tls_ca_out="/y/ca.pem", ssl_certfile=None)
    assert from_json(to_json(config)) == config


# -- https:// and wss:// on one port ---------------------------------------------------------------------------


def test_https_and_wss_on_one_port(tls_server: ServerThread) -> None:
    assert tls_server.http_url.startswith("https://") and tls_server.https_url == tls_server.http_url
    assert tls_server.wss_url.startswith("wss://")
    context = tls_server.client_ssl_context()
    assert httpx.get(tls_server.https_url + "/healthz", verify=context).text == "ok"
    with connect(tls_server.wss_url + f"/v1/realtime?model={MODEL}", ssl=context) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "session.created"


def test_no_tls13_session_tickets(tls_server: ServerThread) -> None:
    """Tickets arrive after the handshake, while the websockets sync client (the openai SDK's) may be writing
    its upgrade request from another thread; about one connection in fifty then lost that request."""
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw, \
            tls_server.client_ssl_context().wrap_socket(raw, server_hostname="127.0.0.1") as sock:
        assert sock.version() == "TLSv1.3"
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert _read_until_closed(sock).endswith(b"ok")
        assert sock.session is not None and not sock.session.has_ticket


def test_plain_server_has_no_tls_urls(server: ServerThread) -> None:
    assert server.ws_url.startswith("ws://") and server.ca_path is None
    with pytest.raises(RuntimeError, match="without TLS"):
        _ = server.wss_url


def test_python_sdk_ga_beta_and_azure_over_wss(tls_server: ServerThread) -> None:
    """No ``websocket_base_url``: the https:// base URL gives wss://, and the SDK trusts the CA through its
    ``http_client`` and ``websocket_connection_options``."""
    context = tls_server.client_ssl_context()
    options: Any = {"websocket_connection_options": {"ssl": context}}
    with DefaultHttpxClient(verify=context) as http:
        client = OpenAI(base_url=tls_server.https_url + "/v1", api_key="sk-x", http_client=http)
        with client.realtime.connect(model=MODEL, **options) as conn:
            conn.response.create(response={"output_modalities": ["text"]})
            assert next(e for e in conn if e.type == "response.done").response.status == "completed"
        secret = client.realtime.client_secrets.create(session={"type": "realtime", "model": MODEL})
        assert secret.value.startswith("ek_")
        with client.beta.realtime.connect(model="gpt-4o-realtime-preview", **options) as beta:
            assert beta.recv().type == "session.created"
        azure = AzureOpenAI(azure_endpoint=tls_server.https_url, api_key="k", api_version="2025-04-01-preview",
                            http_client=http)
        with azure.beta.realtime.connect(model="my-deployment", **options) as conn:
            assert conn.recv().type == "session.created"


# -- scheme mismatches fail fast with a clear log line ---------------------------------------------------------


class _Expect(logging.Handler):
    """Waits (bounded, on an event: no sleeping) for a ``mockrt.tls`` record matching ``pattern``; the server
    logs on its own thread, possibly after the client has already seen the connection fail."""

    def __init__(self, pattern: str) -> None:
        super().__init__(logging.WARNING)
        self.pattern, self.seen, self.messages = re.compile(pattern), threading.Event(), list[str]()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if self.pattern.search(record.getMessage()):
            self.seen.set()


@contextlib.contextmanager
def expect_log(pattern: str) -> Iterator[None]:
    handler = _Expect(pattern)
    logger = logging.getLogger("mockrt.tls")
    logger.addHandler(handler)
    try:
        yield
        assert handler.seen.wait(10), f"no log line matching {pattern!r}; got {handler.messages}"
    finally:
        logger.removeHandler(handler)


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends before closing; the socket timeout bounds the wait (no sleeps)."""
    sock.settimeout(10)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


@pytest.mark.parametrize("request_bytes", [
    b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
], ids=["http", "ws"])
def test_plain_request_to_a_tls_port(tls_server: ServerThread, request_bytes: bytes) -> None:
    with expect_log(r"plain http:// or ws:// request reached this TLS port: use https:// or wss://"), \
            socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as sock:
        sock.sendall(request_bytes)
        assert b"HTTP/1.1 101" not in _read_until_closed(sock)  # closed at once, nothing served


def test_tls_handshake_to_a_plain_port(server: ServerThread) -> None:
    with expect_log(r"TLS handshake received on a plain port \(from 127\.0\.0\.1:\d+\): this server speaks "
                    r"http:// and ws://; start it with --tls"), \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        context = ssl.create_default_context()
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            context.wrap_socket(raw, server_hostname="localhost")


def test_a_client_without_the_ca_gets_its_normal_tls_error(tls_server: ServerThread) -> None:
    with expect_log("does not trust this server's CA"), \
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(tls_server.https_url + "/healthz")


# -- mockrt serve ------------------------------------------------------------------------------------------------


def test_serve_tls_prints_the_ca_and_serves_wss(tmp_path: Path) -> None:
    ca_out = tmp_path / "out" / "mockrt-ca.pem"
    env = {"MOCKRT_TLS": "1", "MOCKRT_TLS_DIR": str(tmp_path / "state"), "MOCKRT_TLS_CA_OUT": str(ca_out)}
    with serving("--port", "0", env=env) as (proc, addr):
        assert proc.stdout is not None
        assert f"mockrt TLS CA certificate: {ca_out} " in proc.stdout.readline()
        context = ssl.create_default_context(cafile=str(ca_out))
        with connect(f"wss://{addr}/v1/realtime?model={MODEL}", ssl=context) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
    assert ca_out.read_bytes() == (tmp_path / "state" / CA_FILE).read_bytes()


def test_serve_tls_with_workers_and_own_files(tmp_path: Path) -> None:
    files = local_ca(tmp_path)
    assert files.keyfile is not None and files.ca_path is not None
    args = ("--port", "0", "--workers", "2", "--ssl-certfile", files.certfile, "--ssl-keyfile", files.keyfile)
    with serving(*args) as (_, addr):
        context = ssl.create_default_context(cafile=files.ca_path)
        for _ in range(3):  # a generous timeout: a loaded machine
            with connect(f"wss://{addr}/v1/realtime?model={MODEL}", ssl=context, open_timeout=60) as ws:
                assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
