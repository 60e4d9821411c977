"""Recorded live sessions (fixtures/recordings) compared with the mock as normalised snapshots.

Each live recording's client events are replayed into the mock (``mockrt serve``); the server events of both,
normalised (ids → placeholders, timestamps, audio, token counts and the model's words dropped, delta runs
collapsed), must match. Without live recordings the comparison is skipped (a recording whose header says
``"upstream": "mockrt"`` is not live).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.client import Session, Transcript
from conformance.snapshots import diff, live_recordings, normalize, read_recording, replay_against
from conformance.targets import MockTarget
from conformance.wire import text_item

LIVE = live_recordings()


@pytest.fixture(scope="module")
def target() -> Iterator[MockTarget]:
    mock = MockTarget()
    mock.start()
    yield mock
    mock.stop()


@pytest.mark.skipif(not LIVE, reason="no live recordings in fixtures/recordings (recordings whose header says "
                                     "'upstream': 'mockrt' are not live)")
@pytest.mark.parametrize("path", LIVE, ids=[p.stem for p in LIVE])
def test_live_recording_matches_the_mock(path: Path, target: MockTarget) -> None:
    header, lines = read_recording(path)
    replayed = replay_against(target, header, lines)
    problems = diff(normalize(lines), normalize(replayed), labels=(f"live {path.name}", "mock"))
    assert not problems, "\n".join(problems[:120])


def _record_text_turn(target: MockTarget, dialect: str) -> list[dict[str, object]]:
    """A mock session (turn detection off, one text turn) as recording lines."""
    endpoint = target.endpoint(dialect)
    transcript = Transcript("openai", dialect, endpoint.url, "selftest")
    import time

    s = Session.open(endpoint.url, headers=endpoint.headers, subprotocols=endpoint.subprotocols, dialect=dialect,
                     transcript=transcript, deadline=time.monotonic() + 30, wait_cap=5.0, local=True)
    try:
        s.next()
        s.update(turn_detection=None, output="text")
        s.create_item(text_item("Hello."))
        s.respond()
        if dialect == "ga":
            s.wait("rate_limits.updated")
    finally:
        s.close()
    return transcript.lines


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_snapshot_comparison_matches_a_replay_and_spots_a_difference(tmp_path: Path, target: MockTarget,
                                                                    dialect: str) -> None:
    lines = _record_text_turn(target, dialect)
    path = tmp_path / "live.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    mock_made = tmp_path / "mock.jsonl"
    mock_made.write_text("".join(json.dumps({**line, "upstream": "mockrt"} if i == 0 else line) + "\n"
                                 for i, line in enumerate(lines)))
    assert live_recordings(tmp_path) == [path]
    header, frames = read_recording(path)
    frames = [f for f in frames if "close" not in f]
    replayed = [f for f in replay_against(target, header, frames) if "close" not in f]
    assert diff(normalize(frames), normalize(replayed)) == []
    # Drop the content_part.done: the comparison must notice.
    broken = [f for f in frames if (f.get("event") or {}).get("type") != "response.content_part.done"]
    problems = diff(normalize(broken), normalize(replayed))
    assert any("response.content_part.done" in p for p in problems)
    # Ids are compared by identity: swapping which item a response refers to is a difference.
    normalized = normalize(frames)
    assert any(str(e.get("item", {}).get("id", "")).startswith("<item:") for e in normalized if "item" in e)
