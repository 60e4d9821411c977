"""The pytest plugin, exercised the way a user meets it: a test file in a fresh project, no conftest."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"

USER_TESTS = '''
import pytest
from openai import OpenAI, AzureOpenAI
from mockrt.scenarios import Reply

def test_text_turn(realtime_server, realtime):
    client = OpenAI(**realtime_server.openai_kwargs)
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "hi"}]})
        conn.response.create(response={"output_modalities": ["text"]})
        done = next(e for e in conn if e.type == "response.done")
    assert done.response.status == "completed"
    realtime.assert_event("response.done", match={"response.status": "completed"})

@pytest.mark.mockrt_scenario("greeting.yaml")
def test_marker_loads_a_scenario(realtime_server, realtime):
    with OpenAI(**realtime_server.openai_kwargs).realtime.connect(model="gpt-realtime") as conn:
        conn.response.create(response={"output_modalities": ["text"]})
        done = next(e for e in conn if e.type == "response.done")
    assert done.response.output[0].content[0].text.startswith("Hi!")

def test_reset_between_tests(realtime):
    assert realtime.events("response.done") == []

def test_azure_kwargs(realtime_server):
    client = AzureOpenAI(**realtime_server.azure_kwargs)
    with client.beta.realtime.connect(model="dep") as conn:
        assert conn.recv().type == "session.created"

@pytest.mark.mockrt_faults({"close": {"code": 1011, "after_server_events": 1}})
def test_faults_marker(realtime_server, realtime):
    from websockets.sync.client import connect
    from websockets.exceptions import ConnectionClosed
    with connect(realtime_server.ws_url + "/v1/realtime?model=gpt-realtime") as ws:
        ws.recv(timeout=5)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd.code == 1011

async def _async_part(realtime_server, realtime):
    from openai import AsyncOpenAI
    client = AsyncOpenAI(**realtime_server.openai_kwargs)
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.response.create(response={"output_modalities": ["text"]})
        await realtime.wait_for_async("response.done")

def test_async_usage(realtime_server, realtime):
    import asyncio
    asyncio.run(_async_part(realtime_server, realtime))

async def _async_kwargs_part(realtime_server):
    from openai import AsyncOpenAI
    async with AsyncOpenAI(**realtime_server.async_openai_kwargs) as client:
        assert (await client.realtime.client_secrets.create(session={"type": "realtime"})).value.startswith("ek_")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            assert (await conn.recv()).type == "session.created"

def test_async_openai_kwargs(realtime_server):
    import asyncio
    asyncio.run(_async_kwargs_part(realtime_server))

def test_live_session(realtime_server, realtime):
    with OpenAI(**realtime_server.openai_kwargs).live.connect() as conn:
        conn.send({"type": "session.start", "session": {"model": "gpt-live-1"}})
        conn.send({"type": "session.commentary.append", "content": "Shipped today.", "delegation_id": None,
                   "event_id": "c1"})
        realtime.wait_for("session.commentary.appended", match={"client_event_id": "c1"})
        realtime.wait_for("session.output_transcript.delta", delta=".", timeout=10)
    (session_id,) = realtime.session_ids()
    said = "".join(e["delta"] for e in realtime.events("session.output_transcript.delta", session_id=session_id))
    assert said.strip() == "Shipped today."
    assert realtime.events("session.start", direction="client")[0]["session"]["model"] == "gpt-live-1"

_CLIENTS = []

def test_openai_client_fixture(openai_client, realtime):
    _CLIENTS.append(openai_client)
    assert openai_client.realtime.client_secrets.create(session={"type": "realtime"}).value.startswith("ek_")
    with openai_client.realtime.connect(model="gpt-realtime") as conn:
        conn.response.create(response={"output_modalities": ["text"]})
        assert next(e for e in conn if e.type == "response.done").response.status == "completed"
    realtime.assert_event("response.done", match={"response.status": "completed"})

def test_clients_are_new_per_test_and_closed_after_it(openai_client, azure_openai_client, realtime_server):
    (previous,) = _CLIENTS
    assert previous is not openai_client and previous.is_closed() and not openai_client.is_closed()
    assert realtime_server.http_client() is not realtime_server.http_client()
    with azure_openai_client.beta.realtime.connect(model="dep") as conn:
        assert conn.recv().type == "session.created"

def test_failing_shows_sessions(realtime_server, realtime):
    with OpenAI(**realtime_server.openai_kwargs).realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
    realtime.wait_for("response.done", timeout=0.05)
'''


def test_plugin_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    out_dir = pytester.path / "transcripts"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--mockrt-scenario-dir={SCENARIOS}",
                                           f"--mockrt-save-transcripts={out_dir}", "-W", "ignore")
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(["*no server event response.done*", "*mockrt sessions*",
                                 "*http://127.0.0.1:*/_mockrt/sessions/sess_*"])
    saved = list(out_dir.glob("test_failing_shows_sessions-sess_*.jsonl"))
    assert saved and '"session.created"' in saved[0].read_text()


def test_plugin_options_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--mockrt-vad*", "*--mockrt-scenario-dir*", "*mockrt_audio_speed*"])


TLS_USER_TESTS = '''
import asyncio
from pathlib import Path
from openai import AsyncAzureOpenAI, AsyncOpenAI, AzureOpenAI, OpenAI

def test_ga_over_wss(realtime_server, realtime):
    assert realtime_server.wss_url.startswith("wss://") and realtime_server.https_url.startswith("https://")
    assert Path(realtime_server.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")
    client = OpenAI(**realtime_server.openai_kwargs)
    assert client.realtime.client_secrets.create(session={"type": "realtime"}).value.startswith("ek_")
    with client.realtime.connect(model="gpt-realtime", **realtime_server.connect_kwargs) as conn:
        conn.response.create(response={"output_modalities": ["text"]})
        assert next(e for e in conn if e.type == "response.done").response.status == "completed"
    realtime.assert_event("response.done", match={"response.status": "completed"})

def test_beta_and_azure_need_no_websocket_base_url(realtime_server):
    beta = OpenAI(**realtime_server.openai_kwargs)
    with beta.beta.realtime.connect(model="gpt-4o-realtime-preview", **realtime_server.connect_kwargs) as conn:
        assert conn.recv().session.model == "gpt-4o-realtime-preview"
    assert "websocket_base_url" not in realtime_server.azure_kwargs
    azure = AzureOpenAI(**realtime_server.azure_kwargs)
    with azure.beta.realtime.connect(model="dep", **realtime_server.connect_kwargs) as conn:
        assert conn.recv().type == "session.created"

async def _async_part(realtime_server):
    async with AsyncOpenAI(**realtime_server.async_openai_kwargs) as client:
        assert (await client.realtime.client_secrets.create(session={"type": "realtime"})).value.startswith("ek_")
        async with client.realtime.connect(model="gpt-realtime", **realtime_server.connect_kwargs) as conn:
            assert (await conn.recv()).type == "session.created"
    async with AsyncAzureOpenAI(**realtime_server.async_azure_kwargs) as azure:
        async with azure.beta.realtime.connect(model="dep", **realtime_server.connect_kwargs) as conn:
            assert (await conn.recv()).type == "session.created"

def test_async_over_wss(realtime_server):
    asyncio.run(_async_part(realtime_server))

def test_openai_client_over_https(openai_client, realtime_server):
    kwargs = realtime_server.openai_kwargs
    assert kwargs["http_client"] is not realtime_server.openai_kwargs["http_client"]  # nothing shared by tests
    assert openai_client.realtime.client_secrets.create(session={"type": "realtime"}).value.startswith("ek_")
    with openai_client.realtime.connect(model="gpt-realtime", **realtime_server.connect_kwargs) as conn:
        assert conn.recv().type == "session.created"
'''


@pytest.mark.parametrize("how", ["option", "ini"])
def test_plugin_tls(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(test_user_tls=TLS_USER_TESTS)
    tls_dir = pytester.path / "tls-state"
    if how == "ini":
        pytester.makeini(f"[pytest]\nmockrt_tls = true\nmockrt_tls_dir = {tls_dir}\n")
        args: tuple[str, ...] = ()
    else:
        args = ("--mockrt-tls", f"--mockrt-tls-dir={tls_dir}")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", *args)
    result.assert_outcomes(passed=4)
    assert (tls_dir / "ca.pem").exists()


LEFT_OPEN = '''
from openai import OpenAI

_OPEN = []

def test_leaves_a_session_open(realtime_server, realtime):
    conn = OpenAI(**realtime_server.openai_kwargs).realtime.connect(model="gpt-realtime").enter()
    assert conn.recv().type == "session.created"
    _OPEN.append(conn)

def test_fails_with_its_own_session(realtime_server, realtime):
    with OpenAI(**realtime_server.openai_kwargs).realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
    realtime.wait_for("response.done", timeout=0.05)
'''


def test_a_session_left_open_by_an_earlier_test_is_not_reported(pytester: pytest.Pytester) -> None:
    """Only the sessions a failing test used are listed and saved: one still open from an earlier test (its journal
    emptied by the reset) is not, so no empty transcript is written beside the test's own."""
    pytester.makepyfile(test_user=LEFT_OPEN)
    out_dir = pytester.path / "transcripts"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--mockrt-save-transcripts={out_dir}",
                                           "-W", "ignore")
    result.assert_outcomes(passed=1, failed=1)
    saved = list(out_dir.glob("test_fails_with_its_own_session-sess_*.jsonl"))
    assert len(saved) == 1 and '"session.created"' in saved[0].read_text()
    assert str(result.stdout).count("/_mockrt/sessions/sess_") == 1
