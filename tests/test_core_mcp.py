"""The sans-I/O MCP seam: tool configs with the service's error forms, filters, approvals, minimal_instance."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openai.types.realtime.realtime_tools_config_union import Mcp

from mockrt.core.dialects import mcp as wire
from mockrt.core.errors import ProtocolError
from mockrt.core.mcp import (
    APPROVAL_RESPONSE_SCHEMA,
    ApprovalRequest,
    ApprovalResponse,
    McpServerConfig,
    McpTool,
    ToolFilter,
    parse_servers,
)
from mockrt.core.schema_instance import Unsatisfiable, minimal_instance
from tests.protocol_types import validate_server_event

FULL_TOOL = {
    "type": "mcp",
    "server_label": "deepwiki",
    "server_url": "https://mcp.example.com/mcp",
    "server_description": "Docs for repositories",
    "allowed_tools": {"tool_names": ["ask"], "read_only": True},
    "require_approval": {"never": {"tool_names": ["ask"]}},
    "headers": {"X-Tenant": "acme"},
    "authorization": "oauth-123",
}


def tool(name: str, read_only: bool = False) -> McpTool:
    return McpTool(name, annotations={"readOnlyHint": True} if read_only else None)


def rejection(raw: Any, path: str = "session.tools[0]") -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        McpServerConfig.parse(raw, path)
    return info.value


def test_a_full_tool_parses_and_is_what_the_sdk_accepts() -> None:
    Mcp.model_validate(FULL_TOOL)
    cfg = McpServerConfig.parse(FULL_TOOL)
    assert cfg.server_label == "deepwiki" and cfg.server_url == "https://mcp.example.com/mcp"
    assert cfg.allowed_tools == ToolFilter(("ask",), True)
    assert cfg.approval is None and cfg.approval_never == ToolFilter(("ask",), None)
    assert cfg.request_headers() == {"X-Tenant": "acme", "Authorization": "Bearer oauth-123"}


@pytest.mark.parametrize(("raw", "code", "param", "message"), [
    ({**FULL_TOOL, "nope": 1}, "unknown_parameter", "session.tools[0].nope",
     "Unknown parameter: 'session.tools[0].nope'."),
    ({"type": "mcp", "server_url": "https://x"}, "missing_required_parameter", "session.tools[0].server_label", None),
    ({"type": "mcp", "server_label": "x"}, "invalid_value", "session.tools[0]",
     "Invalid 'session.tools[0]': one of 'server_url', 'connector_id', or 'tunnel_id' must be provided."),
    ({"type": "mcp", "server_label": "x", "server_url": "https://x", "connector_id": "connector_gmail"},
     "invalid_value", "session.tools[0]", None),
    ({"type": "mcp", "server_label": "x", "connector_id": "connector_myspace"}, "invalid_value",
     "session.tools[0].connector_id", None),
    ({**FULL_TOOL, "server_url": "ftp://files.example.com/mcp"}, "invalid_value", "session.tools[0].server_url",
     "Invalid 'session.tools[0].server_url': expected an http or https URL."),
    ({**FULL_TOOL, "server_url": "http://[::1"}, "invalid_value", "session.tools[0].server_url", None),
    ({**FULL_TOOL, "server_url": "not a url"}, "invalid_value", "session.tools[0].server_url", None),
    ({**FULL_TOOL, "allowed_tools": "ask"}, "invalid_type", "session.tools[0].allowed_tools",
     "Invalid type for 'session.tools[0].allowed_tools': expected an array or an object, but got a string instead."),
    ({**FULL_TOOL, "allowed_tools": {"names": ["ask"]}}, "unknown_parameter",
     "session.tools[0].allowed_tools.names", None),
    ({**FULL_TOOL, "require_approval": "sometimes"}, "invalid_value", "session.tools[0].require_approval",
     "Invalid value: 'sometimes'. Supported values are: 'always' and 'never'."),
    ({**FULL_TOOL, "headers": {"X-Count": 3}}, "invalid_type", "session.tools[0].headers.X-Count", None),
    ({**FULL_TOOL, "authorization": 5}, "invalid_type", "session.tools[0].authorization", None),
])
def test_bad_tools_get_the_services_errors(raw: dict[str, Any], code: str, param: str, message: str | None) -> None:
    err = rejection(raw)
    assert (err.code, err.param) == (code, param)
    if message is not None:
        assert err.message == message


def test_parse_servers_skips_function_tools_and_rejects_duplicate_labels() -> None:
    function = {"type": "function", "name": "f", "parameters": {"type": "object"}}
    servers = parse_servers([function, FULL_TOOL], "session.tools")
    assert [s.server_label for s in servers] == ["deepwiki"]
    with pytest.raises(ProtocolError) as info:
        parse_servers([FULL_TOOL, function, FULL_TOOL], "session.tools")
    assert info.value.param == "session.tools[2].server_label"


def test_allowed_tools_forms() -> None:
    tools = [tool("read", read_only=True), tool("write"), tool("delete")]
    base = {"type": "mcp", "server_label": "s", "server_url": "https://x/mcp"}

    def allowed(value: Any) -> list[str]:
        return [t.name for t in McpServerConfig.parse({**base, "allowed_tools": value}).filter_tools(tools)]

    assert allowed(None) == ["read", "write", "delete"]
    assert allowed(["delete", "read"]) == ["read", "delete"]
    assert allowed({"read_only": False}) == ["write", "delete"]
    assert allowed({"tool_names": ["write", "read"], "read_only": True}) == ["read"]
    assert allowed({}) == ["read", "write", "delete"]


@pytest.mark.parametrize(("require", "expected"), [
    (None, {"read": True, "write": True}),  # the default is "always"
    ("always", {"read": True, "write": True}),
    ("never", {"read": False, "write": False}),
    ({"never": {"tool_names": ["read"]}}, {"read": False, "write": True}),
    ({"never": {"read_only": True}}, {"read": False, "write": True}),
    ({"always": {"tool_names": ["write"]}, "never": {"tool_names": ["write", "read"]}}, {"read": False, "write": True}),
    ({"never": ["read"]}, {"read": False, "write": True}),  # Azure Voice Live's list form
    ({}, {"read": True, "write": True}),
])
def test_require_approval(require: Any, expected: dict[str, bool]) -> None:
    raw: dict[str, Any] = {"type": "mcp", "server_label": "s", "server_url": "https://x/mcp"}
    if require is not None:
        raw["require_approval"] = require
    cfg = McpServerConfig.parse(raw)
    assert {t.name: cfg.needs_approval(t) for t in (tool("read", True), tool("write"))} == expected


# --- minimal_instance -------------------------------------------------------------------------------


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["a"]},
     {"a": 0}),
    ({"type": "object", "properties": {"unit": {"enum": ["C", "F"]}, "v": {"const": 3}}, "required": ["unit", "v"]},
     {"unit": "C", "v": 3}),
    ({"anyOf": [{"type": "string", "minLength": 2}, {"type": "null"}]}, "aa"),
    ({"oneOf": [{"type": "integer", "minimum": 5}, {"type": "string"}]}, 5),
    ({"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2}, [1, 1]),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": True}, [0, 1, -1]),
    ({"type": "integer", "minimum": 3, "maximum": 9}, 3),
    ({"type": "integer", "exclusiveMinimum": 3}, 4),
    ({"type": "integer", "maximum": -4}, -4),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, 0.5),
    ({"type": "integer", "multipleOf": 7, "minimum": 10}, 14),
    ({"type": "string", "minLength": 3}, "aaa"),
    ({"type": "string", "format": "date-time"}, "1970-01-01T00:00:00Z"),
    ({"type": "string", "format": "email", "minLength": 16}, "aaaa@example.com"),
    ({"type": "boolean"}, False),
    ({"type": ["null", "string"]}, None),
    ({"$defs": {"P": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
      "type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "required": ["p"]}, {"p": {"n": 0}}),
    ({"allOf": [{"type": "object", "required": ["a"]}, {"properties": {"a": {"type": "string", "minLength": 1}}}]},
     {"a": "a"}),
    ({"type": "object", "minProperties": 1, "properties": {"x": {"type": "boolean"}}}, {"x": False}),
    ({"type": "string", "pattern": "^[0-9]+$"}, "0"),
    (True, None),
])
def test_minimal_instances(schema: Any, expected: Any) -> None:
    assert minimal_instance(schema) == expected


@pytest.mark.parametrize("schema", [
    False,
    {"enum": [1, 2], "type": "string"},
    {"type": "integer", "minimum": 5, "maximum": 4},
    {"type": "object", "required": ["a"], "additionalProperties": False},
    {"type": "string", "maxLength": 2, "minLength": 3},
    {"$ref": "https://example.com/schema.json"},
])
def test_unsatisfiable_schemas_raise(schema: Any) -> None:
    with pytest.raises(Unsatisfiable):
        minimal_instance(schema)


def test_a_real_tool_schema_gets_only_its_required_arguments() -> None:
    schema = {"type": "object", "title": "bookArguments", "required": ["city", "nights", "guests"],
              "properties": {"city": {"type": "string"}, "nights": {"type": "integer", "minimum": 1},
                             "guests": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                             "smoking": {"type": "boolean", "default": False}}}
    assert minimal_instance(schema) == {"city": "", "nights": 1, "guests": [""]}


# A generator of satisfiable schemas in the subset minimal_instance promises to handle.

_NAMES = st.sampled_from(["a", "b", "c", "city", "n"])


@st.composite
def _integer(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer"}
    lo = draw(st.integers(-1000, 1000))
    width = draw(st.integers(0, 1000))
    step = draw(st.sampled_from([None, 1, 2, 3, 7]))
    if step is not None:
        out["multipleOf"] = step
        width = max(width, 2 * step)
    if draw(st.booleans()):
        out["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
    if draw(st.booleans()):
        out["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = lo + width + 2
    return out


@st.composite
def _number(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number"}
    lo = draw(st.integers(-4000, 4000)) / 4
    width = draw(st.integers(1, 4000)) / 4
    if draw(st.booleans()):
        out["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
    if draw(st.booleans()):
        out["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = lo + width
    return out


@st.composite
def _string(draw: st.DrawFn) -> dict[str, Any]:
    fmt = draw(st.sampled_from([None, "date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6",
                                "hostname"]))
    out: dict[str, Any] = {"type": "string"}
    if fmt is not None:
        out["format"] = fmt
    if fmt in (None, "email", "uri"):
        low = draw(st.integers(0, 40))
        if low:
            out["minLength"] = low
        if draw(st.booleans()):
            out["maxLength"] = max(low, 40)
    return out


_JSON = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4))
_LEAVES = st.one_of(
    _integer(), _number(), _string(),
    st.just({"type": "boolean"}), st.just({"type": "null"}),
    st.lists(_JSON, min_size=1, max_size=4).map(lambda values: {"enum": values}),
    _JSON.map(lambda value: {"const": value}),
)
_KINDS = {"integer": _integer(), "string": _string(), "boolean": st.just({"type": "boolean"}),
          "null": st.just({"type": "null"}), "object": st.just({"type": "object"}),
          "array": st.just({"type": "array", "items": {"type": "integer"}})}


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def obj(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_NAMES, children, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        out: dict[str, Any] = {"type": "object", "properties": props, "required": required}
        if draw(st.booleans()):
            out["additionalProperties"] = False
        return out

    @st.composite
    def arr(draw: st.DrawFn) -> dict[str, Any]:
        low = draw(st.integers(0, 3))
        out: dict[str, Any] = {"type": "array", "items": draw(children), "minItems": low}
        if draw(st.booleans()):
            out["maxItems"] = low + draw(st.integers(0, 2))
        return out

    @st.composite
    def unique(draw: st.DrawFn) -> dict[str, Any]:
        items = draw(st.sampled_from([{"type": "string"}, {"type": "integer"}, {"type": "integer", "minimum": 3},
                                      {"type": "integer", "multipleOf": 2, "maximum": 6}, {"type": "number"}]))
        return {"type": "array", "items": items, "minItems": draw(st.integers(0, 3)), "uniqueItems": True}

    @st.composite
    def one_of(draw: st.DrawFn) -> dict[str, Any]:  # disjoint branches: exactly one can match
        kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=3, unique=True))
        return {"oneOf": [draw(_KINDS[k]) for k in kinds]}

    any_of = st.lists(children, min_size=1, max_size=3).map(lambda alts: {"anyOf": alts})
    return st.one_of(obj(), arr(), unique(), one_of(), any_of)


SCHEMAS = st.recursive(_LEAVES, _extend, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCHEMAS)
def test_minimal_instance_is_valid(schema: dict[str, Any]) -> None:
    instance = minimal_instance(schema)
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(instance)
    if schema.get("type") == "object":
        assert set(instance) == set(schema["required"]), "only the required properties"
    if schema.get("type") == "array":
        assert len(instance) == schema["minItems"], "exactly minItems items"


# --- approval items ----------------------------------------------------------------------------------------


def test_approval_items_validate_against_the_sdk() -> None:
    request = ApprovalRequest("item_apr1", "deepwiki", "ask", '{"q":"x"}')
    raw = APPROVAL_RESPONSE_SCHEMA.check({"type": "mcp_approval_response", "approval_request_id": "item_apr1",
                                          "approve": False, "reason": "not now"}, "item")
    response = ApprovalResponse("item_aprs1", raw["approval_request_id"], raw["approve"], raw["reason"])
    events = [
        {"type": "response.output_item.done", "response_id": "resp_1", "output_index": 0,
         "item": wire.render_approval_request(request)},
        {"type": "conversation.item.done", "previous_item_id": "item_apr1",
         "item": wire.render_approval_response(response)},
    ]
    for n, event in enumerate(events):
        validate_server_event({"type": event["type"], "event_id": f"event_{n:021d}", **event}, "ga")


def test_a_bad_approval_response_gets_the_services_error() -> None:
    with pytest.raises(ProtocolError) as info:
        APPROVAL_RESPONSE_SCHEMA.check({"type": "mcp_approval_response", "approval_request_id": "x",
                                        "approve": "yes"}, "item")
    assert (info.value.code, info.value.param) == ("invalid_type", "item.approve")
