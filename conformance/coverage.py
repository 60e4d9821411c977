"""Event coverage of the mock, from data: the SDK's event unions × what a conformance run observed × one declared
table of what the mock does not do (like moto's IMPLEMENTATION_COVERAGE.md).

* **The unions** (:data:`SURFACES`): every server and client event type of the installed ``openai`` SDK's
  ``openai.types.realtime`` ``RealtimeServerEvent`` / ``RealtimeClientEvent`` (GA),
  ``openai.types.beta.realtime`` ``RealtimeServerEvent`` / ``RealtimeClientEvent`` (beta) and
  ``RealtimeTranslationServerEvent`` / ``RealtimeTranslationClientEvent`` (translation sessions), and
  ``openai.types.live`` ``ConnectServerEvent`` / ``ClientEvent`` (GPT-Live, docs/protocol.md §13).
* **Observed, never declared**: a server event is *implemented* when the whole catalogue, run against the mock
  (``mockrt serve``, every dialect: GA, beta, translation, live, voice-live), received it; a client event when the
  run sent it and the mock did not reject its type (``invalid_value`` on ``type``, §2). A surface without
  conformance cases (``dialect=None``) observes nothing.
* **Declared** (:data:`UNSUPPORTED`, the one table): every SDK event the run does not observe, with a status and
  the reason — ``absent`` (mockrt has no code for it; the reason says until when), ``optional`` (implemented behind
  a setting a default server does not use), ``unreachable`` (the core can render it but nothing a client or a
  scenario does can trigger it), ``n/a`` (the service itself does not send or accept it on a WebSocket session) or
  ``tested`` (a surface without conformance cases: implemented, and exercised by the named tests/ module with
  the surface's own client; ``tests/test_conformance_coverage.py`` checks that the module names the type).
* **Azure Voice Live** (``voice-live``): its events are the ``azure-ai-voicelive`` client's ``ServerEventType`` /
  ``ClientEventType`` enums, observed by the catalogue's ``voice-live`` dialect
  (``conformance/cases/test_voice_live.py``, every event validated against the client's models).

:func:`gaps` is the coverage gate (``tests/test_conformance_coverage.py``): an SDK event that is neither observed
nor declared, a declaration the run now observes, and a declaration of a type the SDK no longer has are all
failures. After upgrading ``openai`` the gate names exactly the event types the service added (or removed).
``conformance/COVERAGE.md`` is :func:`render` of the same data (``python -m conformance --coverage``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Final, Literal

from conformance.results import Result
from conformance.validate import union_members

COVERAGE_FILE = Path(__file__).resolve().parent / "COVERAGE.md"

Side = Literal["server", "client"]
Status = Literal["absent", "optional", "unreachable", "n/a", "tested"]
SIDES: Final[tuple[Side, ...]] = ("server", "client")
Key = tuple[str, Side]  # (surface, side)


@dataclass(frozen=True)
class Surface:
    """One protocol surface of the SDK: its event unions and the catalogue dialect that exercises it."""

    name: str
    family: str  # surfaces of one family share a table in COVERAGE.md (GA and beta: the realtime protocol)
    module: str
    server_union: str  # a union of event models, or an enum of event types (azure-ai-voicelive)
    client_union: str
    dialect: str | None  # the conformance dialect whose runs observe it; None: no conformance cases yet


SURFACES: Final[tuple[Surface, ...]] = (
    Surface("ga", "realtime", "openai.types.realtime", "RealtimeServerEvent", "RealtimeClientEvent", "ga"),
    Surface("beta", "realtime", "openai.types.beta.realtime", "RealtimeServerEvent", "RealtimeClientEvent", "beta"),
    Surface("translation", "translation", "openai.types.realtime", "RealtimeTranslationServerEvent",
            "RealtimeTranslationClientEvent", "translation"),
    Surface("voice-live", "voice-live", "azure.ai.voicelive.models", "ServerEventType", "ClientEventType",
            "voice-live"),
    Surface("live", "live", "openai.types.live", "ConnectServerEvent", "ClientEvent", "live"),
)


@dataclass(frozen=True)
class Unsupported:
    """An SDK event type the conformance run does not observe on the mock, and why."""

    surface: str
    side: Side
    type: str
    status: Status
    reason: str


def _rows(surfaces: str, side: Side, status: Status, reason: str, *types: str) -> list[Unsupported]:
    return [Unsupported(surface, side, etype, status, reason) for surface in surfaces.split() for etype in types]


_BETA_CALLS = ("WebRTC/SIP only (§11), never over a WebSocket (§2.12); calls speak GA (`/v1/realtime/calls`, "
               "the calls/* cases), beta's WebRTC endpoint was retired with beta")
_VL_SCRIPTED = ("implemented, reached only by a scenario reply (`web_search`, `file_search`, `annotations`, "
                "docs/protocol.md §12.6): the service does not say which setting enables it, and the conformance mock "
                "runs without a scenario; tests/test_clients_voicelive_tools.py covers it")


UNSUPPORTED: Final[tuple[Unsupported, ...]] = (
    *_rows("ga beta", "server", "optional",
           "documented only; the live services do not send it (§5.1). `mockrt serve --conversation-created` sends it",
           "conversation.created"),
    *_rows("ga", "server", "n/a",
           "the GA server sends `conversation.item.added` + `conversation.item.done` instead (§3.1); the SDK keeps "
           "the type", "conversation.item.created"),
    *_rows("ga beta voice-live", "server", "optional",
           "sent when a scenario fails a turn's transcription (`transcripts: [{error: {code, message}}]`, §5.11); "
           "the conformance mock runs without a scenario (tests/test_transcription_settings.py and, for Voice Live, "
           "tests/test_clients_voicelive_scripted.py cover it)",
           "conversation.item.input_audio_transcription.failed"),
    *_rows("beta", "server", "n/a", _BETA_CALLS,
           "output_audio_buffer.started", "output_audio_buffer.stopped", "output_audio_buffer.cleared"),
    *_rows("beta", "client", "n/a", _BETA_CALLS, "output_audio_buffer.clear"),
    *_rows("voice-live", "server", "optional", _VL_SCRIPTED,
           "response.web_search_call.in_progress", "response.web_search_call.searching",
           "response.web_search_call.completed", "response.file_search_call.in_progress",
           "response.file_search_call.searching", "response.file_search_call.completed",
           "response.audio_transcript.annotation.added"),
    *_rows("voice-live", "server", "optional",
           "implemented, reached only by a scenario reply (`warnings`: the reference names no condition under which "
           "the service warns; `invocation`: a hosted agent's deltas, docs/protocol.md §12.7); the conformance mock "
           "runs without a scenario; tests/test_clients_voicelive_scripted.py covers it",
           "warning", "response.invocation.delta"),
    *_rows("voice-live", "server", "n/a",
           "avatar video: no video is rendered. `session.avatar.connect` is answered honestly (every media line "
           "`a=inactive`) and the avatar's speaking/idle switches follow the audio, but the mock sends no frames",
           "response.video.delta"),
    # GPT-Live (docs/protocol.md §13)
    *_rows("live", "server", "n/a", "legacy name of transport.dtmf.sent, kept by the SDK for saved events "
           "(§13.8); mockrt sends transport.dtmf.sent", "transport.dtmf.send"),
)
"""The one declared table: every SDK event type the conformance run does not observe on the mock, with why."""


# -- the data --------------------------------------------------------------------------------------------------


@cache
def sdk_unions() -> dict[Key, frozenset[str]]:
    """``(surface, side)`` → the event types of the installed SDK's union. A surface whose unions the installed
    SDK does not have is left out (:func:`render` says so)."""
    out: dict[Key, frozenset[str]] = {}
    for surface in SURFACES:
        try:
            module = importlib.import_module(surface.module)
        except ImportError:  # e.g. azure-ai-voicelive not installed
            continue
        for side in SIDES:
            union = getattr(module, surface.server_union if side == "server" else surface.client_union, None)
            if isinstance(union, type) and issubclass(union, Enum):
                out[(surface.name, side)] = frozenset(str(e.value) for e in union)
            elif union is not None:
                out[(surface.name, side)] = frozenset(union_members(union))
    return out


def observed(results: Iterable[Result]) -> dict[Key, frozenset[str]]:
    """``(surface, side)`` → server event types received / client event types accepted in the run."""
    by_dialect: dict[str, dict[str, set[str]]] = {}
    for r in results:
        seen = by_dialect.setdefault(r.dialect, {"server": set(), "accepted": set()})
        seen["server"].update(r.observed.get("server", []))
        # Accepted by the case that sent it: a type valid only in some sessions (output_audio_buffer.clear: calls,
        # §11) counts although another case proves a WebSocket rejects it.
        seen["accepted"].update(set(r.observed.get("client_sent", [])) - set(r.observed.get("client_rejected", [])))
    out: dict[Key, frozenset[str]] = {}
    for surface in SURFACES:
        seen = by_dialect.get(surface.dialect or "", {"server": set(), "accepted": set()})
        out[(surface.name, "server")] = frozenset(seen["server"])
        out[(surface.name, "client")] = frozenset(seen["accepted"])
    return out


def declared() -> dict[tuple[str, Side, str], Unsupported]:
    return {(u.surface, u.side, u.type): u for u in UNSUPPORTED}


def status(surface: str, side: Side, etype: str, seen: Mapping[Key, frozenset[str]]) -> str:
    """``implemented`` (observed), the declared status, or ``undeclared`` (a gap the gate fails on)."""
    if etype in seen.get((surface, side), frozenset()):
        return "implemented"
    row = declared().get((surface, side, etype))
    return row.status if row is not None else "undeclared"


def gaps(results: Iterable[Result], unions: Mapping[Key, frozenset[str]] | None = None) -> list[str]:
    """The coverage gate: every problem, one line each (empty when the coverage is complete and honest)."""
    unions = sdk_unions() if unions is None else unions
    seen = observed(results)
    problems: list[str] = []
    keys = [(u.surface, u.side, u.type) for u in UNSUPPORTED]
    problems += [f"{s} {side} `{t}` is declared twice in UNSUPPORTED" for s, side, t in sorted(
        {k for k in keys if keys.count(k) > 1})]
    for (surface, side), types in sorted(unions.items()):
        for etype in sorted(types):
            if status(surface, side, etype, seen) == "undeclared":
                problems.append(
                    f"{surface} {side} event `{etype}` (in the installed SDK's union) is neither "
                    f"{'produced by' if side == 'server' else 'accepted by'} the mock in the conformance run nor "
                    "declared in conformance/coverage.py UNSUPPORTED: add a conformance case that exercises it, "
                    "or declare it with a reason")
    for u in UNSUPPORTED:
        key = (u.surface, u.side)
        if key not in unions:
            continue  # the installed SDK does not have this surface at all
        if u.type not in unions[key]:
            problems.append(f"UNSUPPORTED declares {u.surface} {u.side} `{u.type}`, which the installed SDK's union "
                            "does not have: remove the row")
        elif u.type in seen.get(key, frozenset()):
            problems.append(f"UNSUPPORTED declares {u.surface} {u.side} `{u.type}` ({u.status}), but the conformance "
                            "run observed it: remove the row")
    return problems


@cache
def mock_run() -> tuple[Result, ...]:
    """The whole catalogue on a fresh mock (``mockrt serve`` subprocesses), every dialect (cached per process)."""
    from conformance.runner import run_catalogue
    from conformance.targets import DIALECTS, MockTarget

    target = MockTarget()
    target.start()
    try:
        return tuple(run_catalogue(target, dialects=DIALECTS))
    finally:
        target.stop()


# -- COVERAGE.md -------------------------------------------------------------------------------------------------


def _sdk_version() -> str:
    import openai

    return str(openai.__version__)


def render(results: Iterable[Result], unions: Mapping[Key, frozenset[str]] | None = None) -> str:
    unions = sdk_unions() if unions is None else unions
    results = list(results)
    seen = observed(results)
    rows = declared()
    lines = [
        "# Event coverage of the mock",
        "",
        "Generated by `python -m conformance --coverage` from data; do not edit by hand: the installed openai SDK's "
        f"event unions (openai {_sdk_version()}), the event types a run of the whole conformance catalogue against "
        "the mock (`mockrt serve`, every dialect) observed, and the one declared table `UNSUPPORTED` in "
        "`conformance/coverage.py`. `tests/test_conformance_coverage.py` fails when an SDK event is neither "
        "observed nor declared, when a declaration is stale, and when this file is not current.",
        "",
        "**implemented**: observed in the run (server events the mock sent; client events it accepted, i.e. did not "
        "answer with `invalid_value` on `type`). Declared: **absent** (mockrt has no code for it), **optional** "
        "(implemented behind a setting a default server does not use), **unreachable** (the core can render it, "
        "but nothing a client or a scenario does triggers it), **n/a** (the service itself does not send or accept "
        "it on a WebSocket session), **tested** (a surface without conformance cases: implemented and exercised in "
        "the named tests/ module with that surface's own client). **undeclared**: a "
        "gap the gate fails on. **—**: not in that surface's union.",
        "",
        "| surface | SDK unions | server events implemented | client events implemented |",
        "|---|---|---|---|",
    ]
    for surface in SURFACES:
        counts = []
        for side in SIDES:
            types = unions.get((surface.name, side))
            if types is None:
                counts.append("(not in the installed SDK)")
                continue
            done = sum(status(surface.name, side, t, seen) == "implemented" for t in types)
            tested = sum(status(surface.name, side, t, seen) == "tested" for t in types)
            counts.append(f"{done} of {len(types)}" + (f" (+{tested} tested)" if tested else ""))
        lines.append(f"| {surface.name} | `{surface.module}` `{surface.server_union}` / `{surface.client_union}` "
                     f"| {counts[0]} | {counts[1]} |")
    lines.append("")
    families = list(dict.fromkeys(s.family for s in SURFACES))
    for family in families:
        members = [s for s in SURFACES if s.family == family]
        for side in SIDES:
            present = [s for s in members if (s.name, side) in unions]
            if not present:
                continue
            names = sorted(set().union(*(unions[(s.name, side)] for s in present)))
            lines += [f"## {family.capitalize()}: {side} events", "",
                      "| event | " + " | ".join(s.name for s in present) + " | why not observed |",
                      "|---|" + "---|" * len(present) + "---|"]
            for etype in names:
                cells: list[str] = []
                reasons: dict[str, str] = {}
                for s in present:
                    cell = status(s.name, side, etype, seen) if etype in unions[(s.name, side)] else "—"
                    cells.append(cell)
                    if cell not in ("implemented", "undeclared", "—"):
                        reasons[s.name] = rows[(s.name, side, etype)].reason
                if len(set(reasons.values())) <= 1:
                    note = next(iter(reasons.values()), "")
                else:
                    note = " / ".join(f"{name}: {reason}" for name, reason in reasons.items())
                lines.append(f"| `{etype}` | " + " | ".join(cells) + f" | {note} |")
            lines.append("")
            extra = [f"- {s.name}: `{t}`" for s in present
                     for t in sorted(seen[(s.name, side)] - unions[(s.name, side)])]
            if extra:
                what = "sent by the mock" if side == "server" else "accepted by the mock"
                lines += [f"{side.capitalize()} events {what} that are not in the SDK union of the surface:", "",
                          *extra, ""]
    return "\n".join(lines)


def generate() -> str:
    """The current COVERAGE.md text (runs the catalogue on the mock once per process)."""
    return render(mock_run())
