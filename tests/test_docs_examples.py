"""Every fenced code block of README.md and docs/*.md that can run, runs.

A README example that breaks fails CI. A fence's info string says what it holds:
``python`` (run), ``bash`` or ``sh`` (commands, run), ``text`` (output, never run) or
another language (``toml``, ``json``...: not run). An untagged fence fails
:func:`test_every_fence_says_what_it_holds`: tag commands ``sh``, output ``text``.

**Python blocks** run as a new user would run them: each in a fresh Python process
(nothing imported before it), in a temporary working directory (a block may write
files such as ``spirals.safetensors``).

**Shell blocks** (``bash``, ``sh``): the lines are joined at a trailing backslash,
comments dropped, and split into commands at ``&&`` and ``;``. Every command whose
program is ``numnet`` or ``python`` runs, in order, in one temporary directory per
block, and must exit with status 0. A ``python`` script path (``benchmarks/...``,
``notebooks/...``) is taken from the repository root, where the docs' commands are
typed. The rules:

* Not run: installing and environments (``pip``, ``python -m pip``, ``python -m
  venv``, ``. .venv/bin/activate``), the test suite and the linter (``python -m
  pytest``, ``ruff``: CI runs the README's install-and-test line itself), and
  ``jupyter`` (a server). A command of any other program fails the test until it is
  added to :data:`NOT_RUN` with a reason or its line is marked ``skip-line``.
* No MNIST: the test writes tiny IDX files under MNIST's names (synthetic digits,
  :data:`TINY` images); every ``--data-dir DIR`` is replaced by their folder and
  ``$NUMNET_DATA`` points at it. Python blocks find them at ``../shared/data/mnist``
  too, and run with MNIST's checksum verification off if they name ``MNIST``.
  ``numnet`` runs as ``python -c`` around ``numnet.cli.main`` with MNIST's checksum
  verification off (made-up files cannot match MNIST's MD5s): the only difference from
  the installed command.
* ``numnet reproduce NAME`` runs with ``--quick`` (a full run takes minutes to hours).
* One thread (:data:`THREADS`: BLAS, OpenMP, numnet) unless the command sets its own.
* A command identical to one that already ran in the same block runs once; so does a
  ``python`` script command (a benchmark) identical to one that passed in another
  block of this session.

**Markers**: HTML comments on the lines right above the fence (invisible on GitHub),
one directive each::

    <!-- test: epochs=1 -->                 every --epochs N becomes --epochs 1
    <!-- test: quick -->                    every python script gets --quick (benchmarks)
    <!-- test: skip: REASON -->             the block does not run
    <!-- test: skip-line TEXT: REASON -->   the commands of lines holding TEXT do not run
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
ANY_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"^<!--\s*test:\s*(.*?)\s*-->\s*$")
SHELL = ("bash", "sh")
TINY = (1000, 300)  # training and test images of the stand-in MNIST
TIMEOUT = 300  # seconds per command
# one thread: on tiny data, BLAS threads only spin against each other on a shared machine
# (a quick MLP table took 37 s with them under load, 5 s without); a command may set its own
THREADS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMNET_NUM_THREADS": "1",
}
NOT_RUN = {
    "pip": "installs packages",
    ".": "activates a virtual environment",
    "source": "activates a virtual environment",
    "ruff": "the linter: CI runs the README's install-and-test line",
    "jupyter": "starts a notebook server",
}
NOT_RUN_MODULES = {
    "pip": "installs packages",
    "venv": "creates a virtual environment",
    "pytest": "the test suite itself: CI runs it",
}
# `numnet` as installed, except that MNIST's checksums are not checked: the stand-in
# IDX files are made up. Everything else (parsing, messages, exit status) is main()'s.
NUMNET = """\
import sys
from numnet.data import MNIST
_init = MNIST.__init__
def _unverified(self, *args, **kwargs):
    kwargs["verify"] = False
    _init(self, *args, **kwargs)
