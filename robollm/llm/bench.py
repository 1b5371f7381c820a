"""``robollm bench scoring``: is shared-prefix batched scoring fast, and does it agree?

Scores one realistic SayCan step (53 candidates after a ~300-token prompt) twice in the same
process: naively, one full forward pass per candidate, and batched with the prompt computed
once. Reports both times, the speed-up and the largest difference between the two methods'
log-probabilities; exits 0 only when both targets hold.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from robollm.llm.base import CandidateScore, LanguageModel
from robollm.llm.examples import saycan_candidates, saycan_prompt


def run_benchmark(
    model: LanguageModel, *, repeats: int = 3, min_speedup: float = 10.0, tolerance: float = 1e-3
) -> dict[str, Any]:
    """Time both methods on the same step.

    The batched runs are spread through the naive pass (the batched time is their median),
    so that a machine whose speed drifts, for example one shared with other jobs, slows both
    methods alike instead of skewing the ratio.
    """
    from tqdm import tqdm

    prompt, candidates = saycan_prompt(), saycan_candidates()
    model.score(prompt, candidates[:2])  # warm-up: first-call allocations are not scoring
    one_pass = getattr(model, "score_naive", None)
    # Each timed call starts cold: a prompt cached by the previous call would make the
    # batched step look cheaper than a planner's first step is.
    forget = getattr(model, "forget_prompts", lambda: None)
    repeats = max(1, repeats)
    batched_after = {round((k + 1) * len(candidates) / repeats) - 1 for k in range(repeats)}
    naive: list[CandidateScore] = []
    batched: list[CandidateScore] = []
    naive_s = naive_cpu = 0.0
    times, cpu_times = [], []
    bar = tqdm(candidates, desc="naive", unit="cand", file=sys.stderr, leave=False)
    for index, candidate in enumerate(bar):
        forget()
        wall, cpu = time.perf_counter(), time.process_time()
        naive += one_pass(prompt, [candidate]) if one_pass else model.score(prompt, [candidate])
        naive_s += time.perf_counter() - wall
        naive_cpu += time.process_time() - cpu
        if index in batched_after:
            forget()
            wall, cpu = time.perf_counter(), time.process_time()
            batched = model.score(prompt, candidates)
            times.append(time.perf_counter() - wall)
            cpu_times.append(time.process_time() - cpu)
    batched_s = statistics.median(times)
    diff = max(abs(a.logprob - b.logprob) for a, b in zip(naive, batched, strict=True))
    same_tokens = all(a.num_tokens == b.num_tokens for a, b in zip(naive, batched, strict=True))
    speedup = naive_s / batched_s if batched_s > 0 else float("inf")
    encode = getattr(model, "encode_prompt", None)
    return {
        "model": model.name,
        "candidates": len(candidates),
        "prompt_tokens": len(encode(prompt)) if encode else None,
        "naive_s": naive_s,
        "batched_s": batched_s,
        "batched_runs_s": times,
        "speedup": speedup,
        "naive_cpu_s": naive_cpu,
        "batched_cpu_s": statistics.median(cpu_times),
        "max_abs_diff": diff,
        "same_token_counts": same_tokens,
        "min_speedup": min_speedup,
        "tolerance": tolerance,
        "passed": speedup >= min_speedup and diff <= tolerance and same_tokens,
    }


def _report(result: dict[str, Any]) -> str:
    tokens = f", prompt {result['prompt_tokens']} tokens" if result["prompt_tokens"] else ""
    lines = [
        f"model {result['model']}: {result['candidates']} candidates{tokens}",
        f"load           {result['load_s']:8.2f} s",
        f"naive          {result['naive_s']:8.2f} s  (one forward pass per candidate)",
        f"batched        {result['batched_s']:8.2f} s  (shared prompt, median of "
        f"{len(result['batched_runs_s'])})",
        f"speed-up       {result['speedup']:8.1f} x  (target >= {result['min_speedup']:g})",
        f"cpu time       {result['naive_cpu_s']:8.2f} s naive, "
        f"{result['batched_cpu_s']:.2f} s batched",
        f"max |diff|     {result['max_abs_diff']:8.1e}    (target <= {result['tolerance']:g})",
        "PASS" if result["passed"] else "FAIL",
    ]
    if not result["same_token_counts"]:
        lines.insert(-1, "token counts differ between the two methods")
    return "\n".join(lines)
