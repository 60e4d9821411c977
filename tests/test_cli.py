"""The ``mockrt`` command line, run as a user runs it (subprocesses, real ports)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from openai import OpenAI
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from mockrt import __version__

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen([sys.executable, "-m", "mockrt", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the server prints its address once it is listening
        match = re.search(r"https?://127\.0\.0\.1:(\d+)", line)
        assert match, f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield proc, f"127.0.0.1:{match.group(1)}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)  # also closes the pipes


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "mockrt", "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == __version__


def test_serve_port_zero_from_env_with_a_scenario() -> None:
    env = {"MOCKRT_PORT": "0", "MOCKRT_SCENARIO": str(SCENARIOS / "greeting.yaml")}
    with serving(env=env) as (_, addr):
        assert httpx.get(f"http://{addr}/healthz").text == "ok"
        client = OpenAI(base_url=f"http://{addr}/v1", api_key="sk-x")
        with client.realtime.connect(model="gpt-realtime") as conn:
            conn.response.create(response={"output_modalities": ["text"]})
            done = next(e for e in conn if e.type == "response.done")
        assert done.response.output[0].content[0].text.startswith("Hi!")  # type: ignore[union-attr,index]


def test_api_keys_and_admin_token_flags() -> None:
    with serving("--port", "0", "--api-key", "sk-one-key-1234567890", "--admin-token", "adm") as (_, addr):
        with connect(f"ws://{addr}/v1/realtime?model=gpt-realtime") as ws:
            assert json.loads(ws.recv(timeout=5))["error"]["message"].startswith("Missing bearer")
        assert httpx.get(f"http://{addr}/_mockrt/sessions").status_code == 401
        assert httpx.get(f"http://{addr}/_mockrt/sessions", headers={"Authorization": "Bearer adm"}).status_code == 200


def test_json_logs_carry_the_session_id_and_elide_audio() -> None:
    with serving("--port", "0", "--log-format", "json", "--log-level", "debug") as (proc, addr):
        with connect(f"ws://{addr}/v1/realtime?model=gpt-realtime") as ws:
            session_id = json.loads(ws.recv(timeout=5))["session"]["id"]
            ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "AAAA" * 4000}))
            ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            assert json.loads(ws.recv(timeout=5))["type"] == "input_audio_buffer.cleared"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    mine = [r for r in records if r["session_id"] == session_id]
    assert any("session started" in r["message"] for r in mine)
    assert any("input_audio_buffer.cleared" in r["message"] for r in mine)
    assert "AAAAAAAA" not in err  # audio payloads are elided


def test_sigterm_closes_sessions_with_1001_and_exits() -> None:
    with serving("--port", "0") as (proc, addr), connect(f"ws://{addr}/v1/realtime?model=gpt-realtime") as ws:
        ws.recv(timeout=5)
        proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        # uvicorn re-raises the captured SIGTERM after its graceful shutdown, the conventional exit status.
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)


def test_workers() -> None:
    with serving("--port", "0", "--workers", "2") as (_, addr):
        for _ in range(4):  # the workers may still be starting (spawned after the banner): a generous timeout
            with connect(f"ws://{addr}/v1/realtime?model=gpt-realtime", open_timeout=60) as ws:
                assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
