"""Literal codec speed against flytekit's TypeEngine, with byte-identical output checked first.

Run: ``.venv/bin/python benchmarks/bench_literals.py [--repeat N]``. For each workload it prints flytekit's time
(``TypeEngine.to_literal`` + ``to_flyte_idl``, the message a client sends), ours (``to_literal``), and the ratio; the
target is ours >= 3x faster. Times are the best of N runs; every run converts a fresh copy of the value so flytekit's
literal cache cannot answer from memory.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable
from typing import Any

TARGET_RATIO = 3.0


def _best_of(repeat: int, make_value: Callable[[], Any], convert: Callable[[Any], Any]) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        value = make_value()
        start = time.perf_counter()
        result = convert(value)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (best time is kept)")
    args = parser.parse_args()

    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine

    from airflow_provider_flyte.literals import to_literal

    context = FlyteContextManager.current_context()
    workloads: list[tuple[str, Any, Callable[[], Any]]] = [
        ("list[int] x 100k", list[int], lambda: list(range(100_000))),
        ("dict[str, float] x 10k", dict[str, float], lambda: {f"key{i}": i * 0.5 for i in range(10_000)}),
        (
            "list[dict[str, list[int]]] 1k x 10 x 10",
            list[dict[str, list[int]]],
            lambda: [{f"k{j}": list(range(i, i + 10)) for j in range(10)} for i in range(1_000)],
        ),
        (
            "list[Optional[str]] x 20k",
            list[str | None],
            lambda: [None if i % 3 == 0 else f"s{i}" for i in range(20_000)],
        ),
    ]
    failures = 0
    print(f"{'workload':<42}{'flytekit s':>12}{'ours s':>10}{'ratio':>8}  bytes")
    for title, python_type, make_value in workloads:
        declared_model = TypeEngine.to_literal_type(python_type)
        declared = declared_model.to_flyte_idl()
        seed = make_value()

        def flytekit_convert(value: Any, python_type: Any = python_type, declared_model: Any = declared_model) -> Any:
            return TypeEngine.to_literal(context, value, python_type, declared_model).to_flyte_idl()

        def our_convert(value: Any, declared: Any = declared) -> Any:
            return to_literal(value, declared)

        def fresh(seed: Any = seed) -> Any:
            return copy.deepcopy(seed)

        TypeEngine._LITERAL_CACHE.clear()
        theirs_s, theirs = _best_of(args.repeat, fresh, flytekit_convert)
        ours_s, ours = _best_of(args.repeat, fresh, our_convert)
        same = theirs.SerializeToString(deterministic=True) == ours.SerializeToString(deterministic=True)
        ratio = theirs_s / ours_s
        ok = same and ratio >= TARGET_RATIO
        failures += not ok
        print(f"{title:<42}{theirs_s:>12.3f}{ours_s:>10.3f}{ratio:>7.1f}x  {'identical' if same else 'DIFFERENT'}")
    print(f"target: >= {TARGET_RATIO:.0f}x with identical bytes -> {'met' if not failures else 'NOT met'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
