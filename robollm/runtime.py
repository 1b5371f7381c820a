"""A session: one robot, one scene, the skill library, and the two executors.

`physics` runs each skill's motion on the robot driver chosen by the launch file;
`symbolic` applies only the skills' stated effects. Both report the same outcomes
and evaluate the same success predicates, so their difference is the control error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robollm.config import LaunchConfig
from robollm.control import Motion
from robollm.drivers import robot_registry
from robollm.errors import UserError
from robollm.plan import SkillCall
from robollm.predicates import Expr, atoms, evaluate, parse, validate
from robollm.registry import Registry, load_entry_point
from robollm.scene import SceneSpec
from robollm.skills.base import DIRECTIONS, Outcome, Skill, SkillContext
from robollm.skills.symbolic import SymbolicState, from_scene
from robollm.state import SceneState

EXECUTORS = ("physics", "symbolic")


def skill_registry(config: LaunchConfig) -> Registry[Skill]:
    registry: Registry[Skill] = Registry("skill")
    try:
        fill = load_entry_point(config.skills.library)
    except (ImportError, AttributeError, ValueError) as e:
        raise UserError(f"{config.source}: key 'skills.library' = {config.skills.library!r} "
                        f"could not be loaded ({e})") from None
    fill(registry)
    return registry


@dataclass
class StepRecord:
    call: SkillCall
    text: str
    outcome: Outcome
    sim_time: float = 0.0
    data: dict = field(default_factory=dict)


class Session:
    def __init__(self, config: LaunchConfig, scene: SceneSpec, seed: int, *,
                 executor: str = "physics", gui: bool = False) -> None:
        if executor not in EXECUTORS:
            raise UserError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
        self.config, self.scene_spec, self.seed, self.executor = config, scene, seed, executor
        self.skills = skill_registry(config)
        self._skill_cache: dict[str, Skill] = {}
        self.robot = robot_registry().make(config.robot.driver, config=config, gui=gui)
        # Perception is chosen before anything moves. Ground truth exists only where the
        # driver knows the true scene (the simulator).
        if config.perception != "ground_truth" or not hasattr(self.robot, "perception"):
            self.robot.disconnect()
            raise UserError(
                f"{config.source}: key 'perception' is {config.perception!r}, which the "
                f"{config.robot.driver!r} driver cannot provide; ground_truth needs the simulated "
                "driver, and no camera-based perception ships yet")
        # A simulated robot lays out the scene itself; hardware has its scene on the table.
        if hasattr(self.robot, "load_scene"):
            self.robot.load_scene(scene, seed)
        self.robot.connect()
        self.motion = Motion(self.robot, config)
        self.perception = self.robot.perception()
        self.state: SymbolicState = from_scene(self.perception.observe())
        self.start_state = self.state.copy()  # what `disturbed` compares against
        self.history: list[StepRecord] = []

    # -- scene -------------------------------------------------------------------------
    def observe(self) -> SceneState:
        return self.perception.observe()

    def skill(self, name: str) -> Skill:
        if name not in self._skill_cache:
            self._skill_cache[name] = self.skills.make(name)
        return self._skill_cache[name]

    def bind(self, call: SkillCall) -> dict[str, str]:
        """Arguments by parameter name; a user error if the call does not fit the skill."""
        skill = self.skill(call.skill)
        names = [p.name for p in skill.params]
        if len(call.args) != len(names):
            usage = " ".join([call.skill, *names])
            raise UserError(f"plan step '{call}': {call.skill} takes {len(names)} argument(s) "
                            f"({usage}), got {len(call.args)}")
        args = dict(zip(names, call.args, strict=True))
        known = self.state.objects() | self.state.regions() | set(DIRECTIONS)
        for value in args.values():
            if value not in known:
                raise UserError(f"plan step '{call}': unknown object or region {value!r}; this scene has "
                                f"objects {', '.join(sorted(self.state.objects()))} and regions "
                                f"{', '.join(sorted(self.state.regions()))}")
        return args

    # -- execution -----------------------------------------------------------------------
    def execute(self, call: SkillCall) -> StepRecord:
        skill = self.skill(call.skill)
        args = self.bind(call)
        text = skill.describe(**args)
        reason = skill.check_args(args, self.state)
        if reason:
            outcome = Outcome.fail(reason)
        elif self.executor == "symbolic":
            outcome = skill.apply(self.state, **args)
        else:
            ctx = SkillContext(self.motion, self.observe, self.observe())
            outcome = skill.run(ctx, **args)
            before = self.state
            if outcome.success:
                skill.apply(before, **args)  # keeps what sensing skills learned
            self.state = from_scene(self.observe())
            self.state.sensed = before.sensed
        record = StepRecord(call, text, outcome, self.robot_time())
        self.history.append(record)
        return record

    def robot_time(self) -> float:
        return self.robot.observe().time

    # -- success --------------------------------------------------------------------------
    def parse_goal(self, text: str) -> Expr:
        expr = parse(text)
        validate(expr, self.state)
        return expr

    def succeeded(self, goal: Expr) -> bool:
        facts = self.state if self.executor == "symbolic" else self.robot.facts()
        return evaluate(goal, facts)

    def disturbed(self, goal: Expr) -> list[str]:
        """Objects the goal does not name whose place changed since the session began.

        "Put the red block in the bowl" is not done if the blue block went in too: a
        success check that looks only at the goal would reward moving everything.
        An object's place is its relation and parent (in the bowl, on the plate, at the
        left region, held by an arm), so small nudges do not count.
        """
        named = {arg for atom in atoms(goal) for arg in atom.args}
        return sorted(o for o in self.state.objects() if o not in named and
                      (self.state.relation.get(o), self.state.parent.get(o))
                      != (self.start_state.relation.get(o), self.start_state.parent.get(o)))

    def close(self) -> None:
        self.robot.disconnect()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
