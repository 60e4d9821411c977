"""The scenario model: one definition behind the Python API and the YAML/JSON files (``schema.json``).

A :class:`Scenario` holds queued :class:`Reply` objects (each response takes the next), ordered
:class:`Rule` objects (matched on the user's text or transcript, the item type, a tool result or the turn
number; once, N times or always), the transcripts of the user's audio turns, pacing, faults and stand-in MCP
servers (:mod:`mockrt.scenarios.mcp_servers`).
"""

from __future__ import annotations

import json
import re
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mockrt.core.brain import FunctionCallOut, McpCallOut, MessageOut, ReplyPlan, SearchCallOut
from mockrt.core.faults import Faults
from mockrt.core.prompts import StoredPrompt
from mockrt.core.responses import Pacing
from mockrt.core.transcription import DEFAULT_FAILURE, Transcript
from mockrt.scenarios.mcp_servers import StandInServer


@dataclass
class FunctionCall:
    name: str
    arguments: str | dict[str, Any] = "{}"
    call_id: str | None = None

    def out(self) -> FunctionCallOut:
        args = self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments,
                                                                                 separators=(",", ":"))
        return FunctionCallOut(self.name, args, self.call_id)


@dataclass
class McpCall:
    """``mcp_call: {server_label, name?, arguments?}``: the "model" calls an MCP tool (docs/protocol.md §9)."""

    server_label: str
    name: str | None = None
    arguments: str | dict[str, Any] | None = None

    def out(self) -> McpCallOut:
        args = self.arguments if self.arguments is None or isinstance(self.arguments, str) else json.dumps(
            self.arguments, separators=(",", ":"))
        return McpCallOut(self.server_label, self.name, args)


@dataclass
class Output:
    """One output item of a reply: a message (text / audio + transcript) or a function call."""

    text: str | None = None
    transcript: str | None = None
    audio: np.ndarray | None = None  # 24 kHz int16 (from a WAV file), None: synthesised
    function_call: FunctionCall | None = None
    mcp_call: McpCall | None = None
    search: SearchCallOut | None = None  # web_search / file_search (Voice Live, docs/protocol.md §12.6)
    annotations: list[Any] = field(default_factory=list)  # of the spoken transcript (Voice Live, §12.6)


@dataclass
class PacingSpec:
    first_delta_ms: float | None = None
    text_tokens_per_second: float | None = None
    audio_speed: float | None = None
    jitter_ms: float | None = None
    seed: int | None = None

    def apply(self, base: Pacing) -> Pacing:
        changes: dict[str, Any] = {}
        if self.first_delta_ms is not None:
            changes["first_delta_ms"] = self.first_delta_ms
        if self.text_tokens_per_second is not None:
            changes["text_delta_ms"] = 1000.0 / self.text_tokens_per_second
        if self.audio_speed is not None:
            changes["audio_speed"] = self.audio_speed
        if self.jitter_ms is not None:
            changes["jitter_ms"] = self.jitter_ms
        if self.seed is not None:
            changes["seed"] = self.seed
        return Pacing(**{**vars(base), **changes})


@dataclass
class Reply:
    """What one response does."""

    outputs: list[Output] = field(default_factory=list)
    status: Literal["completed", "incomplete", "failed"] = "completed"
    reason: str | None = None
    error: dict[str, Any] | None = None
    error_event: dict[str, Any] | None = None
    user_transcript: str | None = None
    usage: dict[str, int] | None = None
    pacing: PacingSpec | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)  # Voice Live ``warning`` events (§12.7)
    invocation: list[dict[str, Any]] = field(default_factory=list)  # ``response.invocation.delta`` (§12.7)

    @classmethod
    def text(cls, text: str, **kw: Any) -> Reply:
        return cls([Output(text=text)], **kw)

    @classmethod
    def call(cls, name: str, arguments: str | dict[str, Any] = "{}", call_id: str | None = None) -> Reply:
        return cls([Output(function_call=FunctionCall(name, arguments, call_id))])

    def plan(self, base_pacing: Pacing | None) -> ReplyPlan:
        outs: list[MessageOut | FunctionCallOut | McpCallOut | SearchCallOut] = []
        for o in self.outputs:
            if o.search is not None:
                outs.append(o.search)
            elif o.mcp_call is not None:
                outs.append(o.mcp_call.out())
            elif o.function_call is not None:
                outs.append(o.function_call.out())
            else:
                outs.append(MessageOut(o.text or "", audio=o.audio, transcript=o.transcript,
                                       annotations=list(o.annotations)))
        pacing = self.pacing.apply(base_pacing or Pacing()) if self.pacing is not None else base_pacing
        return ReplyPlan(outs, self.status, self.reason, self.error, pacing, self.usage, self.error_event,
                         [dict(w) for w in self.warnings], [dict(d) for d in self.invocation])


@dataclass
class Match:
    """When a rule applies; every given condition must hold."""

    text: str | None = None
    regex: str | None = None
    item_type: str | None = None
    function_call_output: str | bool | None = None
    turn: int | None = None

    def __post_init__(self) -> None:
        self._re = re.compile(self.regex, re.I) if self.regex else None


@dataclass
class Rule:
    match: Match
    replies: list[Reply]
    times: int | None = None  # None: always
    used: int = 0


