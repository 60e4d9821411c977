"""What the "model" says: the :class:`Brain` seam and the default assistant.

A brain turns the context of one response into a :class:`ReplyPlan` (what to output); the
response lifecycle (:mod:`mockrt.core.responses`) turns the plan into the protocol's event stream. Scripted
scenarios plug in here, replacing :class:`DefaultBrain`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mockrt.core.model import Item, ResponseParams, SessionConfig

_TOKEN = re.compile(r"\s*[\w']+|\s*[^\w\s]+|\s+")


def tokenize(text: str) -> list[str]:
    """Split text into the delta pieces the mock streams; one piece counts as one token."""
    return _TOKEN.findall(text)


@dataclass
class MessageOut:
    """An assistant message: text (text modality) or audio with this transcript (audio modality).

    ``audio`` (int16 samples at 24 kHz) replaces the synthesised speech when the reply is audio; ``transcript``
    overrides ``text`` as the audio's transcript.
    """

    text: str
    audio: Any = None  # numpy int16 array at 24 kHz, or None to synthesise
    transcript: str | None = None
    annotations: list[Any] = field(default_factory=list)  # of the spoken transcript (Voice Live, §12.6)


@dataclass
class FunctionCallOut:
    name: str
    arguments: str
    call_id: str | None = None


@dataclass
class SearchCallOut:
    """A web or file search the "model" runs (scripted; Azure Voice Live, docs/protocol.md §12.6): its item goes
    ``in_progress`` → ``searching`` → ``completed``. ``queries`` / ``results`` are a file search's (the client's
    ``ResponseFileSearchCallItem``); a web search item has only its status."""

    kind: Literal["web_search", "file_search"]
    queries: list[str] | None = None
    results: list[dict[str, Any]] | None = None


@dataclass
class McpCallOut:
    """A call of tool ``name`` on the MCP server ``server_label`` (docs/protocol.md §9).

    ``arguments`` ``None``: a minimal valid instance of the tool's input schema. ``name`` ``None``: the server's
    first listed tool. Unlike a function call, the response continues after it: with the reply that follows it in
    the plan, else with :func:`mcp_reply_text`.
    """

    server_label: str
    name: str | None = None
    arguments: str | None = None
    approval_request_id: str | None = None  # the approval this call follows (set by the session)
    approved: bool = True  # False: the client denied it; no call


def mcp_reply_text(name: str, output: str | None, error: str | None, denied: bool = False) -> str:
    """The default assistant's words after an MCP call (or a denied approval)."""
    if denied:
        return f"The {name} tool was not approved, so I did not run it."
    if error is not None:
        return f"The {name} tool failed: {error}"
    return f"The {name} tool returned {output}."


@dataclass
class ReplyPlan:
    """What one response outputs and how it ends (§4.10 statuses)."""

    outputs: list[MessageOut | FunctionCallOut | McpCallOut | SearchCallOut] = field(default_factory=list)
    status: Literal["completed", "incomplete", "failed"] = "completed"
    reason: str | None = None  # incomplete: "max_output_tokens" | "content_filter"
    error: dict[str, Any] | None = None  # failed: {"type", "code", "message"}
    pacing: Any = None  # a mockrt.core.responses.Pacing overriding the session's for this response
    usage: dict[str, int] | None = None  # Usage field overrides (e.g. {"input_text": 120})
    error_event: dict[str, Any] | None = None  # answer response.create with this error event instead
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {message, code?, param?} (Voice Live, §12.7)
    invocation: list[dict[str, Any]] = field(default_factory=list)  # hosted-agent deltas (Voice Live, §12.7)


@dataclass
class ResponseContext:
    """Everything a brain may look at."""

    session: SessionConfig
    params: ResponseParams
    items: list[Item]
    turn: int  # 1-based count of responses created in this session


class Brain(Protocol):
    """Decides each response (the seam scenarios plug into). ``None`` means "not yet": the response waits
    until a plan is provided (lockstep control from a test,
    :meth:`~mockrt.core.session.RealtimeSession.provide_reply`)."""

    def reply(self, ctx: ResponseContext) -> ReplyPlan | None: ...


def describe_input(item: Item) -> str:
    """A short description of a user item, for the default reply."""
    parts: list[str] = []
    for part in item.content:
        if part.type == "input_text" and part.text:
            parts.append(f'"{part.text.strip()}"')
        elif part.type == "input_audio":
            if part.transcript:
                parts.append(f'"{part.transcript.strip()}"')
            else:
                parts.append(f"{part.audio_ms / 1000.0:.1f} seconds of audio")
        elif part.type == "input_image":
            parts.append("an image")
    return " and ".join(parts) or "nothing"


def _placeholder(schema: Any) -> Any:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(schema, dict) and schema.get("enum"):
        return schema["enum"][0]
    return {"string": "example", "integer": 1, "number": 1.0, "boolean": True, "array": [],
            "object": {}}.get(kind if isinstance(kind, str) else "string", "example")


def default_arguments(tool: dict[str, Any]) -> str:
    """JSON arguments filling a function's required parameters with placeholder values."""
    params = tool.get("parameters") or {}
    props = params.get("properties") or {}
    required = params.get("required") or list(props)
    return json.dumps({name: _placeholder(props.get(name, {})) for name in required}, separators=(",", ":"))


class DefaultBrain:
    """The deterministic default assistant used when no scenario is loaded.

    It answers every response with one short message that refers to the user's last input; when the tool
    choice forces a function (``"required"`` or a named function), it calls that function instead with
    placeholder arguments built from the function's JSON schema.
    """

    def reply(self, ctx: ResponseContext) -> ReplyPlan:
        forced = self._forced_tool(ctx.params)
        if forced is not None:
            return ReplyPlan([FunctionCallOut(forced["name"], default_arguments(forced))])
        last = next((i for i in reversed(ctx.items) if i.type != "message" or i.role != "assistant"), None)
        if last is None:
            text = "Hello! How can I help you today?"
        elif last.type == "function_call_output":
            text = f"The {self._call_name(ctx.items, last)} tool returned {last.output}."
        elif last.type == "function_call":
            text = f"Calling {last.name}."
        elif last.role == "user":
            text = f"You said {describe_input(last)}. This is the mockrt default reply."
        else:
            text = "Understood."
        return ReplyPlan([MessageOut(text)])

    @staticmethod
    def _forced_tool(params: ResponseParams) -> dict[str, Any] | None:
        functions = [t for t in params.tools if t.get("type", "function") == "function"]
        choice = params.tool_choice
        if isinstance(choice, dict) and choice.get("type") == "function":
            name = choice.get("name") or (choice.get("function") or {}).get("name")
            return next((t for t in functions if t.get("name") == name), None)
        if choice == "required" and functions:
            return functions[0]
        return None

    @staticmethod
    def _call_name(items: list[Item], output: Item) -> str:
        call = next((i for i in items if i.type == "function_call" and i.call_id == output.call_id), None)
        return call.name if call is not None and call.name else "function"
