"""Every ```python snippet in README.md runs as written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 7


def test_readme_yaml_example_is_a_valid_scenario() -> None:
    from mockrt.scenarios import load_scenario

    (example,) = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert load_scenario(example).name == "weather tool call"


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index: int, pytester: pytest.Pytester) -> None:
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
