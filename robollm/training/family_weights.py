"""Other weights for the planner's training families, and weights drawn from how well a
planner already plans each family.

`robollm train planner-lm --family-weights FILE` reads a JSON object of family names
and weights; the families it does not name keep the generator's own weights
(`robollm.training.synthetic_language.language_families`). The weights can be made from
a `robollm bench plan-steps --json` result of an earlier adapter, which scores fresh
tasks of every family of the generator (no suite is read):

    python -m robollm.training.family_weights PLAN_STEPS.json OUT.json

Each family's weight is its own times (1 + tasks planned wrong) / 3, kept within 0.6
and 2.5 times: of 12 tasks, a family planned right every time is drawn 0.6 times as
often, one planned wrong twice as often as before, one planned wrong 7 times or more 2.5
times as often.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from robollm.errors import UserError
from robollm.training.synthetic_language import language_families

LOWEST, HIGHEST = 0.6, 2.5


def check_family_weights(path: str, hands: bool, option: str = "--family-weights") -> dict[str, float]:
    """The family weights in the JSON file `path` ({"family": weight, ...}), checked: a
    missing or unreadable file, a family the generator does not have, or a weight that is
    not a number of 0 or more is a user error naming the file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise UserError(f"{option} {path!r}: cannot read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{option} {path!r}: not JSON ({error.msg}, line {error.lineno})") from None
    known = language_families(hands)
    if not isinstance(data, dict) or not data:
        raise UserError(f"{option} {path!r}: expected an object of family names and weights, such as "
                        '{"except_one": 2.0}')
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UserError(f"{option} {path!r}: no family {unknown[0]!r}; the families are {', '.join(known)}")
    bad = [k for k, v in data.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0]
    if bad:
        raise UserError(f"{option} {path!r}: the weight of {bad[0]!r} should be a number of 0 or more, "
                        f"got {data[bad[0]]!r}")
    if not any(w for _, (w, _) in language_families(hands, data).items()):
        raise UserError(f"{option} {path!r}: every family has weight 0")
    return {k: float(v) for k, v in data.items()}


def from_plan_steps(result: dict, hands: bool = True) -> dict[str, float]:
    """Weights for every family of `result["families"]` (a plan-steps result) that the
    generator has, by the rule in this module's docstring."""
    table = language_families(hands)
    weights = {}
    for name, row in result["families"].items():
        if name in table:
            share = (1 + row["tasks"] - row["tasks_right"]) / 3
            weights[name] = round(table[name][0] * min(max(share, LOWEST), HIGHEST), 3)
    return weights


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m robollm.training.family_weights PLAN_STEPS.json OUT.json", file=sys.stderr)
        return 2
    result = json.loads(Path(argv[0]).read_text())
    weights = from_plan_steps(result)
    Path(argv[1]).write_text(json.dumps(weights, indent=1) + "\n")
    table = language_families(True)
    for name, weight in weights.items():
        row = result["families"][name]
        print(f"{name:18} {row['tasks_right']:>2}/{row['tasks']}  {table[name][0]:.2f} -> {weight:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
