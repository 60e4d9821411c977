#!/usr/bin/env python3
"""Session inspector under load: a 10-minute session with tens of thousands of journal events (issue 8).

The session is real: a :class:`~mockrt.core.session.RealtimeSession` (GA, server VAD, input transcription, the
default assistant's audio replies at 10x real time) is driven on a virtual clock with ``--minutes`` of speech
fixtures and pauses appended in 20 ms chunks, so the VAD opens and closes turns, responses stream, and new speech
barges in on some of them. Its journal goes into the registry of a running server as a finished session.

Printed figures:

* **analysis**: the cold, full analysis of the journal (base64 decoding, the VAD replay, rows, conversation), and
  the cost of keeping a live session's analysis up to date (the journal fed in 1 s slices, as a page polling
  every second would see it);
* **endpoints**: the server-side time of each endpoint over loopback HTTP (``httpx``; the body size with gzip),
  cold (first request after the session is registered) and warm (cached analysis), best of ``--repeats``;
* **page** (when Chromium and Playwright are installed): navigation start to the first render (timeline drawn)
  and to fully drawn (waveform, VAD, responses, conversation), the time to redraw all canvases (a zoom or pan
  frame), and the time to redraw after zooming into 5 s.

    python bench/inspector_load.py [--minutes 10] [--repeats 3] [--no-browser]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from mockrt import inspector  # noqa: E402
from mockrt.config import ServerConfig  # noqa: E402
from mockrt.core.dialects import GA  # noqa: E402
from mockrt.core.session import RealtimeSession, SessionOptions  # noqa: E402
from mockrt.core.turn_taking import VadOptions  # noqa: E402
from mockrt.inspector.analysis import SessionAnalysis, VadParams  # noqa: E402
from mockrt.inspector.endpoints import _lists_version  # noqa: E402
from mockrt.server.registry import Registry, SessionRecord  # noqa: E402
from mockrt.thread import ServerThread  # noqa: E402
from tests.audio_fixtures import SPEECH_CLIPS, load_speech  # noqa: E402

CHROMIUM = os.environ.get("MOCKRT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def build_session(registry: Registry, minutes: float) -> SessionRecord:
    """Drive a core session on a virtual clock; its journal lands in ``registry`` (the record is closed)."""
    clips = [load_speech(name).pcm for name in SPEECH_CLIPS]
    pauses = [1200, 2500, 700, 4000]  # ms of silence after each clip (700 ms: the next turn barges in)
    parts: list[np.ndarray[Any, Any]] = []
    total, i = 0, 0
    target = int(minutes * 60 * 24000)
    while total < target:
        clip = clips[i % len(clips)]
        pause = np.zeros(24 * pauses[i % len(pauses)], dtype=np.int16)
        parts += [clip, pause]
        total += len(clip) + len(pause)
        i += 1
    pcm = np.concatenate(parts)[:target]
    now = 1000.0
    session = RealtimeSession(SessionOptions(dialect=GA(), model="gpt-realtime", seed="bench",
                                             vad=VadOptions(), created_at=int(time.time())), now)
    record = SessionRecord(session.session_id, "ga", "openai", "gpt-realtime", "/v1/realtime",
                           "bench/inspector_load", time.time() - minutes * 60, now)
    session.options.on_event = registry.recorder(record)
    registry.open(record)
    session.start()
    session.receive({"type": "session.update", "session": {
        "type": "realtime", "output_modalities": ["audio"],
        "audio": {"input": {"transcription": {"model": "whisper-1"}}}}}, now)
    for k in range(0, len(pcm), 480):
        now += 0.02
        session.poll(now)
        session.receive({"type": "input_audio_buffer.append",
                         "audio": base64.b64encode(pcm[k : k + 480].tobytes()).decode()}, now)
    while (deadline := session.next_deadline()) is not None and deadline < now + 30:
        now = max(now, deadline)
        session.poll(now)
    registry.close(record, None)
    return record


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--screenshot", type=Path, default=None, help="save the loaded page as a PNG")
    args = parser.parse_args()

    server = ServerThread(ServerConfig(port=0, log_level="warning"))
    with server:
        registry: Registry = server.app.state.mock.registry
        t0 = time.perf_counter()
        record = build_session(registry, args.minutes)
        build_s = time.perf_counter() - t0
        journal = list(record.journal)
        kinds: dict[str, int] = {}
        for e in journal:
            kinds[str(e.event.get("type"))] = kinds.get(str(e.event.get("type")), 0) + 1
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print(f"session {record.id}: {args.minutes:g} min of input audio, {len(journal)} journal events "
              f"({kinds.get('input_audio_buffer.append', 0)} appends, "
              f"{kinds.get('response.output_audio.delta', 0)} audio deltas, "
              f"{kinds.get('input_audio_buffer.speech_started', 0)} VAD turns, "
              f"{kinds.get('response.done', 0)} responses); built in {build_s:.1f} s")

        # -- analysis, in process -------------------------------------------------------------------------
        def full() -> SessionAnalysis:
            a = SessionAnalysis(record.id, VadParams())
            a.update(journal, final=True)
            return a

        cold_ms, analysis = timed(full, args.repeats)
        print(f"\nanalysis (in process, best of {args.repeats})")
        print(f"  full journal, cold                    {cold_ms:9.1f} ms   ({len(analysis.timeline.rows)} rows, "
              f"{len(analysis.vad.scores)} VAD frames, replay agrees: "
              f"{inspector.analysis.vad_summary(analysis)['agree']})")
        live = SessionAnalysis(record.id, VadParams())
        slices: list[float] = []
        start, end_t = 0, 1.0
        while start < len(journal):
            stop = start
            while stop < len(journal) and journal[stop].t < end_t:
                stop += 1
            t1 = time.perf_counter()
            live.update(journal[start:stop])
            slices.append((time.perf_counter() - t1) * 1000)
            start, end_t = stop, end_t + 1.0
        print(f"  live: one 1 s slice per poll          median {statistics.median(slices):6.2f} ms, "
              f"max {max(slices):6.2f} ms ({len(slices)} polls)")

        # -- endpoints over HTTP ----------------------------------------------------------------------------
        base = f"{server.http_url}/_mockrt"
        sid = record.id
        last = analysis.last_seq
        append_seq = next(e.seq for e in journal if e.event.get("type") == "input_audio_buffer.append")
        urls = [
            ("timeline (all rows)", f"{base}/api/sessions/{sid}/timeline"),
            ("timeline ?since=last (a poll)", f"{base}/api/sessions/{sid}/timeline?since={last}"),
            ("vad (everything)", f"{base}/api/sessions/{sid}/vad"),
            ("vad (incremental, a live poll)",
             f"{base}/api/sessions/{sid}/vad?from_bucket={len(analysis.input.arrive) - 100}"
             f"&score_from={len(analysis.vad.scores) - 100}&lists={_lists_version(analysis)}"),
            ("conversation (all responses)", f"{base}/api/sessions/{sid}/conversation"),
            ("event detail (an append span)", f"{base}/api/sessions/{sid}/events/{append_seq}"),
            ("session list", f"{base}/api/sessions"),
            ("session page (HTML)", f"{base}/sessions/{sid}"),
            ("transcript.jsonl", f"{base}/sessions/{sid}/transcript.jsonl"),
            ("input.wav", f"{base}/sessions/{sid}/input.wav"),
            ("output.wav", f"{base}/sessions/{sid}/output.wav"),
        ]
        with httpx.Client(timeout=120, headers={"accept-encoding": "gzip"}) as http:
            cold_http = timed(lambda: http.get(urls[0][1]), 1)[0]
            print(f"\nendpoints over loopback HTTP (best of {args.repeats}; size on the wire)")
            print(f"  {'timeline, cold (includes the analysis)':38s} {cold_http:9.1f} ms")
            for label, url in urls:
                ms, response = timed(lambda url=url: http.get(url), args.repeats)
                wire = int(response.headers.get("content-length") or len(response.content))
                print(f"  {label:38s} {ms:9.1f} ms  {wire / 1024:9.1f} KiB"
                      + (" (gzip)" if response.headers.get("content-encoding") == "gzip" else ""))

        # -- the page ---------------------------------------------------------------------------------------
        if args.no_browser:
            return
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            print("\npage: skipped (pip install playwright)")
            return
        if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
            print(f"\npage: skipped (no Chromium at {CHROMIUM})")
            return
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            print(f"\npage in headless Chromium {browser.version} (1500x1000), best of {args.repeats}")
            loads, redraws, zoomed = [], [], []
            state = server.app.state.mock
            cold: dict[str, float] = {}
            for attempt in range(args.repeats + 1):
                if attempt == 0:  # the first open of the session: the server analyses it from scratch
                    inspector.endpoints.inspector_cache(state).analyses.clear()
                context = browser.new_context(viewport={"width": 1500, "height": 1000}, bypass_csp=True)
                page = context.new_page()
                page.goto(f"{base}/sessions/{sid}")
                page.wait_for_function("document.body.dataset.state === 'done'", timeout=120000)
                if attempt == 0:
                    cold = page.evaluate("window.mockrtInspector.timings")
                    context.close()
                    continue
                loads.append(page.evaluate("window.mockrtInspector.timings"))
                redraws.append(page.evaluate("window.mockrtInspector.redrawMs(20)"))
                page.evaluate("(() => { const s = window.mockrtInspector.state; s.view.v0 = 300; s.view.v1 = 305; })()")
                zoomed.append(page.evaluate("window.mockrtInspector.redrawMs(20)"))
                if args.screenshot is not None:
                    page.evaluate("(() => { const s = window.mockrtInspector.state; s.view.v0 = 296; s.view.v1 = 318;"
                                  " s.view.auto = false; })()")
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(args.screenshot), full_page=True)
                context.close()
            browser.close()
        first = min(t["firstRender"] for t in loads)
        drawn = min(t["fullyDrawn"] for t in loads)
        print(f"  first open (cold analysis): first render {cold['firstRender']:9.1f} ms, fully drawn "
              f"{cold['fullyDrawn']:9.1f} ms")
        print(f"  navigation start -> first render      {first:9.1f} ms")
        print(f"  navigation start -> fully drawn       {drawn:9.1f} ms")
        print(f"  redraw, whole session in view         {min(redraws):9.2f} ms per frame")
        print(f"  redraw, zoomed into 5 s               {min(zoomed):9.2f} ms per frame")
        if args.screenshot is not None:
            print(f"  screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
