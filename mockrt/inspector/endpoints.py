"""HTTP routes of the session inspector (issue 8), under the admin prefix ``/_mockrt/``.

Pages (HTML shells; everything is drawn by the packaged ``static/inspector.js``, no CDN, no build step):

``GET /_mockrt/``                                      live and recent sessions
``GET /_mockrt/sessions/{id}``                         one session: timeline, input audio + VAD, responses,
                                                       conversation, event JSON
``GET /_mockrt/static/{name}``                         the page's JS and CSS

JSON (heavy work is done here, off the event loop, incrementally per session and cached per journal length):

``GET /_mockrt/api/sessions``                          session list with counts
``GET /_mockrt/api/sessions/{id}/timeline?since=SEQ``  timeline rows new or grown after journal seq ``SEQ``
``GET /_mockrt/api/sessions/{id}/vad?from_bucket=B&score_from=S&lists=V``  input envelope, wall mapping, VAD
                                                       replay (event lists omitted when still at version ``V``)
``GET /_mockrt/api/sessions/{id}/conversation?since=SEQ``  conversation items; responses changed after ``SEQ``
``GET /_mockrt/api/sessions/{id}/events/{seq}``        one event (or span) with audio shown as durations

Downloads:

``GET /_mockrt/sessions/{id}/transcript.jsonl``        the session as a replayable recording
``GET /_mockrt/sessions/{id}/input.wav``               input audio, 24 kHz pcm16 mono (G.711 decoded)
``GET /_mockrt/sessions/{id}/output.wav[?response=ID]``  output audio of all (or one) responses, same format; for
                                                       a call's session (SIP: no audio deltas, the audio went down
                                                       the phone line; WebRTC: the media track), what the far end
                                                       heard, start to end (docs/protocol.md §11)

Access: the app mounts these routes under ``/_mockrt`` behind the one admin check of :mod:`mockrt.server.auth`
(``Authorization: Bearer <token>``, or the HttpOnly cookie that the login form's ``POST /_mockrt/login`` sets: no
token ever appears in a URL); the static assets are served by Starlette's ``StaticFiles`` (ETags) without the
token, and large JSON is compressed by ``GZipMiddleware``.
"""

from __future__ import annotations

import bisect
import html
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from mockrt.audio.resample import StreamResampler
from mockrt.core.dialects import Dialect, dialect_named
from mockrt.core.events import ServerEvent
from mockrt.core.turn_taking import VadOptions
from mockrt.inspector.analysis import (
    SessionAnalysis,
    b64,
    conversation_from_items,
    elide_audio,
    vad_summary,
)
from mockrt.inspector.buffers import BUCKET_MS, RATE, wav_bytes
from mockrt.inspector.conversation import TRANSCRIPT_GAP_MS
from mockrt.recording.transcript import dumps_transcript, from_journal
from mockrt.server.auth import CSP
from mockrt.server.policy import ADMIN_PREFIX
from mockrt.server.rest_errors import not_found

if TYPE_CHECKING:  # only leaf modules of mockrt.server at run time: the app imports this module while being built
    from mockrt.server.registry import SessionRecord
    from mockrt.server.state import MockState

PREFIX = ADMIN_PREFIX

KEEP_ANALYSES = 8
"""Sessions whose analysis (decoded audio, VAD replay, rows) stays in memory at once (LRU)."""
GZIP_ABOVE = 4096
"""Responses larger than this are gzip-compressed (``GZipMiddleware(minimum_size=...)`` on the mount)."""
GZIP_LEVEL = 5
"""The compression level (the one the hand-rolled compression used; the middleware's default is 9)."""

T = TypeVar("T")


# -- per-server state ----------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    n: int = 0
    first_seq: int = -1
    responses: int = 0
    errors: int = 0
    turns: int = 0
    last_t: float = 0.0
    spans: dict[Any, float] | None = None  # GPT-Live: where the last transcript delta of each kind ended (ms)


