"""Normalised snapshots: compare recorded live sessions with what a target answers to the same client events
(like LocalStack's parity snapshots).

A recording is the ``mockrt record`` JSONL format: a header line (``{"mockrt_recording": 1, "target", "dialect",
"upstream", …}``) then ``{"t", "dir": "client"|"server", "event"|"raw"|"binary"|"close"|"rejected"}`` lines. A
recording whose header says ``"upstream": "mockrt"`` was made against the mock and is not live.

Normalisation (reference replacement): ids become placeholders numbered by first appearance (``<item:1>``), so
identity relations survive while values do not; ``event_id`` of server events, timestamps (``t``, ``expires_at``),
``obfuscation``, audio bytes, token counts and rate-limit numbers and the model's words are replaced by markers;
runs of deltas collapse to one entry. What remains — the event types in order, their keys, enums, codes, error
messages, ids' relations — must match.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Json = dict[str, Any]

_ID = re.compile(r"^(event|sess|conv|item|resp|call|ek|seg|rtc|msg)_[A-Za-z0-9]{6,}$")
_TEXT_KEYS = frozenset({"text", "transcript", "delta", "arguments", "instructions"})
_NUMBER_PARENTS = frozenset({"usage", "input_token_details", "output_token_details", "cached_tokens_details",
                             "rate_limits"})
_DROP = frozenset({"obfuscation"})
_TIMES = frozenset({"expires_at", "created_at", "received_at"})
_AUDIO_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta"})


def recordings_dir() -> Path:
    override = os.environ.get("CONFORMANCE_RECORDINGS")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "fixtures" / "recordings"


def read_recording(path: Path) -> tuple[Json, list[Json]]:
    """``(header, lines)`` of a JSONL recording."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not lines or "mockrt_recording" not in lines[0]:
        raise ValueError(f"{path}: not a mockrt recording (no header line)")
    return lines[0], lines[1:]


def is_live(header: Json) -> bool:
    return header.get("upstream") != "mockrt"


def live_recordings(directory: Path | None = None) -> list[Path]:
    """Recordings of live services in ``directory`` (default: ``fixtures/recordings``)."""
    folder = directory or recordings_dir()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        try:
            header, _ = read_recording(path)
        except (ValueError, json.JSONDecodeError):
            continue
        if is_live(header):
            out.append(path)
    return out


class _Refs:
    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def __call__(self, value: str) -> str:
        if value not in self.seen:
            prefix = value.split("_", 1)[0]
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            self.seen[value] = f"<{prefix}:{self.counts[prefix]}>"
        return self.seen[value]


def _walk(value: Any, refs: _Refs, key: str = "", parent: str = "") -> Any:
    if isinstance(value, dict):
        out: Json = {}
        for k, v in value.items():
            if k in _DROP:
                continue
            out[k] = _walk(v, refs, k, key or parent)
        return out
    if isinstance(value, list):
        return [_walk(v, refs, key, key or parent) for v in value]
    if isinstance(value, str):
        if _ID.match(value):
            return refs(value)
        if key == "audio":
            return "<audio>"
        if key in _TEXT_KEYS:
            return "<text>" if value else ""
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        if key in _TIMES:
            return "<time>"
        if parent in _NUMBER_PARENTS or key in ("audio_start_ms", "audio_end_ms", "seconds"):
            return "<n>"
    return value


def normalize(lines: Iterable[Json], directions: tuple[str, ...] = ("server",)) -> list[Json]:
    """The normalised frames of ``directions`` (see the module docstring).

    Each run of consecutive delta events becomes one entry per (type, item), sorted: how many deltas there are,
    how they split the content and how audio and transcript deltas interleave are not part of the contract.
    """
    refs = _Refs()
    out: list[Json] = []
    run: dict[tuple[str, str], Json] = {}

    def flush() -> None:
        out.extend(run[key] for key in sorted(run))
        run.clear()

    for line in lines:
        if line.get("dir") not in directions:
            continue
        if "event" not in line:
            flush()
            out.append({k: v for k, v in line.items() if k != "t"})
            continue
        event = dict(line["event"])
        if line["dir"] == "server":
            event.pop("event_id", None)
        etype = str(event.get("type"))
        norm = _walk(event, refs)
        if etype in _AUDIO_TYPES:
            norm["delta"] = "<audio>"
        if etype.endswith(".delta"):
            run.setdefault((etype, str(norm.get("item_id"))), norm)
            continue
        flush()
        out.append(norm)
    flush()
    return out


def diff(expected: list[Json], actual: list[Json], *, labels: tuple[str, str] = ("live", "target")) -> list[str]:
    """Unified diff of two normalised sequences (empty when they match)."""
    a = [json.dumps(e, sort_keys=True) for e in expected]
    b = [json.dumps(e, sort_keys=True) for e in actual]
    return list(difflib.unified_diff(a, b, labels[0], labels[1], lineterm="", n=2))


def replay(lines: list[Json], session: Any, *, step_timeout: float = 5.0) -> list[Json]:
    """Send the recording's client events through ``session`` (a :class:`conformance.client.Session`, already past
    ``session.created``), each after as many server events as the recording had before it; returns the session's
    frames as recording lines."""
    server_before = 0
    received = 1  # session.created
    for line in lines:
        if line.get("dir") == "server" and ("event" in line):
            server_before += 1
            continue
        if line.get("dir") != "client":
            continue
        received = _catch_up(session, received, server_before, step_timeout)
        if "event" in line:
            session.send(line["event"])
        elif "raw" in line:
            session.send_raw(line["raw"])
        elif "binary" in line:
            session.send_binary(bytes(int(line["binary"])))
    _catch_up(session, received, server_before, step_timeout)
    out: list[Json] = []
    for frame in session.transcript.lines[1:]:
        out.append(frame)
    return out


def _catch_up(session: Any, received: int, wanted: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while received < wanted and time.monotonic() < deadline:
        try:
            session._next_any(max(0.01, deadline - time.monotonic()))
        except Exception:
            break
        received += 1
    return received


def audio_free(event: Json) -> Json:
    """``event`` without base64 payloads (for printing)."""
    out = dict(event)
    for key in ("audio", "delta"):
        value = out.get(key)
        if isinstance(value, str) and len(value) > 64:
            with contextlib.suppress(ValueError):
                out[key] = f"<{len(base64.b64decode(value))} bytes>"
    return out


def replay_against(target: Any, header: Json, lines: list[Json], *, timeout: float = 30.0) -> list[Json]:
    """Open a session on ``target`` like the recorded one (dialect, transcription intent) and replay into it."""
    from urllib.parse import parse_qs, urlsplit

    from conformance.client import Session, Transcript

    dialect = str(header.get("dialect", "ga"))
    query = parse_qs(urlsplit(str(header.get("target", ""))).query)
    intent = query.get("intent", [""])[0] or None
    endpoint = target.endpoint(dialect, intent=intent, model=None if intent else target.model(dialect))
    transcript = Transcript(target.name, dialect, endpoint.url, f"replay:{header.get('target', '')}")
    session = Session.open(endpoint.url, headers=endpoint.headers, subprotocols=endpoint.subprotocols,
                           dialect=dialect, transcript=transcript, deadline=time.monotonic() + timeout,
                           wait_cap=5.0, local=endpoint.local, tls=endpoint.tls)
    try:
        session.next()  # session.created
        return replay(lines, session)
    finally:
        session.close()
