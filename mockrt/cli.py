"""The ``mockrt`` command line. Every flag can also come from a ``MOCKRT_*`` environment variable."""

from __future__ import annotations

import dataclasses

import click

from mockrt import __version__
from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing


@click.group(context_settings={"auto_envvar_prefix": "MOCKRT", "help_option_names": ["-h", "--help"]})
def main() -> None:
    """mockrt: a local, offline mock of the OpenAI / Azure OpenAI Realtime API."""


# Flags read ``MOCKRT_<FLAG>`` (not click's default ``MOCKRT_SERVE_<FLAG>``) so that one set of variables
# configures the server whichever way it is started.
@main.command(context_settings={"auto_envvar_prefix": "MOCKRT"})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=int, help="Port; 0 picks a free one and prints it.")
@click.option("--api-key", "api_keys", multiple=True, help="Require this key (repeatable). Default: any key.")
@click.option("--admin-token", default=None, help="Protect the admin API under /_mockrt/ with this bearer token.")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A scenario file (YAML/JSON) to load.")
@click.option("--vad", type=click.Choice(["webrtc", "energy", "silero"]), default="webrtc", show_default=True,
              help="Server VAD detector (silero needs the mockrt[silero] extra).")
@click.option("--transcriber", type=click.Choice(["placeholder", "pocketsphinx"]), default="placeholder",
              show_default=True, help="Input transcription when no scenario transcript applies "
                                      "(pocketsphinx needs the mockrt[transcriber] extra).")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Multiply every pacing delay (0.1 = ten times faster).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for ids (reproducible sessions).")
@click.option("--max-session-seconds", type=float, default=None, help="Override the dialect's maximum duration.")
@click.option("--ping-interval", type=float, default=20.0, show_default=True, help="WebSocket PING interval (s).")
@click.option("--audio-speed", type=float, default=10.0, show_default=True,
              help="Send response audio this many times faster than real time (0 = unpaced).")
