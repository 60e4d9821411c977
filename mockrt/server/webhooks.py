"""Outgoing webhooks, signed the way the service signs them: Standard Webhooks (docs/protocol.md §11).

Each delivery is a JSON ``POST`` to ``--webhook-url`` with ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``; the key is the ``--webhook-secret``
(``whsec_`` + base64, as the dashboard hands it out; any other string is used as raw bytes, like the SDK's
``client.webhooks.unwrap``). A delivery that does not get a 2xx is retried after each delay of
``--webhook-retry`` (seconds), then given up. Used by SIP calls and meant for any other surface that notifies
(GPT-Live's ``live.transport.incoming``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

logger = logging.getLogger("mockrt.webhooks")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a webhook secret (``whsec_<base64>`` or raw)."""
    return base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for one delivery."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def event_id() -> str:
    return "evt_" + secrets.token_hex(16)


@dataclass
class Delivery:
    """What happened to one webhook: every attempt's HTTP status (``None``: no answer)."""

    event: dict[str, Any]
    statuses: list[int | None]

    @property
    def delivered(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] is not None and 200 <= (self.statuses[-1] or 0) < 300


class WebhookSender:
    """Signs and delivers events to one URL, with retries."""

    def __init__(self, url: str, secret: str | None, retry_delays_s: Sequence[float] = (1.0, 2.0, 4.0),
                 timeout_s: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.retry_delays_s = tuple(retry_delays_s)
        self.timeout_s = timeout_s

    def envelope(self, etype: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"object": "event", "id": event_id(), "type": etype, "created_at": int(time.time()), "data": data}

    def headers(self, msg_id: str, body: str, now: int | None = None) -> dict[str, str]:
        timestamp = int(time.time()) if now is None else now
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                   "user-agent": "mockrt-webhooks"}
        if self.secret:
            headers["webhook-signature"] = sign(self.secret, msg_id, timestamp, body)
        return headers

    async def deliver(self, event: dict[str, Any]) -> Delivery:
        """POST ``event`` until a 2xx or the retries run out (the same id on every attempt, a fresh timestamp and
        signature each time, as Standard Webhooks senders do)."""
        body = json.dumps(event, separators=(",", ":"))
        delivery = Delivery(event, [])
        delays = (0.0, *self.retry_delays_s)
        async with httpx2.AsyncClient(timeout=self.timeout_s) as client:
            for delay in delays:
                if delay:
                    await asyncio.sleep(delay)
                try:
                    response = await client.post(self.url, content=body.encode(),
                                                 headers=self.headers(event["id"], body))
                    delivery.statuses.append(response.status_code)
                    if 200 <= response.status_code < 300:
                        return delivery
                except (httpx2.HTTPError, OSError) as exc:
                    logger.info("webhook %s to %s failed: %r", event["type"], self.url, exc)
                    delivery.statuses.append(None)
        logger.warning("webhook %s to %s not delivered after %d attempts", event["type"], self.url, len(delays))
        return delivery
