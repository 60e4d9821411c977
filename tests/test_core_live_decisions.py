"""GPT-Live Decisions in the core, on a virtual clock (docs/protocol.md §13.5): the shared Decision context and its
validation, ``decision.create``, a Decisions delegation from a caller's turn and transcript triggers, each answered
from one scenario; every event validated strictly against the SDK."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockrt.core.live.session import LiveOptions, LiveSession
from mockrt.core.outputs import Send
from mockrt.scenarios import Scenario
from mockrt.scenarios.model import Match, Reply, Rule
from mockrt.scenarios.script import ScriptedBrain
from tests.audio_fixtures import load_speech
from tests.protocol_types import validate_live_event

QUESTIONS: list[dict[str, Any]] = [
    {"type": "choice", "name": "cabin", "instructions": "What should the cabin do?",
     "choices": [{"value": "temperature_up"}, {"value": "temperature_down"}, {"value": "none"}]},
    {"type": "predicate", "name": "call_responses", "instructions": "Does the request need the Responses API?"},
    {"type": "score", "instructions": "How urgent is it?", "levels": [{"label": "low"}, {"label": "mid"},
                                                                        {"label": "high"}]},
]
DECISIONS = {"type": "decisions", "decisions": {"model": "gpt-6-luna", "questions": QUESTIONS}}


def _events(outputs: list[Any]) -> list[dict[str, Any]]:
    events = [o.event for o in outputs if isinstance(o, Send)]
    for e in events:
        validate_live_event(e)
    return [e for e in events if e["type"] != "session.output_audio.delta"]


def _session(scenario: Scenario | None = None, **config: Any) -> LiveSession:
    brain = ScriptedBrain(scenario or Scenario())
    s = LiveSession(LiveOptions(seed=5, time_scale=0, brain=brain, transcriber=brain), now=0.0)
    (started,) = _events(s.receive_text(json.dumps({"type": "session.start", "session": {
        "model": "gpt-live-1", **config}}), 0.0))
    assert started["type"] == "session.started"
    return s


def _send(s: LiveSession, event: dict[str, Any]) -> list[dict[str, Any]]:
    return _events(s.receive_text(json.dumps(event), 0.0))


def _error(events: list[dict[str, Any]], cid: str) -> dict[str, Any]:
    (event,) = events
    assert event["type"] == "error" and event["client_event_id"] == cid, event
    error: dict[str, Any] = event["error"]
    assert error["client_event_id"] == cid
    return error


def _answers(event: dict[str, Any]) -> list[dict[str, Any]]:
    assert event["type"] == "decision.event" and event["event"]["type"] == "decision.completed"
    answers: list[dict[str, Any]] = event["event"]["decision"]["answers"]
    return answers


def test_decision_items_are_created_deleted_and_validated() -> None:
    s = _session(delegation=DECISIONS)
    (created,) = _send(s, {"type": "decision.item.create", "event_id": "i1", "item": {
        "role": "user", "content": [{"type": "input_text", "text": "It is cold"}, {"type": "input_json",
                                                                                   "data": {"celsius": 12}}]}})
    assert created["type"] == "decision.item.created" and created["client_event_id"] == "i1"
    item = created["item"]
    assert item["id"].startswith("item_") and item["role"] == "user" and item["type"] == "message"
    (call,) = _send(s, {"type": "decision.item.create", "item": {
        "type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "read_cabin", "arguments": "{}"}})
    assert call["item"]["id"] == "fc_1" and "client_event_id" not in call
    (output,) = _send(s, {"type": "decision.item.create", "item": {
        "type": "function_call_output", "call_id": "call_1", "output": [{"type": "input_text", "text": "12 C"}]}})
    assert output["item"]["type"] == "function_call_output"
    refused = {
        "bad-role": ({"role": "robot", "content": "x"}, "invalid_value", "item.role"),
        "no-role": ({"content": "x"}, "missing_required_parameter", "item.role"),
        "bad-part": ({"role": "developer", "content": [{"type": "input_image", "image_url": "x"}]},
                     "invalid_value", "item.content[0].type"),
        "unknown-field": ({"role": "user", "content": "x", "bogus": 1}, "unknown_parameter", "item.bogus"),
        "bad-type": ({"type": "reasoning", "content": "x"}, "invalid_value", "item.type"),
        "dup-id": ({"id": "fc_1", "role": "system", "content": "x"}, "invalid_value", "item.id"),
        "no-call": ({"type": "custom_tool_call_output", "call_id": "call_9", "output": "x"}, "invalid_value",
                    "item.call_id"),
    }
    for cid, (bad, code, param) in refused.items():
        error = _error(_send(s, {"type": "decision.item.create", "event_id": cid, "item": bad}), cid)
        assert (error["code"], error.get("param")) == (code, param), (cid, error)
    error = _error(_send(s, {"type": "decision.item.delete", "event_id": "d0", "item_id": "nope"}), "d0")
    assert (error["code"], error["param"]) == ("invalid_value", "item_id")
    (deleted,) = _send(s, {"type": "decision.item.delete", "event_id": "d1", "item_id": "fc_1"})
    assert deleted == {**deleted, "type": "decision.item.deleted", "item_id": "fc_1", "client_event_id": "d1"}
    error = _error(_send(s, {"type": "decision.item.delete", "event_id": "d2", "item_id": "fc_1"}), "d2")
    assert error["param"] == "item_id"
    assert [i["id"] for i in s.decisions.items] == [item["id"], output["item"]["id"]]
    (ack,) = _send(s, {"type": "session.input_audio.mute", "event_id": "m"})  # the session is alive
    assert ack["type"] == "session.input_audio.muted"


def test_decision_create_default_answers_and_its_rules() -> None:
    s = _session(delegation=DECISIONS)
    _send(s, {"type": "decision.item.create", "item": {"role": "user", "content": "Please turn the temperature "
                                                                                 "up, I am freezing"}})
    created, event = _send(s, {"type": "decision.create", "event_id": "dc1"})
    assert created["type"] == "session.delegation.created" and created["client_event_id"] == "dc1"
    assert created["delegation"]["target"] == "decisions" and "response_id" not in created["delegation"]
    assert event["delegation_id"] == created["delegation"]["id"]
    assert "trigger_id" not in event and "source_event_id" not in event
    decision = event["event"]["decision"]
    assert decision["model"] == "gpt-6-luna" and decision["usage"]["total_tokens"] > 0
    choice, predicate, score = decision["answers"]
    assert (choice["type"], choice["name"], choice["choice"]) == ("choice", "cabin", "temperature_up")
    assert [p["value"] for p in choice["probabilities"]] == ["temperature_up", "temperature_down", "none"]
    assert sum(p["probability"] for p in choice["probabilities"]) == pytest.approx(1.0)
    assert predicate == {"type": "predicate", "name": "call_responses", "probability": 0.5}
    assert score["type"] == "score" and score["name"] is None and score["score"] == pytest.approx(1.0)
    assert [p["label"] for p in score["probabilities"]] == ["low", "mid", "high"]
    error = _error(_send(s, {"type": "decision.create", "event_id": "dc1"}), "dc1")  # reused: refused
    assert error["param"] == "event_id"
    error = _send(s, {"type": "decision.create"})[0]["error"]  # the event_id is required
    assert (error["code"], error["param"]) == ("missing_required_parameter", "event_id")
    plain = _session()
    error = _error(_send(plain, {"type": "decision.create", "event_id": "dc2"}), "dc2")
    assert error["code"] == "invalid_request" and "decisions" in error["message"]


def test_decision_create_answers_from_the_scenario() -> None:
    scenario = Scenario(
        rules=[Rule(Match(regex="defog"), [Reply.call("decide", {"cabin": "none", "call_responses": True,
                                                                 "2": "high"})])],
        replies=[Reply.text(json.dumps([{"choice": "temperature_down", "confidence": 0.75}, 0.2, None]))])
    s = _session(scenario, delegation=DECISIONS)
    _, first = _send(s, {"type": "decision.create", "event_id": "a"})  # the queue: answers by position
    choice, predicate, score = _answers(first)
    assert (choice["choice"], choice["confidence"]) == ("temperature_down", 0.75)
    assert predicate["probability"] == 0.2 and score == {"type": "refusal", "name": None}
    _send(s, {"type": "decision.item.create", "item": {"role": "user", "content": "Defog the windshield"}})
    _, second = _send(s, {"type": "decision.create", "event_id": "b"})  # the rule matches the latest item
    choice, predicate, score = _answers(second)
    assert choice["choice"] == "none" and predicate["probability"] == 1.0
    assert score["probabilities"][2] == {"label": "high", "probability": 1.0, "value": 2} and score["score"] == 2.0


def _speak(s: LiveSession) -> list[dict[str, Any]]:
    pcm = np.concatenate([load_speech("lights").pcm, np.zeros(24000, dtype=np.int16)]).astype("<i2").tobytes()
    events: list[dict[str, Any]] = []
    for k in range(0, len(pcm), 4800):
        events += _send(s, {"type": "session.input_audio.append",
                            "audio": base64.b64encode(pcm[k:k + 4800]).decode("ascii")})
    return events


def test_decisions_delegation_from_a_caller_turn() -> None:
    scenario = Scenario(transcripts=["It is too warm in here."], rules=[
        Rule(Match(regex="warm"), [Reply([*Reply.text("One moment.").outputs,
                                          *Reply.call("cabin", {"cabin": "temperature_down"}).outputs])]),
        Rule(Match(function_call_output=True), [Reply.text("I turned the temperature down.")])])
    s = _session(scenario, delegation=DECISIONS)
    events = _speak(s)
    kinds = [e["type"] for e in events]
    created = events[kinds.index("session.delegation.created")]
    assert created["delegation"]["target"] == "decisions"
    decided = events[kinds.index("decision.event")]
    assert decided["delegation_id"] == created["delegation"]["id"]
    assert _answers(decided)[0]["choice"] == "temperature_down"
    said = "".join(e["delta"] for e in events if e["type"] == "session.output_transcript.delta")
    assert said == "One moment."
    (ack, *after) = _send(s, {"type": "session.commentary.append", "event_id": "r", "content": "cabin at 19 C",
                              "delegation_id": created["delegation"]["id"]})  # the app reports what it did
    assert ack["type"] == "session.commentary.appended"
    said = "".join(e["delta"] for e in after if e["type"] == "session.output_transcript.delta")
    assert said == "I turned the temperature down."


def test_transcript_triggers_fire_once_per_turn_and_utterance() -> None:
    triggers = [{"type": "decisions", "event_type": "session.input_transcript.delta",
                 "decisions": {"questions": QUESTIONS[:1]}},
                {"type": "decisions", "event_type": "session.output_transcript.delta",
                 "decisions": {"questions": QUESTIONS[1:2]}}]
    scenario = Scenario(transcripts=["Could you turn the temperature up?"], replies=[Reply.text("Sure thing.")])
    s = _session(scenario, triggers=triggers)
    events = _speak(s)
    fired = [e for e in events if e["type"] == "decision.event"]
    assert len(fired) == 2 and all("delegation_id" not in e for e in fired)
    by_id = {e["event_id"]: e for e in events}
    on_input, on_output = fired
    assert on_input["source_event_type"] == "session.input_transcript.delta"
    source = by_id[on_input["source_event_id"]]
    assert source["type"] == "session.input_transcript.delta" and source["delta"] == "?"  # the turn's last delta
    assert _answers(on_input)[0]["choice"] == "temperature_up"
    assert on_output["source_event_type"] == "session.output_transcript.delta"
    assert by_id[on_output["source_event_id"]]["delta"] == "."
    assert _answers(on_output)[0]["type"] == "predicate"
    assert on_input["trigger_id"] != on_output["trigger_id"]
    assert events.index(on_output) > events.index(by_id[on_output["source_event_id"]])


def test_questions_are_validated_and_updated() -> None:
    s = LiveSession(LiveOptions(seed=1), now=0.0)
    bad = {**QUESTIONS[0], "choices": [{"value": "a"}, {"value": "a"}]}
    for cid, decisions, param in [
        ("q1", {"model": "m", "questions": [bad]}, "session.delegation.decisions.questions[0].choices[1].value"),
        ("q2", {"model": "m", "questions": []}, "session.delegation.decisions.questions"),
        ("q3", {"questions": QUESTIONS}, "session.delegation.decisions.model"),
        ("q4", {"model": "m", "questions": [{"type": "rank", "instructions": "x"}]},
         "session.delegation.decisions.questions[0].type"),
    ]:
        error = _error(_events(s.receive_text(json.dumps({"type": "session.start", "event_id": cid, "session": {
            "model": "gpt-live-1", "delegation": {"type": "decisions", "decisions": decisions}}}), 0.0)), cid)
        assert error["param"] == param, (cid, error)
    s = _session(delegation=DECISIONS)
    (updated,) = _send(s, {"type": "session.update", "event_id": "u", "session": {"delegation": {
        "type": "decisions", "decisions": {"questions": QUESTIONS[1:2]}}}})
    assert updated["session"]["delegation"]["decisions"] == {"model": "gpt-6-luna", "questions": QUESTIONS[1:2]}
    _, event = _send(s, {"type": "decision.create", "event_id": "after-update"})
    assert [a["type"] for a in _answers(event)] == ["predicate"]


def test_a_fork_inherits_the_decision_items() -> None:
    s = _session(delegation=DECISIONS, store=True)
    _send(s, {"type": "decision.item.create", "item": {"id": "kept", "role": "user", "content": "x"}})
    fork = LiveSession(LiveOptions(seed=9, time_scale=0, fork_of=s.snapshot()), now=0.0)
    _events(fork.receive_text(json.dumps({"type": "session.start", "session": {}}), 0.0))
    (deleted,) = _send(fork, {"type": "decision.item.delete", "item_id": "kept"})
    assert deleted["type"] == "decision.item.deleted" and [i["id"] for i in s.decisions.items] == ["kept"]


def test_a_yaml_scenario_scripts_voice_and_decisions() -> None:
    """One scenario file for both: the rules the Realtime brain uses, read by the Decision model."""
    from mockrt.scenarios.loader import load_untrusted

    scenario = load_untrusted("""
