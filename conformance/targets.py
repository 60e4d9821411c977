"""Where a conformance run connects: the mock (``mockrt serve`` subprocesses), OpenAI, Azure OpenAI, or any URL.

The suite imports nothing from mockrt: the mock is a server like any other, started as a command.

A :class:`Target` turns "a session of dialect D with auth A" into a WebSocket URL, headers and subprotocols.
Live targets read credentials **only** from environment variables and are never contacted unless chosen;
:meth:`Target.missing_credentials` names what is missing so a run can refuse to start (it never reports a pass
without having talked to the service).
"""

from __future__ import annotations

import os
import re
import shlex
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit, urlunsplit

TARGETS = ("mock", "openai", "azure", "url")
AUTH_MODES = ("key", "none", "wrong", "subprotocol")
MOCK_KEY = "sk-conformance-mock-key-0123456789"
WRONG_KEY = "sk-conformance-wrong-key-9876543210"
KNOWN_MODELS = ("gpt-realtime", "gpt-realtime-mini", "gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview",
                "gpt-realtime-2")
DEFAULT_MODELS = {"ga": "gpt-realtime", "beta": "gpt-4o-realtime-preview", "translation": "gpt-realtime-translate",
                  "live": "gpt-live-1", "voice-live": "gpt-realtime"}
TRANSLATION = "translation"
"""The translation surface (§10) runs as a third dialect: ``<base>/translations`` with its own model."""
LIVE_PATH = "/v1/live/sessions"
"""GPT-Live (docs/protocol.md §13): the model goes in ``session.start``, never in the URL."""
AZURE_DEFAULT_API_VERSION = "2025-04-01-preview"
VOICE_LIVE = "voice-live"
"""Azure Voice Live (docs/protocol.md §12): ``/voice-live/realtime?api-version=…&model=…`` with an ``api-key``."""
VOICE_LIVE_PATH = "/voice-live/realtime"
VOICE_LIVE_API_VERSION = "2026-07-15"
"""The Voice Live GA api-version (docs/protocol.md §12); ``AZURE_VOICELIVE_API_VERSION`` overrides it."""
DIALECTS = ("ga", "beta", TRANSLATION, "live", VOICE_LIVE)
"""Every dialect the catalogue knows, in report order."""
MOCK_PROMPT_ID = "pmpt_conformance_0123456789"
MOCK_PROMPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock_prompts.yaml")
"""The mock target's stored prompt (``--scenario`` with only ``prompts:``): the prompt cases reference it
(docs/protocol.md §2.9, §4.3); other targets name theirs with ``CONFORMANCE_PROMPT_ID``."""


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
    tls: ssl.SSLContext | None = None  # wss:// (and https://) with the CA of --ca / CONFORMANCE_CA


class TargetError(Exception):
    """A target cannot be used (missing credentials, bad URL, an unreadable CA file)."""


def _tls_context(ca_file: str | None) -> ssl.SSLContext | None:
    """A client TLS context that also trusts the PEM CA certificate(s) in ``ca_file`` (``--ca``)."""
    if not ca_file:
        return None
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise TargetError(f"--ca {ca_file}: not a readable PEM CA certificate ({exc})") from None
    return context


