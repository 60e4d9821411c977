"""The error catalogue: every error the mock can send, in one place (docs/protocol.md §6).

Each constructor returns a :class:`ProtocolError` with the service's exact ``type``, ``code``, ``message``
and ``param``. Core code raises them; :class:`~mockrt.core.session.RealtimeSession` turns them into one
``error`` event that echoes the client's ``event_id`` (§3.2) and leaves the session usable (§1.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

INVALID_REQUEST = "invalid_request_error"


@dataclass
class ProtocolError(Exception):
    """An error the service reports as an ``error`` event (§3.2, §4.14)."""

    message: str
    code: str | None = None
    param: str | None = None
    type: str = INVALID_REQUEST

    def __str__(self) -> str:
        return self.message

    def to_error_object(self, event_id: str | None) -> dict[str, Any]:
        """The ``error`` object: all five keys, ``null`` where not applicable (§4.14)."""
        return {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "event_id": event_id,
        }


def quote_list(values: Sequence[str]) -> str:
    """``'a', 'b', and 'c'`` / ``'a' and 'b'`` — the service's list style (§6.1)."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


# --- §6.1 generic validation patterns -------------------------------------------------------------------


def unknown_parameter(path: str) -> ProtocolError:
    return ProtocolError(f"Unknown parameter: '{path}'.", "unknown_parameter", path)


def missing_required_parameter(path: str) -> ProtocolError:
    return ProtocolError(f"Missing required parameter: '{path}'.", "missing_required_parameter", path)


def invalid_value(value: object, supported: Sequence[str], path: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid value: '{value}'. Supported values are: {quote_list(supported)}.", "invalid_value", path
    )


def invalid_type(path: str, expected: str, got: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid type for '{path}': expected {expected}, but got {got} instead.", "invalid_type", path
    )


def out_of_range(path: str, value: float, bound: float, *, integer: bool, above: bool) -> ProtocolError:
    kind = "integer" if integer else "decimal"
    side = "above maximum" if above else "below minimum"
    op = "<=" if above else ">="
    code = f"{kind}_{'above_max' if above else 'below_min'}_value"
    return ProtocolError(
        f"Invalid '{path}': {kind} {side} value. Expected a value {op} {bound}, but got {value} instead.",
        code,
        path,
    )


def string_too_long(path: str, limit: int, got: int) -> ProtocolError:
    return ProtocolError(
        f"Invalid '{path}': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {got} instead.",
        "string_above_max_length",
        path,
    )


def array_too_long(path: str, limit: int, got: int) -> ProtocolError:
    return ProtocolError(
        f"Invalid '{path}': array too long. Expected an array with maximum length {limit}, "
        f"but got an array with length {got} instead.",
        "array_above_max_length",
        path,
    )


# --- §1.8 / §6.2 framing ---------------------------------------------------------------------------------


def invalid_json(detail: str) -> ProtocolError:
    return ProtocolError(f"Invalid event: failed to parse JSON value. {detail}".rstrip(), "invalid_json")


def binary_frame() -> ProtocolError:
    return ProtocolError(
        "Expected a text WebSocket message; binary frames are not supported.", "invalid_event"
    )


def not_an_object() -> ProtocolError:
    return ProtocolError("Invalid event: expected a JSON object.", "invalid_event")


def missing_type() -> ProtocolError:
    return ProtocolError("The 'type' field is missing.", "invalid_event")


def unknown_event_type(value: object, accepted: Sequence[str]) -> ProtocolError:
    return invalid_value(value, accepted, "type")


def frame_too_large(size: int, limit: int) -> ProtocolError:
    return ProtocolError(
        f"Invalid event: message of {size} bytes exceeds the maximum of {limit} bytes.", "invalid_event"
    )


# --- §6.2 realtime-specific ------------------------------------------------------------------------------


def commit_empty(buffered_ms: float) -> ProtocolError:
    return ProtocolError(
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
        f"but buffer only has {buffered_ms:.2f}ms of audio.",
        "input_audio_buffer_commit_empty",
    )


