"""Running a scenario in one session: the scripted :class:`~mockrt.core.brain.Brain` and transcriber.

Each session gets its own :class:`ScriptedBrain` (its own queue position and rule counters), so a scenario
loaded on the server replays from the start for every new connection.
"""

from __future__ import annotations

import copy

from mockrt.core.brain import DefaultBrain, ReplyPlan, ResponseContext
from mockrt.core.model import Item
from mockrt.core.responses import Pacing
from mockrt.core.transcription import PlaceholderTranscriber, Transcriber, Transcript, TranscriptionRequest
from mockrt.core.translation import PlaceholderInterpreter, TranslatedTurn
from mockrt.scenarios.model import Match, Reply, Rule, Scenario


def item_text(item: Item) -> str:
    """The text a rule matches on: typed text and audio transcripts of a user item, or a tool output."""
    if item.type == "function_call_output":
        return item.output or ""
    parts = [p.text or "" for p in item.content if p.type == "input_text"]
    parts += [p.transcript or "" for p in item.content if p.type == "input_audio"]
    return " ".join(p for p in parts if p)


class ScriptedBrain:
    """Queued replies, matched rules and scripted transcripts for one session."""

    def __init__(self, scenario: Scenario, base_pacing: Pacing | None = None,
                 transcriber: Transcriber | None = None) -> None:
        self.scenario = scenario
        self.transcriber: Transcriber = transcriber or PlaceholderTranscriber()  # turns without a script
        self.rules: list[Rule] = copy.deepcopy(scenario.rules)
        self.queue: list[Reply] = list(scenario.replies)
        self.pacing = scenario.pacing.apply(base_pacing or Pacing()) if scenario.pacing else base_pacing
        self.fallback = DefaultBrain()
        self._audio_turns: dict[str, Transcript | None] = {}
        self.log: list[tuple[int, str]] = []  # (turn, "rule N" | "queue" | "default" | "assistant")

    # -- transcripts -------------------------------------------------------------------------------------

    def _result_for(self, item_id: str) -> Transcript | None:
        """The scripted result of the item's audio turn: a text, a failure or speakers (§5.11)."""
        if item_id not in self._audio_turns:
            k = len(self._audio_turns)
            spec = self.scenario.transcripts[k] if k < len(self.scenario.transcripts) else None
            if spec is None and self.queue and self.queue[0].user_transcript is not None:
                spec = self.queue[0].user_transcript
            self._audio_turns[item_id] = Transcript(spec) if isinstance(spec, str) else spec
        return self._audio_turns[item_id]

    def _transcript_for(self, item_id: str) -> str | None:
        result = self._result_for(item_id)
        return result.text if result is not None else None

    def transcribe(self, request: TranscriptionRequest) -> Transcript:
        result = self._result_for(request.item_id)
        return result if result is not None else self.transcriber.transcribe(request)

    # -- replies -----------------------------------------------------------------------------------------

    def reply(self, ctx: ResponseContext) -> ReplyPlan | None:
        trigger = next((i for i in reversed(ctx.items) if not (i.type == "message" and i.role == "assistant")),
                       None)
        if trigger is not None and trigger.type == "message":
            for part in trigger.content:
                if part.type == "input_audio" and part.transcript is None:
                    part.transcript = self._transcript_for(trigger.id)
        chosen = self._choose(ctx, trigger)
        if chosen is None:
            if self.scenario.lockstep:
                return None
            self.log.append((ctx.turn, "assistant"))
            plan = self.fallback.reply(ctx)
            plan.pacing = self.pacing
            return plan
        return chosen.plan(self.pacing)

    def _choose(self, ctx: ResponseContext, trigger: Item | None) -> Reply | None:
        for index, rule in enumerate(self.rules):
            if rule.times is not None and rule.used >= rule.times:
                continue
            if self._matches(rule.match, ctx, trigger):
                reply = rule.replies[min(rule.used, len(rule.replies) - 1)]
                rule.used += 1
                self.log.append((ctx.turn, f"rule {index}"))
                return reply
        if self.queue:
            self.log.append((ctx.turn, "queue"))
            return self.queue.pop(0)
        if self.scenario.default is not None:
            self.log.append((ctx.turn, "default"))
            return self.scenario.default
        return None

    @staticmethod
    def _matches(m: Match, ctx: ResponseContext, trigger: Item | None) -> bool:
        if m.turn is not None and m.turn != ctx.turn:
            return False
        if trigger is None:
            return m.text is None and m.regex is None and m.item_type is None and m.function_call_output is None
        if m.item_type is not None and trigger.type != m.item_type:
            return False
        if m.function_call_output is not None:
            if trigger.type != "function_call_output":
                return False
            if isinstance(m.function_call_output, str):
                call = next((i for i in ctx.items if i.type == "function_call" and i.call_id == trigger.call_id),
                            None)
                if call is None or call.name != m.function_call_output:
                    return False
        text = item_text(trigger)
        if m.text is not None and m.text.lower() not in text.lower():
            return False
        return not (m._re is not None and m._re.search(text) is None)


class ScriptedInterpreter:
    """A translation session's :class:`~mockrt.core.translation.Interpreter`: the scenario's ``translations``
    turn by turn, then the placeholder (docs/protocol.md §10)."""

    def __init__(self, scenario: Scenario) -> None:
        self.translations = list(scenario.translations)

    def translate(self, turn: int, language: str) -> TranslatedTurn:
        if turn <= len(self.translations):
            entry = self.translations[turn - 1]
            return TranslatedTurn(entry.text, entry.source)
        return PlaceholderInterpreter().translate(turn, language)
