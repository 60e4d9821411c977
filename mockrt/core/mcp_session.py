"""MCP tools inside a session: listing, calls and approvals (docs/protocol.md §9).

:class:`McpSession` is the session's MCP state, sans-I/O like the rest of the core. It lists each configured
server (``mcp_list_tools`` item and events, a :class:`~mockrt.core.mcp.ListTools` directive), answers what a
response's MCP call needs (:meth:`McpSession.dispatch`: the tool, its arguments, an approval request, or a
:class:`~mockrt.core.mcp.CallTool` directive) and takes the transport's results back with their arrival time
(:meth:`McpSession.on_result`). Results nobody waits for any more (a cancelled response, a replaced server) are
ignored.
"""

from __future__ import annotations

import itertools
import json
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from mockrt.core import errors
from mockrt.core.brain import McpCallOut, ReplyPlan
from mockrt.core.conversation import Conversation
from mockrt.core.events import ServerEvent
from mockrt.core.mcp import (
    ApprovalRequest,
    ApprovalResponse,
    CallDone,
    CallFailed,
    CallTool,
    ListTools,
    McpCall,
    McpError,
    McpResult,
    McpServerConfig,
    McpTool,
    ToolsFailed,
    ToolsListed,
    parse_servers,
)
from mockrt.core.model import Item, ResponseParams
from mockrt.core.responses import McpDenied, McpResolved, McpWait, ResponseRun
from mockrt.core.schema_instance import Unsatisfiable, minimal_instance


@dataclass
class ServerState:
    """One listed server: its config, its ``mcp_list_tools`` item and where the listing stands."""

    config: McpServerConfig
    item: Item
    request_id: str
    status: Literal["listing", "ready", "failed"] = "listing"
    tools: tuple[McpTool, ...] = ()
    error: McpError | None = None


@dataclass
class Approval:
    """An ``mcp_approval_request`` the "model" made; ``answer`` once the client's response item arrived."""

    request: ApprovalRequest
    answer: ApprovalResponse | None = None
    used: bool = False


_LISTING_KEYS = ("server_url", "connector_id", "tunnel_id", "headers", "authorization", "allowed_tools")


def _same_listing(a: McpServerConfig, b: McpServerConfig) -> bool:
    """Do two configs list the same tools (so a ``session.update`` need not list again)?"""
    return all(getattr(a, key) == getattr(b, key) for key in _LISTING_KEYS)


_T = TypeVar("_T")


def weakly(method: Callable[[_T], None]) -> Callable[[_T], None]:
    """``method`` (bound) as a callback that holds its object weakly: the session's callbacks given to its
    :class:`McpSession` then make no reference cycle, so a closed session is freed at once by reference counting
    (its conversation's audio included) rather than at the garbage collector's next full collection."""
    ref = weakref.WeakMethod(method)

    def call(arg: _T) -> None:
        bound = ref()
        if bound is not None:  # always while the session, which owns this McpSession, is alive
            bound(arg)

    return call


