from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.harness import Harness

if TYPE_CHECKING:
    from tests.mcp_support import McpServers


@pytest.fixture(params=["ga", "beta"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def h(dialect: str) -> Harness:
    return Harness(dialect)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    """A real mockrt server on a free loopback port (any key accepted)."""
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=50.0), log_level="warning")) as srv:
        yield srv


@pytest.fixture(scope="session")
def keyed_server() -> Iterator[ServerThread]:
    """A server that requires the key ``sk-test-key-1234567890``."""
    config = ServerConfig(port=0, api_keys=("sk-test-key-1234567890",), log_level="warning", known_models=(
        "gpt-realtime", "gpt-4o-realtime-preview"))
    with ServerThread(config) as srv:
        yield srv


@pytest.fixture(scope="module")
def mock() -> Iterator[ServerThread]:
    """An unpaced server shared by a test module (scenario, fault and MCP tests; an MCP server that never answers
    fails a listing or call after 3 s)."""
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning", mcp_timeout_s=3.0)
    with ServerThread(config) as srv:
        yield srv


@pytest.fixture
def reset_mock(mock: ServerThread) -> Iterator[None]:
    """No scenario, faults or journal left over from the previous test (use with ``pytestmark``)."""
    mock.control.reset()
    yield
    mock.control.reset()


@pytest.fixture(scope="module")
def mcp() -> Iterator[McpServers]:
    """Real MCP servers shared by a test module (tests/mcp_support.py)."""
    from tests.mcp_support import mcp_servers

    with mcp_servers() as servers:
        yield servers


@pytest.fixture
def reset_mcp(reset_mock: None, mcp: McpServers) -> None:
    """:func:`reset_mock`, and the MCP servers' record of calls emptied (use with ``pytestmark``)."""
    mcp.recorder.calls.clear()


@pytest.fixture(scope="module")
def live() -> Iterator[ServerThread]:
    """A server shared by a GPT-Live test module, its clock at 20x real time: a reply streams while the test keeps
    sending audio."""
    with ServerThread(ServerConfig(port=0, time_scale=0.05, log_level="warning")) as srv:
        yield srv


@pytest.fixture
def reset_live(live: ServerThread) -> None:
    """No scenario, faults or journal left over from the previous test (use with ``pytestmark``)."""
    live.control.reset()


pytest_plugins = ["pytester"]
