"""Server VAD turns on the labelled speech fixtures (docs/protocol.md §4.8, §5.5, §5.7, §5.10)."""

from __future__ import annotations

from typing import Any

from conformance import Ctx, case
from conformance.audio import silence
from conformance.checks import expect, expect_equal, expect_near, expect_sequence, expect_subset
from conformance.client import Session
from conformance.wire import canonical, vad

from ._common import SHORT_REPLY, item_event_types, user_text

Json = dict[str, Any]


def _vad_session(ctx: Ctx, *, output: str = "text", paced: bool = False, input_format: str | None = None,
                 **vad_fields: Any) -> Session:
    s = ctx.connect(paced=paced)
    s.update(turn_detection=vad(**vad_fields), output=output, instructions=SHORT_REPLY, input_format=input_format)
    return s


def _turn_events(s: Session) -> list[Json]:
    """A VAD turn's events up to the user item's last item event."""
    return s.until(item_event_types(s.dialect)[-1], where=lambda e: (e.get("item") or {}).get("role") == "user")


TURN_STEPS = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
              "input_audio_buffer.committed"]


@case(id="vad/turn/events", section="§5.5, §3.5",
      description="server VAD on a speech clip: speech_started, speech_stopped, committed, the user item — one id",
      requirement="speech_started {audio_start_ms, item_id}, speech_stopped {audio_end_ms, same item_id}, "
                  "committed {previous_item_id, same item_id}, then the user audio item with that id; with "
                  "create_response false no response follows [D][V].")
def test_vad_turn(ctx: Ctx) -> None:
    clip = ctx.clip("weather")
    s = _vad_session(ctx, create_response=False)
    s.append(clip.pcm16)
    events = _turn_events(s)
    expect_sequence(events, TURN_STEPS + item_event_types(ctx.dialect), "VAD turn")
    started, stopped, committed, item = events[0], events[1], events[2], events[3]
    for event, what in ((stopped, "speech_stopped"), (committed, "committed")):
        expect_equal(event.get("item_id"), started.get("item_id"), f"{what}.item_id (announced by speech_started)")
    expect_subset(item["item"], {"id": started["item_id"], "type": "message", "role": "user",
                                 "content": [{"type": "input_audio", "transcript": None}]}, "the user item")
    expect(stopped["audio_end_ms"] > started["audio_start_ms"], "audio_end_ms after audio_start_ms")
    s.expect_quiet("after the turn (create_response false)")


@case(id="vad/turn/offsets", section="§5.5",
      description="audio_start_ms / audio_end_ms sit where the clip's speech starts (minus padding) and ends",
      requirement="audio_start_ms = speech onset − prefix_padding_ms (floored at 0); audio_end_ms = where speech "
                  "stopped, documented to include the silence window [D][V]; exact detector timing is [U].",
      level="should")
def test_vad_offsets(ctx: Ctx) -> None:
    clip = ctx.clip("weather")
    (start, end), = clip.utterances
    s = _vad_session(ctx, create_response=False)
    s.append(clip.pcm16)
    events = _turn_events(s)
    expect_near(events[0].get("audio_start_ms"), max(0, start - 300), 150, "speech_started.audio_start_ms")
    expect_near(events[1].get("audio_end_ms"), end + 100, 250, "speech_stopped.audio_end_ms (end … end + silence)")


@case(id="vad/turn/auto-response", section="§5.5, §4.8",
      description="with create_response (the default) the server answers the turn itself",
      requirement="With server VAD + create_response true the server creates the response after the committed "
                  "item; the assistant item follows the user item [D][V].")
def test_vad_auto_response(ctx: Ctx) -> None:
    clip = ctx.clip("lights")
    s = _vad_session(ctx)
    s.append(clip.pcm16)
    events = _turn_events(s)
    user_id = events[2]["item_id"]
    turn = s.collect_response()
    expect_equal(turn.status, "completed", "status of the automatic response")
    added = [e for e in turn.events if canonical(e["type"]) == "conversation.item.added"]
    expect(added, "the assistant item enters the conversation")
    expect_equal(added[0].get("previous_item_id"), user_id, "the assistant item follows the committed user item")


@case(id="vad/turn/timeline", section="§5.5",
      description="offsets are on the session-wide input timeline: they keep growing across turns",
      requirement="audio_start_ms / audio_end_ms are milliseconds of all audio appended since the session started, "
                  "not reset by commits [D][V: second turn 11956 → 14720 ms].")
