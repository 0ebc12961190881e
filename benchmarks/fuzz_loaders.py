"""Fuzz numnet's file loaders at length: generated IDX, safetensors and model files.

Runs the property checks of ``tests/io/test_hostile_files.py`` (the same strategies and
``check_*`` functions) with many more examples: every loader must either succeed or
raise its documented error (``IDXFormatError``, ``ModelFileError``, ``CheckpointError``)
naming the file, within a tracemalloc ceiling of a few times the file's size plus
2 MiB. Any other exception, or a larger peak, fails the run (hypothesis prints the
minimal failing file).

Usage::

    python benchmarks/fuzz_loaders.py                 # 3 x 3000 cases
    python benchmarks/fuzz_loaders.py --examples 20000 --seed 1
    python benchmarks/fuzz_loaders.py --quick            # 3 x 50 cases, seconds

Figures are recorded in ``docs/file-formats.md``.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

ROOT = Path(__file__).resolve().parents[1]


def _checks():
    spec = importlib.util.spec_from_file_location(
        "hostile_files", ROOT / "tests" / "io" / "test_hostile_files.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT))
    spec.loader.exec_module(module)
    return {
        "idx": (module.idx_files(), module.check_idx),
        "safetensors": (module.safetensors_files(), module.check_model_file),
        "model": (module.model_files(), module.check_model_file),
    }


def _runner(strategy, check, outcomes, directory, seed_value: int, examples: int):
    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case):
        outcomes[check(case, directory)] += 1

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=3000, help="cases per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="*", default=["idx", "safetensors", "model"])
    parser.add_argument("--quick", action="store_true", help="50 cases per kind (smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.examples = 50
    checks = _checks()
    total, t_all = 0, time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        directory = Path(d)
        for kind in args.kinds:
            strategy, check = checks[kind]
            outcomes: collections.Counter = collections.Counter()

            run = _runner(strategy, check, outcomes, directory, args.seed, args.examples)
            t0 = time.perf_counter()
            run()
            elapsed = time.perf_counter() - t0
            n = sum(outcomes.values())
            total += n
            detail = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
            print(f"{kind:12s} {n:6d} cases in {elapsed:6.1f} s  ({detail})", flush=True)
    print(f"{'total':12s} {total:6d} cases in {time.perf_counter() - t_all:6.1f} s, no failure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
