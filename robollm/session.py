"""A session: one robot, one scene, the skill library, and the two executors.

`physics` runs each skill's motion on the robot driver chosen by the launch file;
`symbolic` applies only the skills' stated effects. Both report the same outcomes
and evaluate the same success predicates, so their difference is the control error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robollm.config import LaunchConfig
from robollm.drivers import robot_registry
from robollm.errors import UserError
from robollm.perception.base import Perception
from robollm.perception.evidence import Evidence
from robollm.perception.interactive import InteractivePerception
from robollm.perception.registry import perception_registry
from robollm.plan import SkillCall
from robollm.registry import Registry, load_entry_point
from robollm.robot.capabilities import GeometricFacts, GroundTruth, SceneLoader
from robollm.robot.motion import RobotMotion
from robollm.skill import DIRECTIONS, Outcome, Skill, SkillContext
from robollm.world.memory import EvidenceMemory
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import Expr, Facts, atoms, evaluate, parse, validate
from robollm.world.scene import SceneSpec
from robollm.world.state import SceneState
from robollm.world.symbolic import SymbolicState, from_scene

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
    evidence: Evidence | None = None  # what a sensing step found (knock, touch, weigh)


class Session:
    """One episode: the driver the launch file names, the scene, perception and skills.

    Everything a driver offers beyond `Robot` is asked for by type
    (`robollm.robot.capabilities`): a simulator lays out the scene itself, a real robot
    has its scene on the table; success is judged from the simulator's geometry where
    the driver has it, else from what perception reports.
    """

    def __init__(self, config: LaunchConfig, scene: SceneSpec, seed: int, *,
                 executor: str = "physics", gui: bool = False) -> None:
        if executor not in EXECUTORS:
            raise UserError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
        self.config, self.scene_spec, self.seed, self.executor = config, scene, seed, executor
        self.skills = skill_registry(config)
        self._skill_cache: dict[str, Skill] = {}
        self.robot = robot_registry().make(config.robot.driver, config=config, gui=gui)
        try:
            # Perception is chosen before anything moves, so a launch file asking for what
            # its driver cannot give fails before the arms are touched.
            self.perception: Perception = perception_registry().make(
                config.perception.name, robot=self.robot, config=config,
                options=config.perception.options)
            if isinstance(self.robot, SceneLoader):
                self.robot.load_scene(scene, seed)
            self.robot.connect()
        except BaseException:
            self.robot.disconnect()
            raise
        self.motion = RobotMotion(self.robot, config)
        sensing = config.sensing
        self.interactive = InteractivePerception(sensing.sound_model, sensing.touch_calibration)
        self.memory = EvidenceMemory(sensing.style)  # what knocks, touches and weighings found
        self.scene: SceneState = self.perception.observe()  # the latest look at the table
        self.state: SymbolicState = from_scene(self.scene)
        self.start_state = self.state.copy()  # what `disturbed` compares against
        self.start_truth = self._true_places()
        self.history: list[StepRecord] = []

    # -- scene -------------------------------------------------------------------------
    def observe(self) -> SceneState:
        """A fresh look, with what sensing found about each object still on the table."""
        self.scene = self.memory.annotate(self.perception.observe())
        return self.scene

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
        evidence = None  # only a sensing skill run on the robot gathers any
        if reason:
            outcome = Outcome.fail(reason)
        elif self.executor == "symbolic":
            outcome = skill.apply(self.state, **args)
        else:
            ctx = SkillContext(self.motion, self.observe, self.observe())
            refused = skill.scene_check(ctx.scene, self.state, **args)
            outcome = Outcome.fail(refused) if refused else skill.run(ctx, **args)
            before = self.state
            if outcome.success:
                skill.apply(before, **args)  # keeps what sensing skills learned
            evidence = self.interactive.interpret(call.skill, outcome.success, outcome.reason, outcome.data)
            if evidence is not None:
                self.memory.add(args["obj"], evidence)
            self.state = from_scene(self.observe())
            self.state.sensed = before.sensed
        record = StepRecord(call, text, outcome, self.robot_time(), evidence=evidence)
        self.history.append(record)
        return record

    def robot_time(self) -> float:
        return self.robot.observe().time

    # -- success --------------------------------------------------------------------------
    def parse_goal(self, text: str) -> Expr:
        """The goal, checked against the names it will be judged on (the simulator's under
        physics, so a thing the camera misnamed is a failure of the run, not of the goal)."""
        expr = parse(text)
        validate(expr, self._geometry() or self.state)
        return expr

    def _geometry(self) -> Facts | None:
        """The world's own geometry, where success is judged on it: under physics, on a
        driver that offers it."""
        if self.executor != "symbolic" and isinstance(self.robot, GeometricFacts):
            return self.robot.geometric_facts()
        return None

    def facts(self) -> Facts:
        """What success is judged on: the stated effects under the symbolic executor; under
        physics, the world's geometry where the driver offers it, else perception's report."""
        if self.executor == "symbolic":
            return self.state
        return self._geometry() or PerceivedFacts(self.observe())

    def succeeded(self, goal: Expr) -> bool:
        return evaluate(goal, self.facts())

    def disturbed(self, goal: Expr) -> list[str]:
        """Objects the goal does not name whose place changed since the session began.

        "Put the red block in the bowl" is not done if the blue block went in too: a
        success check that looks only at the goal would reward moving everything.
        An object's place is its relation and parent (in the bowl, on the plate, at the
        left region, held by an arm), so small nudges do not count.
        """
        named = {arg for atom in atoms(goal) for arg in atom.args}
        truth = self._true_places()
        before, after = (self.start_truth, truth) if truth is not None else (self.start_state, self.state)
        return sorted(o for o in after.objects() if o not in named and
                      (after.relation.get(o), after.parent.get(o))
                      != (before.relation.get(o), before.parent.get(o)))

    def _true_places(self) -> SymbolicState | None:
        """Under physics, where the driver knows the true scene, places are judged on it, as
        success is on the world's geometry: a camera's naming slip is not a moved object."""
        if self.executor == "symbolic" or not isinstance(self.robot, GroundTruth):
            return None
        return from_scene(self.robot.true_scene())

    def close(self) -> None:
        self.robot.disconnect()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
