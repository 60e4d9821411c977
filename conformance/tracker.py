"""Referential consistency of one session's server events.

:class:`Tracker` sees every server event of a session, in order, and checks that the ids tie together the way
docs/protocol.md §3–§5 describe: deltas name the output item and response that were announced, a response's ids match
its ``response.created``, ``previous_item_id`` points at an item that exists, ``call_id`` is the same in the
argument deltas, the ``done`` event and the item, what the deltas spelled is what the ``done`` events say, audio
deltas hold whole samples, a VAD turn keeps the item id it announced, and nothing refers to a response after its
``response.done``. A violation raises :class:`ConsistencyError` at the event that breaks the rule.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from conformance.wire import SAMPLE_WIDTH, canonical, response_format, session_format

Json = dict[str, Any]

ERROR_KEYS = ("type", "code", "message", "param", "event_id")


class ConsistencyError(AssertionError):
    """Server events that do not tie together (ids, accumulated content, ordering within a response)."""


@dataclass
class _Part:
    kind: str  # "text" | "audio"
    text: str = ""
    transcript: str = ""
    audio_bytes: int = 0
    done: set[str] = field(default_factory=set)  # which .done events arrived: text, audio, transcript, part


def _is_mcp(item: Json) -> bool:
    """MCP items (``mcp_call``, ``mcp_approval_request``, …) carry no ``status`` (docs/protocol.md §9)."""
    return str(item.get("type", "")).startswith("mcp_")


@dataclass
class _OutputItem:
    item_id: str
    response_id: str
    output_index: int
    type: str
    call_id: str | None = None
    name: str | None = None
    arguments: str = ""
    arguments_done: bool = False
    parts: list[_Part] = field(default_factory=list)
    done: bool = False


@dataclass
class _Response:
    response_id: str
    in_conversation: bool
    audio_format: str
    outputs: list[str] = field(default_factory=list)
    done: bool = False


class Tracker:
    """Checks one session's server events for referential consistency; feed it every event in order."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.events = 0
        self.conversation: list[str] = []  # item ids in conversation order
        self.known_items: set[str] = set()  # every item id ever in the conversation (transcription may be late)
        self.responses: dict[str, _Response] = {}
        self.outputs: dict[str, _OutputItem] = {}
        self.output_format = "pcm16"
        self.pending_speech: str | None = None  # item id announced by speech_started
        self.stopped_item: str | None = None  # item id of the last speech_stopped, until its commit
        self.awaiting_item: str | None = None  # committed item id whose item event must follow
        self.usage_total = 0
        self.usage_input = 0
        self.usage_output = 0
        self.response_count = 0

    # -- helpers -----------------------------------------------------------------------------------------

    def _fail(self, etype: str, message: str) -> None:
        raise ConsistencyError(f"{etype} (server event #{self.events}): {message}")

    def _response(self, etype: str, event: Json) -> _Response:
        rid = event.get("response_id")
        response = self.responses.get(rid) if isinstance(rid, str) else None
        if response is None:
            self._fail(etype, f"response_id {rid!r} was not announced by a response.created")
            raise AssertionError  # unreachable
        if response.done:
            self._fail(etype, f"response {rid} already had its response.done")
        return response

    def _output(self, etype: str, event: Json) -> _OutputItem:
        response = self._response(etype, event)
        item_id = event.get("item_id")
        out = self.outputs.get(item_id) if isinstance(item_id, str) else None
        if out is None:
            self._fail(etype, f"item_id {item_id!r} was not announced by a response.output_item.added")
            raise AssertionError  # unreachable
        if out.response_id != response.response_id:
            self._fail(etype, f"item {out.item_id} belongs to response {out.response_id}, "
                              f"not {response.response_id}")
        if event.get("output_index") != out.output_index:
            self._fail(etype, f"output_index {event.get('output_index')!r} != {out.output_index} announced for "
                              f"item {out.item_id}")
        if out.done:
            self._fail(etype, f"item {out.item_id} already had its response.output_item.done")
        return out

    def _part(self, etype: str, event: Json, kind: str | None = None) -> tuple[_OutputItem, _Part]:
        out = self._output(etype, event)
        index = event.get("content_index")
        if not isinstance(index, int) or not 0 <= index < len(out.parts):
            self._fail(etype, f"content_index {index!r} was not announced by a response.content_part.added "
                              f"for item {out.item_id}")
            raise AssertionError  # unreachable
        part = out.parts[index]
        if "part" in part.done:
            self._fail(etype, f"content part {index} of item {out.item_id} already had its content_part.done")
        if kind is not None and part.kind != kind:
            self._fail(etype, f"content part {index} of item {out.item_id} is a {part.kind} part, not {kind}")
        return out, part

    def _check_previous(self, etype: str, previous: Any) -> None:
        if previous is not None and previous not in self.conversation:
            self._fail(etype, f"previous_item_id {previous!r} is not an item of the conversation "
                              f"(known: {self.conversation[-5:]})")

    # -- the checks --------------------------------------------------------------------------------------

    def feed(self, event: Json) -> None:
        """Check one server event (wire form of the tracker's dialect)."""
        self.events += 1
        etype = canonical(str(event.get("type")))
        handler = getattr(self, "_on_" + etype.replace(".", "_"), None)
        if handler is not None:
            handler(etype, event)

    def _on_error(self, etype: str, event: Json) -> None:
        error = event.get("error")
        if not isinstance(error, dict) or any(key not in error for key in ERROR_KEYS):
            self._fail(etype, f"the error object must carry all of {ERROR_KEYS} (§4.14), got {error!r}")

    def _on_session_created(self, etype: str, event: Json) -> None:
        if self.events != 1:
            self._fail(etype, "session.created must be the first server event (§3.3)")
        self._session(event)

    def _on_session_updated(self, etype: str, event: Json) -> None:
        self._session(event)

    _on_transcription_session_created = _on_session_created
    _on_transcription_session_updated = _on_session_updated

    def _session(self, event: Json) -> None:
        session = event.get("session")
        if isinstance(session, dict):
            self.output_format = session_format(self.dialect, session, "output")

    def _on_input_audio_buffer_speech_started(self, etype: str, event: Json) -> None:
        self.pending_speech = event.get("item_id")
        self.stopped_item = None

    def _on_input_audio_buffer_speech_stopped(self, etype: str, event: Json) -> None:
        item_id = event.get("item_id")
        if self.pending_speech is not None and item_id != self.pending_speech:
            self._fail(etype, f"item_id {item_id!r} differs from {self.pending_speech!r} announced by "
                              "speech_started (§5.5)")
        self.pending_speech = None
        self.stopped_item = item_id

    def _on_input_audio_buffer_timeout_triggered(self, etype: str, event: Json) -> None:
        self.stopped_item = event.get("item_id")

    def _on_input_audio_buffer_committed(self, etype: str, event: Json) -> None:
        item_id = event.get("item_id")
        if self.stopped_item is not None and item_id != self.stopped_item:
            self._fail(etype, f"item_id {item_id!r} differs from {self.stopped_item!r} of the turn that "
                              "speech_stopped / timeout_triggered ended (§5.5)")
        if self.pending_speech is not None:
            # A manual commit during speech uses the announced id (§2.3) [D].
            if item_id != self.pending_speech:
                self._fail(etype, f"a commit during speech must use the item_id {self.pending_speech!r} "
                                  f"announced by speech_started, got {item_id!r} (§2.3)")
            self.pending_speech = None
        self.stopped_item = None
        self._check_previous(etype, event.get("previous_item_id"))
        self.awaiting_item = item_id if isinstance(item_id, str) else None

    def _on_conversation_item_added(self, etype: str, event: Json) -> None:
        item = event.get("item") or {}
        item_id = item.get("id")
        previous = event.get("previous_item_id")
        self._check_previous(etype, previous)
        if self.awaiting_item is not None:
            if item_id != self.awaiting_item:
                self._fail(etype, f"the item after input_audio_buffer.committed must be {self.awaiting_item!r}, "
                                  f"got {item_id!r}")
            self.awaiting_item = None
        if isinstance(item_id, str):
            if previous is None:
                self.conversation.insert(0, item_id)  # null: the first item (§5.12)
            else:
                self.conversation.insert(self.conversation.index(previous) + 1, item_id)
            self.known_items.add(item_id)

    def _on_conversation_item_done(self, etype: str, event: Json) -> None:
        item = event.get("item") or {}
        if item.get("id") not in self.conversation:
            self._fail(etype, f"item {item.get('id')!r} had no conversation.item.added (§3.1)")
        self._check_previous(etype, event.get("previous_item_id"))
        if item.get("status") == "in_progress":
            self._fail(etype, f"item {item.get('id')} is still in_progress in its done event")

    def _on_conversation_item_deleted(self, etype: str, event: Json) -> None:
        item_id = event.get("item_id")
        if item_id not in self.conversation:
            self._fail(etype, f"item {item_id!r} is not in the conversation")
        self.conversation.remove(str(item_id))

    def _on_conversation_item_truncated(self, etype: str, event: Json) -> None:
        if event.get("item_id") not in self.conversation:
            self._fail(etype, f"item {event.get('item_id')!r} is not in the conversation")

    def _on_conversation_item_retrieved(self, etype: str, event: Json) -> None:
        item_id = (event.get("item") or {}).get("id")
        if item_id not in self.conversation:
            self._fail(etype, f"item {item_id!r} is not in the conversation")

    def _transcription(self, etype: str, event: Json) -> None:
        if event.get("item_id") not in self.known_items:
            self._fail(etype, f"item_id {event.get('item_id')!r} is not a committed item of this session (§5.11)")

    _on_conversation_item_input_audio_transcription_delta = _transcription
    _on_conversation_item_input_audio_transcription_completed = _transcription
    _on_conversation_item_input_audio_transcription_failed = _transcription

    def _on_response_created(self, etype: str, event: Json) -> None:
        response = event.get("response") or {}
        rid = response.get("id")
        if not isinstance(rid, str) or rid in self.responses:
            self._fail(etype, f"response id {rid!r} is missing or was used before")
        if response.get("status") != "in_progress" or response.get("output"):
            self._fail(etype, "a new response must be in_progress with no output (§3.7)")
        self.responses[str(rid)] = _Response(str(rid), response.get("conversation_id") is not None,
                                             response_format(self.dialect, response) if response else "pcm16")
        self.response_count += 1

    def _on_response_output_item_added(self, etype: str, event: Json) -> None:
        response = self._response(etype, event)
        item = event.get("item") or {}
        item_id = item.get("id")
        if not isinstance(item_id, str) or item_id in self.outputs:
            self._fail(etype, f"output item id {item_id!r} is missing or was used before")
        index = event.get("output_index")
        if index != len(response.outputs):
            self._fail(etype, f"output_index {index!r}, expected {len(response.outputs)} (items are numbered in "
                              "order)")
        if item.get("status") != "in_progress" and not _is_mcp(item):  # MCP items have no status (§9)
            self._fail(etype, f"a new output item must be in_progress, got {item.get('status')!r}")
        response.outputs.append(str(item_id))
        self.outputs[str(item_id)] = _OutputItem(str(item_id), response.response_id, len(response.outputs) - 1,
                                                 str(item.get("type")), item.get("call_id"), item.get("name"))

    def _on_response_content_part_added(self, etype: str, event: Json) -> None:
        out = self._output(etype, event)
        if event.get("content_index") != len(out.parts):
            self._fail(etype, f"content_index {event.get('content_index')!r}, expected {len(out.parts)}")
        part = event.get("part") or {}
        out.parts.append(_Part("audio" if part.get("type") == "audio" else "text"))

    def _on_response_output_text_delta(self, etype: str, event: Json) -> None:
        _, part = self._part(etype, event, "text")
        if "text" in part.done:
            self._fail(etype, "text delta after response.output_text.done")
        part.text += str(event.get("delta", ""))

    def _on_response_output_text_done(self, etype: str, event: Json) -> None:
        _, part = self._part(etype, event, "text")
        if event.get("text") != part.text:
            self._fail(etype, f"text {event.get('text')!r} != concatenated deltas {part.text!r}")
        part.done.add("text")

    def _on_response_output_audio_transcript_delta(self, etype: str, event: Json) -> None:
        _, part = self._part(etype, event, "audio")
        if "transcript" in part.done:
            self._fail(etype, "transcript delta after its done")
        part.transcript += str(event.get("delta", ""))

    def _on_response_output_audio_transcript_done(self, etype: str, event: Json) -> None:
        _, part = self._part(etype, event, "audio")
        if event.get("transcript") != part.transcript:
            self._fail(etype, f"transcript {event.get('transcript')!r} != concatenated deltas {part.transcript!r}")
        part.done.add("transcript")

    def _on_response_output_audio_delta(self, etype: str, event: Json) -> None:
        out, part = self._part(etype, event, "audio")
        if "audio" in part.done:
            self._fail(etype, "audio delta after response.output_audio.done")
        try:
            data = base64.b64decode(str(event.get("delta", "")), validate=True)
        except (binascii.Error, ValueError):
            self._fail(etype, "delta is not valid base64")
            raise AssertionError from None  # unreachable
        fmt = self.responses[out.response_id].audio_format
        if len(data) % SAMPLE_WIDTH[fmt]:
            self._fail(etype, f"{len(data)} bytes of {fmt} audio is not a whole number of samples (§4.1)")
        part.audio_bytes += len(data)

    def _on_response_output_audio_done(self, etype: str, event: Json) -> None:
        _, part = self._part(etype, event, "audio")
        part.done.add("audio")

    def _on_response_content_part_done(self, etype: str, event: Json) -> None:
        _, part = self._part(etype, event)
        wire = event.get("part") or {}
        if part.kind == "text":
            if "text" not in part.done:
                self._fail(etype, "content_part.done before response.output_text.done (§3.7)")
            if wire.get("text") != part.text:
                self._fail(etype, f"part.text {wire.get('text')!r} != streamed text {part.text!r}")
        else:
            if not {"audio", "transcript"} <= part.done:
                self._fail(etype, "content_part.done before the audio and transcript done events (§5.3)")
            if wire.get("transcript") != part.transcript:
                self._fail(etype, f"part.transcript {wire.get('transcript')!r} != streamed {part.transcript!r}")
            if wire.get("audio"):
                self._fail(etype, "content_part.done must not carry audio bytes (§8.1)")
        part.done.add("part")

    def _on_response_function_call_arguments_delta(self, etype: str, event: Json) -> None:
        out = self._output(etype, event)
        if out.type != "function_call":
            self._fail(etype, f"item {out.item_id} is a {out.type}, not a function_call")
        if event.get("call_id") != out.call_id:
            self._fail(etype, f"call_id {event.get('call_id')!r} != {out.call_id!r} of the item (§3.7)")
        if out.arguments_done:
            self._fail(etype, "arguments delta after response.function_call_arguments.done")
        out.arguments += str(event.get("delta", ""))

    def _on_response_function_call_arguments_done(self, etype: str, event: Json) -> None:
        out = self._output(etype, event)
        if event.get("call_id") != out.call_id:
            self._fail(etype, f"call_id {event.get('call_id')!r} != {out.call_id!r} of the item (§3.7)")
        if event.get("arguments") != out.arguments:
            self._fail(etype, f"arguments {event.get('arguments')!r} != concatenated deltas {out.arguments!r}")
        if "name" in event and event.get("name") != out.name:
            self._fail(etype, f"name {event.get('name')!r} != {out.name!r} of the item")
        out.arguments_done = True

    def _on_response_mcp_call_arguments_delta(self, etype: str, event: Json) -> None:
        out = self._output(etype, event)
        if out.type != "mcp_call" or out.arguments_done:
            self._fail(etype, f"item {out.item_id} is not an mcp_call streaming its arguments (§9.3)")
        out.arguments += str(event.get("delta", ""))

    def _on_response_mcp_call_arguments_done(self, etype: str, event: Json) -> None:
        out = self._output(etype, event)
        if event.get("arguments") != out.arguments:
            self._fail(etype, f"arguments {event.get('arguments')!r} != concatenated deltas {out.arguments!r}")
        out.arguments_done = True

    def _on_response_output_item_done(self, etype: str, event: Json) -> None:
        item = event.get("item") or {}
        out = self._output(etype, {**event, "item_id": item.get("id")})
        if item.get("status") not in ("completed", "incomplete") and not _is_mcp(item):
            self._fail(etype, f"final item status {item.get('status')!r} is not completed/incomplete")
        if out.type == "mcp_call" and item.get("arguments") != out.arguments:
            self._fail(etype, "arguments of the final mcp_call differ from the streamed ones (§9.3)")
        if out.type == "function_call" and (item.get("call_id") != out.call_id
                                            or item.get("arguments") != out.arguments):
            self._fail(etype, "call_id/arguments of the final item differ from the streamed ones")
        for index, part in enumerate(out.parts):
            if "part" not in part.done:
                self._fail(etype, f"content part {index} of item {out.item_id} had no content_part.done")
        content = item.get("content") or []
        for index, (wire, part) in enumerate(zip(content, out.parts, strict=False)):
            if wire.get("audio"):
                self._fail(etype, f"content[{index}] carries audio bytes (§8.1)")
            streamed = part.text if part.kind == "text" else part.transcript
            shown = wire.get("text") if part.kind == "text" else wire.get("transcript")
            if shown != streamed:
                self._fail(etype, f"content[{index}] says {shown!r}, the stream said {streamed!r}")
        out.done = True

    def _on_response_done(self, etype: str, event: Json) -> None:
        response = event.get("response") or {}
        rid = response.get("id")
        tracked = self.responses.get(rid) if isinstance(rid, str) else None
        if tracked is None:
            self._fail(etype, f"response {rid!r} was not announced by a response.created")
            raise AssertionError  # unreachable
        if tracked.done:
            self._fail(etype, f"second response.done for {rid}")
        if response.get("status") == "in_progress":
            self._fail(etype, "a finished response cannot be in_progress")
        ids = [o.get("id") for o in response.get("output") or []]
        if ids != tracked.outputs:
            self._fail(etype, f"output ids {ids} != the output items announced {tracked.outputs}")
        for item_id in tracked.outputs:
            if not self.outputs[item_id].done:
                self._fail(etype, f"output item {item_id} had no response.output_item.done before response.done")
        for index, item in enumerate(response.get("output") or []):
            for part in item.get("content") or []:
                if part.get("audio"):
                    self._fail(etype, f"output[{index}] carries audio bytes (§4.10)")
        tracked.done = True
        usage = response.get("usage")
        if isinstance(usage, dict):
            self.usage_total += int(usage.get("total_tokens") or 0)
            self.usage_input += int(usage.get("input_tokens") or 0)
            self.usage_output += int(usage.get("output_tokens") or 0)
