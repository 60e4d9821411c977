"""The pytest plugin (registered through the ``pytest11`` entry point; no conftest needed).

Fixtures:

* ``realtime_server`` — one mockrt server per test session (per xdist worker), on its own thread and event
  loop on a free port, so it works with plain sync tests, pytest-asyncio and anyio alike. It exposes
  ``http_url``, ``ws_url``, ``openai_kwargs`` (for ``openai.OpenAI`` / ``AsyncOpenAI``), ``azure_kwargs``
  (for ``AzureOpenAI``), ``http_client()`` / ``async_http_client()`` (a cheap ``http_client`` for the SDK's
  clients) and ``control``.
* ``realtime`` — a per-test handle, reset before each test: load scenarios, set faults, read the journal, wait
  for events, assert with readable near misses, drive lockstep responses.
* ``openai_client`` / ``azure_openai_client`` — an ``OpenAI`` / ``AzureOpenAI`` for the server, new for each
  test and closed after it, made in about 0.2 ms instead of the ~30 ms of ``OpenAI(...)`` without an
  ``http_client`` (which loads the CA bundle into a new SSL context every time).

Markers: ``@pytest.mark.mockrt_scenario("greeting.yaml")`` loads a scenario (resolved against
``--mockrt-scenario-dir``) before the test; ``@pytest.mark.mockrt_faults({...})`` sets faults for new sessions.
Options / ini keys: ``--mockrt-vad`` / ``mockrt_vad``, ``--mockrt-scenario-dir`` / ``mockrt_scenario_dir``,
``--mockrt-audio-speed`` / ``mockrt_audio_speed``, ``--mockrt-save-transcripts`` / ``mockrt_save_transcripts``
(a directory; transcripts of the sessions of failing tests are written there). When a test fails, the report
names the sessions it used with their journal URLs.

TLS: ``--mockrt-tls`` / ``mockrt_tls = true`` serves ``https://`` and ``wss://`` with the local CA
(``mockrt serve --tls``; ``--mockrt-tls-dir`` / ``mockrt_tls_dir`` to keep it elsewhere than
``~/.local/state/mockrt/tls``). ``realtime_server`` then exposes ``ca_path``, ``https_url``, ``wss_url`` and
``ssl_context``; ``openai_kwargs`` / ``async_openai_kwargs`` / ``azure_kwargs`` carry an ``http_client`` that
trusts the CA (a new one for each access, like ``http_client()``), and ``connect_kwargs`` the WebSocket options
(``client.realtime.connect(model=..., **realtime_server.connect_kwargs)``). The beta and Azure clients reach the
mock without ``websocket_base_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the server stack is imported only when a test uses the fixtures
    from mockrt.control import MockControl
    from mockrt.core.faults import Faults
    from mockrt.scenarios import Reply, Scenario
    from mockrt.thread import ServerThread


class RealtimeServer:
    """The session-wide server (``realtime_server`` fixture)."""

    def __init__(self, thread: ServerThread, scenario_dir: Path | None) -> None:
        self.thread = thread
        self.control: MockControl = thread.control
        self.scenario_dir = scenario_dir

    @property
    def http_url(self) -> str:
        return self.thread.http_url

    @property
    def ws_url(self) -> str:
        return self.thread.ws_url

    @property
    def port(self) -> int:
        return self.thread.port

    @property
    def openai_kwargs(self) -> dict[str, Any]:
        """``OpenAI(**realtime_server.openai_kwargs)`` talks GA to the mock (under TLS with an ``http_client``
        that trusts the CA; use :attr:`async_openai_kwargs` for ``AsyncOpenAI``)."""
        return {"base_url": self.http_url + "/v1", "api_key": "sk-mockrt", **self._http_client()}

    @property
    def azure_kwargs(self) -> dict[str, Any]:
        """``AzureOpenAI(**realtime_server.azure_kwargs)``. Without TLS note ``websocket_base_url`` with
        ``/openai``, without which the Azure client forces ``wss://`` (docs/protocol.md §1.1); under TLS the
        ``https://`` endpoint is enough."""
        kwargs = {"azure_endpoint": self.http_url, "api_key": "mockrt-azure-key",
                  "api_version": "2025-04-01-preview", **self._http_client()}
        if not self.tls:
            kwargs["websocket_base_url"] = self.ws_url + "/openai"
        return kwargs

    # -- TLS (--mockrt-tls) --

    @property
    def tls(self) -> bool:
        return self.thread.tls is not None

    @property
    def ca_path(self) -> str | None:
        """The CA certificate (PEM) to trust under TLS (e.g. ``NODE_EXTRA_CA_CERTS`` for a Node client)."""
        return self.thread.ca_path

    @property
    def https_url(self) -> str:
        return self.thread.https_url

    @property
    def wss_url(self) -> str:
        return self.thread.wss_url

    @functools.cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context that trusts the server under TLS; None without TLS."""
        return self.thread.client_ssl_context() if self.tls else None

    @property
    def async_openai_kwargs(self) -> dict[str, Any]:
        """``AsyncOpenAI(**realtime_server.async_openai_kwargs)``. Each call makes a new async ``http_client``
        (:meth:`async_http_client`: cheap, and under TLS trusting the CA; it belongs to the caller's event loop):
        close the client (``await client.close()``, ``async with``)."""
        return {"base_url": self.http_url + "/v1", "api_key": "sk-mockrt", **self._async_http_client()}

    @property
    def async_azure_kwargs(self) -> dict[str, Any]:
        """``AsyncAzureOpenAI(**realtime_server.async_azure_kwargs)`` (see :attr:`async_openai_kwargs`)."""
        return {**self.azure_kwargs, **self._async_http_client()}

    @property
    def connect_kwargs(self) -> dict[str, Any]:
        """``client.realtime.connect(model=..., **realtime_server.connect_kwargs)``: under TLS the WebSocket
        options that trust the CA (the SDK passes ``websocket_connection_options`` to ``websockets``)."""
        context = self.ssl_context
        return {"websocket_connection_options": {"ssl": context}} if context is not None else {}

    @functools.cached_property
    def _client_context(self) -> ssl.SSLContext:
        """The SSL context of every client :meth:`http_client` makes: :attr:`ssl_context` under TLS, else a
        default context (never used over ``http://``, but httpx builds one for every client it makes)."""
        return self.ssl_context or ssl.create_default_context()

    def http_client(self) -> Any:
        """A new ``httpx`` client with the SDK's defaults (``openai.DefaultHttpxClient``) for ``OpenAI(...,
        http_client=...)`` or ``AzureOpenAI``: what :func:`openai_client` uses. All of them share one SSL context
        (trusting the CA under TLS), so one costs about 0.1 ms, where the client an ``OpenAI()`` makes for
        itself loads the system's CA bundle into a new context each time (about 30 ms, the largest per-test cost
        of a suite that builds a client per test; ``bench/plugin.py``). Each has its own connection pool and is
        closed with its ``OpenAI`` (``close()``, ``with``) or when garbage-collected, as the SDK's own is."""
        return _collected_client_class()(verify=self._client_context)

    def _http_client(self) -> dict[str, Any]:
        return {"http_client": self.http_client()} if self.ssl_context is not None else {}

    def async_http_client(self) -> Any:
        """:meth:`http_client` for ``AsyncOpenAI`` / ``AsyncAzureOpenAI`` (``openai.DefaultAsyncHttpxClient``):
        when collected unclosed it schedules its close on the running loop, as the SDK's own does."""
        return _collected_client_class(asynchronous=True)(verify=self._client_context)

    def _async_http_client(self) -> dict[str, Any]:
        return {"http_client": self.async_http_client()}

    def inspector_url(self, session_id: str) -> str:
        return f"{self.http_url}/_mockrt/sessions/{session_id}"


class Realtime:
    """The per-test handle (``realtime`` fixture), reset before each test; every method delegates to
    :class:`~mockrt.control.MockControl` (``realtime.control``).

    Events are matched on their wire ``type`` as the client sees it (``"response.output_text.delta"`` on GA,
    ``"response.text.delta"`` on beta) and on field values given as keyword arguments (``item_id="item_1"``) or,
    for nested fields, as dotted paths in ``match`` (``match={"response.status": "cancelled"}``).

    Example::

        def test_greeting(realtime, client):
            realtime.load_scenario("greeting.yaml")
            ...  # the app under test talks to realtime.server.ws_url
            done = realtime.wait_for("response.done", match={"response.status": "completed"})
    """

    def __init__(self, server: RealtimeServer) -> None:
        self.server = server
        self.control = server.control

    def load_scenario(self, scenario: Scenario | str | Path | dict[str, Any]) -> Scenario:
        """Load a scenario for new and live sessions and return it: a :class:`~mockrt.scenarios.Scenario`, a
        file (YAML, JSON, or a recording to replay; a bare name resolves against ``--mockrt-scenario-dir``),
        YAML/JSON text, or a dict. Invalid scenarios raise :class:`~mockrt.scenarios.ScenarioError` with the
        located problems."""
        if isinstance(scenario, str) and "\n" not in scenario and self.server.scenario_dir is not None:
            candidate = self.server.scenario_dir / scenario
            if candidate.exists():
                scenario = candidate
        return self.control.load_scenario(scenario)

    def set_faults(self, faults: Faults | dict[str, Any] | None, session_id: str | None = None) -> None:
        """Faults (a :class:`~mockrt.core.faults.Faults` or its dict form: ``drop``, ``delay_ms``, ``close``,
        ``stall``, ``service_error``, ``races``, ``refuse``, …) for new sessions; with ``session_id`` (or
        ``"*"``: every live session) they apply to live sessions at once. ``None`` removes them."""
        self.control.set_faults(faults, session_id)

    def journal(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Every frame of one session (or of all, in order) as ``{"seq", "t", "direction", "event"}``."""
        return self.control.journal(session_id)

    def events(self, etype: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """The events seen so far (no waiting) of this type and these field values; keyword options:
        ``direction="server"`` (or ``"client"``), ``session_id``."""
        return self.control.events(etype, **kwargs)

    def wait_for(self, etype: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Block until such an event has been seen and return it (also when it came before the call); keyword
        options ``direction``, ``session_id``, ``match``, ``timeout=5.0``. On timeout: ``AssertionError`` listing
        the near misses (same type, other values) or the types seen, with a "did you mean"."""
        return self.control.wait_for(etype, **kwargs)

    async def wait_for_async(self, etype: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """:meth:`wait_for` for async tests (the wait runs in a worker thread, the event loop keeps going)."""
        return await self.control.wait_for_async(etype, **kwargs)

    def assert_event(self, etype: str, **kwargs: Any) -> dict[str, Any]:
        """Assert that such an event was seen already (no waiting) and return it; failures show the near
        misses like :meth:`wait_for`."""
        return self.control.assert_event(etype, **kwargs)

    def next_client_event(self, etype: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Lockstep: wait for the next client event after the last one this method returned (optionally of one
        type) and return it; keyword options ``timeout=5.0``, ``session_id``."""
        return self.control.next_client_event(etype, **kwargs)

    def push_reply(self, reply: Reply, **kwargs: Any) -> None:
        """Lockstep: give the response that waits for a reply (the oldest, or ``response_id=``) this
        :class:`~mockrt.scenarios.Reply`; a scenario with ``lockstep: true`` leaves each response waiting until
        then. Keyword option ``session_id`` (default: the only live session)."""
        self.control.push_reply(reply, **kwargs)

    def push_event(self, event: dict[str, Any], **kwargs: Any) -> None:
        """Send a raw server event to the client as given (``event_id`` filled in if absent): for events or
        shapes the mock would not produce. Keyword option ``session_id`` (default: the only live session)."""
        self.control.push_event(event, **kwargs)

    def session_ids(self) -> list[str]:
        """The ids of the server's sessions: the live ones, then those that ended recently."""
        return self.control.session_ids()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockrt", "mockrt Realtime API mock")
    group.addoption("--mockrt-vad", default=None, help="server VAD detector: webrtc, energy or silero")
    group.addoption("--mockrt-scenario-dir", default=None, help="directory that scenario names resolve against")
    group.addoption("--mockrt-audio-speed", default=None, type=float, help="response audio speed (× real time)")
    group.addoption("--mockrt-save-transcripts", default=None, help="save transcripts of failing tests' sessions")
    parser.addini("mockrt_vad", "server VAD detector (webrtc, energy, silero)", default="webrtc")
    parser.addini("mockrt_scenario_dir", "directory that scenario names resolve against", default="")
    parser.addini("mockrt_audio_speed", "response audio speed (× real time; 0 = unpaced)", default="0")
    parser.addini("mockrt_save_transcripts", "directory for transcripts of failing tests' sessions", default="")
    group.addoption("--mockrt-tls", action="store_true", default=None,
                    help="serve https:// and wss:// with the local CA (mockrt serve --tls)")
    group.addoption("--mockrt-tls-dir", default=None, help="where the local CA is kept (default ~/.local/state)")
    parser.addini("mockrt_tls", "serve https:// and wss:// with the local CA", type="bool", default=False)
    parser.addini("mockrt_tls_dir", "where the local CA is kept (default ~/.local/state/mockrt/tls)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mockrt_scenario(scenario): load this mockrt scenario before the test")
    config.addinivalue_line("markers", "mockrt_faults(faults): set these mockrt faults for the test's sessions")


def _opt(config: pytest.Config, name: str) -> str:
    value = config.getoption(f"--mockrt-{name.replace('_', '-')}")
    return str(value) if value is not None else str(config.getini(f"mockrt_{name}"))


@pytest.fixture(scope="session")
def realtime_server(pytestconfig: pytest.Config) -> Iterator[RealtimeServer]:
    """One mockrt server for the test session (per xdist worker)."""
    from mockrt.config import ServerConfig
    from mockrt.core.responses import Pacing
    from mockrt.thread import ServerThread

    scenario_dir = _opt(pytestconfig, "scenario_dir")
    tls = pytestconfig.getoption("--mockrt-tls")
    tls_dir = _opt(pytestconfig, "tls_dir")
    config = ServerConfig(port=0, vad=_opt(pytestconfig, "vad"), log_level="warning",
                          pacing=Pacing(audio_speed=float(_opt(pytestconfig, "audio_speed"))),
                          tls=bool(tls if tls is not None else pytestconfig.getini("mockrt_tls")),
                          tls_dir=tls_dir or None)
    with ServerThread(config) as thread:
        yield RealtimeServer(thread, Path(scenario_dir) if scenario_dir else None)


@pytest.fixture
def realtime(realtime_server: RealtimeServer, request: pytest.FixtureRequest) -> Iterator[Realtime]:
    """A per-test handle on the session's server, reset before the test."""
    realtime_server.control.reset()
    handle = Realtime(realtime_server)
    marker = request.node.get_closest_marker("mockrt_scenario")
    if marker is not None:
        handle.load_scenario(marker.args[0])
    marker = request.node.get_closest_marker("mockrt_faults")
    if marker is not None:
        handle.set_faults(marker.args[0])
    request.node.stash[_HANDLE] = handle
    yield handle


_HANDLE = pytest.StashKey[Realtime]()


@pytest.fixture
def openai_client(realtime_server: RealtimeServer) -> Iterator[Any]:
    """An ``openai.OpenAI`` for the session's server (GA, and beta through ``client.beta.realtime``), new for
    each test and closed after it; cheap to make (:meth:`RealtimeServer.http_client`). Under TLS pass
    ``**realtime_server.connect_kwargs`` to ``client.realtime.connect``."""
    from openai import OpenAI

    with OpenAI(base_url=realtime_server.http_url + "/v1", api_key="sk-mockrt",
                http_client=realtime_server.http_client()) as client:
        yield client


@pytest.fixture
def azure_openai_client(realtime_server: RealtimeServer) -> Iterator[Any]:
    """An ``openai.AzureOpenAI`` for the session's server (:attr:`RealtimeServer.azure_kwargs`), new for each
    test and closed after it, like :func:`openai_client`."""
    from openai import AzureOpenAI

    with AzureOpenAI(**{**realtime_server.azure_kwargs, "http_client": realtime_server.http_client()}) as client:
        yield client


@functools.cache
@functools.cache
def _collected_client_class(asynchronous: bool = False) -> type[Any]:
    """``openai.DefaultHttpxClient`` (``DefaultAsyncHttpxClient``) that closes itself when collected, as the
    client an ``OpenAI()`` (``AsyncOpenAI()``) makes for itself does, so a test that drops one without closing
    it leaves no socket behind (an async one: when an event loop is running)."""
    from openai import DefaultAsyncHttpxClient, DefaultHttpxClient

    class CollectedClient(DefaultHttpxClient):
        def __del__(self) -> None:
            if not self.is_closed:
                with contextlib.suppress(Exception):  # at interpreter shutdown: nothing left to close
                    self.close()

    class CollectedAsyncClient(DefaultAsyncHttpxClient):
        def __del__(self) -> None:
            if not self.is_closed:
                with contextlib.suppress(Exception):  # no running loop: nothing can close it now
                    asyncio.get_running_loop().create_task(self.aclose())

    return CollectedAsyncClient if asynchronous else CollectedClient


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is None or report.when != "call" or not report.failed:
        return report
    # A session still open from an earlier test is live but its journal was emptied by this test's reset: it did
    # nothing here, so it is neither listed nor saved (an empty transcript beside the test's own).
    records = [r for r in handle.control.state.registry.all() if r.journal]
    lines = [f"{r.id} ({r.dialect}, {r.summary()['events']} events): {handle.server.inspector_url(r.id)}"
             for r in records]
    target = _opt(item.config, "save_transcripts")
    if target:
        out = Path(target)
        out.mkdir(parents=True, exist_ok=True)
        for record in records:
            path = out / f"{item.name}-{record.id}.jsonl"
            path.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in list(record.journal)))
            lines.append(f"saved {path}")
    if lines:
        report.sections.append(("mockrt sessions", "\n".join(lines)))
    return report
