"""Reports: the terminal summary table and the Markdown / HTML conformance matrix (case × target).

A run writes ``results-<target>.json`` into the report directory; the matrix is rebuilt from every results file
there, so running ``--target mock`` and ``--target openai`` into the same directory gives both columns side by
side (like Autobahn's ``index.html``). Non-passing cells link to the event transcripts (JSONL, every frame sent
and received) written beside them.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from conformance.catalogue import Case
from conformance.results import OUTCOMES, Result, load_results, token_summary
from conformance.targets import DIALECTS

SYMBOL = {"pass": "pass", "fail": "FAIL", "non-strict": "non-strict", "informational": "info-fail",
          "known": "known", "skip": "skip"}
_COLOURS = {"pass": "#c8f0c8", "fail": "#f4a6a6", "non-strict": "#f8e3a1", "informational": "#dde6f5",
            "known": "#e6d3f2", "skip": "#eeeeee", "n/a": "#ffffff"}


def _columns(runs: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    cols = []
    for target, run in runs.items():
        for dialect in DIALECTS:
            if any(r.dialect == dialect for r in run["results"]):
                cols.append((target, dialect))
    return cols


def _index(runs: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str, str], Result]:
    return {(r.case_id, r.target, r.dialect): r for run in runs.values() for r in run["results"]}


def _rows(runs: Mapping[str, Mapping[str, Any]], catalogue: Mapping[str, Case]) -> list[tuple[str, str, str, str]]:
    """``(id, level, section, description)`` of every case in the catalogue or in the results."""
    rows = {c.id: (c.id, c.level, c.section, c.description) for c in catalogue.values()}
    for run in runs.values():
        for r in run["results"]:
            rows.setdefault(r.case_id, (r.case_id, r.level, r.section, r.description))
    return [rows[k] for k in sorted(rows)]


def summary_counts(results: Iterable[Result]) -> Counter[str]:
    counts: Counter[str] = Counter({o: 0 for o in OUTCOMES})
    counts.update(r.outcome for r in results)
    return counts


def _rel(path: str, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:
        return path


def render_markdown(runs: Mapping[str, Mapping[str, Any]], catalogue: Mapping[str, Case], base: Path) -> str:
    cols = _columns(runs)
    index = _index(runs)
    lines = ["# Realtime API conformance matrix", ""]
    for target, run in runs.items():
        counts = summary_counts(run["results"])
        tokens = token_summary(run["results"])
        lines.append(f"- **{target}**: {run['description']}; {run['duration']:.1f} s; "
                     + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
                     + (f"; tokens used (sum of response.done usage): {tokens['total']}" if tokens["total"] else ""))
    lines += ["", "Outcomes: `pass`; `FAIL` (a must-level requirement failed); `non-strict` (a should-level one); "
              "`info-fail` (informational); `known` (a declared known difference); `skip`; `n/a` (does not apply).",
              "", "| case | level | § | " + " | ".join(f"{t}/{d}" for t, d in cols) + " |",
              "|---|---|---|" + "---|" * len(cols)]
    details = []
    for case_id, level, section, _ in _rows(runs, catalogue):
        cells = []
        for target, dialect in cols:
            r = index.get((case_id, target, dialect))
            if r is None:
                cells.append("n/a")
                continue
            cell = SYMBOL[r.outcome]
            if r.transcripts:
                cell = f"[{cell}]({_rel(r.transcripts[0], base)})"
            cells.append(cell)
            if r.outcome != "pass":
                details.append((case_id, target, dialect, r))
        lines.append(f"| `{case_id}` | {level} | {section} | " + " | ".join(cells) + " |")
    if details:
        lines += ["", "## Details", ""]
        for case_id, target, dialect, r in details:
            first = (r.known_reason or r.message or "").strip().splitlines()
            reason = first[0] if first else ""
            links = ", ".join(f"[transcript{i + 1 if len(r.transcripts) > 1 else ''}]({_rel(p, base)})"
                              for i, p in enumerate(r.transcripts))
            lines.append(f"- `{case_id}` {target}/{dialect}: **{SYMBOL[r.outcome]}** — {reason[:300]}"
                         + (f" ({links})" if links else ""))
    return "\n".join(lines) + "\n"


def render_html(runs: Mapping[str, Mapping[str, Any]], catalogue: Mapping[str, Case], base: Path) -> str:
    cols = _columns(runs)
    index = _index(runs)
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>Realtime API conformance</title><style>",
           "body{font-family:sans-serif;font-size:13px} table{border-collapse:collapse}",
           "td,th{border:1px solid #bbb;padding:2px 6px} td.o{text-align:center} code{font-size:12px}",
           "</style></head><body><h1>Realtime API conformance matrix</h1><ul>"]
    for target, run in runs.items():
        counts = summary_counts(run["results"])
        tokens = token_summary(run["results"])
        out.append(f"<li><b>{e(target)}</b>: {e(run['description'])}; {run['duration']:.1f} s; "
                   + ", ".join(f"{counts[o]} {e(o)}" for o in OUTCOMES)
                   + (f"; tokens used: {tokens['total']}" if tokens["total"] else "") + "</li>")
    out.append("</ul><table><tr><th>case</th><th>level</th><th>§</th><th>description</th>"
               + "".join(f"<th>{e(t)}/{e(d)}</th>" for t, d in cols) + "</tr>")
    for case_id, level, section, description in _rows(runs, catalogue):
        cells = []
        for target, dialect in cols:
            r = index.get((case_id, target, dialect))
            outcome = r.outcome if r is not None else "n/a"
            label = SYMBOL.get(outcome, outcome)
            title = e((r.known_reason or r.message)[:2000]) if r is not None and outcome != "pass" else ""
            if r is not None and r.transcripts:
                label = f"<a href='{e(_rel(r.transcripts[0], base))}'>{e(label)}</a>"
            cells.append(f"<td class='o' style='background:{_COLOURS[outcome]}' title='{title}'>{label}</td>")
        out.append(f"<tr><td><code>{e(case_id)}</code></td><td>{e(level)}</td><td>{e(section)}</td>"
                   f"<td>{e(description)}</td>{''.join(cells)}</tr>")
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write_matrix(directory: Path, catalogue: Mapping[str, Case]) -> tuple[Path, Path]:
    """Rebuild ``matrix.md`` and ``matrix.html`` from every results file in ``directory``."""
    runs = load_results(directory)
    md = directory / "matrix.md"
    page = directory / "matrix.html"
    md.write_text(render_markdown(runs, catalogue, directory))
    page.write_text(render_html(runs, catalogue, directory))
    return md, page


def terminal_table(results: list[Result], catalogue: Mapping[str, Case], *, width: int = 120) -> list[str]:
    """Rows of the terminal summary: one per case, one column per dialect."""
    dialects = [d for d in DIALECTS if any(r.dialect == d for r in results)]
    by_case: dict[str, dict[str, Result]] = {}
    for r in results:
        by_case.setdefault(r.case_id, {})[r.dialect] = r
    id_width = min(60, max([len(k) for k in by_case] + [4]))
    lines = [f"{'case':<{id_width}}  {'level':<6}  " + "  ".join(f"{d:<10}" for d in dialects)]
    for case_id in sorted(by_case):
        row = by_case[case_id]
        level = next(iter(row.values())).level
        cells = [SYMBOL[row[d].outcome] if d in row else "n/a" for d in dialects]
        lines.append(f"{case_id:<{id_width}}  {level:<6}  " + "  ".join(f"{c:<10}" for c in cells))
    return lines
