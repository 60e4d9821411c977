"""Server-wide settings (``mockrt serve`` flags and ``MOCKRT_*`` variables) (docs/protocol.md §8.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mockrt.core.responses import Pacing


@dataclass
class ServerConfig:
    """Everything ``mockrt serve`` can be told; defaults mimic the live service.

    Attributes:
        api_keys: keys that are accepted; empty means any key (or none) is accepted.
        seed: base seed for ids; each session derives its own from it and its ordinal.
        pacing: how fast responses stream (§7).
        max_session_s: override of the dialect's maximum session duration (§1.5).
        ping_interval_s: WebSocket PING interval (§1.5: about 20 s).
        beta_retired: reject the beta header like OpenAI after 2026-05-12 (§1.4).
        conversation_created: send the documented-only ``conversation.created`` (§5.1).
        item_object: GA items carry ``object: "realtime.item"`` (§4.7).
        bare_server_vad_silence_ms: ``silence_duration_ms`` for a bare ``{"type": "server_vad"}`` (§4.8).
        azure_preview_model: the model Azure preview sessions report; Azure shows the deployment's underlying
            model and version, not the deployment name (§4.2).
        scenario: a scenario file (YAML/JSON) loaded at start; replace it at runtime through the admin API.
        vad: the server VAD detector; vad_end_includes_silence: how ``audio_end_ms`` is defined (docs/vad.md §1.4).
        transcriber: what transcribes user audio when no scenario transcript applies: ``placeholder`` (says it is
            one) or ``pocketsphinx`` (a local recogniser, the ``mockrt[transcriber]`` extra; §5.11).
        time_scale: multiplies every pacing delay, so scripted pacing runs at virtual speed in tests.
        admin_token: when set, the admin API under ``/_mockrt/`` requires ``Authorization: Bearer <token>``.

    Security settings (SECURITY.md; ``mockrt.server.policy``):
        allowed_hosts: ``Host`` values accepted besides the loopback names (``localhost``, ``127.0.0.1``,
            ``[::1]``, any port); a name matches with any port, ``name:port`` only that port.
        allowed_origins: ``Origin`` values accepted besides loopback ones for WebSocket upgrades and state-changing
            requests (``*``: every origin).
        fixtures_dir: the only directory a scenario loaded over HTTP may reference files in (none: no files).
        max_body_bytes: the largest HTTP request body (413 beyond), counted while it is read.
        max_sessions: live sessions at once; a handshake beyond it gets HTTP 503 with ``Retry-After``.
        header_timeout_s: a connection that has not sent a complete request head within this time is closed.
        journal_max_bytes: journal bytes kept per session (audio beyond it kept as lengths, newest audio kept).
        recent_max_bytes: journal bytes of closed sessions kept for the inspector (oldest dropped first).
        max_ephemeral_keys: unexpired ``ek_`` keys kept at once (the oldest are dropped beyond it).
        tls, tls_dir, tls_ca_out, ssl_certfile, ssl_keyfile: serve ``https://`` and ``wss://`` (docs/protocol.md
            §1.1), see the TLS block below and ``mockrt/server/certs.py``.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: tuple[str, ...] = ()
    seed: int | None = 0
    pacing: Pacing = field(default_factory=Pacing)
    max_session_s: float | None = None
    ping_interval_s: float = 20.0
    beta_retired: bool = False
    conversation_created: bool = False
    item_object: bool = False
    bare_server_vad_silence_ms: int = 200
    rate_limit_tokens: int = 40_000
    max_frame_bytes: int = 16 * 1024 * 1024 + 4096  # a 15 MiB append plus its JSON; larger frames: close 1009
    max_send_buffer: int = 32 * 1024 * 1024  # a client that stops reading is closed with 1008 beyond this
    send_timeout_s: float = 10.0  # ... or when it has not read anything for this long while output waits
    mcp_timeout_s: float = 30.0  # an MCP server's answer to one list/call, connect included (docs/protocol.md §9)
    max_items: int = 4096
    max_buffer_ms: int = 15 * 60 * 1000
    azure_preview_model: str = "gpt-4o-realtime-preview-2024-12-17"
    known_models: tuple[str, ...] = ()
    scenario: str | None = None  # a scenario file loaded at start
    vad: str = "webrtc"  # webrtc | energy | silero
    transcriber: str = "placeholder"  # placeholder | pocketsphinx (mockrt.transcribers, docs/protocol.md §5.11)
    vad_end_includes_silence: bool = True
    time_scale: float = 1.0  # multiply every pacing delay (0.01: scenarios run 100× faster)
    admin_token: str | None = None  # protects /_mockrt/ when set  # empty: any model name is accepted
    log_level: str = "info"
    # -- security (SECURITY.md) ----------------------------------------------------------------------------------
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    fixtures_dir: str | None = None
    max_body_bytes: int = 1024 * 1024
    max_sessions: int = 1000
    header_timeout_s: float = 10.0
    journal_max_bytes: int = 96 * 1024 * 1024
    recent_max_bytes: int = 256 * 1024 * 1024
    max_ephemeral_keys: int = 10_000
    # -- calls: webhooks (docs/protocol.md §11) -------------------------------------------------------------------
    webhook_url: str | None = None  # where realtime.call.incoming goes (SIP calls)
    webhook_secret: str | None = None  # whsec_... : Standard Webhooks signing key
    webhook_retry_s: tuple[float, ...] = (1.0, 2.0, 4.0)  # delays before each retry; then the call is dropped
    # -- end security --------------------------------------------------------------------------------------------

    # -- TLS: https:// and wss:// on the same port (mockrt/server/certs.py) --
    tls: bool = False  # serve with a certificate signed by the local CA (made in tls_dir, reused across restarts)
    tls_dir: str | None = None  # where the local CA lives; default $XDG_STATE_HOME/mockrt/tls (~/.local/state/...)
    tls_ca_out: str | None = None  # also write the local CA certificate (PEM) to this path
    ssl_certfile: str | None = None  # the user's own certificate instead of the local CA's (implies TLS)
    ssl_keyfile: str | None = None  # its private key, unless the certificate file holds it

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.ssl_certfile is not None or self.ssl_keyfile is not None


def to_json(config: ServerConfig) -> str:
    """Serialise (for worker processes, which rebuild the app from the private file ``MOCKRT_CONFIG_FILE`` names)."""
    import dataclasses
    import json

    return json.dumps(dataclasses.asdict(config))


def from_json(text: str) -> ServerConfig:
    import json

    raw = json.loads(text)
    raw["pacing"] = Pacing(**raw["pacing"])
    raw["api_keys"] = tuple(raw["api_keys"])
    raw["known_models"] = tuple(raw["known_models"])
    raw["allowed_hosts"] = tuple(raw["allowed_hosts"])
    raw["allowed_origins"] = tuple(raw["allowed_origins"])
    raw["webhook_retry_s"] = tuple(raw.get("webhook_retry_s", (1.0, 2.0, 4.0)))
    return ServerConfig(**raw)