class Target:
    """Base class: one server (or service) the catalogue runs against."""

    name = "target"
    flavour = "openai"  # "openai" | "azure": how auth and handshake failures look (§1.2, §1.4)
    live = False
    default_dialects: tuple[str, ...] = ("ga", "beta", "live")
    timeout_scale = 1.0
    supports_auth_cases = True  # the server checks keys (a wrong key is refused)

    def __init__(self, env: Mapping[str, str] | None = None, model: str | None = None, *,
                 ca: str | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.model_override = model
        self.ca_file = ca or self.env.get("CONFORMANCE_CA") or None
        self.tls = _tls_context(self.ca_file)
        """Trusts the CA in ``ca_file`` besides the system's (a ``mockrt serve --tls`` target), ``None`` without."""

    # -- lifecycle -----------------------------------------------------------------------------------------

    def missing_credentials(self) -> list[str]:
        return []

    @property
    def stored_prompt_id(self) -> str | None:
        """A prompt stored on the target (``CONFORMANCE_PROMPT_ID``; the mock's own), for the prompt cases:
        without one they skip."""
        return self.env.get("CONFORMANCE_PROMPT_ID") or None

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
        if dialect == TRANSLATION:
            return DEFAULT_MODELS[dialect]
        return self.model_override or DEFAULT_MODELS[dialect]

    def endpoint(self, dialect: str, *, model: Any = DEFAULT_MODEL, intent: str | None = None, auth: str = "key",
                 paced: bool = False, query: Mapping[str, str] | None = None) -> Endpoint:
        """How to open a session of ``dialect``; a ``wss://`` endpoint carries the TLS context (``--ca``)."""
        endpoint = self._endpoint(dialect, model=model, intent=intent, auth=auth, paced=paced, query=query)
        if self.tls is not None and endpoint.url.startswith("wss://"):
            endpoint = replace(endpoint, tls=self.tls)
        return endpoint

    def _endpoint(self, dialect: str, *, model: Any, intent: str | None, auth: str, paced: bool,
                  query: Mapping[str, str] | None) -> Endpoint:
        raise NotImplementedError

    def unavailable(self, dialect: str) -> str | None:
        """Why sessions of ``dialect`` cannot be opened here (its cases are then reported as skipped), or None."""
        if dialect == VOICE_LIVE:
            from conformance.voicelive import available

            if not available():
                return "the voice-live dialect validates with azure-ai-voicelive, which is not installed"
        return None

    # -- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _openai_style(base: str, dialect: str, key: str, *, model: str | None, intent: str | None, auth: str,
                      query: Mapping[str, str] | None, local: bool) -> Endpoint:
        params: dict[str, str] = {}
        if dialect == TRANSLATION:
            base += "/translations"
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

    @staticmethod
    def _voice_live_style(base: str, key: str, *, model: str | None, auth: str, api_version: str,
                          query: Mapping[str, str] | None, local: bool) -> Endpoint:
        """Voice Live's upgrade: ``<base>/voice-live/realtime?api-version=…&model=…``, the ``api-key`` header."""
        params = {"api-version": api_version}
        if model is not None:
            params["model"] = model
        params.update(query or {})
        parts = urlsplit(base)
        url = urlunsplit((parts.scheme, parts.netloc, VOICE_LIVE_PATH, urlencode(params), ""))
        headers = {"api-key": WRONG_KEY if auth == "wrong" else key} if auth != "none" else {}
        return Endpoint(url, headers, [], local)

    @staticmethod
    def _live_style(url: str, key: str, auth: str, local: bool) -> Endpoint:
        headers = {"Authorization": f"Bearer {WRONG_KEY if auth == 'wrong' else key}"} if auth != "none" else {}
        return Endpoint(url, headers, [], local)

    def _resolve_model(self, dialect: str, model: Any) -> str | None:
        return self.model(dialect) if isinstance(model, DEFAULT_MODEL_TYPE) else model


