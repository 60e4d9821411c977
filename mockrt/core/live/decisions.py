"""GPT-Live Decisions (docs/protocol.md §13.5): the session's shared Decision context and the scripted "Decision
model" that answers the configured questions.

Sans-I/O and wire-free: items are kept as the checked dicts of ``decision.item.create`` (the dialect validated
them), answers are :class:`Answer` objects the dialect renders. The answers come from the same Brain seam as the
Live model's replies, so **one scenario** scripts both (§13.5 "mockrt:"): a reply's function-call arguments or a
JSON message text map question names (or positions) to answers. Questions the script leaves open get the
deterministic default (:func:`default_answer`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mockrt.core import errors
from mockrt.core.brain import FunctionCallOut, MessageOut, ReplyPlan, tokenize
from mockrt.core.model import ContentPart, Item

DEFAULT_MODEL = "gpt-6-luna"
"""The Decision model when the configuration names none (a trigger's questions): the one the SDK documents."""

_TOOL_CALLS = ("function_call", "custom_tool_call")


@dataclass
class Answer:
    """One answer, in question order: ``kind`` is the question's type, or ``refusal``."""

    kind: str
    name: str | None
    probability: float = 0.0  # predicate: how likely the statement holds
    choice: str | bool | None = None  # choice: the chosen value
    level: int = 0  # score: the index of the chosen level
    confidence: float = 1.0
    options: list[Any] = field(default_factory=list)  # choice values / score labels, for the probabilities


class DecisionContext:
    """The shared Decision items of one session (``decision.item.create`` / ``.delete``), in order."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, item: dict[str, Any], new_id: str) -> dict[str, Any]:
        """Append a checked item; its ``id`` is the client's (unique in the context) or ``new_id``. A tool output
        must name a call of the context (the Decisions API's rule for its input) [U: when the service checks]."""
        item_id = item.get("id")
        if item_id is not None and any(i["id"] == item_id for i in self.items):
            raise errors.live_decision_item_exists(item_id)
        kind = item.get("type", "message")
        if kind.endswith("_output"):
            call_kind = kind.removesuffix("_output")
            if not any(i.get("type") == call_kind and i["call_id"] == item["call_id"] for i in self.items):
                raise errors.live_decision_unknown_call(item["call_id"])
        stored = {"id": item_id or new_id, **{k: v for k, v in item.items() if k != "id"}}
        if kind == "message":
            stored["type"] = "message"
        self.items.append(stored)
        return stored

    def delete(self, item_id: str) -> None:
        index = next((k for k, i in enumerate(self.items) if i["id"] == item_id), None)
        if index is None:
            raise errors.live_decision_item_not_found(item_id)
        del self.items[index]

    def as_items(self) -> list[Item]:
        """The context as the internal model's items, so a scenario's rules match on them (text, tool output)."""
        out: list[Item] = []
        for i in self.items:
            kind = i.get("type", "message")
            if kind in _TOOL_CALLS:
                out.append(Item(i["id"], "function_call", name=i["name"], call_id=i["call_id"],
                                arguments=i.get("arguments", i.get("input", ""))))
            elif kind.endswith("_output"):
                out.append(Item(i["id"], "function_call_output", call_id=i["call_id"], output=_text(i["output"])))
            else:
                role: Literal["user", "assistant", "system"] = (
                    "user" if i["role"] == "user" else "assistant" if i["role"] == "assistant" else "system")
                part = ContentPart("text" if role == "assistant" else "input_text", text=_text(i["content"]))
                out.append(Item(i["id"], "message", role=role, content=[part]))
        return out

    def text(self) -> str:
        return " ".join(_text(i.get("content", i.get("output", i.get("arguments", "")))) for i in self.items)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(p.get("text") or p.get("refusal") or p.get("data") or "") if isinstance(p, dict)
                        else "" for p in content)
    return json.dumps(content) if content else ""


def scripted(plan: ReplyPlan | None) -> dict[str, Any]:
    """The answers a reply scripts: function-call arguments and JSON message texts, as ``{name or position:
    answer}`` (a JSON array answers by position). Anything else scripts nothing."""
    out: dict[str, Any] = {}
    for o in plan.outputs if plan is not None else []:
        raw = o.arguments if isinstance(o, FunctionCallOut) else (
            (o.transcript or o.text) if isinstance(o, MessageOut) else None)
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            continue
        if isinstance(value, dict):
            out.update(value)
        elif isinstance(value, list):
            out.update({str(k): v for k, v in enumerate(value)})
    return out


def evaluate(questions: list[dict[str, Any]], answers: dict[str, Any], context: str) -> list[Answer]:
    """Answer every question, in order: the scripted answer (by name, else by position) or the default."""
    out: list[Answer] = []
    for k, q in enumerate(questions):
        name = q.get("name")
        key = name if name is not None and name in answers else str(k)
        out.append(_from_script(q, answers[key]) if key in answers else default_answer(q, context))
    return out


def default_answer(question: dict[str, Any], context: str) -> Answer:
    """The unscripted answer, deterministic: a choice whose value (``_`` read as a space) is said in the context
    (the last one said wins), else the first option; a predicate at even odds; a score's middle level."""
    kind, name = question["type"], question.get("name")
    if kind == "choice":
        values = [c["value"] for c in question["choices"]]
        said = context.lower()
        best, where = values[0], -1
        for v in values:
            if isinstance(v, str) and v.strip():
                found = [m.start() for m in re.finditer(r"\b" + re.escape(v.replace("_", " ").lower()) + r"\b", said)]
                if found and found[-1] > where:
                    best, where = v, found[-1]
        return Answer("choice", name, choice=best, confidence=0.9 if where >= 0 else 0.5, options=values)
    if kind == "predicate":
        return Answer("predicate", name, probability=0.5)
    labels = [lv["label"] for lv in question["levels"]]
    return Answer("score", name, level=(len(labels) - 1) // 2, confidence=0.5, options=labels)


def _from_script(question: dict[str, Any], value: Any) -> Answer:
    """A scripted answer: a choice's value, a predicate's boolean or probability, a score's label or level index,
    or an object with those and ``confidence``; ``null`` or a value that fits no option is a refusal."""
    kind, name = question["type"], question.get("name")
    refusal = Answer("refusal", name)
    spec = value if isinstance(value, dict) else {"value": value}
    if value is None or "refusal" in spec:
        return refusal
    confidence = spec.get("confidence", 1.0)
    confidence = float(confidence) if isinstance(confidence, int | float) and not isinstance(confidence, bool) else 1.0
    confidence = min(max(confidence, 0.0), 1.0)
    if kind == "choice":
        values = [c["value"] for c in question["choices"]]
        chosen = spec.get("choice", spec.get("value"))
        match = next((v for v in values if type(v) is type(chosen) and v == chosen), None)
        return refusal if match is None else Answer("choice", name, choice=match, confidence=confidence,
                                                    options=values)
    if kind == "predicate":
        p = spec.get("probability", spec.get("value"))
        if isinstance(p, bool):
            return Answer("predicate", name, probability=1.0 if p else 0.0)
        if isinstance(p, int | float):
            return Answer("predicate", name, probability=min(max(float(p), 0.0), 1.0))
        return refusal
    labels = [lv["label"] for lv in question["levels"]]
    chosen = spec.get("label", spec.get("level", spec.get("value")))
    if isinstance(chosen, str) and chosen in labels:
        return Answer("score", name, level=labels.index(chosen), confidence=confidence, options=labels)
    if isinstance(chosen, int) and not isinstance(chosen, bool) and 0 <= chosen < len(labels):
        return Answer("score", name, level=chosen, confidence=confidence, options=labels)
    return refusal


def usage(context: str, answers: list[Answer]) -> tuple[int, int]:
    """(input, output) tokens of one evaluation [U: the service's counts]: the context's tokens and one per answer."""
    return len(tokenize(context)), len(answers)
