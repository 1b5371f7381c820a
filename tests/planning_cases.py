"""The table, fake language model and planner that the grounding and left-alone tests
share, and every episode of the suites the planner is measured on."""

from robollm.llm import CandidateScore, LanguageModel, ScoringOptions
from robollm.world.scene import ObjectSpec, SceneSpec

THREE = SceneSpec([ObjectSpec("block", "red", region="left"), ObjectSpec("block", "blue", region="right"),
                   ObjectSpec("block", "yellow", region="middle"), ObjectSpec("bowl", "green", region="right")],
                  source="three blocks")
OBJECTS = {o.object_name: (o.colour, o.type) for o in THREE.objects}


class PrefersLM(LanguageModel):
    """Prefers one candidate text; records how often it was asked."""

    name = "prefers"

    def __init__(self, want: str = "pick up the red block.") -> None:
        self.want, self.calls = want, 0

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        self.calls += 1
        return [CandidateScore(c, -1.0 if c.strip() == self.want else -8.0, 1) for c in candidates]


def make_planner(lm):
    from robollm.affordance.heuristic import HeuristicAffordance
    from robollm.planner.prompt import load_prompt
    from robollm.planner.saycan import SayCanPlanner

    return SayCanPlanner(lm, ScoringOptions(length="sum"), HeuristicAffordance(), load_prompt("saycan"))


def suite_episodes():
    from robollm.eval.suites import load_suites

    for name in ("all", "heldout", "wording", "language", "property", "hard", "discovered"):
        for suite in load_suites(name):
            yield from suite.episodes
