"""`robollm bench scoring`: naive against batched shared-prefix scoring, side by side."""

from __future__ import annotations

import argparse
import json
import time

from robollm.llm.bench import _report, run_benchmark
from robollm.llm.factory import BACKENDS, create_language_model


def bench_scoring(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="robollm bench scoring",
        description="Compare naive and batched shared-prefix candidate scoring.",
    )
    parser.add_argument("--backend", choices=BACKENDS, default="hf")
    parser.add_argument("--model", help="model folder or .gguf file (default: embedded SmolLM2)")
    parser.add_argument("--url", help="server URL for --backend http")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--dtype", default="float32", help="float32 (default) or bfloat16")
    parser.add_argument("--repeats", type=int, default=3, help="batched runs; median is used")
    parser.add_argument("--min-speedup", type=float, default=10.0)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.backend == "hf":
        options = dict(model=args.model, threads=args.threads, dtype=args.dtype)
    elif args.backend == "http":
        options = dict(url=args.url, model=args.model)
    else:
        options = {}
    model = create_language_model(args.backend, source="robollm bench scoring", **options)
    load_s = time.perf_counter() - start
    with model:
        result = run_benchmark(
            model, repeats=args.repeats, min_speedup=args.min_speedup, tolerance=args.tolerance
        )
    import torch

    result.update(backend=args.backend, load_s=load_s, threads=torch.get_num_threads())
    print(json.dumps(result, indent=2) if args.json else _report(result))
    return 0 if result["passed"] else 1
