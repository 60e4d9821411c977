"""Scheme mismatches on the wire: one clear log line, then a fast close.

* A plain ``http://`` / ``ws://`` request to a TLS port fails the TLS handshake. asyncio drops that failure
  silently (an ``OSError`` on a transport is only logged in debug mode), so the server's SSL context uses
  :class:`_ReportingSSLObject` (through the documented ``SSLContext.sslobject_class``; see
  :func:`tune_server_context`) to name the cause.
* A TLS ClientHello on a plain port would be answered by h11 with a ``400`` and "Invalid HTTP request
  received."; :func:`plain_port_protocol` recognises the TLS record (first byte ``0x16``), logs what happened
  and closes, so the client's handshake fails at once.

Both are wired in by the runner's uvicorn config (``mockrt/server/runner.py``).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

logger = logging.getLogger("mockrt.tls")

_TLS_HANDSHAKE_RECORD = 0x16  # the first byte of a ClientHello (TLS record type "handshake")

_HANDSHAKE_REASONS = {
    "HTTP_REQUEST": "a plain http:// or ws:// request reached this TLS port: use https:// or wss://",
    "HTTPS_PROXY_REQUEST": "a plain HTTP proxy request (CONNECT) reached this TLS port: use https:// or wss://",
    "WRONG_VERSION_NUMBER": "data that is not TLS reached this TLS port: use https:// or wss://",
    "TLSV1_ALERT_UNKNOWN_CA": "the client does not trust this server's CA: give it the CA file printed at start "
                              "(--tls-ca-out; NODE_EXTRA_CA_CERTS, SSL_CERT_FILE or ssl.create_default_context)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the client rejected this server's certificate: give it the CA file printed at "
                                   "start (--tls-ca-out)",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the client rejected this server's certificate: give it the CA file "
                                       "printed at start (--tls-ca-out)",
}


class _ReportingSSLObject(ssl.SSLObject):
    """An ``SSLObject`` whose failed server-side handshakes are logged with their cause."""

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as err:
            reason = err.reason or ""
            logger.warning("TLS handshake failed: %s (%s)",
                           _HANDSHAKE_REASONS.get(reason, "the client's TLS handshake was refused"), reason or err)
            raise


def tune_server_context(context: ssl.SSLContext) -> ssl.SSLContext:
    """Make ``context`` (uvicorn's server context) log why a handshake fails, and send no TLS 1.3 session
    tickets; returns it.

    Tickets would only serve session resumption, which a local mock does not need, and they arrive after the
    handshake, while a threaded client may already be writing its upgrade request: with the ``websockets`` sync
    client (which the openai SDK uses) about one connection in fifty then lost that request and timed out.
    """
    context.sslobject_class = _ReportingSSLObject
    context.num_tickets = 0
    return context


class _PlainPortMixin:
    """Recognises a TLS ClientHello as the first bytes of a connection to a plain port."""

    transport: asyncio.Transport
    _mockrt_first_data = True

    def data_received(self, data: bytes) -> None:
        if self._mockrt_first_data:
            self._mockrt_first_data = False
            if data[:1] == bytes([_TLS_HANDSHAKE_RECORD]):
                peer = self.transport.get_extra_info("peername")
                logger.warning("TLS handshake received on a plain port (from %s): this server speaks http:// and "
                               "ws://; start it with --tls for https:// and wss://", _peer(peer))
                self.transport.close()
                return
        super().data_received(data)  # type: ignore[misc]


_wrapped: dict[type[Any], type[Any]] = {}


def plain_port_protocol(protocol_class: type[Any]) -> type[Any]:
    """``protocol_class`` (uvicorn's HTTP protocol, whichever implementation) that recognises TLS handshakes."""
    if protocol_class not in _wrapped:
        _wrapped[protocol_class] = type(f"PlainPort{protocol_class.__name__}", (_PlainPortMixin, protocol_class), {})
    return _wrapped[protocol_class]


def _peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)
