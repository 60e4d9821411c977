"""Every ```python snippet in README.md runs as written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
JS_SNIPPETS = re.findall(r"```js\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 7


def test_readme_yaml_example_is_a_valid_scenario() -> None:
    from mockrt.scenarios import load_scenario

    (example,) = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert load_scenario(example).name == "weather tool call"


def test_readme_js_snippets_are_the_tested_scripts() -> None:
    """Each ```js block is a script of tests/js/ (run by tests/test_clients_js.py), verbatim: its first line
    names the file."""
    named = [re.match(r"// (tests/js/\S+\.mjs):", snippet) for snippet in JS_SNIPPETS]
    assert len(JS_SNIPPETS) == 3 and all(named), [s.splitlines()[0] for s in JS_SNIPPETS]
    for snippet, match in zip(JS_SNIPPETS, named, strict=True):
        assert match is not None
        assert snippet == (ROOT / match.group(1)).read_text(encoding="utf-8"), f"README differs from {match.group(1)}"


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index: int, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                             tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # where `tls=True` keeps its CA (not the user's home)
    snippet = SNIPPETS[index]
    first = snippet.splitlines()[0]
    if first.startswith("# file: "):  # a test file for the pytest plugin: run it as a user would
        pytester.makepyfile(**{first.removeprefix("# file: ").removesuffix(".py"): snippet})
        pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
        return
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, f"README.md snippet {index}", "exec"), {"__name__": "__readme__"})
    if index == 0:
        assert "Hello!" in out.getvalue()
