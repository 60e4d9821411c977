"""Loading and validating scenario files (YAML or JSON) against the published ``schema.json``."""

from __future__ import annotations

import json
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


def parse(text: str, source: str = "<scenario>") -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ScenarioError(source, [f"{where}{getattr(exc, 'problem', None) or exc}"]) from None


def load_scenario(source: str | Path | dict[str, Any], base_dir: Path | None = None) -> Scenario:
    """A scenario from a file path, YAML/JSON text, or an already-parsed dict; raises :class:`ScenarioError`."""
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
    try:
        return Scenario.from_dict(data, base)
    except (ValueError, OSError) as exc:
        raise ScenarioError(name, [str(exc)]) from None
