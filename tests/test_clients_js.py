"""The JavaScript / TypeScript clients against a running ``mockrt`` over ``wss://`` (issue 15).

Each script in ``tests/js/`` (the README's "From JavaScript / TypeScript" snippets) runs with ``node`` against a
TLS server, trusting its local CA through ``NODE_EXTRA_CA_CERTS`` the way a user would, and prints a JSON summary
that is checked here. The server side is checked too: every server event the session produced is validated with
the Python SDK's types and, for ``@openai/agents-realtime``, with the zod schemas that SDK parses the wire with.

The packages are pinned in ``tests/js/package.json`` / ``package-lock.json`` and installed by ``.ci/run``
(``npm ci --prefix tests/js``). Without node or ``tests/js/node_modules`` these tests are skipped with a message,
except under CI (``CI`` set, as ``.ci/run`` does), where that is a failure: they must not vanish silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
SCENARIO = ROOT / "fixtures" / "scenarios" / "weather_tool.yaml"
NODE_TIMEOUT_S = 90


def _node() -> str:
    node = shutil.which("node")
    missing = ("node is not installed" if node is None else
               f"{JS / 'node_modules'} is missing" if not (JS / "node_modules").is_dir() else None)
    if missing is not None:
        message = f"{missing}: run `npm ci --prefix tests/js` (Node 20+), as .ci/run does"
        if os.environ.get("CI"):
            pytest.fail(f"JavaScript client tests cannot run under CI: {message}")
        pytest.skip(f"{message} (under CI=1 this is a failure)")
    assert node is not None
    return node


@pytest.fixture(scope="module")
def tls_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    config = ServerConfig(port=0, tls=True, tls_dir=str(tmp_path_factory.mktemp("tls")), log_level="warning",
                          pacing=Pacing(audio_speed=0))
    with ServerThread(config) as server:
        yield server


def run_script(server: ServerThread, name: str, scenario: bool = True) -> tuple[dict[str, Any], list[str]]:
    """Run ``tests/js/<name>`` against ``server`` (reset, with the weather scenario); its JSON summary and the
    ids of the sessions it opened."""
    node = _node()
    server.control.reset()
    if scenario:
        server.control.load_scenario(SCENARIO)
    env = {**os.environ, "MOCKRT_URL": server.https_url, "NODE_EXTRA_CA_CERTS": server.ca_path or ""}
    proc = subprocess.run([node, name], cwd=JS, env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
    assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == "", f"{name} wrote to stderr (the SDK logs parse errors there):\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), server.control.session_ids()


def check_server_events(server: ServerThread, session_id: str, agents_schema: bool = False) -> list[dict[str, Any]]:
    events = server.control.events(session_id=session_id)
    assert events, f"no server events for {session_id}"
    for event in events:
        validate_server_event(event, "ga")
    if agents_schema:
        proc = subprocess.run([_node(), "check_events.mjs"], cwd=JS, capture_output=True, text=True,
                              input="".join(json.dumps(e) + "\n" for e in events), timeout=NODE_TIMEOUT_S)
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["failures"] == [], report["failures"]
        assert report["checked"] >= len(events) // 2, report  # the SDK models most of what it receives
    return events


def test_openai_ga_over_wss(tls_mock: ServerThread) -> None:
    result, sessions = run_script(tls_mock, "openai_ga.mjs")
    assert result["text"] == {"status": "completed", "text": 'You said "Hello!". This is the mockrt default reply.'}
    assert result["tool"] == {"name": "get_weather", "arguments": {"city": "Paris"},
                              "answer": "It is 21 degrees and sunny in Paris."}
    audio = result["audio"]
    assert audio["status"] == "completed" and audio["audioBytes"] > 24_000 * 2  # over a second of pcm16 speech
    assert audio["transcript"].startswith("You said \"What's the weather in Paris today?\"")
    assert audio["heard"] == "What's the weather in Paris today?"
    assert result["errors"] == [{"type": "invalid_request_error", "code": "unknown_parameter",
                                 "message": "Unknown parameter: 'session.temperature'.",
                                 "param": "session.temperature", "event_id": None}]
    (session,) = sessions
    events = check_server_events(tls_mock, session)
    assert [e["error"]["code"] for e in events if e["type"] == "error"] == ["unknown_parameter"]
    outputs = tls_mock.control.events("conversation.item.create", direction="client", session_id=session,
                                      **{"item.type": "function_call_output"})
    assert [json.loads(e["item"]["output"]) for e in outputs] == [{"celsius": 21}]


def test_openai_azure_over_wss(tls_mock: ServerThread) -> None:
    result, sessions = run_script(tls_mock, "openai_azure.mjs", scenario=False)
    assert result["url"] == f"{tls_mock.wss_url}/openai/v1/realtime?model=my-realtime"
    assert result["status"] == "completed" and result["errors"] == []
    assert result["text"] == 'You said "Hello from Azure!". This is the mockrt default reply.'
    (session,) = sessions
    check_server_events(tls_mock, session)
    assert tls_mock.control.events("error", session_id=session) == []


def test_agents_realtime_over_wss(tls_mock: ServerThread) -> None:
    result, sessions = run_script(tls_mock, "agents_realtime.mjs")
    assert result["errors"] == []
    assert result["text"] == 'You said "Hello!". This is the mockrt default reply.'
    assert result["toolCalls"] == [{"name": "get_weather", "result": "Paris: 21 °C, sunny"}]
    assert result["toolAnswer"] == "It is 21 degrees and sunny in Paris."
    assert result["heard"] == "What's the weather in Paris today?"
    assert result["voiceAnswer"].startswith("You said \"What's the weather in Paris today?\"")
    (session,) = sessions
    events = check_server_events(tls_mock, session, agents_schema=True)
    assert [e for e in events if e["type"] == "error"] == []
    types = [e["type"] for e in events]
    assert "input_audio_buffer.speech_started" in types and "input_audio_buffer.speech_stopped" in types
    outputs = tls_mock.control.events("conversation.item.create", direction="client", session_id=session,
                                      **{"item.type": "function_call_output"})
    assert [e["item"]["output"] for e in outputs] == ["Paris: 21 °C, sunny"]  # the agent ran the tool


def test_without_the_ca_node_gives_its_normal_tls_error(tls_mock: ServerThread) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NODE_EXTRA_CA_CERTS"}
    proc = subprocess.run([_node(), "openai_azure.mjs"], cwd=JS, env={**env, "MOCKRT_URL": tls_mock.https_url},
                          capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
    assert proc.returncode == 1
    assert "unable to verify the first certificate" in proc.stderr and "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in proc.stderr


def test_missing_node_fails_under_ci_and_skips_with_a_message_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI: node is not installed"):
        _node()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"npm ci --prefix tests/js.*under CI=1 this is a failure"):
        _node()
