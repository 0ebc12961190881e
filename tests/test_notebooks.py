"""The lecture notebooks (notebooks/seed00N_*.py, Jupytext percent format) run and stay paired.

Every notebook is executed as a plain Python script in a fresh process, from an empty
temporary directory, with a timeout; the rendered ``.ipynb`` committed next to each
one must hold the same cells (so the two cannot drift apart) and its outputs.

Regenerate the rendered notebooks after editing a ``.py`` (needs
``pip install -e ".[notebooks]"``; Graphviz's ``dot`` draws the graphs as SVG)::

    python tests/test_notebooks.py            # all of them
    python tests/test_notebooks.py seed004    # those whose name contains "seed004"
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("seed*.py"))
TIMEOUT = 300  # seconds; each notebook takes well under 2 minutes (docs/notebooks.md)
MAX_IPYNB_BYTES = 1_000_000


def test_one_notebook_per_lecture():
    seeds = sorted(p.name[:7] for p in NOTEBOOKS)
    assert seeds == ["seed000", "seed001", "seed002", "seed003", "seed004"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_as_a_script(path, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, (
        f"{path.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )
    assert list(tmp_path.iterdir()) == [], "a notebook wrote files into its working directory"
    print(f"{path.name}: {seconds:.1f} s")


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_rendered_notebook_matches_its_script(path):
    jupytext = pytest.importorskip("jupytext")
    ipynb = path.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run python tests/test_notebooks.py"
    assert ipynb.stat().st_size < MAX_IPYNB_BYTES
    rendered = jupytext.read(ipynb)
    source = jupytext.read(path)
    assert _cells(rendered) == _cells(source), (
        f"{ipynb.name} differs from {path.name}: run python tests/test_notebooks.py "
        f"{path.stem[:7]}"
    )
    code = [c for c in rendered.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{ipynb.name} was not executed"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{ipynb.name} holds an error output"
    images = [o for c in code for o in c.get("outputs", [])
              if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})]
    assert images, f"{ipynb.name} has no figure"


def render(paths) -> None:
    """Execute each notebook with a Jupyter kernel and write its ``.ipynb`` beside it."""
    import jupytext
    from nbclient import NotebookClient

    for path in paths:
        nb = jupytext.read(path)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as cwd:
            NotebookClient(
                nb, timeout=600, kernel_name="python3", record_timing=False,
                resources={"metadata": {"path": cwd}},
            ).execute()
        jupytext.write(nb, path.with_suffix(".ipynb"))
        size = path.with_suffix(".ipynb").stat().st_size
        print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s, "
              f"{size / 1e3:.0f} kB", flush=True)


if __name__ == "__main__":
    wanted = sys.argv[1:]
    render([p for p in NOTEBOOKS if not wanted or any(w in p.name for w in wanted)])
