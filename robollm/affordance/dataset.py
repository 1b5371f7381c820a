"""Collected records turned into what the learned model reads: features, skill ids, labels.

Each record's scene is rebuilt as the planner saw it, and the heuristic's answer and
arm are computed again with the same code the planner runs at scoring time, so training
and planning encode a call the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robollm.affordance.base import AffordanceInput
from robollm.affordance.features import Geometry, encode
from robollm.affordance.heuristic import HeuristicAffordance
from robollm.affordance.records import scene_from_record
from robollm.config import LaunchConfig
from robollm.plan import SkillCall
from robollm.robot.rig import arm_specs
from robollm.skill import Skill
from robollm.world.regions import table_regions
from robollm.world.state import SceneState
from robollm.world.symbolic import SymbolicState, from_scene


@dataclass
class Encoded:
    x: np.ndarray  # features, one row per record
    skills: list[str]  # skill name per record
    y: np.ndarray  # 1.0 success
    heuristic: np.ndarray
    scene_seeds: np.ndarray


class RecordReader:
    """The rig (regions, arm bases, table) and the skill library of one launch file."""

    def __init__(self, config: LaunchConfig) -> None:
        from robollm.session import skill_registry

        arms = arm_specs(config.robot)
        self.regions = table_regions(config.table, arms)
        self.geometry = Geometry({a: tuple(s.base.position[:2]) for a, s in arms.items()},
                                 tuple(config.table.low), tuple(config.table.high),
                                 {a: (tuple(s.workspace.low[:2]), tuple(s.workspace.high[:2])) for a, s in arms.items()})
        registry = skill_registry(config)
        self.skills: dict[str, Skill] = {n: registry.make(n) for n in registry.names()}
        self.rules = HeuristicAffordance()

    def state(self, record: dict[str, Any]) -> tuple[SceneState, SymbolicState]:
        scene = scene_from_record(record["scene"], self.regions)
        state = from_scene(scene)
        state.sensed = {k: set(v) for k, v in record["scene"].get("sensed", {}).items()}
        return scene, state

    def encode(self, records: Sequence[dict[str, Any]]) -> Encoded:
        rows, skills, hs = [], [], []
        for r in records:
            scene, state = self.state(r)
            call = SkillCall(r["call"]["skill"], tuple(r["call"]["args"]))
            h, arms = self.rules.score_with_arms(AffordanceInput(scene, state, self.skills), [call])
            rows.append(encode(scene, state, [call], h, arms, self.geometry)[0])
            skills.append(call.skill)
            hs.append(h[0])
        return Encoded(np.stack(rows) if rows else np.zeros((0, 0), np.float32), skills,
                       np.array([float(r["success"]) for r in records], dtype=np.float32),
                       np.array(hs, dtype=np.float32), np.array([r["scene_seed"] for r in records]))
