"""The catalogue's metadata and the suite's own checkers (SDK validation, referential consistency)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import LEVELS, load_catalogue, select
from conformance.checks import CaseFailure, Many, expect_sequence
from conformance.tracker import ConsistencyError, Tracker
from conformance.validate import ShapeError, validate_server_event

PROTOCOL = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
GROUPS = {"connection", "events", "session", "audio-buffer", "items", "responses", "vad", "transcription",
          "translation", "mcp", "calls", "live", "voice-live"}


def test_catalogue_shape() -> None:
    cases = load_catalogue()
    assert 50 <= len(cases) <= 200
    names = [c.fn.__name__ for c in cases.values()]
    assert len(names) == len(set(names)), "case function names must be unique"
    for c in cases.values():
        assert c.group in GROUPS, c.id
        assert c.level in LEVELS
        assert "\n" not in c.description and len(c.description) <= 120, c.id
        assert c.requirement and c.timeout > 0
        assert c.fn.__name__.startswith("test_"), c.id


def test_every_cited_section_exists_in_protocol_md() -> None:
    text = PROTOCOL.read_text()
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)*)\.? ", text, flags=re.MULTILINE))
    for c in load_catalogue().values():
        for section in re.findall(r"§(\d+(?:\.\d+)*)", c.section):
            assert section in headings, f"{c.id} cites §{section}, which docs/protocol.md does not have"


def test_cases_skip_clearly_without_the_speech_fixtures(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from conformance import audio
    from conformance.runner import run_case
    from conformance.targets import MockTarget

    monkeypatch.setenv("CONFORMANCE_FIXTURES", str(tmp_path))
    audio.speech.cache_clear()
    try:
        result = run_case(load_catalogue()["vad/turn/events"], MockTarget(), "ga")  # skips before connecting
    finally:
        audio.speech.cache_clear()
    assert result.outcome == "skip"
    assert "speech fixture" in result.message and "CONFORMANCE_FIXTURES" in result.message


def test_select_uses_pytest_k_syntax() -> None:
    cases = load_catalogue()
    ids = {c.id for c in select(cases, "audio-buffer/commit and not minimum")}
    assert "audio-buffer/commit/too-small" in ids and "audio-buffer/commit/minimum" not in ids
    assert all(c.level == "should" for c in select(cases, "should"))


def _ev(etype: str, **fields: Any) -> dict[str, Any]:
    return {"type": etype, "event_id": "event_" + "A" * 21, **fields}


def _response_start(t: Tracker, rid: str = "resp_1", item: str = "item_a") -> None:
    t.feed(_ev("session.created", session={}))
    t.feed(_ev("response.created", response={"id": rid, "status": "in_progress", "output": [],
                                             "conversation_id": "conv_1"}))
    t.feed(_ev("response.output_item.added", response_id=rid, output_index=0,
               item={"id": item, "type": "message", "status": "in_progress", "role": "assistant", "content": []}))
    t.feed(_ev("response.content_part.added", response_id=rid, item_id=item, output_index=0, content_index=0,
               part={"type": "text", "text": ""}))


def test_tracker_accepts_a_consistent_text_response() -> None:
    t = Tracker("ga")
    _response_start(t)
    ids = {"response_id": "resp_1", "item_id": "item_a", "output_index": 0, "content_index": 0}
    t.feed(_ev("response.output_text.delta", delta="Hi", **ids))
    t.feed(_ev("response.output_text.done", text="Hi", **ids))
    t.feed(_ev("response.content_part.done", part={"type": "text", "text": "Hi"}, **ids))
    item = {"id": "item_a", "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "Hi"}]}
    t.feed(_ev("response.output_item.done", response_id="resp_1", output_index=0, item=item))
    t.feed(_ev("response.done", response={"id": "resp_1", "status": "completed", "output": [item],
                                          "usage": {"total_tokens": 3, "input_tokens": 1, "output_tokens": 2}}))
    assert t.usage_total == 3


@pytest.mark.parametrize(("event", "message"), [
    (_ev("response.output_text.delta", response_id="resp_1", item_id="item_b", output_index=0, content_index=0,
         delta="x"), "not announced"),
    (_ev("response.output_text.delta", response_id="resp_9", item_id="item_a", output_index=0, content_index=0,
         delta="x"), "response_id"),
    (_ev("response.output_text.delta", response_id="resp_1", item_id="item_a", output_index=1, content_index=0,
         delta="x"), "output_index"),
    (_ev("response.output_text.done", response_id="resp_1", item_id="item_a", output_index=0, content_index=0,
         text="nope"), "concatenated deltas"),
    (_ev("conversation.item.added", previous_item_id="item_zzz", item={"id": "item_u", "type": "message"}),
     "previous_item_id"),
])
def test_tracker_rejects_inconsistent_events(event: dict[str, Any], message: str) -> None:
    t = Tracker("ga")
    _response_start(t)
    with pytest.raises(ConsistencyError, match=message):
        t.feed(event)


def test_tracker_checks_call_ids_audio_samples_and_vad_item_ids() -> None:
    t = Tracker("ga")
    t.feed(_ev("session.created", session={}))
    t.feed(_ev("response.created", response={"id": "resp_1", "status": "in_progress", "output": []}))
    t.feed(_ev("response.output_item.added", response_id="resp_1", output_index=0,
               item={"id": "item_f", "type": "function_call", "status": "in_progress", "call_id": "call_1",
                     "name": "f", "arguments": ""}))
    with pytest.raises(ConsistencyError, match="call_id"):
        t.feed(_ev("response.function_call_arguments.delta", response_id="resp_1", item_id="item_f",
                   output_index=0, call_id="call_2", delta="{}"))
    t = Tracker("beta")
    _response_start(t)
    t.feed(_ev("response.content_part.added", response_id="resp_1", item_id="item_a", output_index=0,
               content_index=1, part={"type": "audio", "transcript": ""}))
    with pytest.raises(ConsistencyError, match="whole number of samples"):
        t.feed(_ev("response.audio.delta", response_id="resp_1", item_id="item_a", output_index=0, content_index=1,
                   delta="AAAA"))  # 3 bytes of pcm16
    t = Tracker("ga")
    t.feed(_ev("input_audio_buffer.speech_started", audio_start_ms=0, item_id="item_1"))
    with pytest.raises(ConsistencyError, match="speech_started"):
        t.feed(_ev("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="item_2"))


def test_sdk_validation_rejects_unknown_keys_and_beta_obfuscation() -> None:
    delta = {"response_id": "r", "item_id": "i", "output_index": 0, "content_index": 0, "delta": "x"}
    validate_server_event(_ev("response.output_text.delta", obfuscation="abc", **delta), "ga")
    with pytest.raises(ShapeError, match="obfuscation"):
        validate_server_event(_ev("response.text.delta", obfuscation="abc", **delta), "beta")
    with pytest.raises(ShapeError, match="bogus"):
        validate_server_event(_ev("input_audio_buffer.cleared", bogus=1), "ga")
    with pytest.raises(ShapeError, match="not a server event type"):
        validate_server_event(_ev("conversation.item.done", previous_item_id=None, item={}), "beta")
    with pytest.raises(ShapeError, match="event_id"):
        validate_server_event({"type": "input_audio_buffer.cleared", "event_id": "evt_1"}, "ga")


def test_expect_sequence_reports_both_orders() -> None:
    events = [{"type": t} for t in ("response.created", "response.text.delta", "response.text.delta",
                                    "response.done")]
    expect_sequence(events, ["response.created", Many(("response.output_text.delta",)), "response.done"], "ok")
    with pytest.raises(CaseFailure, match=r"response.output_text.delta ×2"):
        expect_sequence(events, ["response.created", "response.done"], "wrong")
