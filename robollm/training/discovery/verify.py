"""Verifying a trained skill in physics, and adding it to a skill library.

Verification runs the skill exactly as the planner would (the policy skill's own
`run`, through `Motion`, seeing what perception reports) on scenes laid out by
held-out seeds that training never drew. In each scene it records whether the success
predicate holds in the simulator's geometry afterwards, with nothing knocked off the
table, and whether the symbolic effect derived from the predicate (`apply`) matches
the physical result on every relation the predicate names. Scenes where the skill's
preconditions do not hold are drawn again and counted apart: those its symbolic
preconditions refuse (`skipped`), and those where no arm's motion reaches a start
beside the object (`unreachable`), where the skill refuses before it moves ("target
out of reach"). The verified success rate is over the scenes it acts in.

A skill that passes joins a library folder as `NAME/manifest.json` (template,
parameters, success predicate, effect, verified success, how it was made) and
`NAME/policy.safetensors`, the layout `robollm.skills.catalog` registers from.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from robollm.config import LaunchConfig
from robollm.errors import UserError
from robollm.registry import Registry
from robollm.session import Session
from robollm.skill import Skill, SkillContext
from robollm.world.effects import derive_effect
from robollm.world.geometric import nothing_fell
from robollm.world.predicates import atoms, evaluate, parse
from robollm.world.scene import SceneSpec

POLICY_SKILL = "robollm.skills.discovered:PolicySkill"  # by entry point: the core imports no concrete skill
MANIFEST, POLICY, RECORD = "manifest.json", "policy.safetensors", "training.json"
HELD_OUT_SEED = 100_000  # verification layouts start here; training draws its own from the RNG
TARGET_SUCCESS = 0.8


@dataclass
class Verification:
    scenes: int
    successes: int
    effect_matches: int
    skipped: int
    seconds: float
    failures: list[dict]
    unreachable: int = 0

    @property
    def success_rate(self) -> float:
        return self.successes / self.scenes if self.scenes else 0.0

    def record(self) -> dict:
        return {"scenes": self.scenes, "successes": self.successes, "success_rate": round(self.success_rate, 3),
                "effect_matches": self.effect_matches, "skipped": self.skipped, "unreachable": self.unreachable,
                "seconds": round(self.seconds, 1), "first_seed": HELD_OUT_SEED,
                "failures": self.failures[:10]}


def make_skill(manifest: Path) -> Skill:
    registry: Registry[Skill] = Registry("skill", plugins=False)
    data = json.loads(manifest.read_text())
    registry.register(f"{data['name']}-v{data['version']}", POLICY_SKILL, manifest=str(manifest))
    return registry.make(data["name"])


def verify(skill: Skill, args: dict[str, str], config: LaunchConfig, scene: SceneSpec, scenes: int = 50,
           log: Callable[[str], None] = print) -> Verification:
    started = time.perf_counter()
    successes = matches = skipped = unreachable = done = 0
    failures: list[dict] = []
    seed = HELD_OUT_SEED
    goal_text = skill.success(**args)  # type: ignore[attr-defined]
    goal = parse(goal_text)
    while done < scenes:
        if skipped + unreachable > 4 * scenes:
            raise UserError(f"{skill.name}: its preconditions held in only {done} of "
                            f"{done + skipped + unreachable} scenes")
        with Session(config, scene, seed) as session:
            seed += 1
            predicted = session.state.copy()
            if not skill.apply(predicted, **args).success:
                skipped += 1
                continue
            start = getattr(skill, "start", None)
            if start is not None and start(session.observe(), session.motion, **args) is None:
                unreachable += 1
                continue
            ctx = SkillContext(session.motion, session.observe, session.observe())
            outcome = skill.run(ctx, **args)
            session.motion.wait(0.5)  # let things come to rest before judging
            facts = session.facts()
            on_table = nothing_fell(session.robot.true_scene())
            ok = outcome.success and on_table and evaluate(goal, facts)
            relations = _effect_atoms(goal_text, args)
            agree = all(predicted.holds(rel, a) == facts.holds(rel, a) for rel, a in relations)
            done += 1
            successes += ok
            matches += ok and agree
            if not (ok and agree):
                failures.append({"seed": seed - 1, "outcome": outcome.reason or "ok", "on_table": on_table,
                                 "predicate_holds": evaluate(goal, facts), "effect_matches": agree})
        if done % 10 == 0 and done:
            log(f"  verified {done}/{scenes}: {successes} succeeded")
    return Verification(done, successes, matches, skipped, time.perf_counter() - started, failures, unreachable)


def _effect_atoms(goal_text: str, args: dict[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """Every atom of the predicate, and where the moved object stands: what `apply` must get right."""
    goal = parse(goal_text)
    found = [(a.relation, a.args) for a in atoms(goal)]
    for obj in derive_effect(goal).moved():
        found += [("at", (obj, r)) for r in ("left", "middle", "right")]
    return list(dict.fromkeys(found))


def write_skill(library: Path, manifest: dict, policy_file: Path, record: dict, overwrite: bool = False) -> Path:
    """Add a verified skill to a library folder; an existing skill is replaced only when asked."""
    folder = library / manifest["name"]
    if folder.exists() and not overwrite:
        raise UserError(f"{folder} already holds a skill named {manifest['name']!r}; pass --overwrite "
                        "to replace it (nothing was written)")
    tmp = library / f".{manifest['name']}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    (tmp / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    shutil.copyfile(policy_file, tmp / POLICY)
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder
