"""Security hardening (issue 11, SECURITY.md): each attack of the issue, replayed against a real server.

Every test here failed on the main branch before the hardening: it answered the attack (200, an accepted
upgrade, a predictable key, a hang, unbounded memory, an open socket).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from openai import OpenAI
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from mockrt.config import ServerConfig
from mockrt.core.ids import IdGenerator
from mockrt.core.model import SessionConfig
from mockrt.core.responses import Pacing
from mockrt.logs import redact_query
from mockrt.recording.proxy import ProxyThread, RecordingProxy
from mockrt.scenarios import ScenarioError, load_scenario
from mockrt.scenarios.loader import NoAliasLoader, parse
from mockrt.server import handshake
from mockrt.server.actions import FaultsError
from mockrt.server.registry import Registry, SessionRecord, approx_size
from mockrt.server.runner import _RedactQueryFilter, _write_private
from mockrt.thread import ServerThread

FOREIGN = "https://evil.example"
GREETING = "name: greeting\nreplies:\n  - text: Hi!\n"


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixtures directory with a valid WAV, a FIFO and a non-WAV file; a secret WAV outside it."""
    root = tmp_path_factory.mktemp("sec")
    inside = root / "fixtures"
    inside.mkdir()
    for path in (inside / "hello.wav", root / "secret.wav"):
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(24000)
            w.writeframes(np.full(2400, 1234, dtype="<i2").tobytes())
    os.mkfifo(inside / "pipe.wav")
    (inside / "notes.wav").write_text("not a wav file")
    (inside / "subdir.wav").mkdir()
    return inside


@pytest.fixture(scope="module")
def srv(fixtures: Path) -> Iterator[ServerThread]:
    config = ServerConfig(port=0, log_level="warning", pacing=Pacing(audio_speed=0), fixtures_dir=str(fixtures),
                          header_timeout_s=0.5)
    with ServerThread(config) as server:
        yield server


@pytest.fixture
def http(srv: ServerThread) -> Iterator[httpx.Client]:
    srv.control.reset()
    with httpx.Client(base_url=srv.http_url, timeout=10) as client:
        yield client
    srv.control.reset()


def _scenario_with_audio(ref: str) -> str:
    return f"name: a\nreplies:\n  - text: hi\n    audio: {{file: {json.dumps(ref)}}}\n"


YAML = {"Content-Type": "application/yaml"}


# -- cross-site requests and DNS rebinding -------------------------------------------------------------------


def test_cross_site_form_posts_cannot_reach_the_admin_api(srv: ServerThread, http: httpx.Client) -> None:
    """A page's ``<form enctype=text/plain>`` (no preflight) used to load scenarios and set faults."""
    form = {"Content-Type": "text/plain", "Origin": FOREIGN}
    for path, body in (("/_mockrt/scenario", GREETING), ("/_mockrt/faults", '{"refuse": {"status": 429}}'),
                       ("/_mockrt/reset", "")):
        refused = http.post(path, content=body, headers=form)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "origin_not_allowed"
        # Same-origin (or no Origin) but a simple content type: still refused, a form cannot send JSON.
        simple = http.post(path, content=body, headers={"Content-Type": "text/plain"})
        assert simple.status_code == 415 and simple.json()["error"]["code"] == "unsupported_media_type", path
    assert http.get("/_mockrt/scenario").json() == {"scenario": None}
    assert http.put("/_mockrt/scenario", content=GREETING, headers=YAML).json() == {"scenario": "greeting"}
    same_origin = {"Origin": f"http://127.0.0.1:{srv.port}"}
    assert http.put("/_mockrt/faults", json={}, headers=same_origin).status_code == 200


