"""The response lifecycle: a plan becomes the protocol's ordered, paced event stream
(docs/protocol.md §3.7, §5.2–§5.4, §5.7, §4.10, §4.11, §7).

A :class:`ResponseRun` is a generator of internal events (:class:`~mockrt.core.events.ServerEvent`) with due
times relative to the response's start. Delivered content is recorded only *after* an event is released, so a
cancel keeps exactly what the client received and closes whatever is open with partial content (§5.7).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mockrt.audio import b64
from mockrt.audio.formats import AudioFormat
from mockrt.core.brain import (
    FunctionCallOut,
    McpCallOut,
    MessageOut,
    ReplyPlan,
    SearchCallOut,
    mcp_reply_text,
    tokenize,
)
from mockrt.core.conversation import Conversation
from mockrt.core.events import ServerEvent
from mockrt.core.mcp import ApprovalRequest, CallDone, McpCall, McpError
from mockrt.core.model import ContentPart, Item, ItemStatus, Response, Usage
from mockrt.core.synth import scripted_speech, synthesize
from mockrt.core.usage import input_usage, text_tokens

__all__ = ["Pacing", "ResponseRun", "input_usage"]

Event = dict[str, Any]
Steps = Generator[tuple[float, Event], None, None]
"""A stream of ``(offset seconds, internal event)``."""

PAUSE: Event = {"type": None}
"""The marker a run yields where it waits for the session (an MCP call's resolution or result, §9)."""


@dataclass(frozen=True)
class McpWait:
    """What a paused run waits for: ``resolve`` (which server/tool/arguments, or an approval) or ``call`` (the
    result of the resolved call, :class:`McpResolved`)."""

    kind: str
    out: McpCallOut
    resolved: Any = None


@dataclass(frozen=True)
class McpResolved:
    """A call the session resolved: the tool, its arguments (JSON text), the approval it follows; ``error`` fails
    the call without running it (a server whose listing failed, a tool it does not offer)."""

    server: Any  # core.mcp.McpServerConfig
    name: str
    arguments: str
    approval_request_id: str | None = None
    error: McpError | None = None


@dataclass(frozen=True)
class McpDenied:
    """The client denied the approval request for this call: no call, the reply says so."""

    name: str


@dataclass(frozen=True)
class Pacing:
    """How fast a response streams (§7). Zero delays release events as soon as the client's event is handled.

    Attributes:
        first_delta_ms: delay from ``response.created`` to the first output event.
        text_delta_ms: spacing of text / transcript / argument deltas when no audio paces them.
        audio_speed: audio is sent this many times faster than real time (0 = unpaced).
        audio_first_chunk_ms / audio_chunk_ms: delta sizes, whole multiples of 50 ms (§7).
        jitter_ms / seed: each delay gets a seeded random extra of up to ``jitter_ms``.
    """

    first_delta_ms: float = 0.0
    text_delta_ms: float = 0.0
    audio_speed: float = 10.0
    audio_first_chunk_ms: int = 100
    audio_chunk_ms: int = 200
    args_chunk_chars: int = 12
    jitter_ms: float = 0.0
    seed: int = 0

    def scaled(self, factor: float) -> Pacing:
        """Pacing with every delay multiplied by ``factor`` (a time scale: 0.01 runs a scenario 100× faster)."""
        return dataclasses.replace(
            self,
            first_delta_ms=self.first_delta_ms * factor,
            text_delta_ms=self.text_delta_ms * factor,
            audio_speed=self.audio_speed / factor if factor and self.audio_speed else self.audio_speed,
            jitter_ms=self.jitter_ms * factor,
        )


class ResponseRun:
    """One response in flight."""

    def __init__(
        self,
        response: Response,
        plan: ReplyPlan,
        *,
        pacing: Pacing,
        start: float,
        conversation: Conversation | None,
        new_item_id: Callable[[], str],
        new_call_id: Callable[[], str],
        input_usage: Usage,
        speed: float = 1.0,
    ) -> None:
        self.response = response
        self.plan = plan
        self.pacing = pacing
        self.start = start
        self.conversation = conversation
        self._new_item_id = new_item_id
        self._new_call_id = new_call_id
        self._input_usage = input_usage
        self._speed = speed
        self._rng = random.Random(f"{pacing.seed}:{response.id}") if pacing.jitter_ms else None
        self._gen = self._steps()
        self._pending: tuple[float, Event] | None = None
        self.finished = False
        # What the client has received so far (for cancel and usage).
        self._open_item: Item | None = None
        self._open_part: ContentPart | None = None
        self._open_index = 0
        self._text_tokens = 0
        self._audio_ms = 0.0
        # MCP (§9): where the run waits for the session, and what the session answered.
        self.mcp_wait: McpWait | None = None
        self._wait_taken = False
        self._resumed = False
        self._resume_value: Any = None
        self._resumed_at = start
        self._advance()

    # -- scheduling ----------------------------------------------------------------------------------

    def _advance(self) -> None:
        try:
            offset, event = next(self._gen)
        except StopIteration:
            self._pending = None
            self.finished = True
            return
        self._pending = (self.start + offset, event)

    @property
    def due(self) -> float | None:
        if self._pending is None or (self._pending[1] is PAUSE and self._wait_taken and not self._resumed):
            return None
        return self._pending[0]

    def pop_due(self, now: float) -> Iterator[Event]:
        """Release every event due at ``now``; each is rendered by the caller before the next is made."""
        while self._pending is not None and self._pending[0] <= now:
            event = self._pending[1]
            if event is PAUSE:
                if not self._resumed:
                    return
                self._resumed = False
                self._advance()
                continue
            yield event
            self._advance()

    def take_wait(self, now: float) -> McpWait | None:
        """The wait the run reached by ``now`` and the session has not taken yet (§9)."""
        if (self._pending is None or self._pending[1] is not PAUSE or self._pending[0] > now or self._wait_taken
                or self._resumed):
            return None
        self._wait_taken = True
        return self.mcp_wait

    def resume(self, value: Any, now: float) -> None:
        """The session's answer to the wait; the stream continues from ``now``."""
        self._resume_value, self._resumed_at = value, now
        self._resumed, self._wait_taken = True, False

    def _pause(self, wait: McpWait, t: float) -> Generator[tuple[float, Event], None, tuple[float, Any]]:
        self.mcp_wait = wait
        yield t, PAUSE
        self.mcp_wait = None
        return max(t, self._resumed_at - self.start), self._resume_value

    # -- the stream ----------------------------------------------------------------------------------

    def _delay(self, ms: float) -> float:
        """A pacing delay in seconds, with the seeded jitter."""
        if self._rng is not None:
            ms += self._rng.uniform(0.0, self.pacing.jitter_ms)
        return ms / 1000.0

    def _ids(self, index: int, item: Item) -> Event:
        return {"response_id": self.response.id, "item_id": item.id, "output_index": index}

    def _steps(self) -> Steps:
        t = self._delay(self.pacing.first_delta_ms)
        for delta in self.plan.invocation:  # a hosted agent's non-speech events, passed through (§12.7)
            yield t, {"type": ServerEvent.INVOCATION_DELTA, "delta": delta}
        outputs = list(self.plan.outputs)
        index = 0
        while index < len(outputs):
            out = outputs[index]
            slot = len(self.response.output)  # the output_index (a denied MCP call outputs no item)
            if isinstance(out, MessageOut):
                t = yield from self._message(slot, out, t)
            elif isinstance(out, SearchCallOut):
                t = yield from self._search_call(slot, out, t)
            elif isinstance(out, McpCallOut):
                t, reply = yield from self._mcp_call(slot, out, t)
                if reply is not None and index + 1 == len(outputs):
                    outputs.append(MessageOut(reply))  # the default words after the call
            else:
                t = yield from self._function_call(slot, out, t)
            index += 1
        self._finalize(self.plan.status, self._status_details())
        yield t, {"type": ServerEvent.RESPONSE_DONE, "response": self.response}

    def _status_details(self) -> dict[str, Any] | None:
        if self.plan.status == "incomplete":
            return {"type": "incomplete", "reason": self.plan.reason or "max_output_tokens"}
        if self.plan.status == "failed":
            return {"type": "failed", "error": self.plan.error}
        return None

    def _open(self, index: int, item: Item, t: float) -> Steps:
        yield t, {"type": ServerEvent.OUTPUT_ITEM_ADDED, "response_id": self.response.id, "output_index": index,
                  "item": item}
        self._open_item, self._open_index = item, index
        self.response.output.append(item)
        if self.conversation is not None:
            prev = self.conversation.insert(item)
            yield t, {"type": ServerEvent.ITEM_ADDED, "previous_item_id": prev, "item": item}

    def _close_item(self, index: int, item: Item, t: float, status: ItemStatus) -> Steps:
        item.status = status
        if self.conversation is not None:
            self.conversation.refresh(item)
            yield t, {"type": ServerEvent.ITEM_DONE, "previous_item_id": self.conversation.previous_of(item),
                      "item": item}
        yield t, {"type": ServerEvent.OUTPUT_ITEM_DONE, "response_id": self.response.id, "output_index": index,
                  "item": item}
        self._open_item = None

    def _budget(self) -> int | None:
        limit = self.response.params.max_output_tokens
        return None if limit == "inf" else int(limit) - self._text_tokens - math.ceil(self._audio_ms / 50.0)

    def _message(self, index: int, out: MessageOut, t: float) -> Generator[tuple[float, Event], None, float]:
        item = Item(id=self._new_item_id(), type="message", status="in_progress", role="assistant")
        yield from self._open(index, item, t)
        audio = self.response.params.modality == "audio"
        part = ContentPart(type="audio", transcript="", audio_format=self.response.params.output_format) if audio \
            else ContentPart(type="text", text="")
        ids = {**self._ids(index, item), "content_index": 0}
        yield t, {"type": ServerEvent.CONTENT_PART_ADDED, **ids, "part": _part_event(part)}
        item.content.append(part)
        self._open_part = part
        pieces = tokenize(out.transcript if audio and out.transcript is not None else out.text)
        budget = self._budget()
        truncated = False
        if budget is not None and not audio and len(pieces) > budget:
            pieces, truncated = pieces[: max(budget, 0)], True
        if audio:
            t, truncated = yield from self._audio_stream(ids, part, pieces, t, out.audio)
            for n, annotation in enumerate(out.annotations):  # scripted citations (Voice Live, §12.6)
                yield t, {"type": ServerEvent.AUDIO_TRANSCRIPT_ANNOTATION_ADDED, **ids, "annotation_index": n,
                          "annotation": annotation}
        else:
            for piece in pieces:
                yield t, {"type": ServerEvent.OUTPUT_TEXT_DELTA, **ids, "delta": piece}
                part.text = (part.text or "") + piece
                self._text_tokens += 1
                t += self._delay(self.pacing.text_delta_ms)
        yield from self._close_part(ids, part, t)
        if truncated and self.plan.status == "completed":
            self.plan.status, self.plan.reason = "incomplete", "max_output_tokens"
        yield from self._close_item(index, item, t, "incomplete" if truncated else "completed")
        return t

    def _audio_stream(
        self, ids: Event, part: ContentPart, pieces: list[str], t: float, audio: Any = None
    ) -> Generator[tuple[float, Event], None, tuple[float, bool]]:
        """Interleave transcript deltas (running ahead) with audio deltas paced at ``audio_speed`` (§5.3)."""
        params = self.response.params
        voice = params.voice if isinstance(params.voice, str) else "alloy"
        fmt: AudioFormat = params.output_format
        if audio is not None:
            speech = scripted_speech(audio, pieces, fmt.rate)
        else:
            speech = synthesize(pieces, voice, self._speed, fmt.rate)
        samples_per_ms = fmt.rate / 1000.0
        total_ms = speech.duration_ms
        budget = self._budget()
        truncated = False
        if budget is not None:
            # Audio costs 20 tokens per second and its transcript one token per piece (§4.11).
            limit_ms = max(0.0, (budget - len(pieces)) * 50.0)
            if limit_ms < total_ms:
                total_ms, truncated = math.floor(limit_ms / 50.0) * 50.0, True
        word_ms = [s / samples_per_ms for s in speech.word_starts]
        sent_ms, word = 0.0, 0
        chunk = float(self.pacing.audio_first_chunk_ms)
        speedup = self.pacing.audio_speed
        while sent_ms < total_ms:
            end_ms = min(total_ms, sent_ms + chunk)
            # Transcript runs ahead: every word that starts before the end of this chunk.
            while word < len(pieces) and word_ms[word] < end_ms:
                yield t, {"type": ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA, **ids, "delta": pieces[word]}
                part.transcript = (part.transcript or "") + pieces[word]
                self._text_tokens += 1
                word += 1
            pcm = speech.pcm[int(sent_ms * samples_per_ms): int(end_ms * samples_per_ms)]
            encoded = fmt.encode(np.asarray(pcm))
            yield t, {"type": ServerEvent.OUTPUT_AUDIO_DELTA, **ids,
                      "delta": b64.encode(encoded)}
            self._audio_ms += end_ms - sent_ms
            # Grown in place (a long reply is not copied again on every delta); bytes again once the part closes.
            audio = part.audio if isinstance(part.audio, bytearray) else bytearray(part.audio or b"")
            audio += encoded
            part.audio = audio
            part.audio_ms = self._audio_ms_of(part)
            if speedup:
                t += self._delay((end_ms - sent_ms) / speedup)
            sent_ms = end_ms
            chunk = float(self.pacing.audio_chunk_ms)
        return t, truncated

    @staticmethod
    def _audio_ms_of(part: ContentPart) -> float:
        fmt = part.audio_format or AudioFormat.PCM16
        return fmt.bytes_to_ms(len(part.audio or b""))

    def _close_part(self, ids: Event, part: ContentPart, t: float) -> Steps:
        if isinstance(part.audio, bytearray):
            part.audio = bytes(part.audio)
        if part.type == "audio":
            yield t, {"type": ServerEvent.OUTPUT_AUDIO_DONE, **ids}
            yield t, {"type": ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DONE, **ids, "transcript": part.transcript}
        else:
            yield t, {"type": ServerEvent.OUTPUT_TEXT_DONE, **ids, "text": part.text}
        yield t, {"type": ServerEvent.CONTENT_PART_DONE, **ids, "part": _part_event(part)}
        self._open_part = None

    def _search_call(self, index: int, out: SearchCallOut, t: float) -> Generator[tuple[float, Event], None, float]:
        """A scripted web/file search (Voice Live, docs/protocol.md §12.6): the item is added ``in_progress``,
        then ``.in_progress``, ``.searching`` and ``.completed`` (``sequence_number`` counts them) and it is done."""
        web = out.kind == "web_search"
        item = Item(id=self._new_item_id(), type="web_search_call" if web else "file_search_call",
                    status="in_progress", search=out)
        yield from self._open(index, item, t)
        stages = ((ServerEvent.WEB_SEARCH_CALL_IN_PROGRESS, ServerEvent.WEB_SEARCH_CALL_SEARCHING,
                   ServerEvent.WEB_SEARCH_CALL_COMPLETED) if web else
                  (ServerEvent.FILE_SEARCH_CALL_IN_PROGRESS, ServerEvent.FILE_SEARCH_CALL_SEARCHING,
                   ServerEvent.FILE_SEARCH_CALL_COMPLETED))
        for n, stage in enumerate(stages):
            yield t, {"type": stage, **self._ids(index, item), "sequence_number": n}
            t += self._delay(self.pacing.text_delta_ms)
        yield from self._close_item(index, item, t, "completed")
        return t

    def _function_call(
        self, index: int, out: FunctionCallOut, t: float
    ) -> Generator[tuple[float, Event], None, float]:
        item = Item(id=self._new_item_id(), type="function_call", status="in_progress", name=out.name,
                    call_id=out.call_id or self._new_call_id(), arguments="")
        yield from self._open(index, item, t)
        ids = {**self._ids(index, item), "call_id": item.call_id}
        n = max(1, self.pacing.args_chunk_chars)
        for start in range(0, len(out.arguments), n):
            delta = out.arguments[start: start + n]
            yield t, {"type": ServerEvent.FUNCTION_CALL_ARGUMENTS_DELTA, **ids, "delta": delta}
            item.arguments = (item.arguments or "") + delta
            t += self._delay(self.pacing.text_delta_ms)
        self._text_tokens += text_tokens(out.arguments)
        yield t, {"type": ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE, **ids, "name": item.name,
                  "arguments": item.arguments}
        yield from self._close_item(index, item, t, "completed")
        return t

    def _mcp_call(self, index: int, out: McpCallOut, t: float
                  ) -> Generator[tuple[float, Event], None, tuple[float, str | None]]:
        """An MCP tool call inside the response (§9): resolve, then an approval request, or the call's stream
        around the real call; returns the default reply (``None``: the response ends here)."""
        t, resolved = yield from self._pause(McpWait("resolve", out), t)
        if isinstance(resolved, McpDenied):
            return t, mcp_reply_text(resolved.name, None, None, denied=True)
        if isinstance(resolved, ApprovalRequest):
            item = Item(id=resolved.id, type="mcp_approval_request", mcp=resolved)
            yield from self._open(index, item, t)
            yield from self._close_item(index, item, t, "completed")
            return t, None
        assert isinstance(resolved, McpResolved)
        call = McpCall(self._new_item_id(), resolved.server.server_label, resolved.name, "",
                       resolved.approval_request_id)
        item = Item(id=call.item_id, type="mcp_call", status="in_progress", name=call.name, mcp=call)
        yield from self._open(index, item, t)
        ids = self._ids(index, item)
        n = max(1, self.pacing.args_chunk_chars)
        for start in range(0, len(resolved.arguments), n):
            delta = resolved.arguments[start: start + n]
            yield t, {"type": ServerEvent.MCP_CALL_ARGUMENTS_DELTA, **ids, "delta": delta}
            call.arguments += delta
            t += self._delay(self.pacing.text_delta_ms)
        self._text_tokens += text_tokens(resolved.arguments)
        yield t, {"type": ServerEvent.MCP_CALL_ARGUMENTS_DONE, **ids, "arguments": call.arguments}
        where = {"item_id": item.id, "output_index": index}
        yield t, {"type": ServerEvent.MCP_CALL_IN_PROGRESS, **where}
        if resolved.error is not None:
            result: Any = resolved.error
        else:
            t, result = yield from self._pause(McpWait("call", out, resolved), t)
        if isinstance(result, CallDone):
            call.output = result.output
            yield t, {"type": ServerEvent.MCP_CALL_COMPLETED, **where}
        else:
            call.error = result if isinstance(result, McpError) else result.error
            yield t, {"type": ServerEvent.MCP_CALL_FAILED, **where}
        yield from self._close_item(index, item, t, "completed")
        return t, mcp_reply_text(call.name, call.output, call.error.message if call.error else None)

    # -- ending --------------------------------------------------------------------------------------

    def _finalize(self, status: str, details: dict[str, Any] | None) -> None:
        self.response.status = status
        self.response.status_details = details
        usage = Usage(**vars(self._input_usage))
        usage.output_audio = math.ceil(self._audio_ms / 50.0)
        usage.output_text = self._text_tokens
        for key, value in (self.plan.usage or {}).items():
            setattr(usage, key, value)
        self.response.usage = usage

    def cancel(self, reason: str) -> list[Event]:
        """End now with ``cancelled`` (§5.7): close what is open with partial content, then ``response.done``."""
        self._gen.close()
        self._pending = None
        self.finished = True
        events: list[Event] = []
        item, part = self._open_item, self._open_part
        if item is not None:
            if part is not None:
                ids = {**self._ids(self._open_index, item), "content_index": 0}
                events.extend(e for _, e in self._close_part(ids, part, 0.0))
            events.extend(e for _, e in self._close_item(self._open_index, item, 0.0, "incomplete"))
        self._finalize("cancelled", {"type": "cancelled", "reason": reason})
        events.append({"type": ServerEvent.RESPONSE_DONE, "response": self.response})
        return events


def _part_event(part: ContentPart) -> ContentPart:
    """What ``content_part.added`` / ``.done`` carry: the part as it is now (type, text or transcript, no audio),
    a copy, since the streamed part keeps growing; the dialect renders it (§3.7)."""
    return ContentPart(type=part.type, text=part.text, transcript=part.transcript)