def active_response(response_id: str) -> ProtocolError:
    return ProtocolError(
        f"Conversation already has an active response in progress: {response_id}. "
        "Wait until the response is finished before creating a new one.",
        "conversation_already_has_active_response",
    )


def cancel_not_active() -> ProtocolError:
    return ProtocolError("Cancellation failed: no active response found", "response_cancel_not_active")


def truncate_too_long(audio_ms: int, requested_ms: int) -> ProtocolError:
    return ProtocolError(f"Audio content of {audio_ms}ms is already shorter than {requested_ms}ms", "invalid_value")


def truncate_not_audio() -> ProtocolError:
    return ProtocolError("Only model output audio messages can be truncated", "unsupported_content_type")


def truncate_unknown_item(item_id: str) -> ProtocolError:
    return ProtocolError(f"Item with item_id not found: {item_id}", "item_truncate_invalid_item_id", "item_id")


def truncate_bad_content_index(index: int) -> ProtocolError:
    return ProtocolError(
        f"Invalid 'content_index': no content part at index {index}.", "invalid_value", "content_index"
    )


def delete_unknown_item(item_id: str) -> ProtocolError:
    return ProtocolError(
        f"Error deleting item: the item with id '{item_id}' does not exist.", "item_delete_invalid_item_id"
    )


def retrieve_unknown_item(item_id: str) -> ProtocolError:
    return ProtocolError(
        f"Error retrieving item: the item with id '{item_id}' does not exist.", "item_retrieve_invalid_item_id"
    )


def previous_item_unknown(item_id: str) -> ProtocolError:
    return ProtocolError(
        f"Error adding item: the previous item with id '{item_id}' does not exist.",
        "item_create_invalid_previous_item_id",
        "previous_item_id",
    )


def item_reference_unknown(item_id: str, path: str) -> ProtocolError:
    return ProtocolError(f"Item with id '{item_id}' not found.", "invalid_value", path)


def function_call_output_unknown(call_id: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid 'item.call_id': no function call with call_id '{call_id}' exists in the conversation.",
        "invalid_value",
        "item.call_id",
    )


def assistant_audio_create() -> ProtocolError:
    return ProtocolError(
        "Invalid 'item.content': assistant messages can only contain output text content.",
        "invalid_value",
        "item.content",
    )


def cannot_update_voice() -> ProtocolError:
    return ProtocolError("Cannot update a conversation's voice if assistant audio is present.", "cannot_update_voice")


def cannot_update_model() -> ProtocolError:
    return ProtocolError("Cannot update a session's model once it has started.", "invalid_value", "session.model")


def session_expired(minutes: int) -> ProtocolError:
    return ProtocolError(f"Your session hit the maximum duration of {minutes} minutes.", "session_expired")


def invalid_session_type(value: object) -> ProtocolError:
    return ProtocolError(
        "Invalid value: 'session'. Supported values are: 'realtime' and 'transcription'.",
        "invalid_value",
        "session.type",
    )


def session_type_mismatch() -> ProtocolError:
    return ProtocolError(
        "Passing a transcription session update event to a realtime session is not allowed.",
        "invalid_value",
        "session.type",
    )


def realtime_update_to_transcription() -> ProtocolError:
    return ProtocolError(
        "Passing a realtime session update event to a transcription session is not allowed.",
        "invalid_value",
        "session.type",
    )


def invalid_modalities(value: object, path: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid modalities: {value!r}. Supported combinations are: ['text'] and ['audio', 'text'].",
        "invalid_value",
        path,
    )


def invalid_output_modalities(path: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid '{path}': output_modalities must contain exactly one of 'audio' or 'text'.", "invalid_value", path
    )


def invalid_audio(format_label: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid 'audio'. Expected base64-encoded audio bytes ({format_label}) but got an invalid value.",
        "invalid_value",
        "audio.audio",
    )


def append_too_large(size: int, limit: int) -> ProtocolError:
    return ProtocolError(
        f"Invalid 'audio': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {size} instead.",
        "string_above_max_length",
        "audio",
    )


def conversation_too_long(limit: int) -> ProtocolError:
    return ProtocolError(
        f"The conversation has reached the maximum of {limit} items. Delete items before adding new ones.",
        "conversation_too_long",
    )


