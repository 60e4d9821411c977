"""Readable logs: a per-session id on every record, audio payloads elided, text or JSON lines
(uvicorn's logging conventions). The library never calls ``basicConfig``; the CLI calls :func:`configure`."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any
from urllib.parse import unquote_plus

from mockrt.core.dialects import AUDIO_EVENT_TYPES

AUDIO_KEYS = ("audio", "delta")


SECRET_QUERY_KEYS = frozenset({"api-key", "api_key", "authorization", "key", "token", "access_token"})
"""Query parameters that carry credentials (Azure browser clients put their key in the URL, docs/protocol.md §1.2)."""
_QUERY_PAIR = re.compile(r"(?<=[?&])([^=&\s\"'#]+)=((?i:bearer)\s+[^&\s\"'#]+|[^&\s\"'#]*)")


def redact_query(text: str) -> str:
    """``text`` (a log line, a request line) with the values of credential query parameters replaced by
    ``<redacted>``; names are percent-decoded first, so ``?api%2Dkey=…`` is redacted like ``?api-key=…``."""
    if "=" not in text:
        return text

    def sub(match: re.Match[str]) -> str:
        name = unquote_plus(match.group(1)).strip().lower()
        return f"{match.group(1)}=<redacted>" if name in SECRET_QUERY_KEYS else match.group(0)

    return _QUERY_PAIR.sub(sub, text)


def elide(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` with base64 audio replaced by its size (``<9600 b64 chars>``); the events that carry
    audio are named by the dialects (:data:`mockrt.core.dialects.AUDIO_EVENT_TYPES`)."""
    if event.get("type") not in AUDIO_EVENT_TYPES:
        return event
    out = dict(event)
    for key in AUDIO_KEYS:
        value = out.get(key)
        if isinstance(value, str) and len(value) > 64:
            out[key] = f"<{len(value)} b64 chars>"
    if isinstance(out.get("item"), dict):
        item = dict(out["item"])
        item["content"] = [{**p, "audio": f"<{len(p['audio'])} b64 chars>"} if isinstance(p, dict)
                           and isinstance(p.get("audio"), str) else p for p in item.get("content", [])]
        out["item"] = item
    return out


class SessionAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Adds ``session_id`` to every record of one session."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs.setdefault("extra", {})["session_id"] = (self.extra or {}).get("session_id", "-")
        return msg, kwargs


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "session_id": getattr(record, "session_id", None), "message": record.getMessage()}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "session_id"):
            record.session_id = "-"
        return super().format(record)


def configure(level: str = "info", fmt: str = "text") -> None:
    """Set up the root handler for the CLI: ``fmt`` is ``text`` or ``json``."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s [%(session_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

