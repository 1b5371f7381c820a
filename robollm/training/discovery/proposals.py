"""Proposing candidate skills, and the checks that keep the ones worth training.

A proposal is a language template with typed arguments ("slide the {obj} to the
{region} edge") and a success condition in the predicate language
("at_edge({obj}, {region})"), bound to objects of the discovery scene. Proposals come
from the configured language model when it can generate text, one per line as
`name | template | predicate`; when it cannot, or none of its lines survive the
checks, they come from `FALLBACK_TEMPLATES` below, and the loop says which was used.

Each proposal is checked before any training: its predicate must parse (never `eval`)
and name only what the scene has; it must state a definite effect (a conjunction of
literals, `robollm.world.effects`); it must not already hold at the start of the
probe scenes; some arm must reach the object in at least one of them; and the
hand-written library must not already reach it: a breadth-first search over the
library's symbolic effects, two calls deep, from each probe scene.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from robollm.errors import UserError
from robollm.plan import SkillCall
from robollm.registry import Registry
from robollm.robot.base import ArmSpec
from robollm.skill import DIRECTIONS, Skill
from robollm.training.discovery.features import PolicyTask, choose_arm
from robollm.world.effects import derive_effect
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import evaluate, parse, validate
from robollm.world.scene import SceneSpec
from robollm.world.state import SceneState
from robollm.world.symbolic import SymbolicState, from_scene

SEARCH_DEPTH = 2
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Argument names a template may use, and what each binds to in the scene.
PARAM_KINDS = {"obj": "object", "target": "object", "region": "region"}


@dataclass(frozen=True)
class ProposalTemplate:
    name: str
    template: str  # language, with {obj}, {target}, {region}
    success: str  # predicate over the same placeholders
    obj_type: str = "block"  # what {obj} binds to
    target_type: str = "block"
    push_height: float = 0.4  # where the fingertips meet the object, as a fraction of its height
    region: str = "own"  # {region}: the one the object stands in ("own") or the next one ("other")
    max_steps: int = 40  # control ticks (at 10 Hz) the policy gets


# The documented fallback: effects on single objects that the hand-written skills
# (pick, place, push, hand over, bimanual lift, knock, touch, weigh) might or might not
# already have. The checks decide; the first three survive them in the discovery scene.
FALLBACK_TEMPLATES: tuple[ProposalTemplate, ...] = (
    ProposalTemplate("slide_to_edge", "slide the {obj} to the {region} edge of the table",
                     "at_edge({obj}, {region})"),
    ProposalTemplate("tip_over", "tip the {obj} over", "not upright({obj}) and at({obj}, {region})",
                     obj_type="cup", push_height=1.0),  # {region}: it stays where it stood
    ProposalTemplate("nudge_against", "nudge the {obj} against the {target}",
                     "touching({obj}, {target}) and not on({obj}, {target}) and not on({target}, {obj})",
                     max_steps=80),  # the two blocks may stand 45 cm apart: 1 cm a tick at most
    ProposalTemplate("slide_into_region", "slide the {obj} into the {region} region", "at({obj}, {region})",
                     region="other"),
    ProposalTemplate("raise", "raise the {obj}", "lifted({obj})"),
    ProposalTemplate("stand_up", "stand the {obj} up", "upright({obj})"),
)


@dataclass
class Proposal:
    name: str
    template: str
    success: str  # bound to the scene's names
    args: dict[str, str]
    params: dict[str, str]  # argument name -> kind it accepts (block, cup, region)
    source: str  # "model" or "templates"
    push_height: float = 0.4
    reward_code: str | None = None  # an optional model-written term (run in the sandbox)
    max_steps: int = 40
    success_template: str = ""  # the predicate over {obj}, {target}, {region}
    stage: str = "proposed"  # proposed, rejected, trained, verified, added, failed
    reason: str = ""
    figures: dict = field(default_factory=dict)

    def task(self) -> PolicyTask:
        return PolicyTask(self.success, self.args["obj"], push_height=self.push_height, max_steps=self.max_steps)

    def reject(self, reason: str) -> Proposal:
        self.stage, self.reason = "rejected", reason
        return self

    def record(self) -> dict:
        return asdict(self)


def bind(template: ProposalTemplate, scene: SceneSpec, source: str, reward_code: str | None = None) -> Proposal:
    """Fill the placeholders with the scene's first fitting names (the region the object stands in)."""
    names = _PLACEHOLDER.findall(template.template) + _PLACEHOLDER.findall(template.success)
    params: dict[str, str] = {}
    args: dict[str, str] = {}
    objects = [o for o in scene.objects]
    for name in names:
        if name not in PARAM_KINDS:
            raise UserError(f"proposal {template.name!r}: unknown placeholder {{{name}}}; "
                            f"expected {', '.join('{' + k + '}' for k in PARAM_KINDS)}")
    obj = next((o for o in objects if o.type == template.obj_type), None)
    if obj is None:
        raise UserError(f"proposal {template.name!r}: the scene has no {template.obj_type}")
    args["obj"], params["obj"] = obj.object_name, template.obj_type
    if "target" in names:
        other = next((o for o in objects if o.type == template.target_type and o is not obj), None)
        if other is None:
            raise UserError(f"proposal {template.name!r}: the scene has no second {template.target_type}")
        args["target"], params["target"] = other.object_name, template.target_type
    if "region" in names:
        own = obj.region or "middle"
        order = ["left", "middle", "right"]
        chosen = own if template.region == "own" else order[(order.index(own) + 1) % len(order)]
        args["region"], params["region"] = chosen, "region"
    try:
        success = template.success.format(**args)
    except (KeyError, IndexError, ValueError) as e:
        raise UserError(f"proposal {template.name!r}: its predicate uses a placeholder its template "
                        f"lacks ({e})") from None
    return Proposal(template.name, template.template, success, args, params, source, template.push_height,
                    reward_code, template.max_steps, template.success)