name: cabin
rules:
  - match: {regex: "fog"}
    replies:
      - outputs:
          - function_call: {name: decide, arguments: {cabin: none, call_responses: true, "2": mid}}
replies:
  - outputs:
      - text: '{"cabin": "temperature_up"}'
""", None)
    s = _session(scenario, delegation=DECISIONS)
    _, first = _send(s, {"type": "decision.create", "event_id": "q"})
    assert [a.get("choice") for a in _answers(first)] == ["temperature_up", None, None]
    _send(s, {"type": "decision.item.create", "item": {"role": "user", "content": "The windshield fogged up"}})
    _, second = _send(s, {"type": "decision.create", "event_id": "r"})
    choice, predicate, score = _answers(second)
    assert (choice["choice"], predicate["probability"], score["probabilities"][1]["probability"]) == ("none", 1.0, 1.0)


_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-1, 2) | st.sampled_from(
    ["temperature_up", "none", "low", "high", "x", ""])
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["cabin", "call_responses", "0", "1", "2", "choice", "label", "confidence", "refusal"]),
    inner, max_size=4), max_leaves=8)
_item = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["message", "function_call", "function_call_output", "custom_tool_call",
                             "custom_tool_call_output", "reasoning"]),
    "role": st.sampled_from(["user", "developer", "system", "assistant", "tool"]),
    "id": st.sampled_from(["a", "b", "c"]),
    "content": st.text(max_size=12) | st.lists(st.fixed_dictionaries(
        {"type": st.sampled_from(["input_text", "input_image", "input_json", "output_text", "refusal"])},
        optional={"text": st.text(max_size=8), "image_url": st.just("data:,"), "data": _json,
                  "refusal": st.text(max_size=4)}), max_size=2),
    "call_id": st.sampled_from(["c1", "c2"]), "name": st.just("f"), "arguments": st.just("{}"),
    "input": st.just("x"), "output": st.text(max_size=6), "phase": st.sampled_from(["commentary", "x"]),
})
_command = st.one_of(
    st.builds(lambda item, cid: {"type": "decision.item.create", "event_id": cid, "item": item}, _item | _json,
              st.sampled_from(["e1", "e2"])),
    st.builds(lambda item_id: {"type": "decision.item.delete", "event_id": "del", "item_id": item_id},
              st.sampled_from(["a", "b", "zz"]) | _json),
    st.builds(lambda cid: {"type": "decision.create", "event_id": cid}, st.sampled_from(["k1", "k2", "k3"]) | _json),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_command, min_size=1, max_size=8), st.lists(_json, max_size=4))
def test_any_decision_command_gets_a_valid_answer(commands: list[dict[str, Any]], scripts: list[Any]) -> None:
    """Near-valid commands and arbitrary scripted answers: every event validates against the SDK, a refused
    command changes nothing and echoes its id, and the session stays alive."""
    scenario = Scenario(replies=[Reply.text(json.dumps(v)) for v in scripts])
    s = _session(scenario, delegation=DECISIONS)
    for command in commands:
        before = [dict(i) for i in s.decisions.items]
        events = _send(s, command)
        if events[0]["type"] == "error":
            assert s.decisions.items == before
            if isinstance(command.get("event_id"), str):
                assert events[0]["error"]["client_event_id"] == command["event_id"]
        for e in events:
            if e["type"] == "decision.event":
                assert len(_answers(e)) == len(QUESTIONS)
    (ack,) = _send(s, {"type": "session.input_audio.unmute", "event_id": "alive"})
    assert ack["type"] == "session.input_audio.unmuted"
