"""Every fenced Python block of README.md and docs/*.md runs as written.

A README example that breaks fails CI. Each block runs as a new user would run it: in
a fresh Python process (nothing imported before it), in a temporary working directory
(it may write files such as ``spirals.safetensors``).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def _blocks():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 2
            yield pytest.param(doc, line, match.group(1), id=f"{doc.name}:{line}")


BLOCKS = list(_blocks())


def test_the_readme_has_python_examples():
    assert any(doc.name == "README.md" for doc, *_ in (b.values for b in BLOCKS))


@pytest.mark.parametrize(("doc", "line", "code"), BLOCKS)
def test_python_block_runs(doc, line, code, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, f"{doc.name}, block at line {line}:\n{run.stderr[-3000:]}"