MNIST.__init__ = _unverified
from numnet.cli import main
sys.argv[0] = "numnet"
sys.exit(main())
"""


def _blocks():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 2
            yield pytest.param(doc, line, match.group(1), id=f"{doc.name}:{line}")


BLOCKS = list(_blocks())


def test_the_readme_has_python_examples():
    assert any(doc.name == "README.md" for doc, *_ in (b.values for b in BLOCKS))


# what a Python block reading MNIST runs first: the stand-in files are made up, so
# MNIST's checksums are not checked (as for the `numnet` command, NUMNET above)
UNVERIFIED_MNIST = NUMNET.split("from numnet.cli import main")[0]


@pytest.mark.parametrize(("doc", "line", "code"), BLOCKS)
def test_python_block_runs(doc, line, code, tmp_path, tiny_mnist):
    """Each block as a script. Blocks that read MNIST find the stand-in at
    ``../shared/data/mnist`` (the path the docs use) and in ``$NUMNET_DATA``."""
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "mnist").symlink_to(tiny_mnist, target_is_directory=True)
    script = work / "block.py"
    preamble = UNVERIFIED_MNIST if "MNIST" in code else ""
    script.write_text(preamble + code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], cwd=work, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, NUMNET_DATA=str(tiny_mnist)),
    )
    assert run.returncode == 0, f"{doc.name}, block at line {line}:\n{run.stderr[-3000:]}"


# -- shell blocks ----------------------------------------------------------------------
def _fences(doc: Path):
    """``(line of the fence, info string, body, marker directives)`` of every fence."""
    text = doc.read_text(encoding="utf-8")
    lines = text.split("\n")
    for match in ANY_FENCE.finditer(text):
        start = text[: match.start()].count("\n")  # 0-based line of the opening fence
        directives = []
        above = start - 1
        while above >= 0 and MARKER.match(lines[above]):
            directives.insert(0, MARKER.match(lines[above]).group(1))
            above -= 1
        yield start + 1, match.group(1).strip(), match.group(2), directives


class Plan:
    """What a shell block's marker directives ask for."""

    def __init__(self, directives: list[str]) -> None:
        self.epochs = None
        self.quick = False
        self.skip = None
        self.skip_lines: list[tuple[str, str]] = []
        for d in directives:
            if m := re.fullmatch(r"epochs=(\d+)", d):
                self.epochs = m.group(1)
            elif d == "quick":
                self.quick = True
            elif m := re.fullmatch(r"skip:\s*(\S.*)", d):
                self.skip = m.group(1)
            elif m := re.fullmatch(r"skip-line\s+(.+?):\s+(\S.*)", d):
                self.skip_lines.append((m.group(1), m.group(2)))
            else:
                raise ValueError(f"unknown test marker {d!r} (see {Path(__file__).name})")