def input_buffer_full(limit_ms: int) -> ProtocolError:
    return ProtocolError(
        f"Input audio buffer is full: at most {limit_ms}ms of uncommitted audio can be buffered. "
        "Commit or clear the buffer.",
        "input_audio_buffer_full",
        "audio",
    )


# --- §1.4 handshake (fatal: error event then close) ----------------------------------------------------


def invalid_api_key(key: str) -> ProtocolError:
    masked = (key[:8] + "*" * 10 + key[-4:]) if len(key) > 12 else ("*" * len(key))
    return ProtocolError(
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_api_key",
    )


def missing_auth() -> ProtocolError:
    return ProtocolError("Missing bearer or basic authentication in header")


def invalid_model(model: str) -> ProtocolError:
    return ProtocolError(f'Model "{model}" is not supported in realtime mode.', "invalid_model")


def missing_model() -> ProtocolError:
    return ProtocolError(
        "You must provide a model parameter, for example wss://api.openai.com/v1/realtime?model=gpt-realtime-1.5",
        "missing_model",
    )


def beta_disabled() -> ProtocolError:
    return ProtocolError(
        "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.",
        "beta_api_shape_disabled",
    )


def close_reason(err: ProtocolError) -> str:
    """Close reason for a fatal error: ``type`` or ``type.code`` (§1.4)."""
    return f"{err.type}.{err.code}" if err.code else err.type


# --- MCP tools (docs/protocol.md §9) -----------------------------------------------------------------------
# [U] The Realtime API's MCP error strings are not captured. The listing failure follows the Responses API's
# remote MCP tool ("Error retrieving tool list from MCP server: '<label>'. Http status code: 424 (Failed
# Dependency)", reported by users for unreachable servers); the validation errors follow the §6.1 patterns.

MCP_ERROR_TYPE = "external_connector_error"
MCP_UNREACHABLE_STATUS = 424
"""The status the service reports for a server it cannot reach or that does not answer in time."""

_HTTP_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                 405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict",
                 415: "Unsupported Media Type", 422: "Unprocessable Entity", 424: "Failed Dependency",
                 429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
                 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def mcp_http_status(code: int) -> str:
    reason = _HTTP_REASONS.get(code)
    return f"Http status code: {code} ({reason})" if reason else f"Http status code: {code}"


def mcp_unreachable() -> str:
    """``http_error`` detail: the server could not be reached (refused, unknown host, TLS, connector)."""
    return f"Could not connect to the MCP server. {mcp_http_status(MCP_UNREACHABLE_STATUS)}"


def mcp_timeout(seconds: float) -> str:
    """``http_error`` detail: the server did not answer in time."""
    return f"The MCP server did not answer within {seconds:g}s. {mcp_http_status(MCP_UNREACHABLE_STATUS)}"


def mcp_list_tools_failed(label: str, detail: str) -> ProtocolError:
    """The ``error`` event that follows ``mcp_list_tools.failed``; ``detail`` is the failure's ``McpError``
    message (an HTTP status sentence, or the server's JSON-RPC error message)."""
    return ProtocolError(f"Error retrieving tool list from MCP server: '{label}'. {detail}", "mcp_list_tools_failed",
                         "tools", type=MCP_ERROR_TYPE)


def mcp_server_source_missing(path: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid '{path}': one of 'server_url', 'connector_id', or 'tunnel_id' must be provided.", "invalid_value",
        path)


def mcp_server_source_conflict(path: str, given: Sequence[str]) -> ProtocolError:
    return ProtocolError(
        f"Invalid '{path}': only one of 'server_url', 'connector_id', or 'tunnel_id' may be provided, "
        f"but got {quote_list(given)}.", "invalid_value", path)


def mcp_invalid_server_url(path: str) -> ProtocolError:
    return ProtocolError(f"Invalid '{path}': expected an http or https URL.", "invalid_value", path)


def mcp_duplicate_server_label(label: str, path: str) -> ProtocolError:
    return ProtocolError(f"Invalid '{path}': duplicate MCP server_label '{label}'. Each MCP server must have "
                         "a unique label.", "invalid_value", path)