class InspectorCache:
    """Analyses of recently viewed sessions (LRU) and cheap per-session counters for the list."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.analyses: OrderedDict[str, SessionAnalysis] = OrderedDict()
        self.counts: dict[str, _Counts] = {}

    def analysis(self, record: SessionRecord, vad: VadOptions, dialect: Dialect) -> SessionAnalysis:
        with self.lock:
            a = self.analyses.get(record.id)
            if a is None:
                a = SessionAnalysis(record.id, vad, dialect)
                self.analyses[record.id] = a
            self.analyses.move_to_end(record.id)
            while len(self.analyses) > KEEP_ANALYSES:
                self.analyses.popitem(last=False)
            return a

    def replace(self, record: SessionRecord, vad: VadOptions, dialect: Dialect) -> SessionAnalysis:
        with self.lock:
            a = SessionAnalysis(record.id, vad, dialect)
            self.analyses[record.id] = a
            return a


_CACHES: weakref.WeakKeyDictionary[MockState, InspectorCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


def inspector_cache(state: MockState) -> InspectorCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(state)
        if cache is None:
            cache = _CACHES[state] = InspectorCache()
        return cache


def vad_params(state: MockState) -> VadOptions:
    return VadOptions(detector=state.config.vad, end_includes_silence=state.config.vad_end_includes_silence)


def session_dialect(state: MockState, record: SessionRecord) -> Dialect:
    """The dialect that reads a session's journal: the one it was served in."""
    return state.dialects.get((record.flavour, record.dialect)) or dialect_named(record.dialect)


def analyse(state: MockState, record: SessionRecord, build: Callable[[SessionAnalysis], T]) -> T:
    """Bring the session's analysis up to date with its journal, then ``build`` under its lock (worker thread)."""
    cache = inspector_cache(state)
    params = vad_params(state)
    dialect = session_dialect(state, record)
    a = cache.analysis(record, params, dialect)
    with a.lock:
        journal = record.journal
        length = len(journal)
        if length < a.n or (a.n and length and journal[0].seq != a.first_seq):  # the journal was cleared
            a = cache.replace(record, params, dialect)
            return analyse(state, record, build)
        final = record.ended_at is not None
        if length > a.n or (final and a.pending):
            a.update(journal[a.n : length], final=final)
        return build(a)


# -- helpers ---------------------------------------------------------------------------------------------------------


def _not_found(what: str = "No such session.") -> JSONResponse:
    return not_found(what)


def _json(payload: Any) -> Response:
    """Compact JSON, never cached (compressed by the mount's ``GZipMiddleware`` when large)."""
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def _record(request: Request) -> SessionRecord | None:
    return _state(request).registry.get(request.path_params["session_id"])


# -- pages ------------------------------------------------------------------------------------------------------------


