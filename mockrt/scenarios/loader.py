"""Loading and validating scenario files (YAML or JSON) against the published ``schema.json``.

Untrusted input (a scenario ``PUT`` over HTTP, SECURITY.md) is loaded with :func:`load_untrusted`: YAML aliases
are refused (a billion-laughs document cannot make work grow beyond its size), and ``audio.file`` references are
confined to the fixtures directory, regular files only, with one message for every path that is outside, missing
or not a regular file. Trusted loads (the CLI, the pytest plugin, the Python API) resolve references relative to
the scenario file and still refuse anything but regular files (a FIFO would block the reader forever).
"""

from __future__ import annotations

import copy
import json
import os
import stat
import wave
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from mockrt.scenarios.model import Scenario


class ScenarioError(ValueError):
    """A scenario that does not validate; ``problems`` are located, human-readable messages."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid scenario:\n" + "\n".join(f"  - {p}" for p in problems))


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of scenario files."""
    text = resources.files("mockrt.scenarios").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _location(path: Any) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(top level)"


def validate(data: Any, source: str = "<scenario>") -> list[str]:
    """Every schema violation of ``data``, as ``location: message`` lines (empty when valid)."""
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(f"{_location(err.absolute_path)}: {err.message}")
    return problems


def faults_problems(data: Any) -> list[str]:
    """Every violation of the scenario schema's ``faults`` definition (the admin API's fault bodies)."""
    sub = {**schema()["$defs"]["faults"], "$defs": schema()["$defs"]}
    validator = jsonschema.Draft202012Validator(sub)
    return [f"{_location(['faults', *err.absolute_path])}: {err.message}"
            for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]


class NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases (``*name``): without them a document's node count is bounded by
    its length, so an alias bomb is refused before any work grows."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed in scenarios",
                                              event.start_mark)
        return super().compose_node(parent, index)


def parse(text: str, source: str = "<scenario>") -> Any:
    try:
        return yaml.load(text, Loader=NoAliasLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ScenarioError(source, [f"{where}{getattr(exc, 'problem', None) or exc}"]) from None


FILE_REFUSED = "is not a readable regular file inside the fixtures directory"


def _audio_specs(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every ``audio`` object with a ``file`` reference, with its location."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "audio" and isinstance(value, dict) and isinstance(value.get("file"), str):
                    found.append((_location([*path, key, "file"]), value))
                walk(value, [*path, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*path, i])

    walk(data, [])
    return found


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _resolve_files(data: Any, base: Path, confine: Path | None, name: str) -> Any:
    """A copy of ``data`` whose ``audio.file`` references are absolute, checked paths; raises
    :class:`ScenarioError` for a reference that is not a regular file (or, when confined, not inside
    ``confine``, with one message whatever the reason)."""
    specs = _audio_specs(data)
    if not specs:
        return data
    data = copy.deepcopy(data)  # the caller's dict stays as given
    problems = []
    for where, spec in _audio_specs(data):
        ref = spec["file"]
        if confine is not None:
            root = confine.resolve()
            target = (root / ref).resolve()
            if not target.is_relative_to(root) or not _regular_file(target):
                problems.append(f"{where}: {ref!r} {FILE_REFUSED}")
                continue
        else:
            target = (base / ref).resolve()
            if not _regular_file(target):
                problems.append(f"{where}: {ref!r} is not a readable regular file")
                continue
        spec["file"] = str(target)
    if problems:
        raise ScenarioError(name, problems)
    return data


def load_untrusted(text: str, fixtures_dir: str | Path | None) -> Scenario:
    """A scenario sent over HTTP: no aliases, audio files only inside ``fixtures_dir`` (none: no files at all).
    Blocking (file reads): call it off the event loop."""
    name = "<request body>"
    data = parse(text, name)
    problems = validate(data, name)
    if problems:
        raise ScenarioError(name, problems)
    if fixtures_dir is None:
        refs = [f"{where}: audio files cannot be referenced over HTTP unless mockrt runs with --fixtures-dir"
                for where, _ in _audio_specs(data)]
        if refs:
            raise ScenarioError(name, refs)
        return _build(data, name, Path(os.devnull))
    root = Path(fixtures_dir).resolve()
    data = _resolve_files(data, root, root, name)
    return _build(data, name, root, hide=str(root) + os.sep)


def _build(data: Any, name: str, base: Path | None, hide: str = "") -> Scenario:
    try:
        return Scenario.from_dict(data, base)
    except (ValueError, OSError, EOFError, wave.Error) as exc:
        message = str(exc).replace(hide, "") if hide else str(exc)
        raise ScenarioError(name, [message or type(exc).__name__]) from None


def load_scenario(source: str | Path | dict[str, Any], base_dir: Path | None = None) -> Scenario:
    """A scenario from a file path, YAML/JSON text, or an already-parsed dict; raises :class:`ScenarioError`.

    ``audio.file`` references resolve against the scenario file's directory (text and dicts: ``base_dir``, else
    the working directory) and must be regular files. For untrusted text use :func:`load_untrusted`.
    """
    if isinstance(source, dict):
        data, name, base = source, "<dict>", base_dir
    else:
        path = Path(source) if not isinstance(source, str) or "\n" not in source else None
        if path is not None and path.exists():
            from mockrt.recording.replay import is_replayable, load_recording

            if is_replayable(path):  # a recorded session (mockrt record / a journal download) replays as a scenario
                try:
                    return load_recording(path)
                except ValueError as exc:
                    raise ScenarioError(str(path), [str(exc)]) from None
            data, name, base = parse(path.read_text(encoding="utf-8"), str(path)), str(path), path.parent
        else:
            data, name, base = parse(str(source)), "<text>", base_dir
    problems = validate(data, name)
    if problems:
        raise ScenarioError(name, problems)
    data = _resolve_files(data, base or Path.cwd(), None, name)
    return _build(data, name, base)
