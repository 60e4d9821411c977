"""Stored prompts: what a session's ``prompt`` (id, version, variables) resolves to (docs/protocol.md §4.3).

The service keeps prompts created in the dashboard; the mock keeps the ones a scenario defines. A session's
``prompt`` that names one of them becomes the instructions the "model" sees (ahead of the session's own
``instructions`` when those were set), with ``{{variable}}`` placeholders filled from the session's
``variables`` over the prompt's defaults. A prompt id the scenario does not define is only echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass(frozen=True)
class StoredPrompt:
    """One stored prompt: its instructions per version (the last listed is the current one)."""

    id: str
    versions: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)  # default values

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StoredPrompt:
        if "versions" in raw:
            versions = {str(k): str(v) for k, v in raw["versions"].items()}
        else:
            versions = {"1": str(raw["instructions"])}
        return cls(str(raw["id"]), versions, {str(k): str(v) for k, v in raw.get("variables", {}).items()})

    def render(self, version: str | None, variables: Mapping[str, Any] | None) -> str | None:
        """The instructions of ``version`` (the current one if ``None``) with the variables filled in, or
        ``None`` if this prompt has no such version."""
        text = self.versions.get(version) if version is not None else list(self.versions.values())[-1]
        if text is None:
            return None
        values = {**self.variables, **{k: _text(v) for k, v in (variables or {}).items()}}
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _text(value: Any) -> str:
    """A variable's value: a string, or an input part's text (``{"type": "input_text", "text"}``)."""
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value)


def resolve_prompt(prompts: Mapping[str, StoredPrompt], prompt: Mapping[str, Any] | None,
                   instructions: str, default_instructions: str) -> str:
    """The instructions the model sees for a session ``prompt`` (§4.3): the stored prompt's text (plus the
    session's own instructions when they are not the default), or ``instructions`` unchanged."""
    if not prompt:
        return instructions
    stored = prompts.get(str(prompt.get("id")))
    if stored is None:
        return instructions
    text = stored.render(prompt.get("version"), prompt.get("variables"))
    if text is None:
        return instructions
    return text if instructions == default_instructions else f"{text}\n{instructions}"
