"""Touches and weighings of simulated objects, with the true properties beside them.

The touch words' thresholds are chosen from these (`robollm train touch`), and the
sensing benchmark scores the interpreters on them with other seeds and sizes. Every
reading comes from the real `touch` and `weigh` skills in PyBullet; the truth comes
from the material table and the object's model, never from the reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from robollm.config import LaunchConfig, load_config
from robollm.geometry import Pose
from robollm.session import Session
from robollm.sim.knocks import PER_SCENE, random_object
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.objects import build_model, mass_and_com
from robollm.skill import SkillContext
from robollm.world.scene import SceneSpec, validate_scene

FEEL_SHAPES = ("block", "cup", "bowl", "plate")
WEIGH_SHAPES = ("block", "cup")  # what one hand can lift
OFF_CENTRE = 0.15  # fraction of the size a touch may land away from the aimed point
ROUGH_FRICTION = 0.7  # table friction from which a surface counts as rough (wood, foam)


@dataclass
class Sensed:
    """One touch or weighing: what was sensed, the skill's data, and the object's truth."""

    skill: str
    material: str
    shape: str
    size: float
    success: bool
    reason: str
    data: dict[str, Any] = field(default_factory=dict)
    true_grams: float = 0.0


def sense_plan(shapes: tuple[str, ...], per_pair: int, materials: tuple[str, ...], seed: int) -> list[tuple[str, str]]:
    plan = [(m, s) for m in materials for s in shapes for _ in range(per_pair)]
    order = np.random.default_rng(seed).permutation(len(plan))
    return [plan[i] for i in order]


def record(skill: str, plan: list[tuple[str, str]], seed: int, config: LaunchConfig | None = None,
           sizes: dict[str, tuple[float, float]] | None = None, progress=None) -> list[Sensed]:
    """Run `skill` (touch or weigh) once on an object of each (material, shape) in `plan`.

    A touch aims a few millimetres off the usual point (perception is never exact);
    `sizes` narrows the size range per shape (the benchmark holds some sizes out).
    """
    cfg = config or load_config()
    rng = np.random.default_rng(seed)
    out: list[Sensed] = []
    for first in range(0, len(plan), PER_SCENE):
        group = plan[first:first + PER_SCENE]
        specs = [random_object(rng, m, s, f"thing_{i}", (sizes or {}).get(s)) for i, (m, s) in enumerate(group)]
        scene = validate_scene(SceneSpec(specs, "<feel>"))
        with Session(cfg, scene, int(rng.integers(1 << 30))) as session:
            runner = session.skill(skill)
            for spec in specs:
                seen = session.observe()
                info = seen.objects[spec.object_name]
                if skill == "touch" and spec.type in ("block", "plate"):
                    r = OFF_CENTRE * spec.resolved_size
                    dx, dy = (float(v) for v in rng.uniform(-r, r, 2))
                    x, y, z = info.pose.position
                    info = replace(info, pose=Pose((x + dx, y + dy, z), info.pose.orientation))
                ctx = SkillContext(session.motion, session.observe,
                                   replace(seen, objects={**seen.objects, spec.object_name: info}))
                outcome = runner.run(ctx, obj=spec.object_name)
                grams = 1000.0 * mass_and_com(build_model(spec), MATERIAL_TABLE[spec.resolved_material])[0]
                out.append(Sensed(skill, spec.resolved_material, spec.type, spec.resolved_size,
                                  outcome.success, outcome.reason, outcome.data, grams))
                if progress:
                    progress(len(out), len(plan))
    return out


def true_words(material: str) -> dict[str, str]:
    """The words a material's table properties call for (the answer key for touch words).

    Soft: a contact stiffness the solver does not treat as rigid. Rough: a friction
    coefficient at or above `ROUGH_FRICTION`. Cold: an effusivity above the
    fingertip's, so that contact pulls the pad below the mid-point of skin and room.
    """
    from robollm.sim.materials import RIGID_STIFFNESS
    from robollm.sim.sensors import FINGER_EFFUSIVITY

    m = MATERIAL_TABLE[material]
    return {"hardness": "hard" if m.stiffness >= RIGID_STIFFNESS else "soft",
            "texture": "rough" if m.friction >= ROUGH_FRICTION else "smooth",
            "temperature": "cold" if m.thermal_effusivity > FINGER_EFFUSIVITY else "warm"}
