"""Connection, auth, framing and ids (docs/protocol.md §1, §2 envelope, §3.2, §6.2)."""

from __future__ import annotations

import re

from conformance import Ctx, case
from conformance.checks import CaseFailure, expect, expect_equal, expect_match
from conformance.client import HandshakeRefused
from conformance.targets import WRONG_KEY
from conformance.wire import GA_CLIENT_TYPES, WEATHER_TOOL

from ._common import manual, user_text

OPENAI_STYLE = ("mock", "openai", "url")


def _quote_list(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


@case(id="connection/session-created/first-event", section="§3.3, §5.1, §1.8",
      description="session.created is the first server event, sent unprompted, with a sess_ id",
      requirement="The server sends session.created immediately after the upgrade, before any client event; every "
                  "server event has type and an event_ id [V].")
def test_session_created_first(ctx: Ctx) -> None:
    s = ctx.connect()
    session = s.created["session"]
    expect_match(session.get("id"), r"sess_[A-Za-z0-9]+", "session.id")
    expect_equal(session.get("object"), "realtime.session", "session.object")
    if ctx.ga:  # GA captures list type first, then event_id; beta captures often had event_id first (§1.8) [V]
        expect_equal(list(s.created)[:2], ["type", "event_id"], "key order of the frame (type first, then event_id)")


def _refused_http(ctx: Ctx, auth: str) -> None:
    try:
        s = ctx.connect(auth=auth, expect_created=False)
    except HandshakeRefused as exc:
        expect_equal(exc.status, 401, "HTTP status of the refused upgrade (§1.2)")
        return
    first = s.next()
    raise CaseFailure(f"Azure refuses bad auth at the HTTP level (401), but the upgrade succeeded and sent "
                      f"{first!r:.200}")


@case(id="connection/auth/wrong-key", section="§1.4, §1.2",
      description="a wrong key gets error invalid_api_key (masked key) then close 3000; Azure: HTTP 401",
      requirement="OpenAI accepts the upgrade, sends one error (code invalid_api_key, the key masked, param and "
                  "event_id null) and closes with 3000 'invalid_request_error.invalid_api_key' [V]; Azure answers "
                  "HTTP 401 [V].")
def test_wrong_key(ctx: Ctx) -> None:
    if not ctx.target.supports_auth_cases:
        ctx.skip("this url target has no key configured (set CONFORMANCE_API_KEY), so no key is wrong")
    if ctx.flavour == "azure":
        _refused_http(ctx, "wrong")
        return
    s = ctx.connect(auth="wrong", expect_created=False)
    error = s.expect_error(code="invalid_api_key", param=None, event_id=None,
                           message_re=r"Incorrect API key provided: \S+\. You can find your API key at "
                                      r"https://platform\.openai\.com/account/api-keys\.")
    expect(WRONG_KEY not in error["message"], "the key must be masked in the message")
    expect_equal(s.wait_closed(), (3000, "invalid_request_error.invalid_api_key"), "close code and reason")


@case(id="connection/auth/missing-key", section="§1.4, §1.2",
      description="no credential gets the 'Missing bearer' error then close 3000; Azure: HTTP 401",
      requirement="Without Authorization the server sends error {code: null, message: 'Missing bearer or basic "
                  "authentication in header'} and closes 3000 'invalid_request_error' [V]; Azure: HTTP 401 [V].")
def test_missing_key(ctx: Ctx) -> None:
    if not ctx.target.supports_auth_cases:
        ctx.skip("this url target has no key configured (set CONFORMANCE_API_KEY), so it accepts anyone")
    if ctx.flavour == "azure":
        _refused_http(ctx, "none")
        return
    s = ctx.connect(auth="none", expect_created=False)
    s.expect_error(code=None, param=None, event_id=None, message="Missing bearer or basic authentication in header")
    expect_equal(s.wait_closed(), (3000, "invalid_request_error"), "close code and reason")


@case(id="connection/auth/subprotocol-key", section="§1.1",
      description="the key in an openai-insecure-api-key.<KEY> subprotocol authenticates; 'realtime' is echoed",
      requirement="Browser clients send subprotocols realtime + openai-insecure-api-key.<KEY> (+ "
                  "openai-beta.realtime-v1 for beta); the server must echo 'realtime' [D][U].",
      targets=OPENAI_STYLE)
def test_subprotocol_key(ctx: Ctx) -> None:
    s = ctx.connect(auth="subprotocol")
    expect_equal(s.subprotocol, "realtime", "negotiated subprotocol")
    dialect_key = "output_modalities" if ctx.ga else "modalities"
    expect(dialect_key in s.created["session"], f"the subprotocols select the {ctx.dialect} dialect "
                                                f"(session has {dialect_key!r})")


@case(id="connection/model/missing", section="§1.4",
      description="no model query parameter: error missing_model, then close 4000",
      requirement="A conversation session without ?model= gets error code missing_model ('You must provide a model "
                  "parameter, for example wss://…') and close 4000 'invalid_request_error.missing_model' [V].",
      targets=OPENAI_STYLE)
def test_missing_model(ctx: Ctx) -> None:
    s = ctx.connect(model=None, expect_created=False)
    s.expect_error(code="missing_model", param=None, event_id=None,
                   message_re=r"You must provide a model parameter, for example wss://\S+\?model=\S+")
    expect_equal(s.wait_closed(), (4000, "invalid_request_error.missing_model"), "close code and reason")


@case(id="connection/model/unknown", section="§1.4",
      description="an unknown model: error invalid_model naming it, then close 4000",
      requirement="An unknown model gets error invalid_model 'Model \"<m>\" is not supported in realtime mode.' "
                  "and close 4000 'invalid_request_error.invalid_model' [V].",
      targets=OPENAI_STYLE)
def test_unknown_model(ctx: Ctx) -> None:
    s = ctx.connect(model="gpt-nope-realtime", expect_created=False)
    s.expect_error(code="invalid_model", param=None, event_id=None,
                   message_re=r'Model "gpt-nope-realtime" is not supported in realtime mode\..*')
    expect_equal(s.wait_closed(), (4000, "invalid_request_error.invalid_model"), "close code and reason")


@case(id="connection/framing/binary-frame", section="§1.8, §6.2",
      description="a binary frame gets invalid_event with the exact message; the socket stays open",
      requirement="Binary frames → error code invalid_event, 'Expected a text WebSocket message; binary frames are "
                  "not supported.', param null; the socket stays usable [V].")
def test_binary_frame(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send_binary(b"\x00\x01\x02\x03")
    s.expect_error(code="invalid_event", param=None, event_id=None,
                   message="Expected a text WebSocket message; binary frames are not supported.")
    s.expect_quiet("after the binary-frame error")


@case(id="connection/framing/invalid-json", section="§1.8, §6.2",
      description="a text frame that is not JSON gets invalid_json; the socket stays open",
      requirement="Non-JSON text → error code invalid_json, message beginning 'Invalid event: failed to parse JSON "
                  "value.' [V]; non-fatal.")
def test_invalid_json(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send_raw("{this is not json")
    s.expect_error(code="invalid_json", param=None, event_id=None,
                   message_re=r"Invalid event: failed to parse JSON value\..*")
    s.expect_quiet("after the invalid-json error")


@case(id="connection/framing/unknown-type", section="§2, §6.2, §1.5",
      description="an unknown type (e.g. 'ping') gets invalid_value on 'type' listing the accepted types",
      requirement="Unknown type → code invalid_value, param 'type', 'Invalid value: '<t>'. Supported values are: …' "
                  "with the GA list in the server's order [V]; there is no application-level ping [R].")
def test_unknown_type(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "ping", "event_id": "evt_ping_1"})
    error = s.expect_error(code="invalid_value", param="type", event_id="evt_ping_1")
    if ctx.ga and ctx.flavour == "openai":
        expect_equal(error["message"], f"Invalid value: 'ping'. Supported values are: {_quote_list(GA_CLIENT_TYPES)}.",
                     "error.message (the GA accepted list, in order)")
    else:
        expect_match(error["message"], r"Invalid value: 'ping'\. Supported values are: 'session\.update', .*'response"
                                       r"\.cancel'\.", "error.message")


@case(id="connection/framing/missing-type", section="§6.2",
      description="an event without 'type' gets invalid_event \"The 'type' field is missing.\"",
      requirement="Missing type → code invalid_event, message \"The 'type' field is missing.\" [D: OpenAPI example; "
                  "real wording unverified].", level="should")
def test_missing_type(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"event_id": "evt_no_type"})
    s.expect_error(code="invalid_event", message="The 'type' field is missing.")


@case(id="connection/framing/unknown-parameter", section="§2, §6.1",
      description="an unknown key inside an event gets unknown_parameter with the dotted path",
      requirement="Unknown keys are rejected: code unknown_parameter, \"Unknown parameter: 'session.bogus_field'.\", "
                  "param 'session.bogus_field' [V]; the event has no other effect.")
def test_unknown_parameter(ctx: Ctx) -> None:
    s = ctx.connect()
    session = {"type": "realtime", "bogus_field": 1} if ctx.ga else {"bogus_field": 1}
    s.send({"type": "session.update", "event_id": "evt_bogus", "session": session})
    s.expect_error(code="unknown_parameter", param="session.bogus_field", event_id="evt_bogus",
                   message="Unknown parameter: 'session.bogus_field'.")
    s.expect_quiet("after a rejected session.update (no session.updated)")


@case(id="connection/framing/event-id-echo", section="§1.8, §3.2",
      description="error.event_id echoes the client's event_id, and is null when the client gave none",
      requirement="event_id of the client event that caused an error is echoed in error.event_id; null if the client "
                  "gave none [V].")
def test_event_id_echo(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "conversation.item.delete", "event_id": "evt_echo_42", "item_id": "item_missing_1"})
    s.expect_error(event_id="evt_echo_42")
    s.send({"type": "conversation.item.delete", "item_id": "item_missing_2"})
    s.expect_error(event_id=None)


