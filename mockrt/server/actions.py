"""Actions shared by the two faces of a running mock, the admin REST API and the Python control API
(:mod:`mockrt.control`): both import them from here, and this module imports neither.

Scenario loading lives in :mod:`mockrt.scenarios.loader`; server-wide resets in
:meth:`mockrt.server.state.MockState.reset`.
"""

from __future__ import annotations

from typing import Any

from mockrt.core.faults import Faults
from mockrt.core.outputs import Output
from mockrt.core.session import RealtimeSession
from mockrt.scenarios.loader import faults_problems


class FaultsError(ValueError):
    """Fault values that do not validate; ``problems`` name the wrong fields (``faults.refuse.status: …``)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid faults:\n" + "\n".join(f"  - {p}" for p in problems))


def as_faults(faults: Faults | dict[str, Any] | None) -> Faults | None:
    """A :class:`Faults` from a value or a JSON/YAML mapping, validated against the scenario schema's
    ``faults`` definition first, so a wrong value is refused here instead of failing every later handshake."""
    if faults is None or isinstance(faults, Faults):
        return faults
    if not isinstance(faults, dict):
        raise FaultsError([f"faults: expected an object, got {type(faults).__name__}"])
    problems = faults_problems(faults)
    if problems:
        raise FaultsError(problems)
    return Faults.from_dict(faults)


def set_session_faults(session: RealtimeSession, faults: Faults) -> list[Output]:
    """A connection action (``Connection.apply``): switch a live session's faults now."""
    session.set_faults(faults)
    return []