def proposal_prompt(scene: SceneSpec, library: Registry[Skill]) -> str:
    """What the model is asked: the scene, the relations, the skills it has, and the format."""
    from robollm.world.predicates import RELATIONS

    relations = ", ".join(f"{r}({', '.join(role for _, role in spec)})" for r, spec in RELATIONS.items())
    skills = "; ".join(library.make(n).template for n in library.names())
    objects = ", ".join(f"{o.object_name} ({o.type})" for o in scene.objects)
    return (f"A robot arm pushes objects on a table. Objects: {objects}. Regions: left, middle, right.\n"
            f"Relations: {relations}.\nSkills it already has: {skills}.\n"
            "Propose new skills that change how an object stands or where it rests, one a line, as\n"
            "name | template with {obj}, {target} or {region} | success predicate over the same names\n"
            "slide_to_edge | slide the {obj} to the {region} edge of the table | at_edge({obj}, {region})\n")


def parse_model_proposals(text: str, scene: SceneSpec) -> tuple[list[Proposal], list[dict]]:
    """Proposals from the model's lines, and a record for each line that is not one."""
    proposals, refused = [], []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts):
            if line.strip():
                refused.append({"line": line.strip()[:200], "reason": "not 'name | template | predicate'"})
            continue
        name, template, success = parts
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            refused.append({"line": line.strip()[:200], "reason": f"name {name!r} is not lowercase_with_underscores"})
            continue
        obj_type = "cup" if "cup" in template else "block"
        try:
            proposals.append(bind(ProposalTemplate(name, template, success, obj_type=obj_type), scene, "model"))
        except UserError as e:
            refused.append({"line": line.strip()[:200], "reason": str(e)})
    return proposals, refused


def library_calls(state: SymbolicState, library: Registry[Skill]) -> list[tuple[Skill, dict[str, str]]]:
    values = sorted(state.objects()) + sorted(state.regions()) + list(DIRECTIONS)
    calls = []
    for name in library.names():
        skill = library.make(name)
        for combo in itertools.product(values, repeat=len(skill.params)):
            args = {p.name: v for p, v in zip(skill.params, combo, strict=True)}
            if not skill.check_args(args, state):
                calls.append((skill, args))
    return calls