def _page(title: str, body_attrs: str, script: str) -> HTMLResponse:
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{PREFIX}/static/inspector.css"></head>
<body {body_attrs}><noscript>The inspector needs JavaScript.</noscript>
<script src="{PREFIX}/static/{script}"></script></body></html>"""
    return HTMLResponse(doc, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


async def sessions_page(request: Request) -> Response:
    return _page("mockrt sessions", f'data-base="{PREFIX}" data-page="sessions"', "sessions.js")


async def session_page(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    if _record(request) is None:
        doc = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>not found</title>"
               f"<link rel=stylesheet href='{PREFIX}/static/inspector.css'></head><body class=login>"
               f"<h1>No session {html.escape(session_id)}</h1><p>It may have ended long ago: only the recent "
               f"sessions are kept. <a href='{PREFIX}/'>All sessions</a></p></body></html>")
        return HTMLResponse(doc, status_code=404, headers={"Content-Security-Policy": CSP})
    attrs = f'data-base="{PREFIX}" data-page="session" data-session="{html.escape(session_id, quote=True)}"'
    return _page(f"mockrt {session_id}", attrs, "inspector.js")


# -- JSON --------------------------------------------------------------------------------------------------------------


def _counts(cache: InspectorCache, record: SessionRecord, dialect: Dialect) -> _Counts:
    counts = cache.counts.get(record.id)
    journal = record.journal
    if counts is None or len(journal) < counts.n or (counts.n and journal and journal[0].seq != counts.first_seq):
        counts = cache.counts[record.id] = _Counts()
    for entry in journal[counts.n :]:
        if counts.first_seq < 0:
            counts.first_seq = entry.seq
        if entry.direction == "server":
            ev = dialect.server_event(entry.event.get("type"))
            if ev is ServerEvent.RESPONSE_DONE:
                counts.responses += 1
            elif ev is ServerEvent.ERROR:
                counts.errors += 1
            elif ev is ServerEvent.INPUT_AUDIO_COMMITTED:
                counts.turns += 1
            elif dialect.continuous_output and ev in (ServerEvent.TRANSCRIPTION_DELTA,
                                                      ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA):
                _live_turn(counts, ev, entry.event)
            elif ev is ServerEvent.ITEM_ADDED:
                item = entry.event.get("item")
                if isinstance(item, dict) and item.get("role") == "user" and item.get("content") and all(
                        dialect.part_type(p) in ("input_text", "text") for p in item["content"]):
                    counts.turns += 1
        counts.last_t = entry.t
    counts.n = len(journal)
    return counts


def _live_turn(counts: _Counts, ev: ServerEvent, event: dict[str, Any]) -> None:
    """GPT-Live (docs/protocol.md §13.4): a transcript delta that does not follow the previous one of its kind
    on its timeline starts a turn (input: the caller's; output: the model's, counted as its responses)."""
    a, b = event.get("start_ms"), event.get("end_ms")
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return
    spans = counts.spans if counts.spans is not None else {}
    counts.spans = spans
    last = spans.get(ev)
    if last is None or not 0 <= a - last <= TRANSCRIPT_GAP_MS:
        if ev is ServerEvent.TRANSCRIPTION_DELTA:
            counts.turns += 1
        else:
            counts.responses += 1
    spans[ev] = float(b)


def _summary(state: MockState, cache: InspectorCache, record: SessionRecord) -> dict[str, Any]:
    c = _counts(cache, record, session_dialect(state, record))
    ended = record.ended_at
    return {"id": record.id, "dialect": record.dialect, "flavour": record.flavour, "model": record.model,
            "path": record.path, "user_agent": record.user_agent, "started_at": record.started_at,
            "ended_at": ended, "live": ended is None, "close_code": record.close_code, "events": c.n,
            "responses": c.responses, "turns": c.turns, "errors": c.errors,
            "duration_s": round((ended - record.started_at) if ended is not None else c.last_t, 3),
            "call": _call_summary(state, record)}


def _call_summary(state: MockState, record: SessionRecord) -> dict[str, Any] | None:
    """The call this session serves (docs/protocol.md §11), with how much audio its simulated caller heard."""
    call = state.calls.for_session(record.id)
    if call is None:
        return None
    return {"id": call.id, "kind": call.kind, "status": call.status,
            "heard_ms": call.heard_ms}


async def api_sessions(request: Request) -> Response:
    state = _state(request)
    cache = inspector_cache(state)
    with cache.lock:
        rows = [_summary(state, cache, r) for r in state.registry.all()]
    rows.sort(key=lambda r: (not r["live"], -r["started_at"]))
    return _json({"sessions": rows, "admin_token": bool(state.config.admin_token)})


async def api_timeline(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    state = _state(request)
    since = _int(request, "since", -1)
    cache = inspector_cache(state)
    with cache.lock:
        summary = _summary(state, cache, record)

    def build(a: SessionAnalysis) -> dict[str, Any]:
        counts = a.timeline.counts
        if not a.dialect.continuous_output:  # a Live session's "responses" are its spoken turns (_live_turn)
            summary["responses"] = a.timeline.internal_counts.get(ServerEvent.RESPONSE_DONE, 0)
        summary["errors"] = a.timeline.internal_counts.get(ServerEvent.ERROR, 0)
        return {"session": summary, "live": record.ended_at is None, "last_seq": a.last_seq, "entries": a.n,
                "rows": [r.to_dict() for r in a.timeline.since(since)], "counts": counts,
                "input_ms": round(a.input.ms, 1), "input_buckets": len(a.input.arrive),
                "score_frames": len(a.vad.scores), "vad_events": len(a.server_vad) + len(a.markers),
                "conversation_version": a.conversation.version, "responses_version": a.response_version,
                "t_end": round(max((r.t1 for r in a.timeline.rows[-64:]), default=0.0), 4)}

    payload = await run_in_threadpool(analyse, state, record, build)
    return _json(payload)


def _lists_version(a: SessionAnalysis) -> int:
    """Changes whenever the VAD's event lists do (they only grow, except a segment ended by a later marker)."""
    v = a.vad
    return len(a.server_vad) + len(a.markers) + len(v.recomputed) + len(v.config_history) + len(v.score_segments)


