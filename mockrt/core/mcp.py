"""MCP tools, the sans-I/O half: the internal model, the directives and the results (docs/protocol.md §4.7, §4.9).

A GA ``{"type": "mcp", ...}`` tool names a remote MCP server. The core never talks to it: it returns
:class:`ListTools` / :class:`CallTool` directives beside its ``Send`` outputs, the transport runs them with an
executor (:mod:`mockrt.mcp`: a real MCP client, or a scenario's stand-in) and feeds the outcome back as a
:class:`ToolsListed` / :class:`ToolsFailed` / :class:`CallDone` / :class:`CallFailed` result, stamped with the
time it arrived. Everything here is plain data and pure functions; docs/protocol.md §9 describes the integration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from mockrt.core import errors
from mockrt.core.schema import AnyValue, Arr, Bool, Check, Const, Custom, Enum, Int, Nullable, Obj, OneOf, Str, Union

CONNECTORS = (
    "connector_dropbox",
    "connector_gmail",
    "connector_googlecalendar",
    "connector_googledrive",
    "connector_microsoftteams",
    "connector_outlookcalendar",
    "connector_outlookemail",
    "connector_sharepoint",
)
"""The service connectors the SDK types list for ``connector_id`` (§4.9)."""

# --- the tool dict, validated with the service's error forms (§4.9, §6.1) ---------------------------------

TOOL_FILTER = Obj({"tool_names": Arr(Str()), "read_only": Bool()})
"""``{tool_names?, read_only?}``: the filter object of ``allowed_tools`` and of ``require_approval``."""



def _http_url(value: str, path: str) -> str:
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise errors.mcp_invalid_server_url(path)
    return value


_APPROVAL_FILTER = OneOf(TOOL_FILTER, Arr(Str()), expected="an object")  # Azure Voice Live: a list of names

MCP_TOOL_SCHEMA = Obj(
    {
        "type": Const("mcp"),
        "server_label": Str(),
        "server_url": Custom(Str(), _http_url),
        "connector_id": Str(choices=CONNECTORS),
        "tunnel_id": Str(),
        "server_description": Str(),
        "allowed_tools": Nullable(OneOf(Arr(Str()), TOOL_FILTER, expected="an array or an object")),
        "require_approval": Nullable(
            OneOf(Enum("always", "never"), Obj({"always": _APPROVAL_FILTER, "never": _APPROVAL_FILTER}),
                  expected="a string or an object")
        ),
        "headers": Nullable(Obj({}, extra=Str())),
        "authorization": Str(),
        "allowed_callers": Arr(Enum("direct", "programmatic")),
        "defer_loading": Bool(),
    },
    required=("type", "server_label"),
)
"""The GA ``mcp`` tool (the SDK's ``RealtimeToolsConfigUnion`` ``Mcp`` member); the GA dialect's schema can be
this one."""

MCP_TOOL_CHOICE_SCHEMA = Obj({"type": Const("mcp"), "server_label": Str(), "name": Str()}, required=("server_label",))
"""``tool_choice: {"type": "mcp", "server_label", "name"?}`` (§4.9)."""


@dataclass(frozen=True)
class ToolFilter:
    """``{tool_names?, read_only?}``: a tool matches when every given condition holds (§4.9)."""

    tool_names: tuple[str, ...] | None = None
    read_only: bool | None = None

    def matches(self, tool: McpTool) -> bool:
        if self.tool_names is not None and tool.name not in self.tool_names:
            return False
        return self.read_only is None or tool.read_only == self.read_only

    @classmethod
    def parse(cls, raw: dict[str, Any] | list[str]) -> ToolFilter:
        if isinstance(raw, list):
            return cls(tool_names=tuple(raw))
        names = raw.get("tool_names")
        return cls(tuple(names) if names is not None else None, raw.get("read_only"))


ApprovalMode = Literal["always", "never"]


@dataclass(frozen=True)
class McpServerConfig:
    """One ``{"type": "mcp"}`` tool: where the server is, which of its tools the model sees, which need approval.

    ``allowed_tools`` ``None`` allows every tool (a list is a :class:`ToolFilter` on names). ``require_approval``
    defaults to ``always``, like the Responses API's remote MCP tool; with a filter object a tool matching
    ``never`` (and not ``always``) needs none, any other tool needs one.
    """

    server_label: str
    server_url: str | None = None
    connector_id: str | None = None
    tunnel_id: str | None = None
    server_description: str | None = None
    allowed_tools: ToolFilter | None = None
    approval: ApprovalMode | None = "always"
    approval_always: ToolFilter | None = None
    approval_never: ToolFilter | None = None
    headers: tuple[tuple[str, str], ...] = ()
    authorization: str | None = None

    @classmethod
    def parse(cls, raw: Any, path: str = "tools[0]") -> McpServerConfig:
        """Validate a tool dict (raising the service's ``ProtocolError``) and build the config."""
        tool = MCP_TOOL_SCHEMA.check(raw, path)
        sources = [key for key in ("server_url", "connector_id", "tunnel_id") if tool.get(key) is not None]
        if not sources:
            raise errors.mcp_server_source_missing(path)
        if len(sources) > 1:
            raise errors.mcp_server_source_conflict(path, sources)
        allowed = tool.get("allowed_tools")
        approval = tool.get("require_approval", "always")
        always = never = None
        if isinstance(approval, dict):
            always = ToolFilter.parse(approval["always"]) if "always" in approval else None
            never = ToolFilter.parse(approval["never"]) if "never" in approval else None
            approval = None
        return cls(
            server_label=tool["server_label"],
            server_url=tool.get("server_url"),
            connector_id=tool.get("connector_id"),
            tunnel_id=tool.get("tunnel_id"),
            server_description=tool.get("server_description"),
            allowed_tools=ToolFilter.parse(allowed) if allowed is not None else None,
            approval=approval,
            approval_always=always,
            approval_never=never,
            headers=tuple(sorted((tool.get("headers") or {}).items())),
            authorization=tool.get("authorization"),
        )

    def allows(self, tool: McpTool) -> bool:
        return self.allowed_tools is None or self.allowed_tools.matches(tool)

    def filter_tools(self, tools: Iterable[McpTool]) -> list[McpTool]:
        """The listed tools the model may call, in the server's order (``allowed_tools``)."""
        return [t for t in tools if self.allows(t)]

    def needs_approval(self, tool: McpTool) -> bool:
        if self.approval is not None:
            return self.approval == "always"
        if self.approval_always is not None and self.approval_always.matches(tool):
            return True
        return not (self.approval_never is not None and self.approval_never.matches(tool))

    def request_headers(self) -> dict[str, str]:
        """The HTTP headers for the server: ``headers`` plus ``authorization`` as a bearer token."""
        out = dict(self.headers)
        if self.authorization is not None:
            out["Authorization"] = f"Bearer {self.authorization}"
        return out


def parse_servers(tools: Sequence[Any], path: str = "tools") -> list[McpServerConfig]:
    """The MCP servers among a ``tools`` array (other tool types are skipped); labels must be unique."""
    out: list[McpServerConfig] = []
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            config = McpServerConfig.parse(tool, f"{path}[{i}]")
            if config.server_label in seen:
                raise errors.mcp_duplicate_server_label(config.server_label, f"{path}[{i}].server_label")
            seen.add(config.server_label)
            out.append(config)
    return out


# --- tools, calls, approvals -------------------------------------------------------------------------


@dataclass(frozen=True)
class McpTool:
    """A tool listed by an MCP server (the ``mcp_list_tools`` item's ``tools[]``, §4.7)."""

    name: str
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    description: str | None = None
    annotations: dict[str, Any] | None = None

    @property
    def read_only(self) -> bool:
        """MCP's ``readOnlyHint`` annotation (what ``read_only`` filters match)."""
        return bool((self.annotations or {}).get("readOnlyHint", False))


McpErrorType = Literal["protocol_error", "tool_execution_error", "http_error"]


@dataclass(frozen=True)
class McpError:
    """The ``mcp_call`` item's ``error`` (§4.7): a JSON-RPC error, a tool's own ``isError`` result, or an HTTP
    failure (``code`` is the JSON-RPC code or the HTTP status; a tool error has none)."""

    type: McpErrorType
    message: str
    code: int | None = None

    @classmethod
    def http(cls, status: int) -> McpError:
        """The server answered with an HTTP error status."""
        return cls("http_error", errors.mcp_http_status(status), status)

    @classmethod
    def unreachable(cls) -> McpError:
        """No connection (refused, unknown host, a connector or tunnel the mock cannot reach)."""
        return cls("http_error", errors.mcp_unreachable(), errors.MCP_UNREACHABLE_STATUS)

    @classmethod
    def timeout(cls, seconds: float) -> McpError:
        """No answer within the client's timeout."""
        return cls("http_error", errors.mcp_timeout(seconds), errors.MCP_UNREACHABLE_STATUS)


@dataclass
class McpCall:
    """One ``mcp_call`` item's state: arguments, then an output or an error (§4.7)."""

    item_id: str
    server_label: str
    name: str
    arguments: str
    approval_request_id: str | None = None
    output: str | None = None
    error: McpError | None = None


@dataclass(frozen=True)
class ApprovalRequest:
    """An ``mcp_approval_request`` item: the call waits for an ``mcp_approval_response`` naming ``id`` (§4.7)."""

    id: str
    server_label: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ApprovalResponse:
    """A client's ``mcp_approval_response`` item (§4.7)."""

    id: str
    approval_request_id: str
    approve: bool
    reason: str | None = None


APPROVAL_RESPONSE_SCHEMA: Check = Obj(
    {
        "id": Str(),
        "type": Const("mcp_approval_response"),
        "approval_request_id": Str(),
        "approve": Bool(),
        "reason": Nullable(Str()),
        "object": AnyValue(),
    },
    required=("type", "approval_request_id", "approve"),
)
"""The client-created ``mcp_approval_response`` item (``item`` of ``conversation.item.create``)."""

_CODED_ERROR = {"type": Str(), "code": Int(), "message": Str()}
MCP_CALL_ERROR_SCHEMA: Check = Nullable(Union({
    "protocol_error": Obj(_CODED_ERROR, required=("type", "code", "message")),
    "tool_execution_error": Obj({"type": Str(), "message": Str()}, required=("type", "message")),
    "http_error": Obj(_CODED_ERROR, required=("type", "code", "message")),
}))
"""``mcp_call.error``: the SDK's ``RealtimeMcpProtocolErrorParam`` / ``…ToolExecutionErrorParam`` /
``RealtimeMcphttpErrorParam`` union (§4.7)."""

MCP_CALL_ITEM_SCHEMA: Check = Obj(
    {
        "id": Str(max_len=64),
        "type": Const("mcp_call"),
        "server_label": Str(),
        "name": Str(),
        "arguments": Str(),
        "approval_request_id": Nullable(Str()),
        "output": Nullable(Str()),
        "error": MCP_CALL_ERROR_SCHEMA,
        "object": AnyValue(),
    },
    required=("id", "type", "server_label", "name", "arguments"),
)
"""A client-created ``mcp_call`` item (the SDK's ``RealtimeMcpToolCallParam``: ``id`` is required, §9.3)."""

MCP_APPROVAL_REQUEST_ITEM_SCHEMA: Check = Obj(
    {"id": Str(max_len=64), "type": Const("mcp_approval_request"), "server_label": Str(), "name": Str(),
     "arguments": Str(), "object": AnyValue()},
    required=("id", "type", "server_label", "name", "arguments"),
)
"""A client-created ``mcp_approval_request`` item (the SDK's ``RealtimeMcpApprovalRequestParam``, §9.4, §9.7)."""

MCP_LIST_TOOLS_ITEM_SCHEMA: Check = Obj(
    {
        "id": Str(max_len=64),
        "type": Const("mcp_list_tools"),
        "server_label": Str(),
        "tools": Arr(Obj({"name": Str(), "input_schema": Obj({}, extra=AnyValue()), "description": Nullable(Str()),
                          "annotations": Nullable(Obj({}, extra=AnyValue()))}, required=("name", "input_schema"))),
        "object": AnyValue(),
    },
    required=("type", "server_label", "tools"),
)
"""A client-created ``mcp_list_tools`` item (the SDK's ``RealtimeMcpListToolsParam``: ``id`` optional, §9.2)."""


# --- directives (core -> transport) and results (transport -> core) ------------------------------------


@dataclass(frozen=True, slots=True)
class ListTools:
    """Directive: list ``server``'s tools and feed back :class:`ToolsListed` or :class:`ToolsFailed`."""

    request_id: str
    server: McpServerConfig


@dataclass(frozen=True, slots=True)
class CallTool:
    """Directive: call ``name`` on ``server`` with ``arguments`` and feed back :class:`CallDone` or
    :class:`CallFailed`."""

    request_id: str
    server: McpServerConfig
    name: str
    arguments: dict[str, Any]


McpDirective = ListTools | CallTool


@dataclass(frozen=True, slots=True)
class ToolsListed:
    """The server's tools, already filtered by ``allowed_tools``."""

    request_id: str
    tools: tuple[McpTool, ...]


@dataclass(frozen=True, slots=True)
class ToolsFailed:
    """Listing failed; ``error.message`` is the service's sentence for the ``error`` event."""

    request_id: str
    error: McpError


@dataclass(frozen=True, slots=True)
class CallDone:
    """The tool ran; ``output`` is its text (the ``mcp_call`` item's ``output``)."""

    request_id: str
    output: str


@dataclass(frozen=True, slots=True)
class CallFailed:
    """The call failed: the server's JSON-RPC error, the tool's ``isError`` result, HTTP, unreachable or timeout."""

    request_id: str
    error: McpError


McpResult = ToolsListed | ToolsFailed | CallDone | CallFailed
