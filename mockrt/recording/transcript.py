"""The recording format: a JSONL transcript of one Realtime WebSocket session, with its secrets removed.

Line 1 is a header, every further line one frame or the close, in the order they passed::

    {"mockrt_recording": 1, "target": "wss://api.openai.com/v1/realtime?model=gpt-realtime", "dialect": "ga",
     "started_at": 1767225600.25, ...}
    {"t": 0.081, "dir": "server", "event": {"type": "session.created", ...}}
    {"t": 0.102, "dir": "client", "event": {"type": "session.update", ...}}
    {"t": 0.2, "dir": "client", "raw": "not json"}                  a text frame that is not a JSON object
    {"t": 0.3, "dir": "client", "binary": 640}                      a binary frame (its length only)
    {"t": 9.5, "dir": "client", "close": {"code": 1000, "reason": ""}}
    {"t": 0.0, "dir": "server", "rejected": {"status": 401, "body": "..."}}   the upstream refused the handshake

``t`` is seconds since the session started (a float), ``dir`` who sent the frame. The same format comes from a
proxy in front of the live service (:mod:`mockrt.recording.proxy`) and from the mock's own journal
(:func:`from_journal`), so either can be replayed (:mod:`mockrt.recording.replay`) or compared
(:mod:`mockrt.recording.diff`).

Secrets never reach a file: :func:`redact` runs over every event before it is written (see
``fixtures/recordings/README.md`` for the rules), and :func:`redact_url` over the header's target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from mockrt.server.registry import SessionRecord

FORMAT_VERSION = 1
REDACTED = "<redacted>"

Line = dict[str, Any]
LineType = Literal["event", "raw", "binary", "close", "rejected", "header"]

# -- redaction ---------------------------------------------------------------------------------------------

SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"sk-[A-Za-z0-9_-]{10,}"),  # OpenAI keys (sk-..., sk-proj-...)
    re.compile(r"ek_[0-9a-f]{16,}"),  # ephemeral client secrets
    re.compile(r"(?<=openai-insecure-api-key\.)[^\s,\"']+"),  # the browser subprotocol carrying a key
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"),  # a bearer token wherever it is quoted
)
SECRET_KEYS = frozenset({"authorization", "api-key", "api_key", "apikey", "openai-insecure-api-key", "client_secret",
                         "x-api-key", "ocp-apim-subscription-key"})
"""Object keys whose values are secrets wherever they appear (compared case-insensitively)."""

MIN_LITERAL_SECRET = 12
"""Known secrets shorter than this are not replaced literally (real keys are 32+ characters; a dummy key such as
``anything`` must not blank out ordinary words of the conversation)."""

SAFE_QUERY_KEYS = frozenset({"model", "deployment", "api-version", "intent"})
"""Query parameters kept in a recorded URL; any other parameter keeps its name with the value redacted."""


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every key-shaped substring replaced by ``<redacted>``."""
    for secret in secrets:
        if len(secret) >= MIN_LITERAL_SECRET:
            text = text.replace(secret, REDACTED)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A deep copy of a JSON value with its secrets removed.

    Values of :data:`SECRET_KEYS` (``client_secret`` objects included), a ``value`` that is an ``ek_`` key,
    ``sk-…`` / ``ek_…`` / bearer-token substrings of any string, and the literal ``secrets`` given (the keys the
    recorder itself used) all become ``"<redacted>"``.
    """
    known = tuple(s for s in secrets if s)
    return _redact(value, known)


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in SECRET_KEYS and item is not None:
                out[key] = _redact_secret_field(item)
            elif lowered == "value" and isinstance(item, str) and item.startswith("ek_"):
                out[key] = REDACTED
            else:
                out[key] = _redact(item, secrets)
        return out
    return value


def _redact_secret_field(item: Any) -> Any:
    """``client_secret: {"value": …, "expires_at": …}`` keeps its shape (and expiry); anything else goes."""
    if isinstance(item, dict):
        return {k: (v if k == "expires_at" else REDACTED) for k, v in item.items()}
    return REDACTED


def redact_url(url: str) -> str:
    """``url`` without user info and with only harmless query values (:data:`SAFE_QUERY_KEYS`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    query = [(k, v if k.lower() in SAFE_QUERY_KEYS else REDACTED) for k, v in parse_qsl(parts.query,
                                                                                         keep_blank_values=True)]
    path = redact_text(parts.path)
    return urlunsplit((parts.scheme, netloc, path, urlencode(query, safe="<>"), ""))


# -- lines ---------------------------------------------------------------------------------------------------


def header(target: str, dialect: str, started_at: float, **extra: Any) -> Line:
    """The first line of a transcript (``target`` is passed through :func:`redact_url`)."""
    line: Line = {"mockrt_recording": FORMAT_VERSION, "target": redact_url(target), "dialect": dialect,
                  "started_at": round(started_at, 3)}
    line.update({k: v for k, v in extra.items() if v is not None})
    return redact(line)  # type: ignore[no-any-return]


def frame_line(t: float, direction: str, message: str | bytes, secrets: Iterable[str] = ()) -> Line:
    """One frame as it passed: a JSON object becomes ``event``, other text ``raw``, bytes ``binary``."""
    line: Line = {"t": round(t, 6), "dir": direction}
    if isinstance(message, bytes | bytearray | memoryview):
        line["binary"] = len(message)
        return line
    try:
        parsed = json.loads(message)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        line["event"] = redact(parsed, secrets)
    else:
        line["raw"] = redact_text(message, secrets)
    return line


def event_line(t: float, direction: str, event: dict[str, Any], secrets: Iterable[str] = ()) -> Line:
    return {"t": round(t, 6), "dir": direction, "event": redact(event, secrets)}


def close_line(t: float, direction: str, code: int | None, reason: str = "") -> Line:
    return {"t": round(t, 6), "dir": direction, "close": {"code": code, "reason": redact_text(reason)}}


def rejected_line(t: float, status: int, body: str = "") -> Line:
    return {"t": round(t, 6), "dir": "server", "rejected": {"status": status, "body": redact_text(body)[:2000]}}


def line_type(line: Mapping[str, Any]) -> LineType:
    """What a line holds: ``event`` | ``raw`` | ``binary`` | ``close`` | ``rejected`` | ``header``."""
    if "mockrt_recording" in line:
        return "header"
    for key in ("event", "raw", "binary", "close", "rejected"):
        if key in line:
            return key
    raise TranscriptError(f"unknown line: {json.dumps(line)[:200]}")


def events(lines: Iterable[Mapping[str, Any]], direction: str | None = None) -> list[dict[str, Any]]:
    """The JSON events of a transcript, optionally of one direction."""
    return [line["event"] for line in lines if "event" in line and (direction is None or line["dir"] == direction)]


# -- files ---------------------------------------------------------------------------------------------------


class TranscriptError(ValueError):
    """A file that is not a valid mockrt recording."""


def _dumps(line: Mapping[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def write_transcript(path: str | Path, lines: Sequence[Mapping[str, Any]]) -> Path:
    """Write a whole transcript (header first) to ``path``; returns the path."""
    out = Path(path)
    if not lines or "mockrt_recording" not in lines[0]:
        raise TranscriptError("a transcript starts with its header line")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(_dumps(line) + "\n")
    return out


def dumps_transcript(lines: Sequence[Mapping[str, Any]]) -> str:
    """The JSONL text of a transcript (what a "download" button serves)."""
    return "".join(_dumps(line) + "\n" for line in lines)


def parse_transcript(text: str, source: str = "<transcript>") -> list[Line]:
    """Parse JSONL text; checks the header and each line's shape, with line numbers in errors."""
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as exc:
            raise TranscriptError(f"{source}:{number}: not JSON ({exc})") from None
        if not isinstance(line, dict):
            raise TranscriptError(f"{source}:{number}: not a JSON object")
        if not lines:
            version = line.get("mockrt_recording")
            if version is None:
                raise TranscriptError(f"{source}:{number}: missing the mockrt_recording header")
            if version != FORMAT_VERSION:
                raise TranscriptError(f"{source}:{number}: unsupported recording version {version!r}")
        else:
            if line.get("dir") not in ("client", "server") or not isinstance(line.get("t"), int | float):
                raise TranscriptError(f"{source}:{number}: a frame line needs \"t\" and \"dir\"")
            try:
                line_type(line)
            except TranscriptError as exc:
                raise TranscriptError(f"{source}:{number}: {exc}") from None
        lines.append(line)
    if not lines:
        raise TranscriptError(f"{source}: empty file")
    return lines


def read_transcript(path: str | Path) -> list[Line]:
    """Read and check a transcript file."""
    p = Path(path)
    return parse_transcript(p.read_text(encoding="utf-8"), str(p))


def is_recording(path: str | Path) -> bool:
    """Whether ``path`` looks like a mockrt recording (its first line carries the header key)."""
    try:
        with Path(path).open(encoding="utf-8") as fh:
            first = fh.readline(1 << 16)
    except (OSError, UnicodeDecodeError):
        return False
    try:
        parsed = json.loads(first)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "mockrt_recording" in parsed


class TranscriptWriter:
    """Writes a transcript line by line as frames pass (line-buffered, so a killed recorder loses nothing)."""

    def __init__(self, path: str | Path, head: Line) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("w", encoding="utf-8", buffering=1)
        self.lines = 0
        self.write(head)

    def write(self, line: Mapping[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(_dumps(line) + "\n")
            self.lines += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    @property
    def closed(self) -> bool:
        return self._fh is None


# -- the mock's own journal --------------------------------------------------------------------------------


def from_journal(record: SessionRecord) -> list[Line]:
    """A session of the mock (a :class:`~mockrt.server.registry.SessionRecord`) as a replayable transcript.

    The header says ``"upstream": "mockrt"``; the target is the session's path (with its model). Invalid JSON
    and binary frames, which the journal keeps as ``<invalid json>`` / ``<binary frame>`` pseudo-events, become
    ``raw`` and ``binary`` lines. A close the server sent ends the transcript with its code; a close by the
    client is recorded with ``code: null`` because the journal does not keep the client's code.
    """
    target = record.path + (f"?model={record.model}" if record.model and record.dialect == "ga" else "")
    entries = [{"t": e.t, "direction": e.direction, "event": e.event} for e in list(record.journal)]
    ended = None if record.ended_at is None else max(0.0, record.ended_at - record.started_at)
    closed_by = None if record.ended_at is None else ("server" if record.close_code is not None else "client")
    return from_journal_entries(
        entries, target=target, dialect=record.dialect, started_at=record.started_at,
        close=(closed_by, record.close_code, ended) if closed_by is not None else None,
        session_id=record.id, flavour=record.flavour, model=record.model, client=record.user_agent or None,
    )


def from_journal_entries(entries: Iterable[Mapping[str, Any]], *, target: str, dialect: str, started_at: float,
                         close: tuple[str, int | None, float | None] | None = None, **extra: Any) -> list[Line]:
    """Journal entries (``JournalEntry.to_dict()`` shapes: ``t``, ``direction``, ``event``) as a transcript.

    ``close`` is ``(direction, code, t)`` of the close, if the session has ended.
    """
    lines: list[Line] = [header(target, dialect, started_at, upstream="mockrt", **extra)]
    last_t = 0.0
    for entry in entries:
        t = float(entry["t"])
        last_t = max(last_t, t)
        direction = str(entry["direction"])
        event = entry["event"]
        etype = event.get("type") if isinstance(event, dict) else None
        base: Line = {"t": round(t, 6), "dir": direction}
        if etype == "<invalid json>":
            lines.append({**base, "raw": redact_text(str(event.get("raw", "")))})
        elif etype == "<binary frame>":
            lines.append({**base, "binary": int(event.get("bytes", 0))})
        elif etype == "<not an object>" or not isinstance(event, dict):
            lines.append({**base, "raw": "<not an object>"})
        else:
            lines.append(event_line(t, direction, event))
    if close is not None:
        direction, code, t_close = close
        lines.append(close_line(max(last_t, t_close if t_close is not None else last_t), direction, code))
    return lines