def _vad_payload(a: SessionAnalysis, from_bucket: int, score_from: int, lists: int = -1) -> dict[str, Any]:
    """Envelope, arrival times and scores from the given bucket / frame on; the event lists (speech segments,
    markers, server and replayed events, configurations) unless the caller has version ``lists`` already."""
    lo, hi = a.input.envelope(from_bucket)
    n = min(lo.shape[0], len(a.input.arrive) - from_bucket)
    arrive = a.input.arrive.view(from_bucket, from_bucket + max(0, n)).astype(np.float32)
    scores = a.vad.scores.view(score_from)
    out: dict[str, Any] = {
        "input_ms": round(a.input.ms, 1), "bucket_ms": BUCKET_MS, "from_bucket": from_bucket,
        "buckets": max(0, n), "env_lo": b64(lo[: max(0, n)]), "env_hi": b64(hi[: max(0, n)]),
        "arrive": b64(arrive), "start_wall": a.input.start_wall, "appends": a.input.appends,
        "rejected_appends": a.rejected,
        "score_from": score_from, "score_total": len(a.vad.scores), "scores": b64(scores),
        "score_segments": a.vad.score_segments, "replay_error": a.vad.error, "lists_version": _lists_version(a),
    }
    if lists != out["lists_version"]:
        out.update({"config": a.vad.config_history, "segments": a.speech_segments(), "markers": a.markers,
                    "server_events": a.server_vad, "recomputed": a.vad.recomputed, "match": vad_summary(a)})
    return out


