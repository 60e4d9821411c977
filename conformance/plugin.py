"""The pytest side of the suite: options, the target fixture, grading, reports (loaded by ``conformance/conftest.py``).

``pytest conformance --target=mock|openai|azure|url [--url ws://… [--paced-url ws://…]]
[--dialect ga|beta|translation|live|voice-live] [--report DIR]``. Cases not applicable to the target or dialect are
deselected. Outcomes are graded (:func:`conformance.results.grade`): a failure where a known difference is declared
becomes an ``xfail`` whose reason says so; should/info-level failures are reported as failures but do not make the
exit code non-zero (only must-level failures do). Works under xdist: each worker starts its own mock; results travel
to the controller on the test reports.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import LEVELS, Case
from conformance.context import CaseSkipped, Ctx
from conformance.results import Result, grade, save_results, token_summary
from conformance.runner import write_transcripts
from conformance.targets import DIALECTS, TARGETS, Target, TargetError, make_target

_CTX = pytest.StashKey[Ctx]()
_STATE = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Realtime API conformance suite")
    group.addoption("--target", dest="conformance_target", choices=TARGETS,
                    default=os.environ.get("CONFORMANCE_TARGET", "mock"),
                    help="where to run the catalogue: mock (mockrt serve subprocesses, the default), openai, "
                         "azure, url")
    group.addoption("--url", dest="conformance_url", default=os.environ.get("CONFORMANCE_URL"),
                    help="WebSocket URL for --target url (ws://host:port[/v1/realtime])")
    group.addoption("--paced-url", dest="conformance_paced_url", default=os.environ.get("CONFORMANCE_PACED_URL"),
                    help="--target url: where the sessions that need live-like pacing go (default: --url)")
    group.addoption("--ca", dest="conformance_ca", default=None, metavar="FILE",
                    help="a PEM CA certificate that wss:// and https:// connections trust besides the system's "
                         "(a `mockrt serve --tls` target; default: $CONFORMANCE_CA)")
    group.addoption("--dialect", dest="conformance_dialect", choices=DIALECTS,
                    default=None,
                    help="run one dialect only (default: every dialect the target serves)")
    group.addoption("--model", dest="conformance_model", default=None,
                    help="model (Azure: deployment) to connect with (default: gpt-realtime / the deployment)")
    group.addoption("--report", "--conformance-report", dest="conformance_report", default=None,
                    help="directory for results-<target>.json, matrix.md/html and failure transcripts")
    group.addoption("--timeout-scale", dest="conformance_timeout_scale", type=float, default=1.0,
                    help="multiply every case timeout")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    for level in LEVELS:
        config.addinivalue_line("markers", f"{level}: a {level}-level conformance case")
    name = config.getoption("conformance_target")
    try:
        target = make_target(name, url=config.getoption("conformance_url"),
                             model=config.getoption("conformance_model"),
                             paced_url=config.getoption("conformance_paced_url"),
                             ca=config.getoption("conformance_ca"))
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    missing = target.missing_credentials()
    if missing:
        raise pytest.UsageError(
            f"conformance: --target {name} is a live service and needs the environment variable(s) "
            f"{', '.join(missing)}. No case was run and nothing was contacted.")
    config.stash[_STATE] = {"target": target}
    if not _is_worker(config):
        config.pluginmanager.register(Reporter(config, target), "conformance-reporter")


@pytest.fixture(scope="session")
def conformance_target(pytestconfig: pytest.Config) -> Any:
    """The started target of this run (one per xdist worker)."""
    target: Target = pytestconfig.stash[_STATE]["target"]
    try:
        target.start()
    except TargetError as exc:
        pytest.exit(str(exc), returncode=2)
    yield target
    target.stop()


def _dialects(config: pytest.Config, target: Target) -> tuple[str, ...]:
    chosen = config.getoption("conformance_dialect")
    return (chosen,) if chosen else target.default_dialects


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    target: Target = state["target"]
    dialects = _dialects(config, target)
    keep, drop = [], []
    for item in items:
        case: Case | None = getattr(getattr(item, "obj", None), "conformance_case", None)
        if case is None:
            keep.append(item)
            continue
        dialect = item.callspec.params["dialect"] if hasattr(item, "callspec") else ""
        if dialect not in dialects or not case.applies(target.name, dialect):
            drop.append(item)
            continue
        item.add_marker(getattr(pytest.mark, case.level))
        item.extra_keyword_matches.add(case.id)
        item.user_properties += [("case", case.id), ("level", case.level), ("section", case.section)]
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def run_case_in_pytest(case: Case, target: Target, dialect: str, request: pytest.FixtureRequest) -> None:
    """The body of every generated test: run the case function with a fresh context."""
    ctx = Ctx(case, target, dialect, timeout_scale=request.config.getoption("conformance_timeout_scale"))
    request.node.stash[_CTX] = ctx
    try:
        case.fn(ctx)
    except CaseSkipped as exc:
        pytest.skip(str(exc))
    finally:
        ctx.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    case: Case | None = getattr(getattr(item, "obj", None), "conformance_case", None)
    if case is None:
        return report
    dialect = item.callspec.params.get("dialect", "") if hasattr(item, "callspec") else ""
    target: Target = item.config.stash[_STATE]["target"]
    ctx = item.stash.get(_CTX, None)
    if report.when == "call" or (report.when == "setup" and not report.passed):
        known = case.known_reason(target.name, dialect)
        outcome = "skip" if report.skipped else grade(case.level, report.passed, known)
        message = ""
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = str(crash.message) if crash is not None else str(report.longrepr)[-2000:]
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        transcripts: list[str] = []
        report_dir = item.config.getoption("conformance_report")
        if ctx is not None and outcome not in ("pass", "skip") and report_dir:
            transcripts = write_transcripts(ctx, Path(report_dir) / "transcripts" / target.name, dialect)
        if ctx is not None and report.failed and ctx.transcripts:
            report.sections.append((f"conformance transcript (last frames of session {len(ctx.transcripts)})",
                                    ctx.transcripts[-1].tail(30)))
        if outcome == "known":
            report.outcome = "skipped"
            report.wasxfail = f"known difference on {target.name}: {known}"
        result = Result(case.id, dialect, target.name, case.level, outcome, case.section, case.description,
                        message, round(report.duration, 3), known, transcripts,
                        ctx.tokens() if ctx else {}, ctx.observed() if ctx else {})
        report.conformance = result.to_json()
        item.user_properties.append(("outcome", outcome))
    return report


class Reporter:
    """Collects graded results on the controller (xdist: from the workers' reports) and writes the reports."""

    def __init__(self, config: pytest.Config, target: Target) -> None:
        self.config = config
        self.target = target
        self.started = time.monotonic()
        self.results: list[Result] = []
        self.hard_failures: list[str] = []  # failures that must fail the run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if data is None:
            if report.failed:
                self.hard_failures.append(report.nodeid)
            return
        result = Result.from_json(data)
        self.results.append(result)
        if result.outcome == "fail":
            self.hard_failures.append(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        report_dir = self.config.getoption("conformance_report")
        if report_dir and self.results:
            from conformance.catalogue import load_catalogue
            from conformance.report import write_matrix

            directory = Path(report_dir)
            save_results(directory, self.target.name, self.target.describe(), self.results,
                         duration=time.monotonic() - self.started)
            write_matrix(directory, load_catalogue())
        if session.exitstatus == pytest.ExitCode.TESTS_FAILED and not self.hard_failures and self.results:
            # Only should/info-level cases failed: reported, but the run passes (must-level failures fail it).
            session.exitstatus = pytest.ExitCode.OK

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if not self.results:
            return
        from conformance.catalogue import load_catalogue
        from conformance.report import summary_counts, terminal_table

        tr = terminalreporter
        tr.section(f"conformance: {self.target.describe()}")
        for line in terminal_table(self.results, load_catalogue()):
            tr.write_line(line)
        counts = summary_counts(self.results)
        tr.write_line("")
        tr.write_line("outcomes: " + ", ".join(f"{n} {o}" for o, n in counts.items())
                      + f"  (must-level failures: {counts['fail']})")
        tokens = token_summary(self.results)
        if self.target.live or tokens["total"]:
            tr.write_line(f"tokens used (sum of response.done usage): {tokens['total']} "
                          f"(input {tokens['input']}, output {tokens['output']}) in {tokens['responses']} responses")
        report_dir = self.config.getoption("conformance_report")
        if report_dir:
            tr.write_line(f"report: {Path(report_dir) / 'matrix.md'} (and matrix.html, "
                          f"results-{self.target.name}.json, junit.xml if --junitxml was given)")
