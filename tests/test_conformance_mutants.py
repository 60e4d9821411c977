"""The conformance catalogue is honest: every case passes on mockrt, fails on some mutant, and every mutant is
killed (negative controls).

The catalogue judges ``mockrt serve`` from outside (the ``mock`` target); each mutant patches an in-process server
(:func:`tests.conformance_mutants.mock_servers`, judged as a ``url`` target) and runs only the cases it names, with
short timeouts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.catalogue import load_catalogue
from conformance.coverage import mock_run
from conformance.results import Result
from conformance.runner import run_catalogue
from conformance.targets import Target
from tests.conformance_mutants import MUTANTS, Mutant, PatchTargetMissing, killed_cases, mock_servers, run_mutant


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with mock_servers() as servers:
        yield servers


def test_every_case_passes_on_the_mock() -> None:
    results = mock_run()
    failures = [f"{r.case_id}[{r.dialect}]: {r.outcome}: {r.message[:400]}" for r in results if r.outcome != "pass"]
    assert not failures, "\n".join(failures)
    ran = {r.case_id for r in results}
    assert ran == set(load_catalogue()), f"cases that did not run on the mock: {set(load_catalogue()) - ran}"


def test_every_case_is_killed_by_some_mutant() -> None:
    catalogue = set(load_catalogue())
    unknown = killed_cases() - catalogue
    assert not unknown, f"mutants name cases that do not exist: {sorted(unknown)}"
    dead = catalogue - killed_cases()
    assert not dead, f"cases no mutant kills (fix or remove them): {sorted(dead)}"


def test_there_are_enough_mutants() -> None:
    assert len(MUTANTS) >= 12
    assert all(m.kills for m in MUTANTS.values())


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_patch_targets_exist(name: str) -> None:
    with MUTANTS[name].active():  # raises PatchTargetMissing when a reshape moved what the mutant patches
        pass


def test_a_patch_of_something_missing_fails_loudly() -> None:
    from mockrt.core.session import RealtimeSession

    gone = Mutant("gone", "patches a method that does not exist", ("x",),
                  lambda p: p.attr(RealtimeSession, "_no_such_method", lambda self: None))
    with pytest.raises(PatchTargetMissing, match="_no_such_method"), gone.active():
        pass
    assert not hasattr(RealtimeSession, "_no_such_method")
    no_handler = Mutant("no-handler", "patches the handler of an event type the session lacks", ("x",),
                        lambda p: p.handler("no.such.event", lambda orig: orig))
    with pytest.raises(AttributeError, match=r"no\.such\.event"), no_handler.active():
        pass


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_killed_by_the_cases_it_names(name: str, target: Target) -> None:
    mutant = MUTANTS[name]
    results = run_mutant(mutant, target)
    killed = {"fail", "non-strict", "informational", "known"}  # a skip is not a kill
    survivors = [case_id for case_id, runs in results.items() if not any(r.outcome in killed for r in runs)]
    assert not survivors, f"{name} ({mutant.description}) survives {survivors}"
    # A mutant is one defect in one place: after it, the mock is whole again.
    assert all(r.outcome == "pass" for r in run_mutant_free(target, mutant.kills[:1]))


def run_mutant_free(target: Target, case_ids: tuple[str, ...]) -> list[Result]:
    catalogue = load_catalogue()
    return list(run_catalogue(target, cases=[catalogue[c] for c in case_ids]))
