"""The input audio buffer: append, commit, clear, formats (docs/protocol.md §2.2–§2.4, §4.1, §5.6, §7)."""

from __future__ import annotations

from conformance import Ctx, case
from conformance.audio import silence, tone
from conformance.checks import expect_equal, expect_sequence, expect_subset
from conformance.client import Session

from ._common import item_event_types, manual


def _commit_error(ms: str) -> str:
    return ("Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer "
            f"only has {ms}ms of audio.")


def _commit_ok(s: Session) -> str:
    """Commit and check the committed + item events; returns the item id."""
    s.send({"type": "input_audio_buffer.commit"})
    committed = s.expect("input_audio_buffer.committed")
    added = s.expect("conversation.item.added")
    expect_equal(added["item"]["id"], committed["item_id"], "the created item is the committed one")
    if s.dialect == "ga":
        s.expect("conversation.item.done")
    return str(committed["item_id"])


@case(id="audio-buffer/append/no-ack", section="§2.2",
      description="input_audio_buffer.append is not acknowledged",
      requirement="No acknowledgement event on success [D].")
def test_append_no_ack(ctx: Ctx) -> None:
    s = manual(ctx)
    s.append(tone(300))
    s.expect_quiet("after input_audio_buffer.append")


@case(id="audio-buffer/append/invalid-base64", section="§2.2, §6.2",
      description="audio that is not base64 is rejected with invalid_value",
      requirement="Invalid base64 → invalid_value, \"Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 "
                  "at 24kHz) but got an invalid value.\", param 'audio.audio' [R: Azure preview].", level="should")
def test_append_invalid_base64(ctx: Ctx) -> None:
    s = manual(ctx)
    s.send({"type": "input_audio_buffer.append", "audio": "this is *not* base64!"})
    s.expect_error(code="invalid_value", param="audio.audio",
                   message="Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but got an "
                           "invalid value.")


@case(id="audio-buffer/commit/too-small", section="§2.3, §6.2",
      description="committing an empty buffer or 50 ms is an error with the exact message; nothing is committed",
      requirement="Less than 100 ms since the previous commit → input_audio_buffer_commit_empty, '… but buffer only "
                  "has 0.00ms of audio.' / '… 50.00ms …', the client event_id echoed, and no committed [V].")
def test_commit_too_small(ctx: Ctx) -> None:
    s = manual(ctx)
    s.send({"type": "input_audio_buffer.commit"})
    s.expect_error(code="input_audio_buffer_commit_empty", param=None, event_id=None, message=_commit_error("0.00"))
    s.append(tone(50))
    s.send({"type": "input_audio_buffer.commit", "event_id": "commit_10"})
    s.expect_error(code="input_audio_buffer_commit_empty", param=None, event_id="commit_10",
                   message=_commit_error("50.00"))
    s.expect_quiet("after the rejected commit")


@case(id="audio-buffer/commit/minimum", section="§2.3",
      description="exactly 100 ms of pcm16 (4800 bytes) commits",
      requirement="'Expected at least 100ms of audio': 100 ms is enough [V].")
def test_commit_minimum(ctx: Ctx) -> None:
    s = manual(ctx)
    s.append(tone(100))
    _commit_ok(s)


@case(id="audio-buffer/commit/since-last-commit", section="§2.3, §5.13",
      description="the 100 ms rule counts only audio appended since the previous commit",
      requirement="Buffer shorter than 100 ms, measured on audio appended since the previous commit, not "
                  "session-wide → input_audio_buffer_commit_empty [V].")
def test_commit_since_last(ctx: Ctx) -> None:
    s = manual(ctx)
    s.append(tone(300))
    _commit_ok(s)
    s.append(tone(60))
    s.send({"type": "input_audio_buffer.commit"})
    s.expect_error(code="input_audio_buffer_commit_empty", message=_commit_error("60.00"))


@case(id="audio-buffer/commit/creates-user-item", section="§2.3, §5.6, §3.5",
      description="a commit creates a user input_audio item (transcript null) and no response",
      requirement="Success: input_audio_buffer.committed {previous_item_id, item_id} then the item event(s) with "
                  "{type message, role user, status completed, content [{input_audio, transcript null}]}; no "
                  "response is created [D][V].")
def test_commit_creates_item(ctx: Ctx) -> None:
    s = manual(ctx)
    s.append(tone(200))
    s.send({"type": "input_audio_buffer.commit"})
    events = s.until(item_event_types(ctx.dialect)[-1])
    expect_sequence(events, ["input_audio_buffer.committed", *item_event_types(ctx.dialect)], "commit events")
    committed, item_event = events[0], events[1]
    expect_equal(committed.get("previous_item_id"), None, "committed.previous_item_id of the first item")
    expect_equal(item_event.get("previous_item_id"), None, "item previous_item_id")
    expect_subset(item_event["item"], {"id": committed["item_id"], "type": "message", "role": "user",
                                       "status": "completed"}, "the user item")
    expect_equal(item_event["item"].get("content"), [{"type": "input_audio", "transcript": None}],
                 "item content (no audio bytes in item events, transcript null)")
    s.expect_quiet("after the commit (a commit does not create a response)")


@case(id="audio-buffer/clear", section="§2.4",
      description="clear drops uncommitted audio and answers input_audio_buffer.cleared",
      requirement="Clear drops uncommitted audio; reply input_audio_buffer.cleared (even if already empty [U]) [D].")
def test_clear(ctx: Ctx) -> None:
    s = manual(ctx)
    s.append(tone(300))
    s.send({"type": "input_audio_buffer.clear"})
    s.expect("input_audio_buffer.cleared")
    s.send({"type": "input_audio_buffer.commit"})
    s.expect_error(code="input_audio_buffer_commit_empty", message=_commit_error("0.00"))


def _g711(ctx: Ctx, fmt: str) -> None:
    s = ctx.connect()
    s.update(turn_detection=None, output="text", input_format=fmt)
    s.append(silence(100, fmt))  # 800 bytes = 100 ms at 8 bytes/ms (§7)
    _commit_ok(s)
    s.append(silence(96, fmt))
    s.send({"type": "input_audio_buffer.commit"})
    s.expect_error(code="input_audio_buffer_commit_empty", message=_commit_error("96.00"))


@case(id="audio-buffer/format/g711", section="§4.1, §7, §2.3",
      description="with G.711 µ-law / A-law input, 800 bytes are 100 ms (commits) and 768 bytes 96 ms (too small)",
      requirement="g711_ulaw / audio/pcmu and g711_alaw / audio/pcma are 8-bit at 8 kHz: 8 bytes per ms; the commit "
                  "rule follows that time base [D][V].")
def test_format_g711(ctx: Ctx) -> None:
    _g711(ctx, "g711_ulaw")
    _g711(ctx, "g711_alaw")
