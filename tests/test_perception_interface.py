"""The planner plans over what perception reports, affordance models see the perceived
scene, and success can be judged from perceived facts where a driver has no geometry."""

from __future__ import annotations

from dataclasses import replace

from robollm.affordance.base import Affordance, AffordanceInput
from robollm.affordance.heuristic import HeuristicAffordance
from robollm.llm import CandidateScore, LanguageModel, ScoringOptions
from robollm.perception.base import Perception
from robollm.planner.prompt import load_prompt
from robollm.planner.saycan import SayCanPlanner
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import evaluate, parse
from robollm.world.scene import ObjectSpec, SceneSpec
from robollm.world.symbolic import from_scene

SCENE = SceneSpec([ObjectSpec("block", "red", region="left"), ObjectSpec("block", "blue", region="right"),
                   ObjectSpec("bowl", "green", region="right")], source="perception test")


class Prompts(LanguageModel):
    name = "records prompts"

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.candidates: list[str] = []

    def _score(self, prompt, candidates):
        self.prompts.append(prompt)
        self.candidates += candidates
        return [CandidateScore(c, -1.0 if c.strip() == "done." else -5.0, 1) for c in candidates]


class Hiding(Perception):
    """Sees everything the wrapped perception sees except one object."""

    name = "hides one object"

    def __init__(self, inner: Perception, hidden: str) -> None:
        self.inner, self.hidden = inner, hidden

    def observe(self):
        scene = self.inner.observe()
        return replace(scene, objects={n: o for n, o in scene.objects.items() if n != self.hidden})


class Recording(Affordance):
    name = "records its input"

    def __init__(self) -> None:
        self.seen: list[AffordanceInput] = []

    def score(self, given, calls):
        self.seen.append(given)
        return HeuristicAffordance().score(given, calls)


def test_planner_plans_over_perceived_objects(session_factory):
    session = session_factory(SCENE, executor="symbolic")
    session.perception = Hiding(session.perception, "blue_block")
    session.state = from_scene(session.observe())
    lm, affordance = Prompts(), Recording()
    SayCanPlanner(lm, ScoringOptions(), affordance, load_prompt("saycan")).run(session, "tidy up")
    objects_line = [ln for ln in lm.prompts[0].splitlines() if ln.startswith("Objects:")][-1]
    assert "red block" in objects_line and "blue block" not in objects_line
    assert not any("blue block" in c for c in lm.candidates)
    assert any("red block" in c for c in lm.candidates)
    given = affordance.seen[0]
    assert set(given.scene.objects) == {"red_block", "green_bowl"}
    assert given.scene.holding == {"left": None, "right": None}
    assert given.state.objects() == {"red_block", "green_bowl"}


def test_with_ground_truth_the_prompt_lists_the_scene_in_order(session_factory):
    session = session_factory(SCENE, executor="symbolic")
    lm = Prompts()
    SayCanPlanner(lm, ScoringOptions(), HeuristicAffordance(), load_prompt("saycan")).run(session, "tidy up")
    objects_line = [ln for ln in lm.prompts[0].splitlines() if ln.startswith("Objects:")][-1]
    assert objects_line == "Objects: red block, blue block, green bowl."


def test_perceived_facts_judge_success_without_geometry(session_factory):
    session = session_factory(SCENE, executor="physics")
    session.execute(parse_call("pick red_block"))
    scene = session.observe()
    facts = PerceivedFacts(scene)
    assert evaluate(parse("holding(left, red_block) and lifted(red_block)"), facts)
    assert not evaluate(parse("in(red_block, green_bowl)"), facts)
    session.execute(parse_call("place red_block in green_bowl"))
    facts = PerceivedFacts(session.observe())
    assert evaluate(parse("in(red_block, green_bowl) and not lifted(red_block)"), facts)
    # the geometric facts of the simulator agree
    assert evaluate(parse("in(red_block, green_bowl)"), session.facts())


def parse_call(text: str):
    from robollm.plan import parse_plan

    return parse_plan(text)[0]