@case(id="connection/ids/format", section="§1.8",
      description="ids have the service's shapes: event_/sess_/item_/resp_/conv_ + 21 chars, call_ + 16",
      requirement="Server event ids are 'event_' + 21 base-62 characters; sess_, conv_, item_, resp_ ids have 21 "
                  "characters after the prefix; call_id is 'call_' + 16 [V].", level="should")
def test_id_format(ctx: Ctx) -> None:
    s = manual(ctx)
    user_text(s)
    turn = s.respond({"tools": [WEATHER_TOOL], "tool_choice": "required"})
    tail = r"[A-Za-z0-9]{21}"
    for event in s.history:
        expect_match(event["event_id"], "event_" + tail, f"{event['type']}.event_id")
    expect_match(s.created["session"]["id"], "sess_" + tail, "session.id")
    expect_match(turn.response_id, "resp_" + tail, "response.id")
    expect_match(turn.response.get("conversation_id"), "conv_" + tail, "response.conversation_id")
    item = turn.response["output"][0]
    expect_match(item.get("id"), "item_" + tail, "output item id")
    expect_match(item.get("call_id"), r"call_[A-Za-z0-9]{16}", "function call_id")


@case(id="connection/session-close", section="§2",
      description="GA session.close closes the session gracefully",
      requirement="session.close appears in the GA accepted list [V]; its effect (a graceful close) is inferred [U].",
      level="info", dialects=("ga",))
