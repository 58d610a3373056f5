"""The ```python blocks of README.md and docs/*.md run, in order, one namespace per file.

Each file's blocks share a fresh namespace (a later block may use what an earlier one
defined), so every file starts with its own imports. A failure names the file and the
block's number; line numbers in its traceback are the markdown file's own.
"""
import pathlib
import re
import traceback

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(path):
    """(number, first line, code) of each ```python block of ``path``, numbered from 1."""
    text = path.read_text(encoding="utf-8")
    return [(number, text.count("\n", 0, match.start(1)) + 1, match.group(1))
            for number, match in enumerate(FENCE.finditer(text), start=1)]


@pytest.mark.parametrize("path", [p for p in FILES if p.exists()], ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(path):
    name = path.relative_to(ROOT)
    blocks = python_blocks(path)
    opened = sum(line.startswith("```python") for line in path.read_text(encoding="utf-8").splitlines())
    assert opened == len(blocks), f"{name}: {opened} lines open a ```python block but {len(blocks)} blocks close"
    namespace = {"__name__": f"docs_{path.stem}"}
    for number, line, code in blocks:  # a file without blocks passes
        failure = None
        try:
            exec(compile("\n" * (line - 1) + code, str(name), "exec"), namespace)  # lines as in the file
        except Exception as error:
            failure = (f"{name}: python block {number} (starting at line {line}) raised "
                       f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        if failure:
            pytest.fail(failure, pytrace=False)
