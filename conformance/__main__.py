"""``python -m conformance``: run the catalogue against a target, list it, or regenerate COVERAGE.md.

    python -m conformance --target mock|openai|azure|url [--url ws://…|wss://… [--paced-url …]] [--ca FILE]
                          [--dialect ga|beta|translation|live|voice-live] [-k EXPR] [--report DIR] [--model M]
                          [-- extra pytest args]
    python -m conformance --list [-k EXPR]
    python -m conformance --coverage [--check]

A run is an ordinary pytest session over the case modules (so ``-k``, xdist's ``-n`` after ``--`` and the JUnit
report behave as in ``pytest conformance``); ``--report DIR`` writes ``junit.xml``, ``results-<target>.json``,
``matrix.md``/``matrix.html`` and the transcripts of non-passing cases there. Live targets need their credentials in
environment variables; without them nothing is run or contacted and the exit code is 2. The exit code is non-zero
when a must-level case fails (should/info failures are reported but do not fail the run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.targets import DIALECTS, TARGETS, TargetError, make_target

PACKAGE_DIR = Path(__file__).resolve().parent


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", choices=TARGETS, default="mock",
                   help="where to run (default: mock, `mockrt serve` subprocesses)")
    p.add_argument("--url", help="WebSocket URL for --target url, e.g. ws://127.0.0.1:8000/v1/realtime")
    p.add_argument("--paced-url", help="--target url: where sessions that need live-like pacing go (default: --url)")
    p.add_argument("--ca", metavar="FILE",
                   help="a PEM CA certificate wss:// and https:// connections trust besides the system's, e.g. the "
                        "one `mockrt serve --tls --tls-ca-out FILE` writes (default: $CONFORMANCE_CA)")
    p.add_argument("--dialect", choices=DIALECTS,
                   help="one dialect only (default: all the target serves)")
    p.add_argument("--model", help="model (Azure: deployment) to connect with")
    p.add_argument("-k", dest="keyword", help="select cases by id / name substring expression (pytest -k syntax)")
    p.add_argument("--report", type=Path, help="directory for junit.xml, the matrix and failure transcripts")
    p.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every case timeout")
    p.add_argument("--list", action="store_true", help="list the catalogue (ids, levels, sections) and exit")
    p.add_argument("--coverage", action="store_true", help="regenerate conformance/COVERAGE.md from a mock run")
    p.add_argument("--check", action="store_true", help="with --coverage: fail if COVERAGE.md is not current")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --), e.g. -- -n 2 -x")
    return p


def _list(keyword: str | None) -> int:
    from conformance.catalogue import load_catalogue, select

    cases = select(load_catalogue(), keyword)
    width = max((len(c.id) for c in cases), default=10)
    for c in cases:
        print(f"{c.id:<{width}}  {c.level:<6}  {c.section:<18}  {','.join(c.dialects):<8}  {c.description}")
    print(f"{len(cases)} cases")
    return 0


def _coverage(check: bool) -> int:
    from conformance.coverage import COVERAGE_FILE, generate

    text = generate()
    if check:
        current = COVERAGE_FILE.read_text() if COVERAGE_FILE.exists() else ""
        if current != text:
            print(f"{COVERAGE_FILE} is not current: run `python -m conformance --coverage`", file=sys.stderr)
            return 1
        print(f"{COVERAGE_FILE} is current")
        return 0
    COVERAGE_FILE.write_text(text)
    print(f"wrote {COVERAGE_FILE}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        return _list(args.keyword)
    if args.coverage:
        return _coverage(args.check)
    try:
        target = make_target(args.target, url=args.url, model=args.model, paced_url=args.paced_url, ca=args.ca)
    except TargetError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    missing = target.missing_credentials()
    if missing:
        print(f"conformance: --target {args.target} is a live service and needs the environment variable(s) "
              f"{', '.join(missing)}.\nNo case was run and nothing was contacted; this is not a pass.",
              file=sys.stderr)
        return 2
    import pytest

    pytest_args = [str(PACKAGE_DIR), f"--rootdir={PACKAGE_DIR.parent}", "-p", "no:cacheprovider",
                   "--target", args.target, "--timeout-scale", str(args.timeout_scale)]
    if args.url:
        pytest_args += ["--url", args.url]
    if args.paced_url:
        pytest_args += ["--paced-url", args.paced_url]
    if args.ca:
        pytest_args += ["--ca", args.ca]
    if args.dialect:
        pytest_args += ["--dialect", args.dialect]
    if args.model:
        pytest_args += ["--model", args.model]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.report:
        args.report.mkdir(parents=True, exist_ok=True)
        pytest_args += ["--report", str(args.report), f"--junitxml={args.report / 'junit.xml'}"]
    if target.live:
        print(f"conformance: running against the live service {target.describe()}; tokens used are summed at the "
              "end", flush=True)
    return int(pytest.main(pytest_args + list(args.pytest_args)))


if __name__ == "__main__":
    sys.exit(main())
