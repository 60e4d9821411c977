"""Running the conformance suite: live targets without credentials, ``--target url``, reports, exit codes, the
pytest plugin's grading (known differences, should-level failures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.client import Session, Transcript
from conformance.targets import KNOWN_MODELS, MockTarget, TargetError
from mockrt.config import ServerConfig
from mockrt.thread import ServerThread
from tests.conformance_mutants import MUTANTS

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-conformance-url-key-0123456789"
LIVE_VARS = ("OPENAI_", "AZURE_OPENAI_", "AZURE_VOICELIVE_", "CONFORMANCE_")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(LIVE_VARS)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def url_server() -> Iterator[ServerThread]:
    """Another server that claims the protocol: a keyed mockrt with its default (live-like) pacing."""
    config = ServerConfig(port=0, api_keys=(KEY,), known_models=KNOWN_MODELS, log_level="warning")
    with ServerThread(config) as server:
        yield server


@pytest.mark.parametrize(("target", "variable"), [("openai", "OPENAI_API_KEY"), ("azure", "AZURE_OPENAI_ENDPOINT")])
def test_live_target_without_credentials_runs_nothing(tmp_path: Path, target: str, variable: str) -> None:
    report = tmp_path / "report"
    proc = _run("-m", "conformance", "--target", target, "--report", str(report))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert variable in proc.stderr
    assert "No case was run and nothing was contacted" in proc.stderr
    assert "passed" not in proc.stdout and not report.exists()


def test_azure_with_voice_live_credentials_only_runs_voice_live(tmp_path: Path, url_server: ServerThread) -> None:
    """``--target azure`` with only ``AZURE_VOICELIVE_*``: the Voice Live cases run (here against a keyed mockrt
    standing in for the resource), the Azure OpenAI dialects' cases are reported as skipped, naming the variables."""
    proc = _run("-m", "conformance", "--target", "azure", "-k", "voice-live/session or connection/auth/wrong-key",
                "--report", str(tmp_path), AZURE_VOICELIVE_ENDPOINT=url_server.http_url,
                AZURE_VOICELIVE_API_KEY=KEY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "results-azure.json").read_text())["results"]
    outcomes = {(r["case_id"], r["dialect"]): (r["outcome"], r["message"]) for r in results}
    assert outcomes[("voice-live/session/azure-settings", "voice-live")][0] == "pass"
    assert outcomes[("voice-live/session/validation", "voice-live")][0] == "pass"
    skipped = [m for (case, dialect), (o, m) in outcomes.items() if dialect in ("ga", "beta") and o == "skip"]
    assert len(skipped) == 2 and all("AZURE_OPENAI_ENDPOINT" in m for m in skipped), outcomes
    without = _run("-m", "conformance", "--target", "azure", AZURE_VOICELIVE_ENDPOINT=url_server.http_url)
    assert without.returncode == 2 and "AZURE_VOICELIVE_API_KEY" in without.stderr


def test_pytest_with_a_live_target_without_credentials_is_a_usage_error() -> None:
    proc = _run("-m", "pytest", "conformance", "--target=openai", "-p", "no:cacheprovider")
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "OPENAI_API_KEY" in proc.stderr
    assert "passed" not in proc.stdout


def test_url_target_runs_the_catalogue_and_writes_the_reports(tmp_path: Path, url_server: ServerThread) -> None:
    proc = _run("-m", "conformance", "--target", "url", "--url", url_server.ws_url, "-k",
                "connection or audio-buffer or items/create", "--report", str(tmp_path), CONFORMANCE_API_KEY=KEY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "conformance: url (" in proc.stdout and "must-level failures: 0" in proc.stdout
    results = json.loads((tmp_path / "results-url.json").read_text())["results"]
    assert len(results) > 40 and {r["outcome"] for r in results} == {"pass"}
    assert {r["dialect"] for r in results} == {"ga", "beta"}
    junit = (tmp_path / "junit.xml").read_text()
    assert junit.count("<testcase") == len(results) and 'name="case" value="connection/auth/wrong-key"' in junit
    matrix = (tmp_path / "matrix.md").read_text()
    assert "| `connection/auth/wrong-key` | must | §1.4, §1.2 | pass | pass |" in matrix
    assert "<table>" in (tmp_path / "matrix.html").read_text()


@pytest.fixture(scope="module")
def tls_url_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """``mockrt serve --tls`` as a url target: its own local CA, which no system trusts."""
    config = ServerConfig(port=0, api_keys=(KEY,), known_models=KNOWN_MODELS, log_level="warning", tls=True,
                          tls_dir=str(tmp_path_factory.mktemp("tls")))
    with ServerThread(config) as server:
        yield server


def test_url_target_over_wss_trusts_the_ca_given_with_ca(tmp_path: Path, tls_url_server: ServerThread) -> None:
    ca = tls_url_server.ca_path
    assert ca is not None and tls_url_server.wss_url.startswith("wss://")
    proc = _run("-m", "conformance", "--target", "url", "--url", tls_url_server.wss_url, "--ca", ca, "--dialect", "ga",
                "-k", "items/create or calls/control", "--report", str(tmp_path), CONFORMANCE_API_KEY=KEY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "results-url.json").read_text())["results"]
    assert len(results) == 11 and {r["outcome"] for r in results} == {"pass"}  # wss:// and https:// (the calls API)