async def api_vad(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    from_bucket = max(0, _int(request, "from_bucket", 0))
    score_from = max(0, _int(request, "score_from", 0))
    lists = _int(request, "lists", -1)

    def build(a: SessionAnalysis) -> Any:
        key = f"vad:{from_bucket}:{score_from}:{lists}"
        hit = a.cache.get(key)
        if hit is not None and hit[0] == a.n:
            return hit[1]
        payload = _vad_payload(a, from_bucket, score_from, lists)
        if from_bucket == 0 and score_from == 0:
            a.cache[key] = (a.n, payload)  # the first load of a finished session's page
        return payload

    payload = await run_in_threadpool(analyse, _state(request), record, build)
    return _json(payload)


async def api_conversation(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    since = _int(request, "since", -1)
    live_items = None
    session = record.session
    if session is not None:  # read the live model on the event loop, where it changes
        live_items = conversation_from_items(list(session.conversation.items))

    def build(a: SessionAnalysis) -> dict[str, Any]:
        rebuilt = {item["id"]: item for item in a.conversation.items}
        items = a.conversation.items
        if live_items is not None:
            for item in live_items:  # keep what only the journal knows (where the audio is, when it came)
                extra = rebuilt.get(item["id"], {})
                for key in ("audio_range_ms", "t", "truncated_ms", "transcription_error"):
                    if key in extra:
                        item[key] = extra[key]
            items = live_items
        responses = [r.to_dict() for r in a.responses.values() if r.version > since]
        return {"version": a.conversation.version, "source": "live" if live_items is not None else "journal",
                "items": items, "responses": responses, "responses_version": a.response_version}

    payload = await run_in_threadpool(analyse, _state(request), record, build)
    return _json(payload)


async def api_event(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    try:
        seq = int(request.path_params["seq"])
    except ValueError:
        return _not_found("No such event.")
    journal = record.journal
    pos = bisect.bisect_left(journal, seq, key=lambda e: e.seq)
    if pos >= len(journal) or journal[pos].seq != seq:
        return _not_found("No such event.")
    entry = journal[pos]

    def build(a: SessionAnalysis) -> dict[str, Any]:
        fin, fout = a.formats_at(seq)
        out: dict[str, Any] = {"seq": entry.seq, "t": round(entry.t, 6), "direction": entry.direction,
                               "event": elide_audio(entry.event, fin, fout, a.dialect)}
        row = a.timeline.find(seq)
        if row is not None and row.n > 1:
            out["span"] = row.to_dict()
            last = bisect.bisect_left(journal, row.last, key=lambda e: e.seq)
            if last < len(journal) and journal[last].seq == row.last and row.last != seq:
                out["span_last"] = {"seq": row.last, "t": round(journal[last].t, 6),
                                    "event": elide_audio(journal[last].event, fin, fout, a.dialect)}
        return out

    payload = await run_in_threadpool(analyse, _state(request), record, build)
    return _json(payload)


# -- downloads ---------------------------------------------------------------------------------------------------------


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


async def transcript(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    text = await run_in_threadpool(lambda: dumps_transcript(from_journal(record)))
    return Response(text.encode("utf-8"), media_type="application/x-ndjson",
                    headers=_attachment(f"{record.id}.jsonl"))


async def input_wav(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    data = await run_in_threadpool(analyse, _state(request), record, lambda a: wav_bytes(a.input.pcm.view()))
    return Response(data, media_type="audio/wav", headers=_attachment(f"{record.id}-input.wav"))


async def output_wav(request: Request) -> Response:
    record = _record(request)
    if record is None:
        return _not_found()
    only = request.query_params.get("response")
    call = _state(request).calls.for_session(record.id)
    if only is None and call is not None:  # what the far end heard, on the media clock
        heard, rate = call.heard_pcm(), call.heard_format.rate
        wav = await run_in_threadpool(
            lambda: wav_bytes(heard if rate == RATE else StreamResampler(rate, RATE).process(heard), RATE))
        return Response(wav, media_type="audio/wav", headers=_attachment(f"{record.id}-output.wav"))

    def build(a: SessionAnalysis) -> bytes | None:
        if only is not None and only not in a.responses:
            return None
        parts = [p for r in a.responses.values() if only is None or r.id == only for p in r.parts]
        parts.sort(key=lambda p: p.first_seq)
        pcm = np.concatenate([p.pcm.view() for p in parts]) if parts else np.zeros(0, dtype=np.int16)
        return wav_bytes(pcm, RATE)

    data = await run_in_threadpool(analyse, _state(request), record, build)
    if data is None:
        return _not_found("No such response.")
    suffix = f"-{only}" if only else ""
    return Response(data, media_type="audio/wav", headers=_attachment(f"{record.id}-output{suffix}.wav"))


routes = [
    Route("/", sessions_page),
    Route("/sessions/{session_id}", session_page),
    Route("/api/sessions", api_sessions),
    Route("/api/sessions/{session_id}/timeline", api_timeline),
    Route("/api/sessions/{session_id}/vad", api_vad),
    Route("/api/sessions/{session_id}/conversation", api_conversation),
    Route("/api/sessions/{session_id}/events/{seq}", api_event),
    Route("/sessions/{session_id}/transcript.jsonl", transcript),
    Route("/sessions/{session_id}/input.wav", input_wav),
    Route("/sessions/{session_id}/output.wav", output_wav),
]
"""The inspector's routes, relative to the ``/_mockrt`` mount that the app builds beside
:data:`mockrt.server.admin.routes` (behind the one admin check, :mod:`mockrt.server.auth`)."""


def static_files() -> StaticFiles:
    """The page's own assets (generic code, no session data: served without the token, with ETags)."""
    return StaticFiles(packages=[("mockrt.inspector", "static")])