def test_foreign_host_is_refused_on_every_route(srv: ServerThread, http: httpx.Client) -> None:
    for path in ("/healthz", "/_mockrt/sessions", "/_mockrt/", "/_mockrt/static/inspector.js"):
        refused = http.get(path, headers={"Host": f"rebound.evil.example:{srv.port}"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "host_not_allowed", path
    for host in (f"localhost:{srv.port}", f"127.0.0.1:{srv.port}", f"[::1]:{srv.port}", "localhost"):
        assert http.get("/healthz", headers={"Host": host}).status_code == 200, host
    # WebSockets too: a real client whose URL names the rebinding host, over a socket to this server.
    sock = socket.create_connection(("127.0.0.1", srv.port))
    with pytest.raises(InvalidStatus) as refused_ws:
        connect(f"ws://rebound.evil.example:{srv.port}/v1/realtime?model=gpt-realtime", sock=sock, open_timeout=5)
    assert refused_ws.value.response.status_code == 403


def test_allowed_hosts_and_origins_are_configurable() -> None:
    config = ServerConfig(port=0, log_level="warning", allowed_hosts=("mock.test",),
                          allowed_origins=("https://app.example",))
    with ServerThread(config) as server:
        base = server.http_url
        assert httpx.get(base + "/healthz", headers={"Host": "mock.test:9"}).status_code == 200
        assert httpx.get(base + "/healthz", headers={"Host": "other.test"}).status_code == 403
        with connect(f"{server.ws_url}/v1/realtime?model=gpt-realtime", origin="https://app.example") as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        with pytest.raises(InvalidStatus):
            connect(f"{server.ws_url}/v1/realtime?model=gpt-realtime", origin=FOREIGN, open_timeout=5)


def test_foreign_origin_websocket_is_refused(srv: ServerThread) -> None:
    url = f"{srv.ws_url}/v1/realtime?model=gpt-realtime"
    for origin in (FOREIGN, "null", "http://127.0.0.1.evil.example"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin=origin, open_timeout=5)
        assert refused.value.response.status_code == 403, origin
        assert b"origin_not_allowed" in refused.value.response.body
    for origin in (None, f"http://localhost:{srv.port}", "http://127.0.0.1:5173"):
        with connect(url, origin=origin) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"


# -- ephemeral keys ------------------------------------------------------------------------------------------


def test_ephemeral_keys_cannot_be_predicted() -> None:
    key = "sk-real-key-0123456789"
    minted = []
    for _ in range(2):  # two servers with the same (default) seed
        with ServerThread(ServerConfig(port=0, api_keys=(key,), log_level="warning")) as server:
            client = OpenAI(base_url=server.http_url + "/v1", api_key=key)
            minted.append(client.realtime.client_secrets.create(session={"type": "realtime",
                                                                         "model": "gpt-realtime"}).value)
            predicted = IdGenerator("0:rest").ephemeral_key()  # what the seeded generator gave before
            assert predicted not in minted
            with connect(f"{server.ws_url}/v1/realtime?model=gpt-realtime",
                         additional_headers={"Authorization": f"Bearer {predicted}"}) as ws:
                assert json.loads(ws.recv(timeout=5))["error"]["code"] == "invalid_api_key"
            with connect(f"{server.ws_url}/v1/realtime?model=gpt-realtime",
                         additional_headers={"Authorization": f"Bearer {minted[-1]}"}) as ws:
                assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
    assert minted[0] != minted[1] and all(k.startswith("ek_") and len(k) == 35 for k in minted)


def test_ephemeral_key_table_is_purged_and_bounded() -> None:
    keys = handshake.KeyChecker(("sk-x",), max_ephemeral=5)
    cfg = SessionConfig(model="gpt-realtime")
    expired = [keys.mint(100.0, cfg, "ga", 50.0) for _ in range(3)]
    assert len(keys) == 3
    fresh = keys.mint(1000.0, cfg, "ga", 200.0)  # minting purges what has expired
    assert len(keys) == 1 and keys.ephemeral(expired[0], 200.0) is None and keys.ephemeral(fresh, 200.0) is cfg
    many = [keys.mint(1000.0, cfg, "ga", 200.0) for _ in range(20)]
    assert len(keys) == 5 and keys.ephemeral(many[-1], 200.0) is cfg and keys.ephemeral(many[0], 200.0) is None


# -- scenario files ------------------------------------------------------------------------------------------


def test_scenario_files_over_http_stay_in_the_fixtures_dir(http: httpx.Client, fixtures: Path) -> None:
    ok = http.put("/_mockrt/scenario", content=_scenario_with_audio("hello.wav"), headers=YAML)
    assert ok.status_code == 200, ok.text
    answers = set()
    for ref in ("../secret.wav", str(fixtures.parent / "secret.wav"), "/etc/passwd", "nope.wav", "subdir.wav",
                "/nonexistent/dir/x.wav", "../../../../../../etc/hostname"):
        refused = http.put("/_mockrt/scenario", content=_scenario_with_audio(ref), headers=YAML)
        assert refused.status_code == 400, ref
        answers.add(refused.json()["error"]["message"].replace(repr(ref), "REF"))
    assert len(answers) == 1  # one answer whether the path exists, is outside, or is a directory
    (message,) = answers
    assert "secret" not in message and str(fixtures) not in message
    bad_wav = http.put("/_mockrt/scenario", content=_scenario_with_audio("notes.wav"), headers=YAML)
    assert bad_wav.status_code == 400 and str(fixtures) not in bad_wav.text  # was: HTTP 500


def test_no_files_over_http_without_a_fixtures_dir() -> None:
    with ServerThread(ServerConfig(port=0, log_level="warning")) as server:
        refused = httpx.put(server.http_url + "/_mockrt/scenario", content=_scenario_with_audio("/etc/passwd"),
                            headers=YAML)
        assert refused.status_code == 400 and "--fixtures-dir" in refused.text


def test_a_fifo_does_not_hang_the_server(http: httpx.Client, fixtures: Path) -> None:
    refused = http.put("/_mockrt/scenario", content=_scenario_with_audio("pipe.wav"), headers=YAML, timeout=5)
    assert refused.status_code == 400
    assert stat.S_ISFIFO(os.stat(fixtures / "pipe.wav").st_mode)
    with pytest.raises(ScenarioError, match="not a readable regular file"):  # trusted loads refuse it too
        load_scenario(_scenario_with_audio(str(fixtures / "pipe.wav")))
    assert http.get("/healthz").text == "ok"


def test_trusted_scenario_files_resolve_next_to_the_scenario(fixtures: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario_with_audio(os.path.relpath(fixtures / "hello.wav", tmp_path)))
    loaded = load_scenario(scenario)
    audio = loaded.replies[0].outputs[0].audio
    assert audio is not None and audio.shape == (2400,)


ALIAS_BOMB = """a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
"""


def test_yaml_alias_bomb_is_refused_before_work_grows(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    composed = 0
    original = NoAliasLoader.compose_node

    def counting(self: NoAliasLoader, parent: Any, index: Any) -> Any:
        nonlocal composed
        composed += 1
        return original(self, parent, index)

    monkeypatch.setattr(NoAliasLoader, "compose_node", counting)
    with pytest.raises(ScenarioError, match="aliases are not allowed"):
        parse(ALIAS_BOMB)
    assert composed < 30  # the first alias stops it: work bounded by the document, not by 10**7 expansions
    monkeypatch.undo()
    assert len(yaml.safe_load(ALIAS_BOMB.split("\nc:")[0])["b"]) == 10  # the document really uses aliases
    refused = http.put("/_mockrt/scenario", content=ALIAS_BOMB, headers=YAML)
    assert refused.status_code == 400 and "aliases" in refused.text


def test_request_bodies_are_capped_while_read(caplog: pytest.LogCaptureFixture) -> None:
    with ServerThread(ServerConfig(port=0, log_level="warning", max_body_bytes=64 * 1024)) as server:
        big = "# " + "x" * (200 * 1024) + "\n" + GREETING
        declared = httpx.put(server.http_url + "/_mockrt/scenario", content=big, headers=YAML)
        assert declared.status_code == 413

        def chunks() -> Iterator[bytes]:  # chunked: no Content-Length to refuse up front
            for _ in range(200):
                yield b"# " + b"x" * 1022 + b"\n"

        streamed = httpx.put(server.http_url + "/_mockrt/scenario", content=chunks(), headers=YAML)
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "request_too_large"
        rest = httpx.post(server.http_url + "/v1/realtime/client_secrets", content=chunks(),
                          headers={"Content-Type": "application/json"})
        assert rest.status_code == 413
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no "Exception in ASGI application"
        assert httpx.get(server.http_url + "/_mockrt/scenario").json() == {"scenario": None}


# -- faults --------------------------------------------------------------------------------------------------


def test_invalid_fault_values_are_refused_naming_the_field(srv: ServerThread, http: httpx.Client) -> None:
    bad = http.put("/_mockrt/faults", json={"refuse": {"status": "abc"}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "faults.refuse.status"
    assert http.put("/_mockrt/faults", json={"close": {"code": 4999}}).status_code == 400
    assert http.put("/_mockrt/faults", json=["drop"]).status_code == 400
    with pytest.raises(FaultsError, match=r"faults\.split_audio_deltas"):
        srv.control.set_faults({"split_audio_deltas": "many"})
    with connect(f"{srv.ws_url}/v1/realtime?model=gpt-realtime") as ws:  # was: every handshake answered 500
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"


# -- memory budgets --------------------------------------------------------------------------------------------


def _journal_bytes(record: SessionRecord) -> int:
    return sum(len(json.dumps(e.event)) for e in record.journal)


def test_journal_bytes_after_40_mib_of_rejected_junk(srv: ServerThread) -> None:
    junk = json.dumps({"type": "session.update", "event_id": "evt_junk", "junk": "x" * (1024 * 1024)})
    with connect(f"{srv.ws_url}/v1/realtime?model=gpt-realtime", max_size=None) as ws:
        created = json.loads(ws.recv(timeout=5))
        for _ in range(40):
            ws.send(junk)
            assert json.loads(ws.recv(timeout=10))["type"] == "error"
    session_id = created["session"]["id"]
    registry = srv.control.state.registry
    record = registry.wait(lambda: next((r for r in registry.recent if r.id == session_id), None), 10)
    assert record is not None and len(record.journal) == 81
    assert _journal_bytes(record) < 64 * 1024  # was 42 MB
    assert record.journal_bytes < 64 * 1024
    stubbed = [e.event for e in record.journal if e.direction == "client"]
    assert stubbed[0] == {"type": "session.update", "event_id": "evt_junk",
                          "mockrt_truncated": {"reason": "rejected", "bytes": stubbed[0]["mockrt_truncated"]["bytes"]}}


def test_journal_sizes_are_json_lengths_and_estimates_where_orjson_refuses() -> None:
    registry = Registry()
    record = SessionRecord("sess_0", "ga", "openai", "m", "/", "", 0.0, 0.0)
    registry.open(record)
    on_event = registry.recorder(record)
    plain = {"type": "response.output_text.delta", "delta": "ok", "n": [1, 2.5, None, True]}
    on_event("server", plain, 0.0)
    assert record.journal_bytes == len(json.dumps(plain, separators=(",", ":")))
    odd = {"type": "x", "huge": 2**70, "lone": "\ud800" * 100}  # both refused by orjson, accepted from clients
    on_event("client", odd, 1.0)
    assert record.journal_bytes - len(json.dumps(plain, separators=(",", ":"))) == approx_size(odd) > 100


def test_journal_audio_beyond_the_budget_is_kept_as_lengths() -> None:
    registry = Registry(journal_max_bytes=100_000, recent_max_bytes=150_000)
    records = []
    for n in range(3):
        record = SessionRecord(f"sess_{n}", "ga", "openai", "m", "/", "", 0.0, 0.0)
        registry.open(record)
        on_event = registry.recorder(record)
        for i in range(50):  # 50 appends of 8000 base64 chars: 400 kB of audio
            on_event("client", {"type": "input_audio_buffer.append", "audio": chr(65 + i % 26) * 8000}, float(i))
            on_event("server", {"type": "response.output_text.delta", "delta": "ok"}, float(i))
        assert record.journal_bytes <= 100_000 and _journal_bytes(record) <= 100_000
        appends = [e.event for e in record.journal if e.event["type"] == "input_audio_buffer.append"]
        assert len(appends) == 50 and "audio" in appends[-1] and appends[-1]["audio"][0] == chr(65 + 49 % 26)
        assert appends[0] == {"type": "input_audio_buffer.append", "mockrt_elided_b64_chars": 8000}
        registry.close(record)
        records.append(record)
    assert registry.recent_bytes <= 150_000 and [r.id for r in registry.recent] == ["sess_2"]


def test_a_rejected_append_kept_as_a_stub_is_passed_over_when_audio_is_elided() -> None:
    registry = Registry(journal_max_bytes=30_000)
    record = SessionRecord("sess_x", "ga", "openai", "m", "/", "", 0.0, 0.0)
    registry.open(record)
    on_event = registry.recorder(record)
    on_event("client", {"type": "input_audio_buffer.append", "audio": "!" * 8000}, 0.0)
    on_event("server", {"type": "error", "error": {"type": "invalid_request_error"}}, 0.0)  # rejected: a stub now
    for i in range(5):
        on_event("client", {"type": "input_audio_buffer.append", "audio": "A" * 8000}, 1.0 + i)
    events = [e.event for e in record.journal]
    assert events[0]["mockrt_truncated"]["reason"] == "rejected"
    assert [e.get("mockrt_elided_b64_chars") for e in events[2:]] == [8000, 8000, None, None, None]
    assert record.journal_bytes <= 30_000


def test_max_sessions_refuses_like_an_overloaded_service() -> None:
    with ServerThread(ServerConfig(port=0, log_level="warning", max_sessions=1)) as server:
        url = f"{server.ws_url}/v1/realtime?model=gpt-realtime"
        with connect(url) as first:
            assert json.loads(first.recv(timeout=5))["type"] == "session.created"
            with pytest.raises(InvalidStatus) as refused:
                connect(url, open_timeout=5)
            response = refused.value.response
            assert response.status_code == 503 and response.headers["Retry-After"] == "1"
            assert json.loads(response.body)["error"]["code"] == "server_overloaded"
        state = server.control.state
        assert state.registry.wait(lambda: state.admitted == 0, 5) is True  # re-checked at least every 0.5 s
        with connect(url) as again:
            assert json.loads(again.recv(timeout=5))["type"] == "session.created"


def test_slowloris_connections_are_closed(srv: ServerThread) -> None:
    partial = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # a request head never finished
    for first in (False, True):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
            received = b""
            if not first:  # a complete request first: the partial one comes on a kept-alive connection
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                while not received.endswith(b"ok"):
                    received += sock.recv(65536)
            sock.sendall(partial)
            while chunk := sock.recv(65536):  # b"" when the server closes (0.5 s header timeout); else times out
                received += chunk
            assert received.count(b"HTTP/1.1 200") == (0 if first else 1)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:  # a silent connection too
        assert sock.recv(1) == b""


# -- recorder ----------------------------------------------------------------------------------------------


def test_the_recorder_is_not_an_open_relay(srv: ServerThread, tmp_path: Path) -> None:
    proxy = RecordingProxy(srv.ws_url, tmp_path / "r.jsonl", env={"OPENAI_API_KEY": "sk-developer-real-key"})
    assert len(proxy.client_token) >= 20
    with ProxyThread(proxy):
        url = f"ws://127.0.0.1:{proxy.port}/v1/realtime?model=gpt-realtime"
        for headers in ({}, {"Authorization": "Bearer sk-guess"}):
            with pytest.raises(InvalidStatus) as refused:
                connect(url, additional_headers=headers, open_timeout=5)
            assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as foreign:
            connect(url, origin=FOREIGN, additional_headers={"Authorization": f"Bearer {proxy.client_token}"},
                    open_timeout=5)
        assert foreign.value.response.status_code == 403
        with connect(url, additional_headers={"Authorization": f"Bearer {proxy.client_token}"},
                     origin="http://localhost:3000") as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        [path] = proxy.wait_recordings(1)
    assert proxy.client_token not in path.read_text()


# -- secrets ---------------------------------------------------------------------------------------------------


def test_percent_encoded_credentials_are_redacted() -> None:
    line = '127.0.0.1:5 - "WebSocket /openai/realtime?api%2Dkey=sk-secret-1&deployment=d&Authorization=Bearer%20x"'
    assert "sk-secret-1" not in redact_query(line) and "deployment=d" in redact_query(line)
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "%s", (line,), None)
    assert _RedactQueryFilter().filter(record) and "sk-secret-1" not in record.getMessage()
    assert "Bearer%20x" not in record.getMessage()


def test_worker_config_file_is_private(tmp_path: Path) -> None:
    directory, path = _write_private('{"api_keys": ["sk-secret"]}')
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    finally:
        os.unlink(path)
        os.rmdir(directory)


def test_workers_get_secrets_without_the_environment() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mockrt", "serve", "--port", "0", "--workers", "2",
                             "--api-key", "sk-worker-secret-123", "--admin-token", "adm-worker-secret"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.split("127.0.0.1:")[1].split(" ")[0])
        with connect(f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime",
                     additional_headers={"Authorization": "Bearer sk-worker-secret-123"},
                     open_timeout=60) as ws:  # the workers may still be importing on a loaded machine
            assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
        children = [pid for pid in os.listdir("/proc") if pid.isdigit() and _ppid(int(pid)) == proc.pid]
        assert children
        for pid in [str(proc.pid), *children]:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert b"worker-secret" not in environ
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_a_non_loopback_bind_requires_an_admin_token() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mockrt", "serve", "--host", "0.0.0.0", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        port = int(proc.stdout.readline().split("0.0.0.0:")[1].split(" ")[0])
        announced = [proc.stderr.readline()]
        while "Bearer" not in announced[-1]:
            announced.append(proc.stderr.readline())
        token = announced[-1].rsplit(" ", 1)[1].strip()
        base = f"http://127.0.0.1:{port}/_mockrt/sessions"
        assert httpx.get(base).status_code == 401
        assert httpx.get(base, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert any("other machines can reach" in line for line in announced)