def library_reaches(goal_text: str, state: SymbolicState, library: Registry[Skill],
                    depth: int = SEARCH_DEPTH) -> list[SkillCall] | None:
    """The shortest plan of library skills whose stated effects make the goal true, if any."""
    goal = parse(goal_text)
    frontier: list[tuple[SymbolicState, list[SkillCall]]] = [(state, [])]
    for _ in range(depth):
        nxt = []
        for s, plan in frontier:
            for skill, args in library_calls(s, library):
                after = s.copy()
                if not skill.apply(after, **args).success:
                    continue
                steps = [*plan, SkillCall(skill.name, tuple(args.values()))]
                if evaluate(goal, after):
                    return steps
                nxt.append((after, steps))
        frontier = nxt
    return None


def check(proposal: Proposal, probes: list[SceneState], library: Registry[Skill],
          arms: dict[str, ArmSpec]) -> Proposal:
    """Keep the proposal (stage unchanged) or reject it with the first reason that applies."""
    try:
        goal = parse(proposal.success)
        validate(goal, from_scene(probes[0]))
    except UserError as e:
        return proposal.reject(str(e))
    if proposal.reward_code is not None:
        from robollm.training.discovery.sandbox import SandboxError, check_source

        try:
            check_source(proposal.reward_code)
        except SandboxError as e:
            proposal.reward_code = None  # the term is dropped; the proposal itself may stand
            proposal.figures["reward_code_refused"] = str(e)
    fresh = [s for s in probes if not evaluate(goal, PerceivedFacts(s))]
    if not fresh:
        return proposal.reject(f"'{proposal.success}' already holds at the start of every probe scene")
    for s in fresh:
        plan = library_reaches(proposal.success, from_scene(s), library)
        if plan is not None:
            return proposal.reject("the library already does this: " + "; ".join(map(str, plan)))
    try:
        derive_effect(goal)
    except UserError as e:
        return proposal.reject(str(e))
    task = proposal.task()
    if all(choose_arm(s, task, arms) is None for s in fresh):
        return proposal.reject(f"no arm reaches the {proposal.args['obj']} and where it should go "
                               f"in any of {len(fresh)} probe scenes")
    return proposal


def propose(scene: SceneSpec, library: Registry[Skill], generate: Callable[[str], str] | None,
            log: Callable[[str], None] = print) -> tuple[list[Proposal], str, list[dict]]:
    """Model proposals when a model can generate and any of them bind; else the templates.

    Returns the proposals, which source was used and why, and the model lines refused.
    """
    refused: list[dict] = []
    if generate is not None:
        try:
            text = generate(proposal_prompt(scene, library))
        except (NotImplementedError, UserError) as e:
            why = f"templates (the language model cannot generate: {e})"
        else:
            proposals, refused = parse_model_proposals(text, scene)
            if proposals:
                return proposals, "model", refused
            why = f"templates (none of the model's {len(text.splitlines())} lines is a proposal)"
    else:
        why = "templates (asked for)"
    log(f"proposals from {why}")
    return [bind(t, scene, "templates") for t in FALLBACK_TEMPLATES], why, refused


def propose_and_check(scene: SceneSpec, probes: list[SceneState], library: Registry[Skill],
                      arms: dict[str, ArmSpec], generate: Callable[[str], str] | None,
                      log: Callable[[str], None] = print) -> tuple[list[Proposal], str, list[dict]]:
    """Proposals with their checks done; the templates take over when no model proposal survives."""
    proposals, source, refused = propose(scene, library, generate, log)
    for p in proposals:
        check(p, probes, library, arms)
    if source == "model" and not any(p.stage == "proposed" for p in proposals):
        log("none of the model's proposals passed the checks; using the templates")
        rejected = proposals
        proposals, _, _ = propose(scene, library, None, lambda _: None)
        for p in proposals:
            check(p, probes, library, arms)
        source = "templates (none of the model's proposals passed the checks)"
        refused += [{"line": f"{p.name} | {p.template} | {p.success}", "reason": p.reason} for p in rejected]
    return proposals, source, refused