def mcp_unknown_server_label(label: str, path: str) -> ProtocolError:
    return ProtocolError(f"Invalid '{path}': no MCP tool with server_label '{label}' is configured.",
                         "invalid_value", path)


def mcp_approval_request_unknown(request_id: str) -> ProtocolError:
    return ProtocolError(
        f"Invalid 'item.approval_request_id': no MCP approval request with id '{request_id}' exists in the "
        "conversation.", "invalid_value", "item.approval_request_id")


# -- Transcription details and session settings (issue 13: docs/protocol.md §4.3, §5.11, §5.14) ----------------


def context_length_exceeded(tokens: int, limit: int) -> ProtocolError:
    """A response whose input exceeds the model's input limit while ``truncation`` is ``disabled`` (§5.14)."""
    return ProtocolError(
        f"The conversation is {tokens} tokens long, which exceeds the model's input limit of {limit} tokens, "
        "and truncation is disabled.", "context_length_exceeded", None, "invalid_request_error")


# -- Azure Voice Live (docs/protocol.md §12): the mock's own wording where the reference documents none [U] -----


def voice_live_turn_unknown(turn_id: str, open_turn: str | None) -> ProtocolError:
    """``input_audio.turn.append/.end/.cancel`` naming a turn that is not the open one."""
    now = f"the open turn is '{open_turn}'" if open_turn else "no input audio turn is open"
    return ProtocolError(f"Invalid 'turn_id': '{turn_id}' is not an open input audio turn ({now}).",
                         "invalid_value", "turn_id")


def voice_live_input_text_unknown(item_id: str) -> ProtocolError:
    """``input_text.done`` for an item no ``input_text.delta`` started."""
    return ProtocolError(f"Invalid 'id': no streamed input text with item id '{item_id}'.", "invalid_value", "id")


def voice_live_avatar_not_configured() -> ProtocolError:
    """``session.avatar.connect`` in a session without ``avatar``."""
    return ProtocolError("Avatar is not configured for this session: set 'session.avatar' with session.update "
                         "first.", "invalid_request_error", "session.avatar")


def voice_live_sampling_rate(rate: int, fmt: str) -> ProtocolError:
    """``input_audio_sampling_rate`` that the input format does not have (8000/16000/24000 for pcm16, 8000 for
    G.711; azure-ai-voicelive 1.3.1 ``RequestSession``)."""
    supported = "8000, 16000, 24000" if fmt == "pcm16" else "8000"
    return ProtocolError(f"Invalid value: {rate}. Supported input_audio_sampling_rate values for '{fmt}' are: "
                         f"{supported}.", "invalid_value", "session.input_audio_sampling_rate")


# --- translation sessions (docs/protocol.md §10) ---------------------------------------------------------


def translation_invalid_model(model: str, path: str, supported: Sequence[str]) -> ProtocolError:
    """A model that is not a translation model, in a translation client secret request (§10)."""
    return invalid_value(model, supported, path)


def translation_cannot_update(key: str) -> ProtocolError:
    """``session.update`` naming ``type`` or ``model``: set at creation, not updatable (§10)."""
    return ProtocolError(f"Invalid 'session.{key}': the translation session's {key} is set at creation and cannot "
                         "be changed with session.update.", "invalid_value", f"session.{key}")


def translation_wrong_key() -> ProtocolError:
    """A client secret minted for the other surface (realtime vs translation) presented at a handshake (§10)."""
    return ProtocolError("This client secret was created for a different Realtime surface (translation vs "
                         "realtime) and cannot be used here.", "invalid_api_key", type="invalid_request_error")


def mcp_tool_unavailable(name: str, label: str) -> str:
    """``protocol_error`` detail of a call the "model" makes to a tool the server does not list (or that
    ``allowed_tools`` hides) [U]."""
    return f"Tool '{name}' is not available on MCP server '{label}'."


MCP_TOOL_UNAVAILABLE_CODE = -32602
"""JSON-RPC "invalid params", what MCP servers answer for a tool they do not have (MCP spec, tools/call)."""


