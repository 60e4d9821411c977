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
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*no server event response.done*", "*mockrt sessions*",
                                 "*http://127.0.0.1:*/_mockrt/sessions/sess_*"])
    saved = list(out_dir.glob("test_failing_shows_sessions-sess_*.jsonl"))
    assert saved and '"session.created"' in saved[0].read_text()


def test_plugin_options_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--mockrt-vad*", "*--mockrt-scenario-dir*", "*mockrt_audio_speed*"])
