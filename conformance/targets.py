"""Where a conformance run connects: the in-process mock, OpenAI, Azure OpenAI, or any URL.

A :class:`Target` turns "a session of dialect D with auth A" into a WebSocket URL, headers and subprotocols.
Live targets read credentials **only** from environment variables and are never contacted unless chosen;
:meth:`Target.missing_credentials` names what is missing so a run can refuse to start (it never reports a pass
without having talked to the service).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

TARGETS = ("mock", "openai", "azure", "url")
AUTH_MODES = ("key", "none", "wrong", "subprotocol")
MOCK_KEY = "sk-conformance-mock-key-0123456789"
WRONG_KEY = "sk-conformance-wrong-key-9876543210"
KNOWN_MODELS = ("gpt-realtime", "gpt-realtime-mini", "gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview")
DEFAULT_MODELS = {"ga": "gpt-realtime", "beta": "gpt-4o-realtime-preview"}
AZURE_DEFAULT_API_VERSION = "2025-04-01-preview"


class DEFAULT_MODEL_TYPE:
    pass


DEFAULT_MODEL = DEFAULT_MODEL_TYPE()


@dataclass(frozen=True)
class Endpoint:
    """How to open one WebSocket session."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    subprotocols: list[str] = field(default_factory=list)
    local: bool = False


class TargetError(Exception):
    """A target cannot be used (missing credentials, bad URL)."""


