"""Outcomes of case runs, graded like Autobahn's and saved as JSON for the reports."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("pass", "fail", "non-strict", "informational", "known", "skip")
"""``pass``; ``fail`` (a must-level case failed: the run fails); ``non-strict`` (a should-level case failed);
``informational`` (an info-level case failed); ``known`` (failed where a known difference is declared);
``skip`` (could not run here, e.g. fixtures missing)."""

FAILING = frozenset({"fail"})


@dataclass
class Result:
    case_id: str
    dialect: str
    target: str
    level: str
    outcome: str
    section: str = ""
    description: str = ""
    message: str = ""
    duration: float = 0.0
    known_reason: str | None = None
    transcripts: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    observed: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(**data)


def grade(level: str, passed: bool, known_reason: str | None) -> str:
    """The outcome of a run that did not skip."""
    if passed:
        return "pass"
    if known_reason is not None:
        return "known"
    return {"must": "fail", "should": "non-strict", "info": "informational"}[level]


def slug(case_id: str, dialect: str) -> str:
    """A file-name-safe stem for a case run: ``audio-buffer__commit__too-small[ga]``."""
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]", "_", case_id.replace("/", "__")) + f"[{dialect}]"


def save_results(directory: Path, target: str, description: str, results: list[Result], *,
                 duration: float) -> Path:
    """Write ``results-<target>.json`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"results-{target}.json"
    payload = {"target": target, "description": description, "duration": round(duration, 3),
               "results": [r.to_json() for r in sorted(results, key=lambda r: (r.case_id, r.dialect))]}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    return path


def load_results(directory: Path) -> dict[str, dict[str, Any]]:
    """Every ``results-*.json`` in ``directory`` by target name."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("results-*.json")):
        data = json.loads(path.read_text())
        data["results"] = [Result.from_json(r) for r in data["results"]]
        out[str(data["target"])] = data
    return out


def token_summary(results: list[Result]) -> dict[str, int]:
    total: dict[str, int] = {"total": 0, "input": 0, "output": 0, "responses": 0}
    for r in results:
        for key in total:
            total[key] += int(r.tokens.get(key, 0))
    return total
