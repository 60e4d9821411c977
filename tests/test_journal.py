"""The registry's journal (mockrt/server/registry.py): read as entries, stored without one tracked object an entry."""

from __future__ import annotations

import base64
import gc
import json
from collections.abc import Callable
from typing import Any

import pytest

from mockrt.core import outputs
from mockrt.server import registry as registry_module
from mockrt.server.registry import IndexQueue, Journal, JournalEntry, Registry, SessionRecord


def _record(registry: Registry) -> SessionRecord:
    record = SessionRecord("sess_1", "ga", "openai", None, "/v1/realtime", "", 0.0, 10.0)
    registry.open(record)
    return record


def test_a_journal_reads_as_a_sequence_of_entries() -> None:
    journal = Journal()
    assert journal.append(7, 0.5, "client", {"type": "a"}) == 0
    assert journal.append(8, 0.75, "server", {"type": "b"}) == 1
    assert len(journal) == 2 and journal
    assert journal[0] == JournalEntry(7, 0.5, "client", {"type": "a"})
    assert journal[-1].seq == 8 and journal[-1].event == {"type": "b"}
    assert [e.seq for e in journal] == [7, 8] == [e.seq for e in journal[0:]]
    assert journal[1:5] == [JournalEntry(8, 0.75, "server", {"type": "b"})]
    with pytest.raises(IndexError):
        journal[2]
    journal.set_event(0, {"type": "a", "kept": True})
    assert journal[0].event == {"type": "a", "kept": True}
    journal.clear()
    assert len(journal) == 0 and list(journal) == [] and not journal


def test_journaled_appends_add_no_object_for_the_garbage_collector() -> None:
    """A full collection stops the server's loop for as long as it walks the tracked objects; an audio append
    journaled as one object each made that grow with every session's every 20 ms (bench/README.md, seventh
    pass). The entry and its event (a dict of strings) are both untracked once a young collection has seen them."""
    registry = Registry()
    record = _record(registry)
    on_event = registry.recorder(record)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(2000):
        on_event("client", {"type": "input_audio_buffer.append", "audio": "AAAA" * 320, "event_id": f"e{i}"},
                 11.0 + i * 0.02)
    gc.collect()
    assert len(record.journal) == 2000
    assert len(gc.get_objects()) - before < 50
    assert record.journal[1999].t == pytest.approx(1999 * 0.02 + 1.0)
    # Nor does a collection look at most of them: what it visits from the journal and its queue of audio entries
    # (the referents of the tracked objects they hold, not through classes) is a chunk's worth and one reference a
    # chunk, not the two or more an entry of a list of entries.
    assert len(record.audio_entries) == 2000
    visits, todo = 0, [record.journal, record.audio_entries]
    while todo:
        for ref in gc.get_referents(todo.pop()):
            visits += 1
            if gc.is_tracked(ref) and not isinstance(ref, type):
                todo.append(ref)
    assert visits < 2000 / 10


def test_a_rejected_event_is_stubbed_by_index_and_never_after_a_clear() -> None:
    registry = Registry()
    record = _record(registry)
    on_event = registry.recorder(record)
    big = {"type": "conversation.item.create", "event_id": "x", "junk": "j" * 10_000}
    on_event("client", big, 10.0)
    on_event("server", {"type": "error", "error": {"event_id": "x"}}, 10.0)
    assert record.journal[0].event["mockrt_truncated"]["reason"] == "rejected"
    on_event("client", big, 10.0)
    registry.clear()
    on_event("server", {"type": "error", "error": {"event_id": "x"}}, 10.0)  # its client event is gone
    assert [e.event["type"] for e in record.journal] == ["error"]


def test_the_audio_index_queue_is_first_in_first_out_across_compactions() -> None:
    queue = IndexQueue()
    for i in range(10_000):
        queue.append(i)
    assert [queue.popleft() for _ in range(9_000)] == list(range(9_000))  # compacts on the way
    queue.append(10_000)
    assert len(queue) == 1_001 and queue.popleft() == 9_000
    queue.clear()
    assert len(queue) == 0 and not queue



def _realtime(on_event: Any) -> tuple[Any, list[str]]:
    from mockrt.core.dialects.ga import GA
    from mockrt.core.session import RealtimeSession, SessionOptions

    session = RealtimeSession(SessionOptions(dialect=GA(), on_event=on_event), 0.0)
    return session, ['{"type": "conversation.item.create", "item": {"type": "message", "role": "user", '
                     '"content": [{"type": "input_text", "text": "h\u00e9llo"}]}}',
                     json.dumps({"type": "response.create", "response": {"output_modalities": ["audio"]}})]


def _translation(on_event: Any) -> tuple[Any, list[str]]:
    from mockrt.core.dialects.translation import Translation
    from mockrt.core.translation import TranslationOptions, TranslationSession

    session = TranslationSession(TranslationOptions(dialect=Translation(), seed=1, on_event=on_event), 0.0)
    audio = base64.b64encode(bytes(24000 * 2)).decode()
    return session, [json.dumps({"type": "session.input_audio_buffer.append", "audio": audio}),
                     json.dumps({"type": "session.nonsense", "event_id": "e1"})]


def _live(on_event: Any) -> tuple[Any, list[str]]:
    from mockrt.core.live.session import LiveOptions, LiveSession

    session = LiveSession(LiveOptions(seed=3, time_scale=0, on_event=on_event), now=0.0)
    return session, [json.dumps({"type": "session.start", "session": {"model": "gpt-live-1"}}),
                     json.dumps({"type": "session.commentary.append", "content": "All done.", "delegation_id": None})]


@pytest.mark.parametrize("make", [_realtime, _translation, _live])
def test_each_server_event_is_encoded_once_for_the_wire_and_the_journal(
        make: Callable[[Any], tuple[Any, list[str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A session's journal counts each event by its frame's size (the text a client sent, the frame sent back):
    the server's events are encoded once (``Send.frame``), for the journal and then the socket, and neither is
    measured again (issue 14). Realtime, translation and GPT-Live sessions alike."""
    encoded: list[dict[str, Any]] = []
    encode = outputs.encode_event

    def counting(event: dict[str, Any]) -> bytes:
        encoded.append(event)
        return encode(event)

    def measured(value: object) -> int:
        raise AssertionError(f"measured again: {value!r:.80}")

    monkeypatch.setattr(outputs, "encode_event", counting)
    monkeypatch.setattr(registry_module, "approx_size", measured)
    registry = Registry()
    record = _record(registry)
    session, texts = make(registry.recorder(record))
    sends = [*session.start()]
    now = 0.0
    for text in texts:
        sends += session.receive_text(text, now)
    while getattr(session, "runs", None):
        now = session.next_deadline() or now
        sends += session.poll(now)
    frames = [out.frame for out in sends if isinstance(out, outputs.Send)]
    assert len(frames) >= 2 and [json.loads(f) for f in frames] == encoded  # one encoding each, the wire's own
    assert record.journal_bytes == sum(len(t.encode()) for t in texts) + sum(map(len, frames))


def test_a_text_frame_is_counted_in_utf8_bytes() -> None:
    """What a client's text takes is counted as the bytes it came in, not its characters: four for an emoji, so a
    journal's byte budget holds (SECURITY.md) whatever the script."""
    assert outputs.text_size('{"a":"b"}') == 9
    assert outputs.text_size('{"a":"\u00e9\u4e2d\U0001f600"}') == 8 + 2 + 3 + 4
    assert outputs.text_size('"\ud800"') == 2 + 3  # a lone surrogate (json.loads lets it through) counts too
