"""Who is connecting, in which dialect, and may they (docs/protocol.md §1.1–§1.4, §1.6).

Pure functions over the request's path, query, headers and offered subprotocols: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mockrt.core import errors
from mockrt.core.model import SessionConfig, TranslationConfig

INSECURE_KEY_PREFIX = "openai-insecure-api-key."
BETA_SUBPROTOCOL = "openai-beta.realtime-v1"
VOICE_LIVE_PATHS = ("/voice-live/realtime", "/voice-agent/realtime")
"""Azure Voice Live: the current path and the one of its 2025 previews (azure-ai-voicelive 1.3.1)."""


@dataclass(frozen=True)
class Handshake:
    """The outcome of inspecting an upgrade request."""

    flavour: str  # "openai" | "azure" | "voice-live"
    dialect: str  # "ga" | "beta"
    model: str | None
    kind: str  # "realtime" | "transcription"
    subprotocol: str | None  # what to echo (§1.1: "realtime" when offered)
    http_status: int | None = None  # refuse at the HTTP level (Azure, §1.2)
    fatal: errors.ProtocolError | None = None  # accept, send this error, then close (§1.4)
    close_code: int = 0
    initial_config: SessionConfig | None = None  # from an ephemeral token (§1.6)


TokenConfig = SessionConfig | TranslationConfig
"""What an ephemeral key opens: a realtime/transcription session, or a translation session (§10)."""


@dataclass(frozen=True)
class Credential:
    key: str | None
    source: str  # "bearer" | "api-key" | "subprotocol" | "query" | "none"


def find_credential(headers: Mapping[str, str], query: Mapping[str, str], subprotocols: Sequence[str]) -> Credential:
    """The key a client presents, wherever it puts it (§1.1, §1.2)."""
    auth = headers.get("authorization") or query.get("Authorization") or query.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return Credential(value.strip(), "bearer")
    key = headers.get("api-key") or query.get("api-key")
    if key:
        return Credential(key, "api-key" if headers.get("api-key") else "query")
    for proto in subprotocols:
        if proto.startswith(INSECURE_KEY_PREFIX):
            return Credential(proto[len(INSECURE_KEY_PREFIX):], "subprotocol")
    return Credential(None, "none")


class KeyChecker:
    """Validates standard keys (``--api-key``) and ephemeral ``ek_`` keys minted by the REST endpoints (§1.6).

    Ephemeral keys come from :mod:`secrets` (never from the seeded id generator: a seed is public), are stored
    by their SHA-256 digest, are dropped when expired (on every mint and lookup), and at most ``max_ephemeral``
    unexpired keys are kept (the oldest are dropped first). Standard keys are compared in constant time.
    """

    def __init__(self, api_keys: Sequence[str], max_ephemeral: int = 10_000) -> None:
        self.api_keys = tuple(api_keys)
        self.max_ephemeral = max_ephemeral
        self._ephemeral: OrderedDict[bytes, tuple[float, TokenConfig, str]] = OrderedDict()

    @property
    def open(self) -> bool:
        return not self.api_keys

    def __len__(self) -> int:
        return len(self._ephemeral)

    @staticmethod
    def _digest(key: str) -> bytes:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()

    def mint(self, expires_at: float, config: TokenConfig, dialect: str, now_unix: float) -> str:
        """A new unguessable ``ek_`` key (the service's shape: ``ek_`` + 32 hex digits) for ``config``."""
        key = "ek_" + secrets.token_hex(16)
        self.add_ephemeral(key, expires_at, config, dialect, now_unix)
        return key

    def add_ephemeral(self, key: str, expires_at: float, config: TokenConfig, dialect: str,
                      now_unix: float | None = None) -> None:
        if now_unix is not None:
            self.purge(now_unix)
        self._ephemeral[self._digest(key)] = (expires_at, config, dialect)
        while len(self._ephemeral) > self.max_ephemeral:
            self._ephemeral.popitem(last=False)

    def purge(self, now_unix: float) -> None:
        """Drop every expired key."""
        for digest in [d for d, entry in self._ephemeral.items() if entry[0] < now_unix]:
            del self._ephemeral[digest]

    def ephemeral(self, key: str | None, now_unix: float) -> TokenConfig | None:
        if key is None:
            return None
        digest = self._digest(key)
        entry = self._ephemeral.get(digest)
        if entry is None:
            return None
        if entry[0] < now_unix:
            del self._ephemeral[digest]
            return None
        return entry[1]

    def standard_ok(self, key: str | None) -> bool:
        if self.open:
            return True
        if key is None:
            return False
        given = key.encode("utf-8", "surrogatepass")
        found = False
        for expected in self.api_keys:  # every key is compared: the time does not depend on which one matched
            found |= hmac.compare_digest(given, expected.encode("utf-8", "surrogatepass"))
        return found

    def ok(self, key: str | None, now_unix: float) -> bool:
        return self.standard_ok(key) or self.ephemeral(key, now_unix) is not None


def resolve(
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    subprotocols: Sequence[str],
    keys: KeyChecker,
    now_unix: float,
    *,
    known_models: Sequence[str] = (),
    beta_retired: bool = False,
) -> Handshake:
    """Decide dialect, model and auth for an upgrade request (§1.3 selection table)."""
    path = path.rstrip("/")
    echo = "realtime" if "realtime" in subprotocols else None
    cred = find_credential(headers, query, subprotocols)
    token = keys.ephemeral(cred.key, now_unix)
    token_cfg = token if isinstance(token, SessionConfig) else None  # a translation secret opens no session here
    authorized = keys.standard_ok(cred.key) or token_cfg is not None
    intent = query.get("intent")
    kind = "transcription" if intent == "transcription" else "realtime"
    if token_cfg is not None and token_cfg.kind == "transcription":
        kind = "transcription"

    if path in VOICE_LIVE_PATHS:
        return _voice_live(query, kind, echo, token_cfg, authorized)

    if path in ("/openai/realtime", "/openai/v1/realtime"):
        dialect = "beta" if path == "/openai/realtime" else "ga"
        model = query.get("deployment") if dialect == "beta" else query.get("model")
        model = model or (token_cfg.model if token_cfg is not None else None)
        base = Handshake("azure", dialect, model, kind, echo, initial_config=token_cfg)
        if not authorized or (dialect == "ga" and "api-version" in query):
            return _replace(base, http_status=401)
        if model is None and kind == "realtime":
            return _replace(base, http_status=400 if dialect == "beta" else 401)
        return base

    beta = headers.get("openai-beta", "").replace(" ", "") == "realtime=v1" or BETA_SUBPROTOCOL in subprotocols
    dialect = "beta" if beta else "ga"
    model = query.get("model") or (token_cfg.model if token_cfg is not None else None)
    base = Handshake("openai", dialect, model, kind, echo, initial_config=token_cfg)
    if cred.key is None and not keys.open:
        return _replace(base, fatal=errors.missing_auth(), close_code=3000)
    if not authorized:
        return _replace(base, fatal=errors.invalid_api_key(cred.key or ""), close_code=3000)
    if beta and beta_retired:
        return _replace(base, fatal=errors.beta_disabled(), close_code=4000)
    if model is None and kind == "realtime":
        return _replace(base, fatal=errors.missing_model(), close_code=4000)
    if model is not None and known_models and model not in known_models:
        return _replace(base, fatal=errors.invalid_model(model), close_code=4000)
    return base


def _voice_live(
    query: Mapping[str, str], kind: str, echo: str | None, token_cfg: SessionConfig | None, authorized: bool
) -> Handshake:
    """Azure Voice Live (azure-ai-voicelive 1.3.1): the beta wire shape plus Azure extensions.

    ``azure-ai-voicelive`` connects to ``/voice-live/realtime?api-version=…&model=…`` (older releases:
    ``/voice-agent/realtime``) with an ``api-key`` header (``AzureKeyCredential``) or ``Authorization: Bearer``
    (Entra ID). Like Azure OpenAI, a missing or wrong key is refused at the HTTP level (401); a missing model
    is a 400, as on the Azure preview path.
    """
    model = query.get("model") or (token_cfg.model if token_cfg is not None else None)
    base = Handshake("voice-live", "beta", model, kind, echo, initial_config=token_cfg)
    if not authorized:
        return _replace(base, http_status=401)
    if model is None and kind == "realtime":
        return _replace(base, http_status=400)
    return base


def _replace(hs: Handshake, **changes: object) -> Handshake:
    from dataclasses import replace

    return replace(hs, **changes)  # type: ignore[arg-type]