def _split(line: str) -> list[list[str]]:
    """The commands of one shell line (split at && and ;), comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", ";"):
            commands.append([])
        elif token and set(token) <= set("();<>|&"):
            raise ValueError(f"the test cannot run {token!r} in {line!r}: mark the line skip-line")
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _environment(tokens: list[str]) -> tuple[dict, list[str], list[str]]:
    """Leading ``VAR=value`` and ``env -u VAR`` of a command: (set, unset, the rest)."""
    assign, unset, rest = {}, [], list(tokens)
    if rest and rest[0] == "env":
        rest.pop(0)
        while rest and rest[0] == "-u":
            unset.append(rest[1])
            del rest[:2]
    while rest and re.fullmatch(r"[A-Za-z_]\w*=.*", rest[0]):
        name, value = rest.pop(0).split("=", 1)
        assign[name] = value
    return assign, unset, rest


def _prepare(tokens: list[str], plan: Plan, data: Path):
    """``(argv, None)`` to run, or ``(None, reason)`` not to run, after the rules."""
    program, args = tokens[0], tokens[1:]
    if program in NOT_RUN:
        return None, NOT_RUN[program]
    if program not in ("numnet", "python", "python3"):
        raise ValueError(
            f"the test does not know whether to run {program!r}: add it to NOT_RUN with a "
            "reason, or mark the line skip-line"
        )
    if program != "numnet" and args[:1] == ["-m"]:
        module = args[1]
        if module in NOT_RUN_MODULES:
            return None, NOT_RUN_MODULES[module]
        if module != "numnet":
            raise ValueError(f"the test does not know python -m {module}: see NOT_RUN_MODULES")
        program, args = "numnet", args[2:]
    out = []
    it = iter(args)
    for arg in it:
        if arg == "--data-dir":
            next(it, None)
            out += ["--data-dir", str(data)]
        elif arg.startswith("--data-dir="):
            out.append(f"--data-dir={data}")
        elif arg == "--epochs" and plan.epochs:
            next(it, None)
            out += ["--epochs", plan.epochs]
        else:
            out.append(arg)
    if program == "numnet":
        if out[:1] == ["reproduce"] and len(out) > 1 and not out[1].startswith("-"):
            if "--quick" not in out and "--list" not in out:
                out.append("--quick")
        return [sys.executable, "-c", NUMNET, *out], None
    if out and not out[0].startswith("-"):
        script = ROOT / out[0]
        assert script.is_file(), f"{out[0]}: no such script in the repository"
        out[0] = str(script)
        if plan.quick and "--quick" not in out:
            out.append("--quick")
    return [sys.executable, *out], None


def _shell_blocks():
    for doc in DOCS:
        for line, tag, body, directives in _fences(doc):
            if tag in SHELL:
                yield pytest.param(doc, line, body, directives, id=f"{doc.name}:{line}")


SHELL_BLOCKS = list(_shell_blocks())
SCRIPTS_PASSED: list[list[str]] = []  # python script commands that passed this session


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """MNIST's four IDX files holding TINY synthetic digits (learnable, all ten classes)."""
    from numnet.data import write_idx
    from numnet.experiments._common import synthetic_digits

    root = tmp_path_factory.mktemp("mnist")
    digits = synthetic_digits(*TINY, seed=0)
    for prefix, X, y in (
        ("train", digits.X_train, digits.y_train),
        ("t10k", digits.X_test, digits.y_test),
    ):
        images = np.round(255 * X.reshape(-1, 28, 28)).astype(np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", y.astype(np.uint8))
    return root


def test_every_fence_says_what_it_holds():
    """No untagged fence (commands: ``sh``; output: ``text``) and no stray marker."""
    problems = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        fenced_markers = set()
        for line, tag, _, directives in _fences(doc):
            where = f"{doc.name}:{line}"
            if not tag:
                problems.append(f"{where}: untagged fence (sh for commands, text for output)")
            if directives:
                if tag not in SHELL:
                    problems.append(f"{where}: test markers above a {tag or 'untagged'} fence")
                try:
                    Plan(directives)
                except ValueError as exc:
                    problems.append(f"{doc.name}:{line}: {exc}")
                fenced_markers.update(range(line - len(directives), line))
        for n, text_line in enumerate(text.split("\n"), 1):
            if MARKER.match(text_line) and n not in fenced_markers:
                problems.append(f"{doc.name}:{n}: test marker not right above a fence")
    assert not problems, "\n".join(problems)


def test_the_docs_have_shell_blocks_that_run():
    assert any(doc.name == "README.md" for doc, *_ in (b.values for b in SHELL_BLOCKS))


@pytest.mark.parametrize(("doc", "line", "body", "directives"), SHELL_BLOCKS)
def test_shell_block_runs(doc, line, body, directives, tmp_path, tiny_mnist):
    plan = Plan(directives)
    if plan.skip:
        pytest.skip(plan.skip)
    env = dict(os.environ, NUMNET_DATA=str(tiny_mnist), PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    env.update(THREADS)
    env.pop("NUMNET_CLI_TEST", None)
    work = tmp_path / "work"
    work.mkdir()
    ran, not_run = [], []
    for text_line in re.sub(r"\\\n", " ", body).splitlines():
        reason = next((why for what, why in plan.skip_lines if what in text_line), None)
        for tokens in _split(text_line):
            assign, unset, tokens = _environment(tokens)
            if reason is None:
                argv, why = _prepare(tokens, plan, tiny_mnist)
            else:
                argv, why = None, reason
            shown = shlex.join(tokens)
            if argv is None:
                not_run.append(f"{shown}  ({why})")
                continue
            if argv in SCRIPTS_PASSED:
                not_run.append(f"{shown}  (passed in an earlier block)")
                continue
            if argv in ran:
                continue
            ran.append(argv)
            run_env = {k: v for k, v in env.items() if k not in unset} | assign
            res = subprocess.run(
                argv, cwd=work, env=run_env, capture_output=True, text=True, timeout=TIMEOUT
            )
            assert res.returncode == 0, (
                f"{doc.name}, block at line {line}: `{shown}` exited with {res.returncode}\n"
                f"{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
            )
            if argv[1] != "-c":  # a python script, not numnet
                SCRIPTS_PASSED.append(argv)
    if not ran:
        pytest.skip("nothing to run: " + "; ".join(not_run))
