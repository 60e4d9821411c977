"""The SDK coverage gate, and conformance/COVERAGE.md generated from the same data (conformance/coverage.py).

What the mock produces and accepts is measured, not declared: the whole conformance catalogue runs against
``mockrt serve`` (both dialects) and records every server event type it received and every client event type the
mock accepted. The run is deterministic and computed here (once per process, shared with
``tests/test_conformance_mutants.py``), so the gate gives the same answer alone, in the whole suite and under
xdist, whatever tests ran before it. The unit tests below show that the gate fails for what it must catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from conformance import coverage
from conformance.coverage import (
    COVERAGE_FILE,
    SURFACES,
    UNSUPPORTED,
    Unsupported,
    gaps,
    generate,
    mock_run,
    observed,
    render,
    sdk_unions,
)
from conformance.results import Result


def test_every_sdk_event_is_implemented_or_declared() -> None:
    problems = gaps(mock_run())
    assert not problems, "the coverage gate (conformance/coverage.py):\n" + "\n".join(problems)


def test_coverage_file_is_current() -> None:
    text = generate()
    current = COVERAGE_FILE.read_text() if COVERAGE_FILE.exists() else ""
    assert current == text, (
        "conformance/COVERAGE.md is not current: regenerate it with `python -m conformance --coverage` "
        "(it follows the catalogue, the mock, the SDK's event unions and UNSUPPORTED)")


def test_the_gate_walks_every_surface_of_the_installed_sdk() -> None:
    unions = sdk_unions()
    for surface in SURFACES:
        for side in ("server", "client"):
            assert unions[(surface.name, side)], f"{surface.module}.{surface.name} {side} union is empty"
    assert "response.output_audio.delta" in unions[("ga", "server")]
    assert "response.audio.delta" in unions[("beta", "server")]
    assert "session.output_audio.delta" in unions[("translation", "server")]
    assert "session.input_audio_buffer.append" in unions[("translation", "client")]


# -- the gate catches drift ------------------------------------------------------------------------------------

def _run(dialect: str, server: Sequence[str], sent: Sequence[str] = (), rejected: Sequence[str] = ()) -> Result:
    return Result("x/y", dialect, "mock", "must", "pass",
                  observed={"server": list(server), "client_sent": list(sent), "client_rejected": list(rejected)})


def _everything_observed(unions: dict[tuple[str, str], frozenset[str]]) -> list[Result]:
    """Results that observe every union event of the surfaces the catalogue runs, minus the declared ones."""
    declared = {(u.surface, u.side, u.type) for u in UNSUPPORTED}
    out = []
    for surface in SURFACES:
        if surface.dialect is None:
            continue
        server = [t for t in unions[(surface.name, "server")] if (surface.name, "server", t) not in declared]
        client = [t for t in unions[(surface.name, "client")] if (surface.name, "client", t) not in declared]
        out.append(_run(surface.dialect, server, client))
    return out


def test_the_gate_passes_on_complete_synthetic_coverage() -> None:
    unions = dict(sdk_unions())
    assert gaps(_everything_observed(unions), unions) == []


def test_the_gate_names_an_event_the_sdk_adds() -> None:
    unions = dict(sdk_unions())
    results = _everything_observed(unions)
    unions[("ga", "server")] = unions[("ga", "server")] | {"response.brand_new.delta"}
    unions[("translation", "client")] = unions[("translation", "client")] | {"session.pause"}
    problems = gaps(results, unions)
    assert len(problems) == 2, problems
    assert "ga server event `response.brand_new.delta`" in problems[0] and "neither produced" in problems[0]
    assert "translation client event `session.pause`" in problems[1] and "neither" in problems[1]
    assert "| `response.brand_new.delta` | undeclared | — |" in render(results, unions)


def test_the_gate_fails_on_stale_declarations(monkeypatch: pytest.MonkeyPatch) -> None:
    unions = dict(sdk_unions())
    results = _everything_observed(unions)
    # The SDK drops an event that is declared; the mock starts producing a declared one.
    unions[("ga", "server")] = unions[("ga", "server")] - {"conversation.item.created"}
    results.append(_run("ga", ["conversation.created"]))
    problems = gaps(results, unions)
    assert any("`conversation.item.created`, which the installed SDK's union does not have" in p
               for p in problems), problems
    assert any("`conversation.created` (optional), but the conformance run observed it" in p for p in problems)
    assert len(problems) == 2, problems
    # A duplicated row is an error too (one table, one row per event).
    monkeypatch.setattr(coverage, "UNSUPPORTED", (*UNSUPPORTED, replace(UNSUPPORTED[0], reason="again")))
    assert any("declared twice" in p for p in gaps(_everything_observed(dict(sdk_unions())), sdk_unions()))


def test_a_client_event_the_mock_rejects_is_not_accepted() -> None:
    seen = observed([_run("ga", [], ["session.update", "output_audio_buffer.clear"], ["output_audio_buffer.clear"])])
    assert seen[("ga", "client")] == {"session.update"}
    assert seen[("translation", "client")] == frozenset()  # only the translation dialect's runs observe translation


def test_declarations_are_well_formed() -> None:
    for u in UNSUPPORTED:
        assert isinstance(u, Unsupported)
        assert u.surface in {s.name for s in SURFACES}, u
        assert u.reason and "\n" not in u.reason and "|" not in u.reason, u


def test_voice_live_rows_are_honest() -> None:
    """Azure Voice Live is observed by the catalogue's voice-live dialect; what the run cannot observe is declared:
    ``optional`` rows name types the Voice Live dialect really sends (reached by a scenario, docs/protocol.md §12),
    and only avatar video is ``n/a``; the client's enums are 56 server and 20 client types."""
    from mockrt.core.dialects import VoiceLive

    dialect = VoiceLive()
    unions = sdk_unions()
    sends, accepts = set(dialect.server_events.values()), set(dialect.client_events)
    assert (len(unions[("voice-live", "server")]), len(unions[("voice-live", "client")])) == (56, 20)
    for u in UNSUPPORTED:
        if u.surface != "voice-live":
            continue
        handled = u.type in (sends if u.side == "server" else accepts)
        if u.status in ("optional", "tested", "unreachable"):
            assert handled, f"{u.side} `{u.type}` is declared {u.status} but the Voice Live dialect does not have it"
        else:
            assert not handled, f"{u.side} `{u.type}` is declared {u.status} but the Voice Live dialect has it"
    assert [u.type for u in UNSUPPORTED if u.surface == "voice-live" and u.status == "n/a"] == ["response.video.delta"]
