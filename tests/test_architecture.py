"""The architecture holds: dependencies point down, and wire names live in the dialects (issue 12).

Imports are read with ``ast`` from the source of ``mockrt/`` and ``conformance/``, not by importing anything.
How an import counts:

- **module level** (including inside ``try`` / ``if`` at module level): a dependency, and an edge of the import
  graph whose cycles are checked;
- **function-local** (inside a ``def``): still a dependency (it runs, only later), so the layering rules below
  apply to it as well, and the cycle check runs a second time with these edges added: a lazy import may break
  an import-time cycle, but then it only hides it;
- **``if TYPE_CHECKING:``**: not a dependency (it never runs); annotations may name types from any layer.

``from package import name`` is an edge to ``package.name`` when that is a module, else to ``package``.
"""

from __future__ import annotations

import ast
import itertools
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FACES = ("mockrt.control", "mockrt.thread", "mockrt.pytest_plugin", "mockrt.cli")
"""The user-facing modules: the Python control API, the embedded server thread, the pytest plugin, the CLI."""
SANS_IO_FORBIDDEN = ("mockrt.server", "starlette", "asyncio", "uvicorn", "websockets")


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (resolved, see the module docstring)
    line: int
    local: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


MODULES = {**_modules("mockrt"), **_modules("conformance")}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _resolve(source: str, node: ast.ImportFrom) -> str:
    if node.level:  # relative import
        base = source.split(".")
        if MODULES[source].name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def _imports(source: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node: ast.AST, local: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for orelse in child.orelse:
                    yield from walk(orelse, local)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(source, alias.name, child.lineno, local)
            elif isinstance(child, ast.ImportFrom):
                module = _resolve(source, child)
                for alias in child.names:
                    sub = f"{module}.{alias.name}"
                    yield Import(source, sub if sub in MODULES else module, child.lineno, local)
            else:
                yield from walk(child, local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    yield from walk(tree, False)


IMPORTS = [imp for name, path in MODULES.items() for imp in _imports(name, path)]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _violations(sources: str, targets: tuple[str, ...]) -> list[str]:
    return sorted(f"{i.source}:{i.line} imports {i.target}{' (in a function)' if i.local else ''}"
                  for i in IMPORTS if _within(i.source, sources) and any(_within(i.target, t) for t in targets))


# -- layering --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("package", ["mockrt.core", "mockrt.audio"])
def test_the_sans_io_core_imports_no_transport(package: str) -> None:
    """``core`` and ``audio`` have no sockets, event loop or server (ARCHITECTURE.md)."""
    assert not _violations(package, SANS_IO_FORBIDDEN)


def test_the_transport_does_not_import_the_faces() -> None:
    """``server/`` is below the faces (control API, pytest plugin, CLI): the actions they share live below both."""
    violations = _violations("mockrt.server", FACES)
    assert not violations


def test_the_inspector_uses_no_private_name_of_the_server() -> None:
    private = [f"{i.source}:{i.line} imports {name.name} from {i.target}"
               for i in IMPORTS if _within(i.source, "mockrt.inspector") and _within(i.target, "mockrt.server")
               for name in _imported_names(i) if name.name.startswith("_")]
    assert not private


def _imported_names(imp: Import) -> list[ast.alias]:
    tree = ast.parse(MODULES[imp.source].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.lineno == imp.line:
            return list(node.names)
    return []


def test_the_conformance_suite_imports_nothing_from_mockrt() -> None:
    """The suite judges the mock from outside, like any other server (issue 12)."""
    assert not _violations("conformance", ("mockrt",))


# -- cycles ----------------------------------------------------------------------------------------------------------


def _cycles(*, local: bool) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES if _within(m, "mockrt")}
    for imp in IMPORTS:
        if imp.source in graph and imp.target in graph and imp.target != imp.source and (local or not imp.local):
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_inside_mockrt() -> None:
    """Module-level imports of mockrt form no cycle (a package ``__init__`` counts as a module)."""
    assert _cycles(local=False) == []


def test_function_local_imports_close_no_cycle() -> None:
    """Deferring an import into a function must not be a way around the layering (module docstring)."""
    assert _cycles(local=True) == []


# -- wire names live in the dialects --------------------------------------------------------------------------------


def _union_types(union: typing.Any) -> set[str]:
    out: set[str] = set()
    for member in typing.get_args(union):
        if typing.get_origin(member) is typing.Union:
            out |= _union_types(member)
        elif hasattr(member, "model_fields") and "type" in member.model_fields:
            out.update(typing.get_args(member.model_fields["type"].annotation))
        else:
            out |= _union_types(member)  # Annotated[Union[...], discriminator]
    return out


def _wire_names() -> frozenset[str]:
    from openai.types.beta.realtime import RealtimeClientEvent as BetaClient
    from openai.types.beta.realtime import RealtimeServerEvent as BetaServer
    from openai.types.live import ClientEvent as LiveClient
    from openai.types.live import ConnectServerEvent as LiveServer
    from openai.types.realtime import (
        RealtimeClientEvent,
        RealtimeServerEvent,
        RealtimeTranslationClientEvent,
        RealtimeTranslationServerEvent,
    )

    names = set().union(*(_union_types(u) for u in (RealtimeServerEvent, RealtimeClientEvent, BetaServer,
                                                     BetaClient, RealtimeTranslationServerEvent,
                                                     RealtimeTranslationClientEvent, LiveServer, LiveClient)))
    # ``error`` is also a key and a value of the service's objects (``"error": {...}``, status ``failed``'s
    # ``error``): as a lone word it says nothing about where wire knowledge lives.
    names.discard("error")
    names.discard("info")  # GPT-Live's notice, and a log level everywhere
    return frozenset(names)


def test_the_wire_name_list_is_the_sdk_s() -> None:
    names = _wire_names()
    for expected in ("response.output_text.delta", "response.text.delta", "conversation.item.created",
                     "conversation.item.added", "input_audio_buffer.append", "transcription_session.update",
                     "session.created", "rate_limits.updated", "session.output_audio.delta", "session.closed"):
        assert expected in names
    assert len(names) > 60


def _string_literals(path: Path) -> Iterator[tuple[int, str]]:
    """String constants of a module (f-strings' literal parts included), without docstrings; comments are not in
    the syntax tree."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
        # attribute docstrings: a bare string right after an assignment
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for before, after in itertools.pairwise(body):
                if (isinstance(before, ast.Assign | ast.AnnAssign) and isinstance(after, ast.Expr)
                        and isinstance(after.value, ast.Constant)):
                    docstrings.add(id(after.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _literal_violations(package: str) -> list[str]:
    names = _wire_names()
    out = []
    for module, path in MODULES.items():
        if not _within(module, package) or _within(module, "mockrt.core.dialects"):
            continue
        out += [f"{path.relative_to(ROOT)}:{line}: {value!r}" for line, value in _string_literals(path)
                if value in names]
    return sorted(out)


CHECKED = ("mockrt.core", "mockrt.audio", "mockrt.inspector", "mockrt.recording", "mockrt.scenarios", "mockrt.control",
           "mockrt.logs", "mockrt.config", "mockrt.cli", "mockrt.__main__", "mockrt.pytest_plugin", "mockrt.server",
           "mockrt.thread", "mockrt.mcp", "mockrt.transcribers")


@pytest.mark.parametrize("package", CHECKED)
def test_wire_event_names_appear_only_in_the_dialects(package: str) -> None:
    """Every GA and beta event ``type`` string (the SDK's unions) is written only under mockrt/core/dialects/
    (docstrings and comments aside): everything else speaks the internal vocabulary (core/events.py)."""
    violations = _literal_violations(package)
    assert violations == []


# -- content-part names are read through the dialects too ------------------------------------------------------------

PART_TYPE_NAMES = frozenset({"input_text", "input_audio", "input_image", "text", "audio", "output_text",
                             "output_audio"})
"""Content-part ``type`` values of GA, beta and Voice Live (docs/protocol.md §4.7)."""
WIRE_ONLY_PART_TYPES = frozenset({"output_text", "output_audio"})
"""Names only the wire has: the model calls these parts ``text`` and ``audio`` (core/model.py ``ContentType``)."""


def _reads_type(node: ast.AST) -> bool:
    """``x.get("type")`` or ``x["type"]``: a wire object's ``type`` (the model's parts are ``part.type``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "type"
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "type"


def _part_names(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in PART_TYPE_NAMES}


def _part_type_violations(path: Path) -> list[str]:
    """Wire-only part names anywhere, and any part name compared with a wire object's ``type``."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    out = [f"{where}:{line}: {value!r}" for line, value in _string_literals(path) if value in WIRE_ONLY_PART_TYPES]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_reads_type(side) for side in sides):
                out += [f"{where}:{node.lineno}: compares a wire type with {name!r}"
                        for side in sides for name in sorted(_part_names(side))]
    return out


@pytest.mark.parametrize("package", CHECKED)
def test_content_part_types_are_read_only_in_the_dialects(package: str) -> None:
    """The replay, diff, inspector and everything else ask the dialect what a wire content part is
    (``Dialect.part_type``): no module outside mockrt/core/dialects/ writes GA's ``output_text`` /
    ``output_audio`` or compares a wire ``type`` with a content-part name."""
    violations = sorted(v for module, path in MODULES.items()
                        if _within(module, package) and not _within(module, "mockrt.core.dialects")
                        for v in _part_type_violations(path))
    assert violations == []


def test_the_part_type_check_can_fail(tmp_path: Path) -> None:
    """It sees the shapes it forbids (the dialects have them, and so would a reader that compared names)."""
    ga = _part_type_violations(MODULES["mockrt.core.dialects.ga"])
    assert any("'output_text'" in v for v in ga)
    probe = tmp_path / "probe.py"
    probe.write_text('def f(part):\n    return part.get("type") in ("text", "audio") or part["type"] == "x"\n'
                     'def g(part):\n    return part.type == "audio"  # the model\'s part: allowed\n')
    assert _part_type_violations(probe) == ["probe.py:2: compares a wire type with 'audio'",
                                            "probe.py:2: compares a wire type with 'text'"]


def test_every_mockrt_module_is_checked_for_wire_names() -> None:
    unchecked = [m for m in MODULES if _within(m, "mockrt") and m != "mockrt"
                 and not any(_within(m, p) for p in CHECKED)]
    assert unchecked == []


def test_the_checks_can_fail() -> None:
    """The checks see real violations (a check that cannot fail is a defect)."""
    assert _violations("mockrt.server", ("mockrt.core",))  # the transport does use the core
    assert _literal_violations("mockrt.core.dialects") == []  # excluded on purpose ...
    dialect_literals = [v for _, v in _string_literals(MODULES["mockrt.core.dialects.ga"]) if v in _wire_names()]
    assert "response.output_text.delta" in dialect_literals  # ... and they are found there
