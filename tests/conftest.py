from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.harness import Harness


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
    """An unpaced server shared by a test module (scenario and fault tests)."""
    with ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning")) as srv:
        yield srv


@pytest.fixture
def reset_mock(mock: ServerThread) -> Iterator[None]:
    """No scenario, faults or journal left over from the previous test (use with ``pytestmark``)."""
    mock.control.reset()
    yield
    mock.control.reset()


pytest_plugins = ["pytester"]