@click.option("--first-delta-ms", type=float, default=0.0, show_default=True, help="Delay before output starts.")
@click.option("--text-delta-ms", type=float, default=0.0, show_default=True, help="Spacing of text deltas.")
@click.option("--beta-retired", is_flag=True, help="Reject the beta header like OpenAI after 2026-05-12.")
@click.option("--conversation-created", is_flag=True, help="Send the documented-only conversation.created.")
@click.option("--model", "known_models", multiple=True, help="Accept only these models (repeatable).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes behind one port.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["text", "json"]))
# -- security (SECURITY.md) ------------------------------------------------------------------------------------------
@click.option("--allowed-host", "allowed_hosts", multiple=True,
              help="Accept this Host header besides localhost/127.0.0.1/[::1] (repeatable; NAME or NAME:PORT).")
@click.option("--allow-origin", "allowed_origins", multiple=True,
              help="Accept WebSockets and writes from this non-loopback Origin (repeatable; '*' = any).")
@click.option("--fixtures-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Scenarios loaded over HTTP may reference audio files in this directory only.")
@click.option("--max-body-bytes", type=int, default=1024 * 1024, show_default=True,
              help="Largest HTTP request body (413 beyond).")
@click.option("--max-sessions", type=int, default=1000, show_default=True,
              help="Concurrent sessions; more handshakes get HTTP 503 with Retry-After.")
@click.option("--header-timeout", type=float, default=10.0, show_default=True,
              help="Close connections whose request head is not complete after this many seconds.")
@click.option("--journal-max-bytes", type=int, default=96 * 1024 * 1024, show_default=True,
              help="Journal bytes kept per session (older audio kept as lengths beyond it).")
# -- calls (docs/protocol.md §11) ---
@click.option("--webhook-url", default=None, help="Where SIP calls' realtime.call.incoming webhooks are POSTed.")
@click.option("--webhook-secret", default=None, help="Standard Webhooks signing secret (whsec_...).")
@click.option("--webhook-retry", "webhook_retry", type=float, multiple=True,
              help="Seconds before each retry of an undelivered webhook (repeatable; default 1 2 4); then the call "
                   "is dropped.")
# -- end security ----------------------------------------------------------------------------------------------------
# -- TLS (mockrt/server/certs.py) --
@click.option("--tls", is_flag=True,
              help="Serve https:// and wss:// with a local CA's certificate for localhost, 127.0.0.1 and ::1.")
@click.option("--tls-dir", default=None, type=click.Path(file_okay=False),
              help="Where the local CA and certificate are kept and reused. Default: ~/.local/state/mockrt/tls.")
@click.option("--tls-ca-out", default=None, type=click.Path(dir_okay=False),
              help="Also write the local CA certificate (PEM) here, for clients to trust.")
@click.option("--ssl-certfile", default=None, help="Your own certificate (PEM) instead of the local CA's.")
@click.option("--ssl-keyfile", default=None, help="The private key of --ssl-certfile (unless the file holds it).")
def serve(
    host: str, port: int, api_keys: tuple[str, ...], admin_token: str | None, scenario: str | None, vad: str,
    transcriber: str, time_scale: float, seed: int, max_session_seconds: float | None, ping_interval: float,
    audio_speed: float, first_delta_ms: float, text_delta_ms: float, beta_retired: bool, conversation_created: bool,
    known_models: tuple[str, ...], workers: int, log_level: str, log_format: str,
    allowed_hosts: tuple[str, ...], allowed_origins: tuple[str, ...], fixtures_dir: str | None,
    max_body_bytes: int, max_sessions: int, header_timeout: float, journal_max_bytes: int,
    tls: bool, tls_dir: str | None, tls_ca_out: str | None, ssl_certfile: str | None, ssl_keyfile: str | None,
    webhook_url: str | None, webhook_secret: str | None, webhook_retry: tuple[float, ...],
) -> None:
    """Run the mock server (OpenAI GA + beta, Azure GA + preview paths)."""
    import os

    from mockrt.logs import configure
    from mockrt.scenarios import ScenarioError, load_scenario
    from mockrt.server.certs import TLSSetupError
    from mockrt.server.runner import serve as run

    configure(log_level, log_format)
    os.environ["MOCKRT_LOG_FORMAT"] = log_format
    if scenario is not None:
        try:
            load_scenario(scenario)
        except ScenarioError as err:
            raise click.ClickException(str(err)) from None
    config = ServerConfig(
        host=host, port=port, api_keys=api_keys, admin_token=admin_token, scenario=scenario, vad=vad,
        transcriber=transcriber, time_scale=time_scale, seed=seed, max_session_s=max_session_seconds,
        ping_interval_s=ping_interval,
        beta_retired=beta_retired, conversation_created=conversation_created, known_models=known_models,
        log_level=log_level,
        pacing=dataclasses.replace(Pacing(), audio_speed=audio_speed, first_delta_ms=first_delta_ms,
                                   text_delta_ms=text_delta_ms),
        # security (SECURITY.md)
        allowed_hosts=allowed_hosts, allowed_origins=allowed_origins, fixtures_dir=fixtures_dir,
        max_body_bytes=max_body_bytes, max_sessions=max_sessions, header_timeout_s=header_timeout,
        journal_max_bytes=journal_max_bytes,
        tls=tls, tls_dir=tls_dir, tls_ca_out=tls_ca_out, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
        webhook_url=webhook_url, webhook_secret=webhook_secret, webhook_retry_s=webhook_retry or (1.0, 2.0, 4.0),
    )
    try:
        run(config, workers=workers)
    except TLSSetupError as err:
        raise click.ClickException(str(err)) from None


@main.command()
def version() -> None:
    """Print the mockrt version."""
    click.echo(__version__)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario files against the published JSON Schema; print located errors."""
    from mockrt.scenarios import ScenarioError, load_scenario

    failed = False
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            failed = True
            click.echo(f"{path}: invalid")
            for problem in err.problems:
                click.echo(f"  {path}: {problem}")
        else:
            click.echo(f"{path}: ok ({scenario.name}: {len(scenario.replies)} replies, {len(scenario.rules)} rules)")
    raise SystemExit(1 if failed else 0)


from mockrt.recording.cli import diff as _diff_command  # noqa: E402
from mockrt.recording.cli import record as _record_command  # noqa: E402

main.add_command(_record_command)
main.add_command(_diff_command)
