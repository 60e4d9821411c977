"""Assertion helpers for cases: every failure says what was expected and what happened (h2spec style)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.wire import canonical

Json = dict[str, Any]


class CaseFailure(AssertionError):
    """A case's own expectation was not met."""


def _short(value: Any, width: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def expect(condition: object, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CaseFailure(message)


def expect_equal(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise CaseFailure(f"{what}: expected {_short(expected)}, got {_short(actual)}")


def expect_in(actual: Any, allowed: Iterable[Any], what: str) -> None:
    options = list(allowed)
    if actual not in options:
        raise CaseFailure(f"{what}: expected one of {_short(options)}, got {_short(actual)}")


def expect_match(actual: Any, pattern: str, what: str) -> None:
    if not isinstance(actual, str) or re.fullmatch(pattern, actual) is None:
        raise CaseFailure(f"{what}: expected a string matching {pattern!r}, got {_short(actual)}")


def expect_near(actual: Any, expected: float, tolerance: float, what: str) -> None:
    if not isinstance(actual, (int, float)) or math.isnan(actual) or abs(actual - expected) > tolerance:
        raise CaseFailure(f"{what}: expected {expected} ± {tolerance}, got {_short(actual)}")


def expect_keys(obj: Any, required: Iterable[str], what: str, *, allowed: Iterable[str] | None = None) -> None:
    """``obj`` is an object with every ``required`` key (and, if ``allowed`` is given, no key outside both)."""
    if not isinstance(obj, Mapping):
        raise CaseFailure(f"{what}: expected an object, got {_short(obj)}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise CaseFailure(f"{what}: missing keys {missing} (has {sorted(obj)})")
    if allowed is not None:
        extra = sorted(set(obj) - set(required) - set(allowed))
        if extra:
            raise CaseFailure(f"{what}: unexpected keys {extra}")


def subset_mismatches(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Where ``actual`` differs from ``expected`` (objects compared on ``expected``'s keys only)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or '<root>'}: expected an object, got {_short(actual, 80)}"]
        out: list[str] = []
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                out.append(f"{sub}: missing")
            else:
                out.extend(subset_mismatches(actual[key], value, sub))
        return out
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return [] if abs(actual - expected) < 1e-9 else [f"{path}: expected {expected}, got {actual}"]
    if actual != expected or type(actual) is not type(expected):
        return [f"{path}: expected {_short(expected, 80)}, got {_short(actual, 80)}"]
    return []


def expect_subset(actual: Any, expected: Any, what: str) -> None:
    problems = subset_mismatches(actual, expected)
    if problems:
        raise CaseFailure(f"{what}: " + "; ".join(problems[:8]))


# -- event sequences ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Many:
    """One or more events, each of one of ``types`` (interleaved freely)."""

    types: tuple[str, ...]


@dataclass(frozen=True)
class Opt:
    """Zero or one event of ``type``."""

    type: str


@dataclass(frozen=True)
class AnyOrder:
    """Each of ``types`` exactly once, in any order."""

    types: tuple[str, ...]


Step = str | Many | Opt | AnyOrder


def many(*types: str) -> Many:
    return Many(types)


def any_order(*types: str) -> AnyOrder:
    return AnyOrder(types)


def _token(etype: str) -> str:
    return re.escape(canonical(etype)) + " "


def _step_regex(step: Step) -> str:
    if isinstance(step, str):
        return _token(step)
    if isinstance(step, Many):
        return "(?:" + "|".join(_token(t) for t in step.types) + ")+"
    if isinstance(step, Opt):
        return "(?:" + _token(step.type) + ")?"
    from itertools import permutations

    return "(?:" + "|".join("".join(_token(t) for t in perm) for perm in permutations(step.types)) + ")"


def collapse(types: Sequence[str]) -> list[str]:
    """Runs of one type shown once with a count: ``response.output_text.delta ×7``."""
    out: list[str] = []
    run = 0
    for i, etype in enumerate(types):
        run += 1
        if i + 1 == len(types) or types[i + 1] != etype:
            out.append(etype if run == 1 else f"{etype} ×{run}")
            run = 0
    return out


def expect_sequence(events: Sequence[Json], steps: Sequence[Step], what: str,
                    ignore: Callable[[Json], bool] | None = None) -> None:
    """The (canonical) types of ``events`` follow ``steps`` exactly."""
    types = [canonical(str(e.get("type"))) for e in events if ignore is None or not ignore(e)]
    pattern = "".join(_step_regex(s) for s in steps)
    if re.fullmatch(pattern, "".join(t + " " for t in types)) is None:
        expected = [s if isinstance(s, str) else repr(s) for s in steps]
        raise CaseFailure(f"{what}: event order differs.\n  expected: {expected}\n  got:      {collapse(types)}")