def test_url_target_over_wss_reads_the_ca_from_the_environment(tls_url_server: ServerThread) -> None:
    case = ["--target", "url", "--url", tls_url_server.wss_url, "--dialect", "ga", "-k", "items/create/client-id"]
    trusted = _run("-m", "conformance", *case, CONFORMANCE_API_KEY=KEY, CONFORMANCE_CA=str(tls_url_server.ca_path))
    assert trusted.returncode == 0 and "1 pass, 0 fail" in trusted.stdout, trusted.stdout[-3000:]
    untrusted = _run("-m", "conformance", *case, CONFORMANCE_API_KEY=KEY)  # the system's CAs only: refused
    assert untrusted.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout, untrusted.stdout[-3000:]


def test_an_unreadable_ca_file_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    proc = _run("-m", "conformance", "--target", "url", "--url", "wss://127.0.0.1:9/v1/realtime", "--ca",
                str(tmp_path / "ca.pem"))
    assert proc.returncode == 2 and f"--ca {tmp_path / 'ca.pem'}: not a readable PEM CA certificate" in proc.stderr


def test_a_must_failure_fails_the_run_and_links_its_transcript(tmp_path: Path, url_server: ServerThread) -> None:
    with MUTANTS["cancel-not-active-code"].active():
        proc = _run("-m", "conformance", "--target", "url", "--url", url_server.ws_url + "/v1/realtime", "-k",
                    "responses/cancel/not-active", "--dialect", "ga", "--report", str(tmp_path),
                    CONFORMANCE_API_KEY=KEY)
    assert proc.returncode == 1, proc.stdout[-3000:]
    (result,) = json.loads((tmp_path / "results-url.json").read_text())["results"]
    assert result["outcome"] == "fail" and "response_cancel_not_active" in result["message"]
    transcript = Path(result["transcripts"][0])
    header, *frames = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert header["mockrt_recording"] == 1 and header["case"] == "responses/cancel/not-active"
    assert {f["dir"] for f in frames} == {"client", "server"}
    assert f"[FAIL](transcripts/url/{transcript.name})" in (tmp_path / "matrix.md").read_text()
    assert "<failure" in (tmp_path / "junit.xml").read_text()


def test_a_should_failure_is_reported_but_does_not_fail_the_run(tmp_path: Path, url_server: ServerThread) -> None:
    with MUTANTS["event-id-20-chars"].active():
        proc = _run("-m", "conformance", "--target", "url", "--url", url_server.ws_url, "-k", "connection/ids",
                    "--report", str(tmp_path), CONFORMANCE_API_KEY=KEY)
    assert proc.returncode == 0, proc.stdout[-3000:]
    outcomes = {r["outcome"] for r in json.loads((tmp_path / "results-url.json").read_text())["results"]}
    assert outcomes == {"non-strict"}
    assert "non-strict" in proc.stdout


def test_without_a_key_the_url_target_skips_the_auth_cases(url_server: ServerThread) -> None:
    proc = _run("-m", "conformance", "--target", "url", "--url", url_server.ws_url, "-k", "connection/auth/wrong-key",
                "--dialect", "ga")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "1 skipped" in proc.stdout