@dataclass
class McpSession:
    """The MCP state of one session (docs/protocol.md §9)."""

    emit: Callable[[dict[str, Any]], None]
    error: Callable[[errors.ProtocolError], None]
    directive: Callable[[ListTools | CallTool], None]
    new_item_id: Callable[[], str]
    conversation: Conversation
    servers: dict[str, ServerState] = field(default_factory=dict)  # the session's tools, by label
    approvals: dict[str, Approval] = field(default_factory=dict)
    _by_response: dict[str, dict[str, ServerState]] = field(default_factory=dict)  # response.create tools
    _pending: dict[str, ServerState | ResponseRun] = field(default_factory=dict)  # request id -> who waits
    _resolving: list[tuple[ResponseRun, McpWait]] = field(default_factory=list)  # calls waiting for a listing
    _requests: Any = field(default_factory=lambda: itertools.count(1))

    # -- configuration -----------------------------------------------------------------------------------

    def check(self, tools: Sequence[Any], tool_choice: Any, path: str, known: Sequence[str] = ()
              ) -> list[McpServerConfig]:
        """Validate the MCP tools of a ``tools`` array and an ``mcp`` ``tool_choice`` (before any effect)."""
        configs = parse_servers(tools, f"{path}.tools")
        if isinstance(tool_choice, dict) and tool_choice.get("type") == "mcp":
            label = tool_choice.get("server_label", "")
            if label not in {c.server_label for c in configs} | set(known):
                raise errors.mcp_unknown_server_label(label, f"{path}.tool_choice.server_label")
        return configs

    def configure(self, configs: list[McpServerConfig]) -> None:
        """The session's MCP tools after a ``session.update``: list new or changed servers, drop removed ones."""
        labels = {c.server_label for c in configs}
        for label in [label for label in self.servers if label not in labels]:
            del self.servers[label]
        for config in configs:
            current = self.servers.get(config.server_label)
            if current is not None and _same_listing(current.config, config):
                current.config = config  # e.g. require_approval changed: no new listing
                continue
            self.servers[config.server_label] = self._list(config)

    def response_started(self, response_id: str, configs: list[McpServerConfig]) -> None:
        """``response.create`` ``tools``: servers the session has not listed the same way are listed for it."""
        own = {}
        for config in configs:
            current = self.servers.get(config.server_label)
            if current is None or not _same_listing(current.config, config):
                own[config.server_label] = self._list(config)
            elif current.config != config:
                own[config.server_label] = ServerState(config, current.item, current.request_id, current.status,
                                                       current.tools, current.error)
        if own:
            self._by_response[response_id] = own

    def response_done(self, response_id: str) -> None:
        self._by_response.pop(response_id, None)
        self._resolving = [(run, wait) for run, wait in self._resolving if run.response.id != response_id]

    def _list(self, config: McpServerConfig) -> ServerState:
        request_id = f"list_{next(self._requests)}"
        item = Item(id=self.new_item_id(), type="mcp_list_tools", name=config.server_label, mcp=())
        state = ServerState(config, item, request_id)
        prev = self.conversation.insert(item)
        self.emit({"type": ServerEvent.ITEM_ADDED, "previous_item_id": prev, "item": item})
        self.emit({"type": ServerEvent.MCP_LIST_TOOLS_IN_PROGRESS, "item_id": item.id})
        self._pending[request_id] = state
        self.directive(ListTools(request_id, config))
        return state

    # -- approvals ---------------------------------------------------------------------------------------

    def check_answer(self, answer: ApprovalResponse) -> None:
        """A client's ``mcp_approval_response`` must name a request that is still open."""
        approval = self.approvals.get(answer.approval_request_id)
        if approval is None or approval.answer is not None:
            raise errors.mcp_approval_request_unknown(answer.approval_request_id)

    def answer(self, answer: ApprovalResponse) -> None:
        self.approvals[answer.approval_request_id].answer = answer

    def client_item(self, item: Item) -> None:
        """A client's MCP history item entered the conversation (§9.7): its approval request can be answered
        like the model's; a call naming an approval request settles it (the call happened, the next response
        does not make it again)."""
        if isinstance(item.mcp, ApprovalRequest) and item.mcp.id not in self.approvals:
            self.approvals[item.mcp.id] = Approval(item.mcp)
        elif isinstance(item.mcp, McpCall) and item.mcp.approval_request_id in self.approvals:
            self.approvals[item.mcp.approval_request_id].used = True

    def plan(self, params: ResponseParams) -> ReplyPlan | None:
        """What the "model" does before asking the brain: run (or not) the calls the client just answered, else
        call the tool a forced ``tool_choice`` names; ``"required"`` with MCP servers but no function tools calls
        the first server's first allowed tool (the model must call a tool; Voice Live's ``tool_choice`` has no
        ``mcp`` form, docs/protocol.md §12.1)."""
        answered = [a for a in self.approvals.values() if a.answer is not None and not a.used]
        if answered:
            outputs: list[Any] = []
            for approval in answered:
                approval.used = True
                req, answer = approval.request, approval.answer
                assert answer is not None
                outputs.append(McpCallOut(req.server_label, req.name, req.arguments, req.id, answer.approve))
            return ReplyPlan(outputs)
        choice = params.tool_choice
        if isinstance(choice, dict) and choice.get("type") == "mcp":
            return ReplyPlan([McpCallOut(choice["server_label"], choice.get("name"))])
        if choice == "required":
            kinds = [t.get("type", "function") for t in params.tools if isinstance(t, dict)]
            labels = [t.get("server_label") for t in params.tools if isinstance(t, dict) and t.get("type") == "mcp"]
            if labels and "function" not in kinds:
                return ReplyPlan([McpCallOut(str(labels[0]))])
        return None

    # -- calls -------------------------------------------------------------------------------------------

    def dispatch(self, run: ResponseRun, wait: McpWait, now: float) -> None:
        """A run reached an MCP step: resolve the call (or wait for a listing), or run the resolved call."""
        if wait.kind == "call":
            resolved: McpResolved = wait.resolved
            request_id = f"call_{next(self._requests)}"
            self._pending[request_id] = run
            self.directive(CallTool(request_id, resolved.server, resolved.name, arguments_object(resolved.arguments)))
            return
        value = self._resolve(run, wait.out)
        if value is None:
            self._resolving.append((run, wait))
        else:
            run.resume(value, now)

    def _server(self, run: ResponseRun, label: str) -> ServerState | None:
        return self._by_response.get(run.response.id, {}).get(label) or self.servers.get(label)

    def _resolve(self, run: ResponseRun, out: McpCallOut) -> McpResolved | ApprovalRequest | McpDenied | None:
        name = out.name or ""
        if not out.approved:
            return McpDenied(name)
        state = self._server(run, out.server_label)
        if state is None:
            unknown = McpServerConfig(out.server_label)
            return McpResolved(unknown, name, out.arguments or "{}", out.approval_request_id,
                               McpError("protocol_error", errors.mcp_tool_unavailable(name, out.server_label),
                                        errors.MCP_TOOL_UNAVAILABLE_CODE))
        if state.status == "listing":
            return None
        if state.status == "failed":
            return McpResolved(state.config, name, out.arguments or "{}", out.approval_request_id, state.error)
        tool = next((t for t in state.tools if out.name is None or t.name == out.name), None)
        if tool is None:
            return McpResolved(state.config, name, out.arguments or "{}", out.approval_request_id,
                               McpError("protocol_error", errors.mcp_tool_unavailable(name, out.server_label),
                                        errors.MCP_TOOL_UNAVAILABLE_CODE))
        arguments = out.arguments if out.arguments is not None else tool_arguments(tool)
        if out.approval_request_id is None and state.config.needs_approval(tool):
            request = ApprovalRequest(self.new_item_id(), out.server_label, tool.name, arguments)
            self.approvals[request.id] = Approval(request)
            return request
        return McpResolved(state.config, tool.name, arguments, out.approval_request_id)

    # -- results from the transport ----------------------------------------------------------------------

    def on_result(self, result: McpResult, now: float) -> None:
        """A directive's outcome arrived at ``now``."""
        waiter = self._pending.pop(result.request_id, None)
        if isinstance(waiter, ResponseRun):
            if not waiter.finished and isinstance(result, CallDone | CallFailed):
                waiter.resume(result, now)
            return
        if waiter is None or waiter.request_id != result.request_id or waiter.status != "listing":
            return
        item = waiter.item
        if isinstance(result, CallDone | CallFailed):
            return
        if isinstance(result, ToolsListed):
            waiter.status, waiter.tools = "ready", result.tools
            item.mcp = result.tools
            self.conversation.refresh(item)  # the listed tools are context (§4.11)
            self.emit({"type": ServerEvent.MCP_LIST_TOOLS_COMPLETED, "item_id": item.id})
        elif isinstance(result, ToolsFailed):
            waiter.status, waiter.error = "failed", result.error
            self.emit({"type": ServerEvent.MCP_LIST_TOOLS_FAILED, "item_id": item.id})
        if self.conversation.find(item.id) is not None:
            self.emit({"type": ServerEvent.ITEM_DONE, "previous_item_id": self.conversation.previous_of(item),
                       "item": item})
        if waiter.error is not None:
            self.error(errors.mcp_list_tools_failed(waiter.config.server_label, waiter.error.message))
        waiting, self._resolving = self._resolving, []
        for run, wait in waiting:
            if not run.finished:
                self.dispatch(run, wait, now)


def tool_arguments(tool: McpTool) -> str:
    """A minimal valid instance of the tool's input schema (``{}`` when none exists)."""
    try:
        value = minimal_instance(tool.input_schema)
    except Unsatisfiable:
        value = {}
    return json.dumps(value, separators=(",", ":"))


def arguments_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
