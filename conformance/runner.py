"""Running cases directly, without pytest: used by the mutant matrix and the coverage generator.

pytest runs the same registered case functions through :mod:`conformance.plugin`; both grade with
:func:`conformance.results.grade`.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from pathlib import Path

from conformance.catalogue import Case, load_catalogue
from conformance.context import CaseSkipped, Ctx
from conformance.results import Result, grade, slug
from conformance.targets import Target


def failure_message(exc: BaseException, ctx: Ctx, *, tail: int = 20) -> str:
    """The exception plus the last frames of the session it happened in."""
    if isinstance(exc, AssertionError):
        text = f"{type(exc).__name__}: {exc}"
    else:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if ctx.transcripts:
        text += f"\nlast frames of session {len(ctx.transcripts)}:\n" + ctx.transcripts[-1].tail(tail)
    return text


def write_transcripts(ctx: Ctx, directory: Path, dialect: str) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in ctx.transcript_files():
        path = directory / f"{slug(ctx.case.id, dialect)}{suffix}.jsonl"
        path.write_text(text)
        paths.append(str(path))
    return paths


def run_case(case: Case, target: Target, dialect: str, *, timeout_scale: float = 1.0,
             transcript_dir: Path | None = None) -> Result:
    """Run one case once and grade it; transcripts of anything but a pass go to ``transcript_dir``."""
    ctx = Ctx(case, target, dialect, timeout_scale=timeout_scale)
    known = case.known_reason(target.name, dialect)
    start = time.monotonic()
    message = ""
    skipped = False
    passed = False
    try:
        case.fn(ctx)
        passed = True
    except CaseSkipped as exc:
        skipped, message = True, str(exc)
    except Exception as exc:
        message = failure_message(exc, ctx)
    finally:
        ctx.close()
    outcome = "skip" if skipped else grade(case.level, passed, known)
    result = Result(case.id, dialect, target.name, case.level, outcome, case.section, case.description, message,
                    round(time.monotonic() - start, 3), known, tokens=ctx.tokens(), observed=ctx.observed())
    if outcome not in ("pass", "skip") and transcript_dir is not None:
        result.transcripts = write_transcripts(ctx, transcript_dir, dialect)
    return result


def run_catalogue(target: Target, *, cases: Iterable[Case] | None = None, dialects: Iterable[str] | None = None,
                  timeout_scale: float = 1.0, transcript_dir: Path | None = None) -> list[Result]:
    """Run ``cases`` (default: the whole catalogue) on a started ``target`` in each applicable dialect."""
    chosen = list(cases) if cases is not None else list(load_catalogue().values())
    wanted = tuple(dialects) if dialects is not None else target.default_dialects
    results = []
    for case in chosen:
        for dialect in case.dialects:
            if dialect in wanted and case.applies(target.name, dialect):
                results.append(run_case(case, target, dialect, timeout_scale=timeout_scale,
                                        transcript_dir=transcript_dir))
    return results