# --- Calls: WebRTC, SIP and the sideband (docs/protocol.md §11) -----------------------------------------------
# The service's exact strings for these are not published; the forms follow §6.1 and are marked [U] in §11.


def call_not_found(call_id: str) -> ProtocolError:
    return ProtocolError(f"Call with id '{call_id}' not found.", "call_not_found", "call_id")


def call_not_pending(call_id: str, status: str) -> ProtocolError:
    return ProtocolError(f"Call '{call_id}' cannot be changed: it is {status}.", "call_not_pending", "call_id")


def call_ended(call_id: str) -> ProtocolError:
    return ProtocolError(f"Call '{call_id}' has already ended.", "call_ended", "call_id")


def invalid_sdp(detail: str) -> ProtocolError:
    return ProtocolError(f"Invalid SDP offer: {detail}", "invalid_offer", "sdp")


def sdp_no_audio() -> ProtocolError:
    return ProtocolError("Invalid SDP offer: the offer has no audio media section.", "invalid_offer", "sdp")


def sdp_content_type(content_type: str) -> ProtocolError:
    return ProtocolError(f"Unsupported content type '{content_type}': send the SDP offer as application/sdp or "
                         "as multipart/form-data with an 'sdp' part.", "unsupported_content_type", None)


# --- GPT-Live (docs/protocol.md §13): the Live API's own errors ----------------------------------------------


def live_start_required() -> ProtocolError:
    """Any command before ``session.start`` on a primary WebSocket (§13.2, guessed wording)."""
    return ProtocolError("The first event on a Live WebSocket must be 'session.start'.", "session_not_started")


def live_already_started() -> ProtocolError:
    return ProtocolError("The Live session has already started.", "session_already_started")


def live_unknown_model(model: str, known: Sequence[str]) -> ProtocolError:
    return ProtocolError(f"Invalid 'session.model': '{model}' is not a Live model. Supported values are: "
                         f"{quote_list(known)}.", "invalid_value", "session.model")


def live_unsupported_rate(rate: int, path: str) -> ProtocolError:
    return ProtocolError(f"Invalid '{path}': {rate} Hz is not supported by mockrt for this encoding "
                         f"(audio/pcm: 24000, audio/pcmu and audio/pcma: 8000).", "invalid_value", path)


def live_immutable(path: str) -> ProtocolError:
    return ProtocolError(f"'{path}' cannot be changed after the Live session has started.", "immutable_parameter",
                         path)


def live_delegation_type_change(current: str, given: str) -> ProtocolError:
    return ProtocolError(f"The delegation type cannot change: the session delegates to '{current}', not "
                         f"'{given}'.", "invalid_value", "session.delegation.type")


def live_fixture_active() -> ProtocolError:
    return ProtocolError("An audio fixture is playing; try again after session.output_audio.fixture.played.",
                         "fixture_active")


def live_fixture_too_long(ms: float) -> ProtocolError:
    return ProtocolError(f"Invalid 'audio': the fixture is {ms / 1000.0:.1f} seconds long; at most 30 seconds "
                         f"are allowed.", "invalid_value", "audio")


def live_invalid_audio(path: str) -> ProtocolError:
    return ProtocolError(f"Invalid '{path}': expected base64-encoded raw audio.", "invalid_value", path)


def live_unknown_delegation(delegation_id: str) -> ProtocolError:
    return ProtocolError(f"Delegation '{delegation_id}' does not exist in this session.", "invalid_value",
                         "delegation_id")


def live_requires_responses_delegation() -> ProtocolError:
    return ProtocolError("This command requires Responses delegation (session.delegation.type 'responses').",
                         "invalid_request")


def live_delegation_id_with_responses() -> ProtocolError:
    return ProtocolError("A non-null delegation_id is not accepted with Responses delegation.", "invalid_value",
                         "delegation_id")


def live_requires_decisions_delegation() -> ProtocolError:
    return ProtocolError("This command requires Decisions delegation (session.delegation.type 'decisions').",
                         "invalid_request")