class MockProcess:
    """One ``mockrt serve --port 0`` subprocess; :attr:`ws_url` is known once it printed where it listens.

    The command is ``CONFORMANCE_MOCK_COMMAND`` (split like a shell would), else ``<this python> -m mockrt``.
    ``MOCKRT_*`` variables are removed from the child's environment so that the catalogue always judges the same
    configuration: the flags given here, and defaults for everything else. Its stderr goes to a temporary file
    that is quoted when the server does not start.
    """

    LISTENING = re.compile(r"listening on http://([^\s:]+):(\d+)")

    def __init__(self, args: list[str], env: Mapping[str, str], *, startup_timeout: float = 60.0) -> None:
        command = env.get("CONFORMANCE_MOCK_COMMAND")
        self.command = [*(shlex.split(command) if command else [sys.executable, "-m", "mockrt"]), "serve",
                        "--host", "127.0.0.1", "--port", "0", *args]
        self.env = {k: v for k, v in env.items() if not k.startswith("MOCKRT_")}
        self.startup_timeout = startup_timeout
        self.ws_url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: Any = None
        self._stderr_text = ""  # what the process wrote to stderr, kept when it is stopped
        self._listening = threading.Event()
        self._reader: threading.Thread | None = None

    def launch(self) -> None:
        """Start the process (without waiting: several servers start side by side)."""
        self._stderr = tempfile.TemporaryFile(mode="w+", prefix="mockrt-conformance-")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=self._stderr,
                                      stdin=subprocess.DEVNULL, env=self.env, text=True)
        self._reader = threading.Thread(target=self._read_stdout, args=(self._proc,), daemon=True,
                                        name="mockrt-conformance-stdout")
        self._reader.start()

    def _read_stdout(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # keep draining, so that the child never blocks on a full pipe
            match = self.LISTENING.search(line)
            if match and not self._listening.is_set():
                self.ws_url = f"ws://{match.group(1)}:{match.group(2)}"
                self._listening.set()
        self._listening.set()  # EOF: the process ended (wait_ready reports it)

    def wait_ready(self) -> str:
        if not self._listening.wait(self.startup_timeout) or not self.ws_url:
            self.stop()  # ends the process, so its stderr is complete
            raise TargetError(f"`{shlex.join(self.command)}` did not start a server within "
                              f"{self.startup_timeout:.0f} s; its stderr:\n{self._stderr_tail()}")
        return self.ws_url

    def _stderr_tail(self, chars: int = 3000) -> str:
        return self._stderr_text[-chars:]

    def stop(self) -> None:
        """SIGTERM (the server closes its sessions with 1001), then SIGKILL if it does not exit."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10.0)
        if self._reader is not None:
            self._reader.join(10.0)  # the pipe reached EOF when the process exited
            self._reader = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.seek(0)
            self._stderr_text = str(self._stderr.read())
            self._stderr.close()
            self._stderr = None


class MockTarget(Target):
    """mockrt judged from outside: two ``mockrt serve --port 0`` subprocesses, started once for the run.

    The *fast* server streams unpaced (``--audio-speed 0``): a response is complete as soon as it is created.
    Cases that need a response to still be in progress (one active response, cancel, barge-in) ask for a *paced*
    session, served by the second server with live-like pacing (audio at 10x real time, 100 ms to the first
    output). Both require the key :data:`MOCK_KEY` and know the models in :data:`KNOWN_MODELS`, so auth and model
    failures behave like the live service's. The suite talks to them only over the wire, like to any server.
    """

    name = "mock"
    default_dialects = DIALECTS
    FLAGS: ClassVar[tuple[str, ...]] = ("--api-key", MOCK_KEY, *(arg for m in KNOWN_MODELS for arg in ("--model", m)),
                                        "--scenario", MOCK_PROMPTS, "--log-level", "warning")

    PACING: ClassVar[dict[str, tuple[str, ...]]] = {
        "fast": ("--audio-speed", "0"),
        "paced": ("--audio-speed", "10", "--first-delta-ms", "100"),
    }

    def __init__(self, env: Mapping[str, str] | None = None, model: str | None = None) -> None:
        super().__init__(env, model)
        self.servers: dict[str, str] = {}  # "fast" / "paced" -> ws://host:port, once each is listening
        self._processes: dict[str, MockProcess] = {}

    def start(self) -> None:
        """Launch both servers side by side; wait for the fast one (the paced one when a case first needs it)."""
        if self._processes:
            return
        self._processes = {kind: MockProcess([*self.FLAGS, *flags], self.env) for kind, flags in self.PACING.items()}
        try:
            for process in self._processes.values():
                process.launch()
            self._server("fast")
        except BaseException:
            self.stop()
            raise

    def _server(self, kind: str) -> str:
        if kind not in self.servers:
            self.servers[kind] = self._processes[kind].wait_ready()
        return self.servers[kind]

    def stop(self) -> None:
        for process in self._processes.values():
            process.stop()
        self._processes = {}
        self.servers = {}

    @property
    def stored_prompt_id(self) -> str | None:
        return MOCK_PROMPT_ID

    def describe(self) -> str:
        fast = self.servers.get("fast")
        return f"mock (mockrt serve{', ' + fast if fast else ''})"

    def _endpoint(self, dialect: str, *, model: Any, intent: str | None, auth: str, paced: bool,
                  query: Mapping[str, str] | None) -> Endpoint:
        if not self._processes:
            self.start()
        base = self._server("paced" if paced else "fast")
        if dialect == "live":
            return self._live_style(base + LIVE_PATH, MOCK_KEY, auth, True)
        if dialect == VOICE_LIVE:
            return self._voice_live_style(base, MOCK_KEY, model=self._resolve_model(dialect, model), auth=auth,
                                          api_version=VOICE_LIVE_API_VERSION, query=query, local=True)
        return self._openai_style(base + "/v1/realtime", dialect, MOCK_KEY,
                                  model=self._resolve_model(dialect, model), intent=intent, auth=auth, query=query,
                                  local=True)


class OpenAITarget(Target):
    """The OpenAI service: ``wss://api.openai.com/v1/realtime`` with ``OPENAI_API_KEY`` (§1.1).

    The beta protocol was removed on 2026-05-12 (§0.2), so only GA runs unless ``--dialect beta`` is given.
    """

    name = "openai"
    live = True
    default_dialects = ("ga", "live")
    timeout_scale = 3.0

    def missing_credentials(self) -> list[str]:
        return [] if self.env.get("OPENAI_API_KEY") else ["OPENAI_API_KEY"]

    def describe(self) -> str:
        return "openai (wss://api.openai.com/v1/realtime)"

    def _endpoint(self, dialect: str, *, model: Any, intent: str | None, auth: str, paced: bool,
                  query: Mapping[str, str] | None) -> Endpoint:
        if dialect == "live":
            return self._live_style(self.env.get("OPENAI_LIVE_URL", "wss://api.openai.com" + LIVE_PATH),
                                    self.env.get("OPENAI_API_KEY", ""), auth, False)
        base = self.env.get("OPENAI_REALTIME_URL", "wss://api.openai.com/v1/realtime")
        return self._openai_style(base, dialect, self.env.get("OPENAI_API_KEY", ""),
                                  model=self._resolve_model(dialect, model), intent=intent, auth=auth, query=query,
                                  local=False)


class AzureTarget(Target):
    """Azure OpenAI: GA at ``/openai/v1/realtime?model=<deployment>``, beta at the preview path
    ``/openai/realtime?api-version=…&deployment=…``; the ``api-key`` header (§1.2). Azure Voice Live (the
    ``voice-live`` dialect, docs/protocol.md §12) at ``<AZURE_VOICELIVE_ENDPOINT>/voice-live/realtime`` with
    ``AZURE_VOICELIVE_API_KEY``, ``AZURE_VOICELIVE_MODEL`` (default ``gpt-realtime``) and
    ``AZURE_VOICELIVE_API_VERSION`` (default 2026-07-15).

    Either set of credentials is enough to run: the cases of a dialect whose credentials are absent are reported
    as skipped, naming the missing variables.
    """

    name = "azure"
    flavour = "azure"
    live = True
    default_dialects = ("ga", "beta", VOICE_LIVE)  # GPT-Live on Azure has its own resource paths: not targeted yet
    timeout_scale = 3.0
    REQUIRED = ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT")
    VOICE_LIVE_REQUIRED = ("AZURE_VOICELIVE_ENDPOINT", "AZURE_VOICELIVE_API_KEY")

    def _missing(self, dialect: str) -> list[str]:
        names = self.VOICE_LIVE_REQUIRED if dialect == VOICE_LIVE else self.REQUIRED
        return [name for name in names if not self.env.get(name)]

    def missing_credentials(self) -> list[str]:
        openai, voice_live = self._missing("ga"), self._missing(VOICE_LIVE)
        return [] if not openai or not voice_live else openai + voice_live

    def unavailable(self, dialect: str) -> str | None:
        missing = self._missing(dialect)
        if missing:
            return f"--target azure: the {dialect} dialect needs the environment variable(s) {', '.join(missing)}"
        return super().unavailable(dialect)

    def model(self, dialect: str) -> str:
        if dialect == VOICE_LIVE:
            return self.model_override or self.env.get("AZURE_VOICELIVE_MODEL") or DEFAULT_MODELS[VOICE_LIVE]
        return self.model_override or self.env.get("AZURE_OPENAI_DEPLOYMENT", "")

    def describe(self) -> str:
        where = [self.env[k] for k in ("AZURE_OPENAI_ENDPOINT", "AZURE_VOICELIVE_ENDPOINT") if self.env.get(k)]
        return f"azure ({', '.join(where) or '?'})"

    def _endpoint(self, dialect: str, *, model: Any, intent: str | None, auth: str, paced: bool,
                  query: Mapping[str, str] | None) -> Endpoint:
        if dialect == VOICE_LIVE:
            parts = urlsplit(self.env.get("AZURE_VOICELIVE_ENDPOINT", ""))
            scheme = "wss" if parts.scheme in ("https", "wss", "") else "ws"
            return self._voice_live_style(
                urlunsplit((scheme, parts.netloc, "", "", "")), self.env.get("AZURE_VOICELIVE_API_KEY", ""),
                model=self._resolve_model(dialect, model), auth=auth, query=query,
                local=parts.hostname in ("127.0.0.1", "localhost", "::1"),
                api_version=self.env.get("AZURE_VOICELIVE_API_VERSION") or VOICE_LIVE_API_VERSION)
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
    accept any key and the cases that need a key to be refused are skipped. ``--paced-url`` (optional) serves the
    sessions a case asks to be paced (``ctx.connect(paced=True)``), for a server under test that streams unpaced
    at ``--url``; by default every session goes to ``--url``.
    """

    name = "url"
    default_dialects = DIALECTS

    def __init__(self, url: str | None, env: Mapping[str, str] | None = None, model: str | None = None, *,
                 paced_url: str | None = None, ca: str | None = None) -> None:
        super().__init__(env, model, ca=ca)
        if not url:
            raise TargetError("--target url needs --url ws://host:port[/v1/realtime]")
        self.base = self._base(url, "--url")
        self.paced_base = self._base(paced_url, "--paced-url") if paced_url else self.base
        parts = urlsplit(url)
        self.key = self.env.get("CONFORMANCE_API_KEY") or self.env.get("OPENAI_API_KEY") or ""
        self.supports_auth_cases = bool(self.key)
        self.local = parts.hostname in ("127.0.0.1", "localhost", "::1")

    @staticmethod
    def _base(url: str, option: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise TargetError(f"{option} must be a ws:// or wss:// URL, got {url!r}")
        path = parts.path.rstrip("/") or "/v1/realtime"
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    def describe(self) -> str:
        paced = f", paced: {self.paced_base}" if self.paced_base != self.base else ""
        return f"url ({self.base}{paced})"

    def _endpoint(self, dialect: str, *, model: Any, intent: str | None, auth: str, paced: bool,
                  query: Mapping[str, str] | None) -> Endpoint:
        if dialect == "live":
            parts = urlsplit(self.paced_base if paced else self.base)
            return self._live_style(urlunsplit((parts.scheme, parts.netloc, LIVE_PATH, "", "")),
                                    self.key or "sk-conformance-any-key", auth, self.local)
        if dialect == VOICE_LIVE:
            return self._voice_live_style(self.paced_base if paced else self.base, self.key or "sk-conformance-any-key",
                                          model=self._resolve_model(dialect, model), auth=auth, query=query,
                                          api_version=VOICE_LIVE_API_VERSION, local=self.local)
        return self._openai_style(self.paced_base if paced else self.base, dialect,
                                  self.key or "sk-conformance-any-key", local=self.local,
                                  model=self._resolve_model(dialect, model), intent=intent, auth=auth, query=query)


def make_target(name: str, *, url: str | None = None, model: str | None = None,
                env: Mapping[str, str] | None = None, paced_url: str | None = None, ca: str | None = None) -> Target:
    """The target called ``name`` (one of :data:`TARGETS`); ``ca`` (else ``CONFORMANCE_CA``): a PEM CA file that
    ``wss://`` / ``https://`` connections trust besides the system's (``mockrt serve --tls``)."""
    if name == "mock":
        return MockTarget(env, model)
    if name == "openai":
        return OpenAITarget(env, model, ca=ca)
    if name == "azure":
        return AzureTarget(env, model, ca=ca)
    if name == "url":
        return UrlTarget(url, env, model, paced_url=paced_url, ca=ca)
    raise TargetError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}")