@dataclass
class Translated:
    """One input turn of a translation session (docs/protocol.md §10): its translation and, optionally, its
    source-language transcript."""

    text: str
    source: str | None = None


@dataclass
class Scenario:
    """A whole script. Build it in Python or load it with :func:`mockrt.scenarios.load_scenario`."""

    name: str = "scenario"
    description: str = ""
    replies: list[Reply] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    transcripts: list[str | Transcript] = field(default_factory=list)
    """Per audio turn: the text, or a :class:`Transcript` (a failure, or diarized speakers; §5.11)."""
    prompts: dict[str, StoredPrompt] = field(default_factory=dict)
    """Stored prompts by id, resolved by a session's ``prompt`` (§4.3)."""
    default: Reply | None = None
    pacing: PacingSpec | None = None
    faults: Faults | None = None
    lockstep: bool = False
    mcp_servers: list[StandInServer] = field(default_factory=list)
    translations: list[Translated] = field(default_factory=list)

    # -- building from JSON/YAML (already checked against schema.json) --------------------------------

    @classmethod
    def from_dict(cls, raw: dict[str, Any], base_dir: Path | None = None) -> Scenario:
        base = base_dir or Path.cwd()
        return cls(
            name=raw.get("name", "scenario"),
            description=raw.get("description", ""),
            replies=[_reply(r, base) for r in raw.get("replies", [])],
            rules=[_rule(r, base) for r in raw.get("rules", [])],
            transcripts=[_transcript(t) for t in raw.get("transcripts", [])],
            prompts={p["id"]: StoredPrompt.from_dict(p) for p in raw.get("prompts", [])},
            default=_reply(raw["default"], base) if "default" in raw else None,
            pacing=PacingSpec(**raw["pacing"]) if "pacing" in raw else None,
            faults=Faults.from_dict(raw["faults"]) if "faults" in raw else None,
            lockstep=bool(raw.get("lockstep", False)),
            mcp_servers=[StandInServer.from_dict(m) for m in raw.get("mcp_servers", [])],
            translations=[Translated(t) if isinstance(t, str) else Translated(t["text"], t.get("source"))
                          for t in raw.get("translations", [])],
        )


def _transcript(raw: str | dict[str, Any]) -> str | Transcript:
    if isinstance(raw, str):
        return raw
    if "error" in raw:
        return Transcript(None, error={**DEFAULT_FAILURE, **raw["error"]})
    speakers = tuple((s["speaker"], s["text"]) for s in raw.get("speakers", ())) or None
    text = raw.get("text") or " ".join(t.strip() for _, t in speakers or ())
    return Transcript(text, speakers=speakers)


def _rule(raw: dict[str, Any], base: Path) -> Rule:
    replies = [_reply(r, base) for r in raw.get("replies", [raw["reply"]] if "reply" in raw else [])]
    times = raw.get("times", "always")
    return Rule(Match(**raw["match"]), replies, None if times == "always" else 1 if times == "once" else int(times))


def _reply(raw: dict[str, Any], base: Path) -> Reply:
    outputs: list[Output] = [_output(o, base) for o in raw.get("outputs", [])]
    if "text" in raw:
        message: dict[str, Any] = {k: raw[k] for k in ("text", "transcript", "audio", "annotations") if k in raw}
        outputs.insert(0, _output(message, base))
    calls = raw.get("function_calls", []) + ([raw["function_call"]] if "function_call" in raw else [])
    outputs += [Output(function_call=FunctionCall(**c)) for c in calls]
    if "mcp_call" in raw:
        outputs.insert(0, Output(mcp_call=McpCall(**raw["mcp_call"])))
    for kind in ("file_search", "web_search"):  # searched first, then the reply (Voice Live, §12.6)
        if kind in raw:
            outputs.insert(0, Output(search=_search(kind, raw[kind])))
    return Reply(
        outputs=outputs,
        status=raw.get("status", "completed"),
        reason=raw.get("reason"),
        error=raw.get("error"),
        error_event=raw.get("error_event"),
        user_transcript=raw.get("user_transcript"),
        usage=raw.get("usage"),
        pacing=PacingSpec(**raw["pacing"]) if "pacing" in raw else None,
        warnings=list(raw.get("warnings", [])),
        invocation=list(raw.get("invocation", [])),
    )


def _output(raw: dict[str, Any], base: Path) -> Output:
    if "function_call" in raw:
        return Output(function_call=FunctionCall(**raw["function_call"]))
    if "mcp_call" in raw:
        return Output(mcp_call=McpCall(**raw["mcp_call"]))
    for kind in ("web_search", "file_search"):
        if kind in raw:
            return Output(search=_search(kind, raw[kind]))
    audio = None
    spec = raw.get("audio") or {}
    if spec.get("file"):
        audio = read_wav_24k((base / spec["file"]).resolve())
    return Output(text=raw.get("text"), transcript=raw.get("transcript"), audio=audio,
                  annotations=list(raw.get("annotations", [])))


def _search(kind: Literal["web_search", "file_search"], raw: dict[str, Any]) -> SearchCallOut:
    return SearchCallOut(kind, raw.get("queries"), raw.get("results"))


def read_wav_24k(path: Path) -> np.ndarray:
    """A 24 kHz mono pcm16 WAV as int16 samples (the only format replies accept)."""
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (24000, 1, 2):
            raise ValueError(f"{path}: expected 24 kHz mono 16-bit PCM")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