def live_decision_event_id_reused(event_id: str) -> ProtocolError:
    """``decision.create``: "Reusing an event_id is rejected for the lifetime of the session" (§13.5) [U: wording]."""
    return ProtocolError(f"Invalid 'event_id': '{event_id[:64]}' was already used by a decision.create in this "
                         f"session.", "invalid_value", "event_id")


def live_decision_item_exists(item_id: str) -> ProtocolError:
    return ProtocolError(f"Invalid 'item.id': the Decision item '{item_id[:64]}' already exists.", "invalid_value",
                         "item.id")


def live_decision_item_not_found(item_id: str) -> ProtocolError:
    return ProtocolError(f"Invalid 'item_id': the Decision item '{item_id[:64]}' does not exist.", "invalid_value",
                         "item_id")


def live_decision_unknown_call(call_id: str) -> ProtocolError:
    """A tool output must identify a matching call of the Decision context by call ID (§13.5)."""
    return ProtocolError(f"Invalid 'item.call_id': no call with call_id '{call_id[:64]}' in the Decision items.",
                         "invalid_value", "item.call_id")


def live_decision_duplicate_choice(value: object, path: str) -> ProtocolError:
    return ProtocolError(f"Invalid '{path}': duplicate choice value {value!r:.40}; each choice must be unique.",
                         "invalid_value", path)


def live_not_served(what: str) -> ProtocolError:
    """A Live feature mockrt does not serve yet (§13 "mockrt:"), said plainly instead of pretending."""
    return ProtocolError(f"mockrt does not serve {what} yet.", "unsupported_by_mockrt")


def live_session_not_found(session_id: str) -> ProtocolError:
    """A fork of a session that is neither running with ``store: true`` nor stored, an attach to a session that
    is not running, or the ``content`` of a session with no recording (§13.6, §13.7)."""
    return ProtocolError(f"Live session '{session_id}' not found.", "session_not_found", "session_id")


def live_recording_not_final(session_id: str) -> ProtocolError:
    """``content`` of a stored session that is still running: its recording is finalized when it closes
    (§13.6; the code and wording are mockrt's [U])."""
    return ProtocolError(f"Live session '{session_id}' is still active; its recording is available after it "
                         f"closes.", "session_active", "session_id")


# --- GPT-Live over SIP (docs/protocol.md §13.8): the mock's own wording [U] -------------------------------------


def live_dtmf_digit(value: str) -> ProtocolError:
    return ProtocolError(f"Invalid 'event': '{value[:20]}' is not a DTMF keypress (one of 0-9, *, #, A-D).",
                         "invalid_value", "event")


def live_sip_not_live(value: object) -> ProtocolError:
    return ProtocolError(f"Invalid 'session.type': expected 'live', got {value!r:.40}.", "invalid_value",
                         "session.type")


def live_call_audio_format() -> ProtocolError:
    return ProtocolError("Invalid 'session.audio.format': SIP and WebRTC negotiate the media format; omit it.",
                         "invalid_value", "session.audio.format")


def live_reject_status() -> ProtocolError:
    return ProtocolError("Invalid 'status_code': expected a SIP response code between 300 and 699.",
                         "invalid_value", "status_code")


def live_selector_response_event(path: str) -> ProtocolError:
    """A ``ServerEventSelector`` with ``response_event`` where the type is not ``response.event``, or without it
    where it is (§13.8)."""
    return ProtocolError(f"Invalid '{path}': 'response_event' is required when 'type' is 'response.event' and "
                         f"forbidden otherwise.", "invalid_value", f"{path}.response_event")


def live_event_not_permitted(wire_type: str) -> ProtocolError:
    """A WebRTC frontend sent a client event its ``client.data_channel.allowed_client_events`` does not list
    (§13.8) [U: code and wording]."""
    return ProtocolError(f"The data channel is not permitted to send '{wire_type[:64]}' events in this session.",
                         "event_not_permitted", "type")


def live_sip_transport(path: str, reason: str) -> ProtocolError:
    """A bad outbound SIP transport on ``POST /v1/live/sessions`` (§13.8) [U: wording]."""
    return ProtocolError(f"Invalid '{path}': {reason}.", "invalid_value", path)