def test_vad_timeline(ctx: Ctx) -> None:
    clip = ctx.clip("two_utterances")
    (_, end1), (start2, _) = clip.utterances
    s = _vad_session(ctx, create_response=False, silence_duration_ms=500)
    s.append(clip.pcm16)
    first = _turn_events(s)
    second = _turn_events(s)
    expect_sequence(second, TURN_STEPS + item_event_types(ctx.dialect), "second VAD turn")
    expect(second[0]["audio_start_ms"] >= first[1]["audio_end_ms"] - 50,
           f"the second turn starts after the first ends: {second[0]['audio_start_ms']} vs "
           f"{first[1]['audio_end_ms']}")
    expect_near(second[0]["audio_start_ms"], start2 - 300, 200, "second audio_start_ms (session-wide)")
    expect(first[1]["audio_end_ms"] >= end1, f"first audio_end_ms {first[1]['audio_end_ms']} >= {end1}")
    expect_equal(second[2].get("previous_item_id"), first[2].get("item_id"), "the second turn follows the first")


def _g711_turn(ctx: Ctx, fmt: str) -> None:
    clip = ctx.clip("weather")
    (start, end), = clip.utterances
    s = _vad_session(ctx, create_response=False, input_format=fmt)
    s.append(clip.data(fmt), fmt)
    events = _turn_events(s)
    expect_sequence(events, TURN_STEPS + item_event_types(ctx.dialect), f"{fmt} VAD turn")
    expect_near(events[0]["audio_start_ms"], max(0, start - 300), 200, "audio_start_ms (8 bytes per ms)")
    expect_near(events[1]["audio_end_ms"], end + 100, 300, "audio_end_ms (8 bytes per ms)")


@case(id="vad/turn/g711", section="§5.5, §4.1, §7",
      description="server VAD on µ-law and A-law input: one turn each, offsets computed at 8 bytes per ms",
      requirement="With g711_ulaw / g711_alaw input the turn is detected and the offsets use the G.711 time base "
                  "(bytes/8 per ms) [D][V].")
def test_vad_g711(ctx: Ctx) -> None:
    _g711_turn(ctx, "g711_ulaw")
    _g711_turn(ctx, "g711_alaw")


@case(id="vad/barge-in", section="§5.7, §4.8, §4.10",
      description="speech during a response (interrupt_response) cancels it with reason turn_detected",
      requirement="speech_started while a default-conversation response is in progress and interrupt_response is "
                  "true: speech_started comes first, the response ends cancelled {type cancelled, reason "
                  "turn_detected} [D].")
def test_barge_in(ctx: Ctx) -> None:
    first, second = ctx.clip("weather"), ctx.clip("lights")
    s = _vad_session(ctx, output="audio", paced=True)
    s.append(first.pcm16)
    rid = s.wait("response.created")["response"]["id"]
    s.append(second.pcm16)
    events = s.until("response.done", where=lambda e: e["response"]["id"] == rid)
    types = [canonical(e["type"]) for e in events]
    expect("input_audio_buffer.speech_started" in types, f"speech_started before the response ended: {types}")
    expect_subset(events[-1]["response"], {"status": "cancelled",
                                           "status_details": {"type": "cancelled", "reason": "turn_detected"}},
                  "response.done of the interrupted response")


@case(id="vad/manual-commit-during-speech", section="§2.3, §5.5",
      description="a manual commit during speech commits under the item id speech_started announced",
      requirement="Commit is allowed while VAD is on; the pending VAD item id is used and the speech cycle ends [D].",
      level="should")
def test_manual_commit_during_speech(ctx: Ctx) -> None:
    clip = ctx.clip("weather")
    s = _vad_session(ctx, create_response=False)
    s.append(clip.pcm16[: 2000 * 48])
    started = s.expect("input_audio_buffer.speech_started")
    s.send({"type": "input_audio_buffer.commit"})
    committed = s.wait("input_audio_buffer.committed")
    expect_equal(committed.get("item_id"), started.get("item_id"), "committed.item_id")


@case(id="vad/idle-timeout", section="§5.10, §4.8",
      description="GA idle_timeout_ms: silence after a response triggers timeout_triggered, a commit and a response",
      requirement="If no speech starts within idle_timeout_ms after the last response's playback: "
                  "input_audio_buffer.timeout_triggered {audio_start_ms, audio_end_ms, item_id}, committed (same "
                  "item_id), the item, then a response [D].", level="should", dialects=("ga",), timeout=30.0)
def test_idle_timeout(ctx: Ctx) -> None:
    s = _vad_session(ctx, idle_timeout_ms=5000)
    user_text(s, "Hello.")
    s.respond()
    for _ in range(7):
        s.append(silence(1000))
    events = s.until("response.created", timeout=20.0)
    types = [canonical(e["type"]) for e in events]
    expect("input_audio_buffer.timeout_triggered" in types, f"timeout_triggered: {types}")
    fired = events[types.index("input_audio_buffer.timeout_triggered")]
    committed = events[types.index("input_audio_buffer.committed")]
    expect_equal(committed.get("item_id"), fired.get("item_id"), "committed.item_id")
    expect(fired["audio_end_ms"] >= fired["audio_start_ms"], f"timeout_triggered offsets: {fired}")
