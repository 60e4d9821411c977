"""The project's own specification: every ``docs/protocol.md §N`` / ``docs/vad.md §N`` citation in the repository
names a section that exists, and nothing depends on reference files outside the repository."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("protocol.md", "vad.md")
CITED_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".jsonl", ".toml"}
TEXT_SUFFIXES = CITED_SUFFIXES | {".txt", ".js", ".css", ".html", ".cfg", ".ini", ".sh"}

_REF = r"(?:\d+(?:\.\d+)*|[A-H](?:\.\d+)*)"  # appendix letters A–H
#: a section list after the document's name: ``§2.2–§2.4, §5.6 and §7``, ``§0.1-0.3``, ``§5.1-§5.4``
CITATION = re.compile(
    r"docs/(?P<doc>protocol|vad)\.md`?\s*(?P<refs>§" + _REF
    + r"(?:\s*[-–]\s*§?" + _REF + r"|\s*(?:,|/|and)\s*§" + _REF + r")*)"
)
SECTION = re.compile(r"§?(" + _REF + r")")
HEADING = re.compile(r"^#{2,3} (?:Appendix )?(" + _REF + r")\.? ", re.MULTILINE)

# Built from pieces so that this file does not match its own search (and survives a sed over the repository).
OUTSIDE = re.compile("|".join([
    "shared" + r"[\"'\s]*/[\"'\s]*" + "reference",  # a path written with slashes, or as Path segments
    r"\.\./" + "shared",
    "/work/" + "shared",
]))


@cache
def repository_files() -> tuple[Path, ...]:
    """Tracked and untracked-but-not-ignored files (``git ls-files``), or a walk when git is not available."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True, timeout=30,
        ).stdout.decode()
        paths = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
        paths = [p for p in ROOT.rglob("*") if not skip.intersection(p.relative_to(ROOT).parts)]
    return tuple(sorted(p for p in paths if p.is_file()))


def text_files(suffixes: set[str]) -> list[Path]:
    return [p for p in repository_files() if p.suffix in suffixes or p.name == "Makefile"]


def sections(doc: str) -> set[str]:
    """Section numbers of ``docs/<doc>``: ``## 5.`` → ``5``, ``### 5.11`` → ``5.11``, ``### A.4`` → ``A.4``."""
    return set(HEADING.findall((ROOT / "docs" / doc).read_text(encoding="utf-8")))


def citations(text: str) -> list[tuple[str, str]]:
    """``(document, section)`` for every section named in a citation; a range names both of its ends."""
    found = []
    for match in CITATION.finditer(text):
        for ref in SECTION.findall(match["refs"]):
            found.append((match["doc"] + ".md", ref))
    return found


def test_citation_parser() -> None:
    text = ("(docs/protocol.md §2.2–§2.4, §5.6, §7; docs/vad.md §0.1-0.3, §5.1 steps 2-3) "
            "`docs/protocol.md` §A.4 and §4.10; protocol.md §9 is not ours; docs/vad.md §5.1-§5.4.")
    assert citations(text) == [
        ("protocol.md", "2.2"), ("protocol.md", "2.4"), ("protocol.md", "5.6"), ("protocol.md", "7"),
        ("vad.md", "0.1"), ("vad.md", "0.3"), ("vad.md", "5.1"),
        ("protocol.md", "A.4"), ("protocol.md", "4.10"),
        ("vad.md", "5.1"), ("vad.md", "5.4"),
    ]


def test_the_documents_have_their_sections() -> None:
    protocol, vad = sections("protocol.md"), sections("vad.md")
    assert {"0.1", "1.4", "2.5", "3.1", "4.10", "5.13", "6.2", "7", "8.2", "A.4", "B"} <= protocol
    assert {"0.1", "0.7", "1.4", "3", "4", "5.1", "5.6"} <= vad
    assert "9.9" not in protocol  # the check below can fail


def test_every_citation_names_an_existing_section() -> None:
    known = {doc: sections(doc) for doc in DOCS}
    seen, missing = 0, []
    for path in text_files(CITED_SUFFIXES):
        text = path.read_text(encoding="utf-8", errors="replace")
        for doc, ref in citations(text):
            seen += 1
            if ref not in known[doc]:
                missing.append(f"{path.relative_to(ROOT)}: docs/{doc} §{ref}")
    assert seen > 0, "no citations found: is the pattern still right?"
    assert not missing, "citations of sections that do not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize(("line", "outside"), [
    ("see " + "shared/" + "reference/protocol.md §2", True),
    ('Path(__file__).parent / "' + 'shared" / "' + 'reference" / "protocol.md"', True),
    ("../" + "shared/x", True),
    ("docs/protocol.md §2, a shared reference point", False),
])
def test_outside_pattern(line: str, outside: bool) -> None:
    assert bool(OUTSIDE.search(line)) is outside


def test_nothing_depends_on_files_outside_the_repository() -> None:
    offenders = []
    for path in text_files(TEXT_SUFFIXES):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "references to files outside the repository:\n" + "\n".join(offenders)