def test_session_close(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.close"})
    code, _ = s.wait_closed()
    expect(code is not None and code < 3000, f"a graceful close code, got {code}")
    errors = [e for e in s.history if e.get("type") == "error"]
    expect(not errors, f"no error before the close, got {errors[:1]}")


@case(id="events/client-types/accepted", section="§2",
      description="every client event type of the dialect's SDK union (WebSocket ones) is accepted as a type",
      requirement="The server accepts session.update, input_audio_buffer.append/commit/clear, conversation.item."
                  "create/truncate/delete/retrieve, response.create/cancel: none is answered with invalid_value on "
                  "'type' [V].")
def test_client_types_accepted(ctx: Ctx) -> None:
    from conformance.validate import client_models

    s = ctx.connect()
    s.update(turn_detection=None, output="text")
    probes = sorted(t for t in client_models(ctx.dialect)
                    if t not in ("output_audio_buffer.clear", "transcription_session.update"))
    # A bogus key should make each probe an error without side effects (§2: unknown keys are rejected); whatever
    # the answer, it must not be a rejection of the type itself.
    for i, etype in enumerate(probes):
        event: dict[str, object] = {"type": etype, "event_id": f"probe_{i}", "conformance_probe": True}
        if etype == "response.create":  # should it be accepted anyway, keep it an out-of-band one-token response
            event["response"] = {"conversation": "none", "max_output_tokens" if ctx.ga
                                 else "max_response_output_tokens": 1}
        s.send(event)
    events = s.barrier()
    for event in events:
        error = event.get("error") if event.get("type") == "error" else None
        if isinstance(error, dict) and error.get("param") == "type":
            raise CaseFailure(f"a client event type was rejected as unknown: {error.get('message')!r} "
                              f"(event_id {error.get('event_id')!r})")
    answered = {str((e.get("error") or {}).get("event_id")) for e in events if e.get("type") == "error"}
    expect(answered, "the probes with a bogus key are answered with errors")


@case(id="events/client-types/webrtc-only", section="§2, §2.12",
      description="output_audio_buffer.clear (WebRTC/SIP only) is rejected over WebSocket as an unknown type",
      requirement="output_audio_buffer.clear is not in the GA WebSocket accepted list: invalid_value on 'type' [V].",
      dialects=("ga",))
def test_webrtc_only_rejected(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "output_audio_buffer.clear", "event_id": "evt_oab"})
    error = s.expect_error(code="invalid_value", param="type", event_id="evt_oab")
    expect(re.match(r"Invalid value: 'output_audio_buffer\.clear'\.", error["message"]) is not None,
           f"message names the rejected type: {error['message']!r}")