class Target:
    """Base class: one server (or service) the catalogue runs against."""

    name = "target"
    flavour = "openai"  # "openai" | "azure": how auth and handshake failures look (§1.2, §1.4)
    live = False
    default_dialects: tuple[str, ...] = ("ga", "beta")
    timeout_scale = 1.0
    supports_auth_cases = True  # the server checks keys (a wrong key is refused)

    def __init__(self, env: Mapping[str, str] | None = None, model: str | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.model_override = model

    # -- lifecycle -----------------------------------------------------------------------------------------

    def missing_credentials(self) -> list[str]:
        return []

    def start(self) -> None:
        missing = self.missing_credentials()
        if missing:
            raise TargetError(f"--target {self.name} needs the environment variable(s) {', '.join(missing)}; "
                              "nothing was run")

    def stop(self) -> None:
        pass

    def describe(self) -> str:
        return self.name

    def model(self, dialect: str) -> str:
        return self.model_override or DEFAULT_MODELS[dialect]

    def endpoint(self, dialect: str, *, model: Any = DEFAULT_MODEL, intent: str | None = None, auth: str = "key",
                 paced: bool = False, query: Mapping[str, str] | None = None) -> Endpoint:
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _openai_style(base: str, dialect: str, key: str, *, model: str | None, intent: str | None, auth: str,
                      query: Mapping[str, str] | None, local: bool) -> Endpoint:
        params: dict[str, str] = {}
        if model is not None:
            params["model"] = model
        if intent is not None:
            params["intent"] = intent
        params.update(query or {})
        url = base + ("?" + urlencode(params) if params else "")
        headers: dict[str, str] = {}
        subprotocols: list[str] = []
        if auth == "key":
            headers["Authorization"] = f"Bearer {key}"
        elif auth == "wrong":
            headers["Authorization"] = f"Bearer {WRONG_KEY}"
        elif auth == "subprotocol":
            subprotocols = ["realtime", f"openai-insecure-api-key.{key}"]
        if dialect == "beta":
            if auth == "subprotocol":
                subprotocols.append("openai-beta.realtime-v1")
            else:
                headers["OpenAI-Beta"] = "realtime=v1"
        return Endpoint(url, headers, subprotocols, local)

    def _resolve_model(self, dialect: str, model: Any) -> str | None:
        return self.model(dialect) if isinstance(model, DEFAULT_MODEL_TYPE) else model


class MockTarget(Target):
    """mockrt in-process: two :class:`~mockrt.server.ServerThread` s on free ports.

    The *fast* server streams unpaced (``Pacing(audio_speed=0)``): a response is complete as soon as it is
    created. Cases that need a response to still be in progress (one active response, cancel, barge-in) ask for a
    *paced* session, served by a second server with live-like pacing (audio at 10× real time, 100 ms to the
    first output). Both require the key :data:`MOCK_KEY` and know the models in :data:`KNOWN_MODELS`, so auth
    and model failures behave like the live service's.
    """

    name = "mock"

    def __init__(self, env: Mapping[str, str] | None = None, model: str | None = None) -> None:
        super().__init__(env, model)
        self.servers: dict[str, Any] = {}

    def start(self) -> None:
        if self.servers:
            return
        from mockrt.config import ServerConfig
        from mockrt.core.responses import Pacing
        from mockrt.server import ServerThread

        common: dict[str, Any] = {"port": 0, "api_keys": (MOCK_KEY,), "known_models": KNOWN_MODELS,
                                  "log_level": "warning"}
        fast = ServerThread(ServerConfig(pacing=Pacing(audio_speed=0), **common)).start()
        try:
            paced = ServerThread(ServerConfig(pacing=Pacing(audio_speed=10.0, first_delta_ms=100.0), **common))
            self.servers = {"fast": fast, "paced": paced.start()}
        except BaseException:
            fast.stop()
            raise

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers = {}

    def describe(self) -> str:
        fast = self.servers.get("fast")
        return f"mock (mockrt in-process{', ' + fast.ws_url if fast else ''})"

    def endpoint(self, dialect: str, *, model: Any = DEFAULT_MODEL, intent: str | None = None, auth: str = "key",
                 paced: bool = False, query: Mapping[str, str] | None = None) -> Endpoint:
        if not self.servers:
            self.start()
        server = self.servers["paced" if paced else "fast"]
        return self._openai_style(server.ws_url + "/v1/realtime", dialect, MOCK_KEY,
                                  model=self._resolve_model(dialect, model), intent=intent, auth=auth, query=query,
                                  local=True)


class OpenAITarget(Target):
    """The OpenAI service: ``wss://api.openai.com/v1/realtime`` with ``OPENAI_API_KEY`` (§1.1).

    The beta protocol was removed on 2026-05-12 (§0.2), so only GA runs unless ``--dialect beta`` is given.
    """

    name = "openai"
    live = True
    default_dialects = ("ga",)
    timeout_scale = 3.0

    def missing_credentials(self) -> list[str]:
        return [] if self.env.get("OPENAI_API_KEY") else ["OPENAI_API_KEY"]

    def describe(self) -> str:
        return "openai (wss://api.openai.com/v1/realtime)"

    def endpoint(self, dialect: str, *, model: Any = DEFAULT_MODEL, intent: str | None = None, auth: str = "key",
                 paced: bool = False, query: Mapping[str, str] | None = None) -> Endpoint:
        base = self.env.get("OPENAI_REALTIME_URL", "wss://api.openai.com/v1/realtime")
        return self._openai_style(base, dialect, self.env.get("OPENAI_API_KEY", ""),
                                  model=self._resolve_model(dialect, model), intent=intent, auth=auth, query=query,
                                  local=False)


class AzureTarget(Target):
    """Azure OpenAI: GA at ``/openai/v1/realtime?model=<deployment>``, beta at the preview path
    ``/openai/realtime?api-version=…&deployment=…``; the ``api-key`` header (§1.2)."""

    name = "azure"
    flavour = "azure"
    live = True
    timeout_scale = 3.0
    REQUIRED = ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT")

    def missing_credentials(self) -> list[str]:
        return [name for name in self.REQUIRED if not self.env.get(name)]

    def model(self, dialect: str) -> str:
        return self.model_override or self.env.get("AZURE_OPENAI_DEPLOYMENT", "")

    def describe(self) -> str:
        return f"azure ({self.env.get('AZURE_OPENAI_ENDPOINT', '?')})"

    def endpoint(self, dialect: str, *, model: Any = DEFAULT_MODEL, intent: str | None = None, auth: str = "key",
                 paced: bool = False, query: Mapping[str, str] | None = None) -> Endpoint:
        parts = urlsplit(self.env.get("AZURE_OPENAI_ENDPOINT", ""))
        scheme = "wss" if parts.scheme in ("https", "wss", "") else "ws"
        deployment = self._resolve_model(dialect, model)
        params: dict[str, str] = {}
        if dialect == "ga":
            path = "/openai/v1/realtime"
            if deployment is not None:
                params["model"] = deployment
        else:
            path = "/openai/realtime"
            params["api-version"] = self.env.get("AZURE_OPENAI_API_VERSION") or AZURE_DEFAULT_API_VERSION
            if deployment is not None:
                params["deployment"] = deployment
        if intent is not None:
            params["intent"] = intent
        params.update(query or {})
        url = urlunsplit((scheme, parts.netloc, path, urlencode(params), ""))
        headers: dict[str, str] = {}
        if auth in ("key", "subprotocol"):
            headers["api-key"] = self.env.get("AZURE_OPENAI_API_KEY", "")
        elif auth == "wrong":
            headers["api-key"] = WRONG_KEY
        return Endpoint(url, headers, [], False)


class UrlTarget(Target):
    """Any server that claims the protocol, OpenAI-style: ``--url ws://host:port[/v1/realtime]``.

    The key comes from ``CONFORMANCE_API_KEY`` (``OPENAI_API_KEY`` if unset). Without one, the server is taken to
    accept any key and the cases that need a key to be refused are skipped.
    """

    name = "url"

    def __init__(self, url: str | None, env: Mapping[str, str] | None = None, model: str | None = None) -> None:
        super().__init__(env, model)
        if not url:
            raise TargetError("--target url needs --url ws://host:port[/v1/realtime]")
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise TargetError(f"--url must be a ws:// or wss:// URL, got {url!r}")
        path = parts.path.rstrip("/") or "/v1/realtime"
        self.base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self.key = self.env.get("CONFORMANCE_API_KEY") or self.env.get("OPENAI_API_KEY") or ""
        self.supports_auth_cases = bool(self.key)
        self.local = parts.hostname in ("127.0.0.1", "localhost", "::1")

    def describe(self) -> str:
        return f"url ({self.base})"

    def endpoint(self, dialect: str, *, model: Any = DEFAULT_MODEL, intent: str | None = None, auth: str = "key",
                 paced: bool = False, query: Mapping[str, str] | None = None) -> Endpoint:
        return self._openai_style(self.base, dialect, self.key or "sk-conformance-any-key", local=self.local,
                                  model=self._resolve_model(dialect, model), intent=intent, auth=auth, query=query)


def make_target(name: str, *, url: str | None = None, model: str | None = None,
                env: Mapping[str, str] | None = None) -> Target:
    """The target called ``name`` (one of :data:`TARGETS`)."""
    if name == "mock":
        return MockTarget(env, model)
    if name == "openai":
        return OpenAITarget(env, model)
    if name == "azure":
        return AzureTarget(env, model)
    if name == "url":
        return UrlTarget(url, env, model)
    raise TargetError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}")
