"""Azure Voice Live's own client events, carried out on a :class:`~mockrt.core.session.RealtimeSession`
(docs/protocol.md §12): explicit input audio turns, streamed text input, MCP approvals, the avatar's output
buffer and its WebRTC offer (the avatar then switches to speaking and idle with each spoken reply,
:mod:`mockrt.core.audio_sync`). Each handler is one row of ``RealtimeSession.CLIENT_EVENTS``; the Voice Live
dialect names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockrt.core import errors
from mockrt.core.events import ServerEvent
from mockrt.core.model import ContentPart, Item

if TYPE_CHECKING:
    from mockrt.core.session import RealtimeSession

MAX_INPUT_TEXT_CHARS = 15 * 1024 * 1024
"""Streamed text per item, at most as much as one append carries (§2.2) [mockrt: the reference gives no bound]."""


def turn_start(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``input_audio.turn.start``: open a turn; an unfinished previous turn's audio is dropped."""
    if session.input_turn is not None:
        _drop_audio(session)
    session.input_turn = fields["turn_id"]


def turn_append(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``input_audio.turn.append``: audio of the open turn, into the input buffer (as an append, §2.2)."""
    _check_turn(session, fields["turn_id"])
    session._append({"audio": fields["audio"]}, now)


def turn_end(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``input_audio.turn.end``: the turn's audio becomes a user item (a commit, §2.3) and the model answers
    (unless a response is in progress, whose error is the service's ``active_response``)."""
    _check_turn(session, fields["turn_id"])
    session._commit({}, now)
    session.input_turn = None
    session.auto_response(now)


def turn_cancel(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``input_audio.turn.cancel``: the turn's audio is dropped, without an event."""
    _check_turn(session, fields["turn_id"])
    _drop_audio(session)
    session.input_turn = None


def text_delta(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``input_text.delta``: text streamed into the user message ``id`` (no event until ``.done``)."""
    item_id = fields["id"]
    if item_id not in session.input_text:
        session.conversation.check_insert(None)
        if len(session.input_text) + len(session.conversation.items) >= session.options.max_items:
            raise errors.conversation_too_long(session.options.max_items)  # bounded like the conversation
    text = session.input_text.get(item_id, "") + fields["delta"]
    if len(text) > MAX_INPUT_TEXT_CHARS:
        raise errors.string_too_long("delta", MAX_INPUT_TEXT_CHARS, len(text))
    session.input_text[item_id] = text


def text_done(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``input_text.done``: the streamed text becomes a user ``input_text`` message (``conversation.item.created``,
    as ``conversation.item.create`` would)."""
    item_id = fields["id"]
    if item_id not in session.input_text:
        raise errors.voice_live_input_text_unknown(item_id)
    text = session.input_text.pop(item_id)
    item = Item(id=item_id, type="message", status="completed", role="user",
                content=[ContentPart(type="input_text", text=text)])
    session._item_events(item, session.conversation.insert(item, None))


def avatar_connect(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``session.avatar.connect``: answer the client's SDP offer with ``session.avatar.connecting``. The answer
    is an honest one: every media section is ``a=inactive`` (the mock renders no avatar video or audio track)."""
    if session.config.avatar is None:
        raise errors.voice_live_avatar_not_configured()
    session.emit({"type": ServerEvent.AVATAR_CONNECTING, "server_sdp": sdp_answer(fields["client_sdp"])})
    session.avatar_connected = True  # from now on responses switch it to speaking and back to idle
    session._configure_sync()


def mcp_approval_response(session: RealtimeSession, fields: dict[str, Any], now: float) -> None:
    """``mcp_approval_response``: the client's answer to an ``mcp_approval_request`` as an event of its own; the
    service's effect is that of ``conversation.item.create`` with the same ``mcp_approval_response`` item (§9.4),
    so it is one (errors name ``item.*``) [U: the reference lists the event type, the client has no model for it]."""
    session._item_create({"item": {"type": "mcp_approval_response", **fields}}, now)


def sdp_answer(offer: str) -> str:
    """A minimal SDP answer that rejects nothing but sends nothing: the offer's media lines, each inactive."""
    lines = ["v=0", "o=mockrt 0 0 IN IP4 127.0.0.1", "s=mockrt avatar (no video rendered)", "t=0 0"]
    for line in offer.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
            lines += [f"m={kind} 0 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=inactive"]
    return "\r\n".join(lines) + "\r\n"


def _check_turn(session: RealtimeSession, turn_id: str) -> None:
    if session.input_turn != turn_id:
        raise errors.voice_live_turn_unknown(turn_id, session.input_turn)


def _drop_audio(session: RealtimeSession) -> None:
    session.buffer.clear()
    session.turn_taking.buffer_moved()
