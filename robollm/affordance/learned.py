"""`learned-v0`: P(success) of skill calls from a small network trained on physics rollouts.

One network serves every skill: the call's features (`features.encode`) and a learned
embedding of the skill's name go through a two-layer MLP, and a fitted scale and bias
(Platt calibration on held-out scenes) turn its logit into a probability. All candidates
of a step are scored in one forward pass. Calls whose preconditions fail keep 0: a skill
refuses them before it moves, so no physics outcome can differ, and the planner then
need not ask the language model about them. A skill that no training call used (the
collection has no trays, so no two-arm lift) keeps the rules' answer rather than an
untrained embedding's. The weights file records the rig geometry it was trained on, the
skill-library version of its data and the skills its data covered.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from robollm.affordance.base import Affordance, AffordanceInput
from robollm.affordance.features import FEATURE_NAMES, Geometry, encode
from robollm.affordance.heuristic import HeuristicAffordance
from robollm.errors import UserError
from robollm.plan import SkillCall
from robollm.world.state import SceneState

DEFAULT_WEIGHTS = "learned-v0.pt"


def default_weights() -> Path:
    return Path(str(files("robollm.affordance"))) / "models" / DEFAULT_WEIGHTS


UNCHANGED = 0.005  # m: a call's objects that moved no farther than this (no hand changed) are where they were


@dataclass(frozen=True)
class LearnedOptions:
    weights: str | None = None  # a file written by `robollm train affordance`; None: the shipped one
    # P(success) of a call is multiplied by this once for every time the same call already
    # failed from the same scene (nothing moved): physics is deterministic enough that the
    # retry fails the same way, and each further failure is more evidence of it. After the
    # scene changed, the call is only re-scored from the new scene.
    retry_unchanged: float = 0.1


def same_scene(a: SceneState, b: SceneState, names: Sequence[str] | None = None) -> bool:
    """Whether a call tried from `a` would be tried from the same place in `b`: the same
    hands, and its own objects (`names`; None: every object) where they were. A failed
    grasp shoves the neighbours it hit by a centimetre or two while the object it was
    after stays put, and the next try meets them again: counting that as a new scene
    would let the planner repeat the same failing call for ever."""
    if a.holding != b.holding or set(a.objects) != set(b.objects):
        return False
    check = a.objects if names is None else [n for n in names if n in a.objects]
    return all(math.dist(a.objects[n].pose.position, b.objects[n].pose.position) <= UNCHANGED for n in check)


def build_net(n_features: int, n_skills: int, embed: int, hidden: int):
    import torch
    from torch import nn

    class AffordanceNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.skill = nn.Embedding(n_skills + 1, embed)  # the last row: a skill not seen in training
            self.mlp = nn.Sequential(nn.Linear(n_features + embed, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            self.register_buffer("mean", torch.zeros(n_features))
            self.register_buffer("std", torch.ones(n_features))
            self.register_buffer("scale", torch.ones(()))  # Platt calibration of the logit
            self.register_buffer("bias", torch.zeros(()))

        def raw(self, x, s):
            z = (x - self.mean) / self.std
            return self.mlp(torch.cat([z, self.skill(s)], dim=-1)).squeeze(-1)

        def forward(self, x, s):
            return self.raw(x, s) * self.scale + self.bias

    return AffordanceNet()


def save_model(path: Path, net, skills: list[str], geometry: Geometry, meta: dict[str, Any]) -> None:
    import torch

    torch.save({"state_dict": net.state_dict(), "skills": skills, "features": FEATURE_NAMES,
                "embed": net.skill.embedding_dim, "hidden": net.mlp[0].out_features,
                "bases": {k: list(v) for k, v in geometry.bases.items()},
                "table": [list(geometry.table_low), list(geometry.table_high)],
                "workspaces": {k: [list(lo), list(hi)] for k, (lo, hi) in geometry.workspaces.items()},
                "meta": meta}, path)


def load_model(path: str | Path) -> tuple[Any, list[str], Geometry, dict[str, Any]]:
    import torch

    p = Path(path)
    if not p.is_file():
        raise UserError(f"affordance weights {str(path)!r}: no such file (train one with "
                        "`robollm train affordance`)")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same user mistake
        raise UserError(f"affordance weights {str(path)!r}: not a weights file ({type(e).__name__})") from None
    if blob.get("features") != FEATURE_NAMES:
        raise UserError(f"affordance weights {str(path)!r} were trained on other features; train again "
                        "with `robollm train affordance`")
    net = build_net(len(FEATURE_NAMES), len(blob["skills"]), blob["embed"], blob["hidden"])
    net.load_state_dict(blob["state_dict"])
    net.eval()
    geo = Geometry({k: tuple(v) for k, v in blob["bases"].items()}, tuple(blob["table"][0]),
                   tuple(blob["table"][1]),
                   {k: (tuple(lo), tuple(hi)) for k, (lo, hi) in blob["workspaces"].items()})
    return net, list(blob["skills"]), geo, dict(blob.get("meta", {}))


def skill_index(skills: list[str], calls: Sequence[SkillCall]) -> np.ndarray:
    known = {s: i for i, s in enumerate(skills)}
    return np.array([known.get(c.skill, len(skills)) for c in calls], dtype=np.int64)


class LearnedAffordance(Affordance):
    name = "learned-v0 (MLP on scene features, trained on physics rollouts)"

    def __init__(self, options: LearnedOptions | None = None) -> None:
        import torch

        self.options = options or LearnedOptions()
        self.path = Path(self.options.weights) if self.options.weights else default_weights()
        self.net, self.skills, self.geometry, self.meta = load_model(self.path)
        self.trained = set(self.meta.get("trained_skills", self.skills))
        self._torch = torch
        self.rules = HeuristicAffordance()

    def score(self, given: AffordanceInput, calls: Sequence[SkillCall]) -> list[float]:
        rules, arms = self.rules.score_with_arms(given, calls)
        # A skill no training call used keeps the rules' answer.
        out = [1.0 if c.skill == "done" else (0.0 if c.skill in self.trained else r)
               for c, r in zip(calls, rules, strict=True)]
        todo = [i for i, (c, r) in enumerate(zip(calls, rules, strict=True)) if c.skill in self.trained and r > 0]
        if todo:
            picked = [calls[i] for i in todo]
            x = encode(given.scene, given.state, picked, [rules[i] for i in todo], [arms[i] for i in todo],
                       self.geometry)
            torch = self._torch
            with torch.inference_mode():
                p = torch.sigmoid(self.net(torch.from_numpy(x), torch.from_numpy(skill_index(self.skills, picked))))
            for i, v in zip(todo, p.tolist(), strict=True):
                out[i] = float(v)
        retried = Counter(c for c, seen in given.failed if same_scene(seen, given.scene, c.args))
        return [v * self.options.retry_unchanged ** retried[c] if c.skill != "done" else v
                for c, v in zip(calls, out, strict=True)]
