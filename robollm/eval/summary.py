"""Success rates per family and overall, and the table `robollm eval` prints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from robollm.eval.results import EpisodeResult

Row = EpisodeResult | dict[str, Any]


def _as_dict(r: Row) -> dict[str, Any]:
    return r.to_dict() if isinstance(r, EpisodeResult) else r


def _stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"episodes": len({(r["id"], r["seed"]) for r in rows})}
    for executor, key in (("symbolic", "plan_success"), ("physics", "execution_success")):
        sel = [r for r in rows if r["executor"] == executor]
        if sel:
            out[key] = sum(r["success"] for r in sel) / len(sel)
    # Runs that reached the goal but also moved objects the goal does not name: not
    # counted as successes, reported so that the difference stays visible.
    out["goal_but_disturbed"] = sum(r["goal_reached"] and bool(r["disturbed"]) for r in rows) / max(1, len(rows))
    steps = [r["steps"] for r in rows]
    lm = [r["lm_seconds_per_step"] for r in rows if r["steps"]]
    out["average_steps"] = sum(steps) / max(1, len(steps))
    out["average_sensing_steps"] = sum(r.get("sensing_steps", 0) for r in rows) / max(1, len(rows))
    # Calls that failed on the way (a grasp that stopped short, then another try): a run
    # can succeed in the end after them, so they are counted apart.
    out["average_failed_calls"] = sum(len(r.get("failed_steps") or ()) for r in rows) / max(1, len(rows))
    out["success_without_failed_call"] = sum(r["success"] and not r.get("failed_steps") for r in rows) / max(1, len(rows))
    out["lm_seconds_per_step"] = sum(lm) / max(1, len(lm))
    return out


def summarise(results: Iterable[Row]) -> dict[str, Any]:
    """Plan success (symbolic executor) and execution success (physics), per family and overall."""
    rows = [_as_dict(r) for r in results]
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        families[r["family"]].append(r)
    return {"overall": _stats(rows), "families": {f: _stats(fr) for f, fr in sorted(families.items())}}


def format_summary(summary: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{v:6.1%}"

    lines = [f"{'family':<16} {'episodes':>8} {'plan':>7} {'exec':>7} {'extra':>7} {'steps':>6} {'failed':>6} "
             f"{'sensing':>7} {'LM s/step':>10}"]
    rows = list(summary["families"].items()) + [("overall", summary["overall"])]
    for name, s in rows:
        lines.append(f"{name:<16} {s['episodes']:>8} {pct(s.get('plan_success'))} {pct(s.get('execution_success'))} "
                     f"{pct(s['goal_but_disturbed'])} {s['average_steps']:6.2f} {s.get('average_failed_calls', 0.0):6.2f} "
                     f"{s.get('average_sensing_steps', 0.0):7.2f} "
                     f"{s['lm_seconds_per_step']:10.2f}")
    lines.append("success: the goal holds and no object the goal does not name was moved; extra: runs "
                 "that reached the goal but also moved other objects (not successes); steps, failed and "
                 "sensing: average steps, failed calls (a success may follow them) and knocks, touches and "
                 "weighings per run")
    return "\n".join(lines)


def error_line(result: EpisodeResult) -> str:
    return f"episode {result.id} (seed {result.seed}, {result.executor}): {result.error}"