def test_the_mock_target_is_mockrt_serve_without_the_callers_mockrt_settings() -> None:
    # A MOCKRT_* variable in the caller's environment would change the server the catalogue judges: it is dropped.
    target = MockTarget(env={**os.environ, "MOCKRT_CONVERSATION_CREATED": "1", "MOCKRT_SEED": "7"})
    target.start()
    try:
        assert target.endpoint("ga", paced=True).url.startswith(target.servers["paced"] + "/v1/realtime?")
        assert set(target.servers) == {"fast", "paced"} and target.servers["fast"] != target.servers["paced"]
        assert target.describe().startswith("mock (mockrt serve, ws://127.0.0.1:")
        endpoint = target.endpoint("ga")
        assert endpoint.url.startswith(target.servers["fast"] + "/v1/realtime?model=gpt-realtime")
        session = Session.open(endpoint.url, headers=endpoint.headers, subprotocols=endpoint.subprotocols,
                               dialect="ga", transcript=Transcript("mock", "ga", endpoint.url, "selftest"),
                               deadline=time.monotonic() + 30, wait_cap=5.0, local=True)
        try:
            assert session.next()["type"] == "session.created"
            session.send({"type": "conversation.item.retrieve", "item_id": "item_missing", "event_id": "probe_1"})
            assert session.next()["type"] == "error"  # no conversation.created in between
        finally:
            session.close()
        processes = list(target._processes.values())
    finally:
        target.stop()
    assert processes and all(p._proc is None for p in processes) and target.servers == {}


def test_a_mock_server_that_does_not_start_is_reported_with_its_stderr() -> None:
    failing = f"{sys.executable} -c \"import sys; sys.stderr.write('no such ' + 'flag: --bogus'); sys.exit(2)\""
    target = MockTarget(env={**os.environ, "CONFORMANCE_MOCK_COMMAND": failing})
    with pytest.raises(TargetError, match="did not start a server") as info:
        target.start()
    assert "its stderr:\nno such flag: --bogus" in str(info.value)  # the child's stderr, not the command line
    assert target.servers == {}


PLUGIN_SELFTEST = '''
from conformance import Ctx, case


@case(id="selftest/known/fails", description="fails where a difference is declared", section="§1",
      requirement="-", dialects=("ga",), known={"mock": "declared difference"})
def test_known(ctx: Ctx) -> None:
    raise AssertionError("differs")


@case(id="selftest/should/fails", description="a should-level failure", section="§1", requirement="-",
      level="should", dialects=("ga",))
def test_should(ctx: Ctx) -> None:
    raise AssertionError("soft")


@case(id="selftest/must/passes", description="passes", section="§1", requirement="-")
def test_must(ctx: Ctx) -> None:
    ctx.connect().expect_quiet("after connecting")
'''


def test_plugin_grades_known_differences_and_levels(pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_selftest=PLUGIN_SELFTEST)
    result = pytester.runpytest_subprocess("-p", "conformance.plugin", "--target=mock", "-p", "no:cacheprovider",
                                           "-rxf", "--report", str(pytester.path / "report"),
                                           "--timeout-scale", "3")  # a loaded CI box: deadlines, not waits
    result.assert_outcomes(passed=2, failed=1, xfailed=1)
    assert result.ret == 0  # only a should-level case failed
    result.stdout.fnmatch_lines(["*outcomes: 2 pass, 0 fail, 1 non-strict, 0 informational, 1 known, 0 skip*",
                                 "XFAIL*test_known*known difference on mock: declared difference*"])
    results = json.loads((pytester.path / "report" / "results-mock.json").read_text())["results"]
    assert {r["case_id"]: r["outcome"] for r in results} == {
        "selftest/known/fails": "known", "selftest/should/fails": "non-strict", "selftest/must/passes": "pass"}


def test_case_ids_select_with_k_and_collect_only() -> None:
    proc = _run("-m", "pytest", "conformance", "--target=mock", "--collect-only", "-q", "-p", "no:cacheprovider",
                "-k", "audio-buffer/commit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert collected and all("test_audio_buffer.py::test_commit" in line for line in collected)
    assert len(collected) == 8  # 4 cases × 2 dialects


def test_list_prints_the_catalogue() -> None:
    proc = _run("-m", "conformance", "--list", "-k", "vad")
    assert proc.returncode == 0
    assert "vad/barge-in" in proc.stdout and "must" in proc.stdout
