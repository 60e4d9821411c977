"""``mockrt record`` and ``mockrt diff`` (click commands; :mod:`mockrt.cli` registers them on its group)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import cast

import click


def _meta(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="--meta")
        out[key] = val
    return out


@click.command()
@click.option("--upstream", required=True,
              help="Base URL of the service: wss://api.openai.com, https://NAME.openai.azure.com, or a mock.")
@click.option("--listen-host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--listen-port", default=8001, show_default=True, type=int, help="Port; 0 picks a free one.")
@click.option("--out", "out", default="fixtures/recordings/recording.jsonl", show_default=True,
              type=click.Path(dir_okay=False), help="Transcript of the first session (later ones: NAME-2.jsonl, …).")
@click.option("--flavour", type=click.Choice(["auto", "openai", "azure", "none"]), default="auto", show_default=True,
              help="Upstream auth: OPENAI_API_KEY as Bearer (openai) or AZURE_OPENAI_API_KEY as api-key (azure); "
                   "auto decides by host and path.")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Extra header field (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists (default: write NAME-2.jsonl).")
@click.option("--once", is_flag=True, help="Exit after the first session has been recorded.")
@click.option("--client-token", default=None,
              help="The key clients must present to the proxy (default: a random one, printed at start).")
def record(upstream: str, listen_host: str, listen_port: int, out: str, flavour: str, meta: tuple[str, ...],
           overwrite: bool, once: bool, client_token: str | None) -> None:
    """Record sessions through a WebSocket proxy into JSONL transcripts (secrets redacted).

    Point the client at ws://LISTEN-HOST:LISTEN-PORT (e.g. OpenAI(base_url="http://127.0.0.1:8001/v1",
    api_key=<client token>)); upstream keys are taken from the environment only, never from the client, and only
    clients that present the client token (and no foreign Origin) get through (SECURITY.md).
    """
    from mockrt.recording.proxy import Flavour, RecordingProxy
    from mockrt.recording.transcript import redact_url

    proxy = RecordingProxy(upstream, Path(out), host=listen_host, port=listen_port, flavour=cast(Flavour, flavour),
                           meta=_meta(meta), overwrite=overwrite, client_token=client_token)

    async def main() -> None:
        await proxy.start()
        click.echo(f"mockrt record: listening on {proxy.url}, forwarding to {redact_url(upstream)}; "
                   f"writing {out}", err=True)
        if client_token is None:
            click.echo(f"mockrt record: client token (use it as the client's API key): {proxy.client_token}",
                       err=True)
        try:
            while not (once and proxy.recordings and proxy.active == 0):
                await asyncio.sleep(0.2)
        finally:
            await proxy.stop()
            for path in proxy.recordings:
                click.echo(str(path))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@click.command()
@click.argument("a", type=click.Path(exists=True, dir_okay=False))
@click.argument("b", type=click.Path(exists=True, dir_okay=False))
@click.option("--direction", type=click.Choice(["both", "client", "server"]), default="both", show_default=True)
@click.option("--limit", type=int, default=200, show_default=True, help="Print at most this many differences.")
def diff(a: str, b: str, direction: str, limit: int) -> None:
    """Compare two recordings after normalisation (ids, timestamps, audio bytes); exit 1 if they differ."""
    from mockrt.recording.diff import diff_files
    from mockrt.recording.transcript import TranscriptError

    directions = ("client", "server") if direction == "both" else (direction,)
    try:
        lines = diff_files(a, b, directions=directions, limit=limit)
    except TranscriptError as err:
        raise click.ClickException(str(err)) from None
    for line in lines:
        click.echo(line)
    if lines:
        raise SystemExit(1)
    click.echo("no differences", err=True)
