"""Compare two transcripts (a recording of the live service and one of the mock, or two runs of either).

:func:`normalize` removes what legitimately differs between two runs of the same conversation, the way
LocalStack's snapshot transformers do:

- ids (``event_``, ``item_``, ``resp_``, ``call_``, ``sess_``, ``conv_``) become placeholders numbered in order of
  first appearance (``<item_1>``), so identity relations survive; a server event's own ``event_id`` becomes
  ``<event_id>`` (it is never referred to, and numbering it would shift every later placeholder);
- timestamps (``t``, ``created_at``, ``expires_at``, the header's ``started_at``), ``obfuscation`` and the numbers
  of ``rate_limits.updated`` are dropped;
- base64 audio (output audio deltas, ``input_audio_buffer.append``, ``input_audio`` / ``audio`` content parts)
  becomes ``<audio N bytes>`` (its decoded length);
- runs of delta events between two other events are put in a canonical order (stable by type): how the service
  interleaves concurrent streams (an audio stream and its transcript) carries no meaning, the order within a
  stream is kept.

:func:`diff` then compares per direction: first the sequence of event types (``difflib`` opcodes), then the
payloads of the events the sequences align.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mockrt.core.dialects import Dialect, dialect_named
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.recording import transcript as tr

ID_PREFIXES = ("event", "item", "resp", "call", "sess", "conv")
_ID = re.compile(r"\b(event|item|resp|call|sess|conv)_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{12,}\b")
DROPPED_KEYS = frozenset({"created_at", "expires_at", "obfuscation"})


class _Ids:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def __call__(self, match: re.Match[str]) -> str:
        value = match.group(0)
        if value not in self.names:
            prefix = match.group(1)
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            self.names[value] = f"<{prefix}_{self.counts[prefix]}>"
        return self.names[value]


def _audio_len(value: str) -> str:
    try:
        return f"<audio {len(base64.b64decode(value, validate=True))} bytes>"
    except (binascii.Error, ValueError):
        return f"<audio ? ({len(value)} chars)>"


def _walk(value: Any, ids: _Ids, dialect: Dialect, audio_key: str | None = None) -> Any:
    if isinstance(value, str):
        return _ID.sub(ids, value)
    if isinstance(value, list):
        return [_walk(v, ids, dialect) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        is_audio_part = dialect.part_type(value) in ("input_audio", "audio")
        for key, item in value.items():
            if key in DROPPED_KEYS:
                continue
            if isinstance(item, str) and (key == audio_key or (key == "audio" and is_audio_part)):
                out[key] = _audio_len(item)
            else:
                out[key] = _walk(item, ids, dialect)
        return out
    return value


def _normalize_event(event: dict[str, Any], direction: str, ids: _Ids, dialect: Dialect) -> dict[str, Any]:
    etype = event.get("type")
    server = dialect.server_event(etype) if direction == "server" else None
    audio_key = ("delta" if server is ServerEvent.OUTPUT_AUDIO_DELTA
                 else "audio" if direction == "client" and dialect.client_event(etype) is ClientEvent.INPUT_AUDIO_APPEND
                 else None)
    own_id = event.get("event_id")
    body = dict(event)
    if direction == "server" and isinstance(own_id, str):
        body["event_id"] = "<event_id>"
    out: dict[str, Any] = _walk(body, ids, dialect, audio_key)
    if server is ServerEvent.RATE_LIMITS_UPDATED and isinstance(out.get("rate_limits"), list):
        out["rate_limits"] = [{k: v for k, v in r.items() if k not in ("limit", "remaining", "reset_seconds")}
                              if isinstance(r, dict) else r for r in out["rate_limits"]]
    return out


def _is_delta(line: Mapping[str, Any]) -> bool:
    event = line.get("event")
    return isinstance(event, dict) and str(event.get("type", "")).endswith(".delta")


def _canonical_deltas(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per direction, sort each run of consecutive delta events stably by type (see the module docstring)."""
    out: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {"client": [], "server": []}

    def flush(direction: str) -> None:
        run = runs[direction]
        out.extend(sorted(run, key=lambda ln: str(ln["event"].get("type"))))
        run.clear()

    for line in lines:
        direction = str(line.get("dir"))
        if direction in runs and _is_delta(line):
            runs[direction].append(line)
            continue
        if direction in runs:
            flush(direction)
        out.append(line)
    for direction in runs:
        flush(direction)
    return out


