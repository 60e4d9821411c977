"""The catalogue of cases and the ``@case`` decorator (hierarchical ids and levels as in h2spec).

A case is a function of a :class:`~conformance.context.Ctx`. ``@case(...)`` registers it in :data:`CATALOGUE`
under a stable hierarchical id that mirrors docs/protocol.md (``audio-buffer/commit/too-small``) and returns an
ordinary pytest test parametrized per dialect, so ``-k``, ``--collect-only``, xdist and ``--junitxml`` work. The
same registered function is what the in-process runner (:mod:`conformance.runner`) calls directly.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance.targets import DIALECTS, TARGETS

if TYPE_CHECKING:
    from conformance.context import Ctx

LEVELS = ("must", "should", "info")
"""``must``: a failure fails the run; ``should``: reported as non-strict; ``info``: informational only."""

ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)+")
SECTION_PATTERN = re.compile(r"§\d+(?:\.\d+)*(?:, §\d+(?:\.\d+)*)*")

CaseFn = Callable[["Ctx"], None]


@dataclass(frozen=True)
class Case:
    """One conformance case."""

    id: str
    description: str
    section: str
    requirement: str
    level: str
    dialects: tuple[str, ...]
    targets: tuple[str, ...]
    timeout: float
    known: Mapping[str, str]
    fn: CaseFn = field(compare=False, repr=False)

    @property
    def group(self) -> str:
        """The top-level part of the id (``audio-buffer``)."""
        return self.id.split("/", 1)[0]

    def applies(self, target: str, dialect: str) -> bool:
        return target in self.targets and dialect in self.dialects

    def known_reason(self, target: str, dialect: str) -> str | None:
        """The declared known difference for ``target`` (or ``target/dialect``), if any."""
        return self.known.get(f"{target}/{dialect}") or self.known.get(target)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "section": self.section,
                "requirement": self.requirement, "level": self.level, "dialects": list(self.dialects),
                "targets": list(self.targets), "timeout": self.timeout, "known": dict(self.known)}


CATALOGUE: dict[str, Case] = {}
"""Every registered case by id, in registration order."""


def case(*, id: str, description: str, section: str, requirement: str, level: str = "must",
         dialects: tuple[str, ...] = ("ga", "beta"), targets: tuple[str, ...] = TARGETS, timeout: float = 10.0,
         known: Mapping[str, str] | None = None) -> Callable[[CaseFn], Callable[..., None]]:
    """Register a case and make it a pytest test parametrized over ``dialects``.

    Args:
        id: stable hierarchical id mirroring docs/protocol.md (``group/sub/name``).
        description: one line saying what the case checks.
        section: the docs/protocol.md section(s) it cites, e.g. ``"§2.3, §6.2"``.
        requirement: the requirement in words (with its confidence tag).
        level: ``must`` / ``should`` / ``info``.
        dialects, targets: where the case applies.
        timeout: seconds, scaled by the target (live targets are slower).
        known: declared known differences: ``{"openai": "reason"}`` or ``{"openai/ga": "reason"}``; a failure
            there is reported as ``known``, never silently tolerated.
    """
    if ID_PATTERN.fullmatch(id) is None:
        raise ValueError(f"case id {id!r} is not a hierarchical id like 'group/sub/name'")
    if level not in LEVELS:
        raise ValueError(f"{id}: level must be one of {LEVELS}")
    if SECTION_PATTERN.fullmatch(section) is None:
        raise ValueError(f"{id}: section {section!r} must look like '§2.3' or '§2.3, §6.2'")
    if not set(dialects) <= set(DIALECTS) or not dialects:
        raise ValueError(f"{id}: dialects must be a non-empty subset of {DIALECTS}")
    if not set(targets) <= set(TARGETS):
        raise ValueError(f"{id}: targets must be a subset of {TARGETS}")
    for key in known or {}:
        if key.split("/")[0] not in TARGETS:
            raise ValueError(f"{id}: known difference for unknown target {key!r}")

    def decorate(fn: CaseFn) -> Callable[..., None]:
        registered = Case(id, description, section, requirement, level, tuple(dialects), tuple(targets),
                          timeout, dict(known or {}), fn)
        previous = CATALOGUE.get(id)
        if previous is not None and (previous.fn.__module__, previous.fn.__qualname__) != (
                fn.__module__, fn.__qualname__):
            raise ValueError(f"duplicate case id {id!r} ({previous.fn.__module__} and {fn.__module__})")
        CATALOGUE[id] = registered

        def test(conformance_target: Any, dialect: str, request: pytest.FixtureRequest) -> None:
            from conformance.plugin import run_case_in_pytest

            run_case_in_pytest(registered, conformance_target, dialect, request)

        test.__name__ = fn.__name__
        test.__qualname__ = fn.__qualname__
        test.__module__ = fn.__module__
        test.__doc__ = f"{id}: {description}"
        test.conformance_case = registered  # type: ignore[attr-defined]
        parametrized: Callable[..., None] = pytest.mark.parametrize("dialect", list(dialects))(test)
        return parametrized

    return decorate


def load_catalogue() -> dict[str, Case]:
    """Import every case module under :mod:`conformance.cases` (registering its cases); returns the catalogue."""
    import conformance.cases as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("test_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return CATALOGUE


def select(cases: Mapping[str, Case], expression: str | None) -> list[Case]:
    """Cases whose id (or function name) matches a pytest-style ``-k`` expression."""
    if not expression:
        return list(cases.values())
    from _pytest.mark.expression import Expression

    compiled = Expression.compile(expression)

    def matcher_for(names: tuple[str, ...]) -> Callable[..., bool]:
        def matcher(ident: str, /, **kwargs: str | int | bool | None) -> bool:
            return any(ident.lower() in n.lower() for n in names)

        return matcher

    return [c for c in cases.values() if compiled.evaluate(matcher_for((c.id, c.fn.__name__, c.level, c.group)))]