def normalize(lines: Iterable[Mapping[str, Any]], *, reorder_deltas: bool = True) -> list[dict[str, Any]]:
    """Transcript lines without what legitimately differs between runs (see the module docstring)."""
    ids = _Ids()
    dialect = dialect_named(None)
    out: list[dict[str, Any]] = []
    for line in lines:
        if "mockrt_recording" in line:
            dialect = dialect_named(line.get("dialect"))  # the header names the dialect the events are in
            out.append({k: v for k, v in line.items() if k in ("mockrt_recording", "dialect")})
            continue
        direction = str(line.get("dir"))
        norm: dict[str, Any] = {"dir": direction}
        for key, value in line.items():
            if key in ("t", "dir"):
                continue
            if key == "event" and isinstance(value, dict):
                norm["event"] = _normalize_event(value, direction, ids, dialect)
            else:
                norm[key] = _walk(value, ids, dialect)
        out.append(norm)
    return _canonical_deltas(out) if reorder_deltas else out


# -- comparing ------------------------------------------------------------------------------------------------


def _label(line: Mapping[str, Any]) -> str:
    if "event" in line:
        return str(line["event"].get("type", "<no type>"))
    return f"<{tr.line_type(line)}>"


def _short(value: Any, width: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def payload_diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two JSON values, one ``path: a != b`` line each."""
    where = path or "(root)"
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in b:
                out.append(f"{sub}: only in A ({_short(a[key])})")
            elif key not in a:
                out.append(f"{sub}: only in B ({_short(b[key])})")
            else:
                out += payload_diff(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(min(len(a), len(b))):
            out += payload_diff(a[i], b[i], f"{path}[{i}]")
        if len(a) != len(b):
            out.append(f"{where}: {len(a)} items in A, {len(b)} in B")
        return out
    if a != b:
        return [f"{where}: {_short(a)} != {_short(b)}"]
    return []


def _close_matches(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """A close whose code is unknown (``null``: the mock's journal of a client close) matches any close."""
    ca, cb = a.get("close") or {}, b.get("close") or {}
    return ca.get("code") is None or cb.get("code") is None or ca == cb


def diff(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]], *,
         directions: Sequence[str] = ("client", "server"), limit: int | None = 200) -> list[str]:
    """Human-readable differences between two (normalized) transcripts; empty when they agree.

    Per direction, differences in the sequence of event types are reported first (``-`` only in A, ``+`` only
    in B, with their positions), then payload differences of aligned events (``server #12 response.done:
    response.usage.total_tokens: 10 != 12``).
    """
    out: list[str] = []
    head_a = next((ln for ln in a if "mockrt_recording" in ln), None)
    head_b = next((ln for ln in b if "mockrt_recording" in ln), None)
    if head_a is not None and head_b is not None and head_a.get("dialect") != head_b.get("dialect"):
        out.append(f"header: dialect {head_a.get('dialect')!r} != {head_b.get('dialect')!r}")
    for direction in directions:
        la = [ln for ln in a if ln.get("dir") == direction]
        lb = [ln for ln in b if ln.get("dir") == direction]
        ta, tb = [_label(ln) for ln in la], [_label(ln) for ln in lb]
        matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
        sequence: list[str] = []
        payload: list[str] = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    x, y = la[i], lb[j]
                    if "close" in x and _close_matches(x, y):
                        continue
                    body_x = {k: v for k, v in x.items() if k != "dir"}
                    body_y = {k: v for k, v in y.items() if k != "dir"}
                    payload += [f"{direction} #{i} {ta[i]}: {d}" for d in payload_diff(body_x, body_y)]
                continue
            for i in range(i1, i2):
                sequence.append(f"{direction}: - #{i} {ta[i]} (only in A)")
            for j in range(j1, j2):
                sequence.append(f"{direction}: + #{j} {tb[j]} (only in B)")
        out += sequence + payload
    if limit is not None and len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more differences"]
    return out


def diff_files(path_a: str, path_b: str, *, directions: Sequence[str] = ("client", "server"),
               limit: int | None = 200) -> list[str]:
    """:func:`diff` of two transcript files after :func:`normalize`."""
    return diff(normalize(tr.read_transcript(path_a)), normalize(tr.read_transcript(path_b)), directions=directions,
                limit=limit)
