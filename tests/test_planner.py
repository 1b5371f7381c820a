"""The SayCan loop with a scripted language model (no weights), on the symbolic executor."""

import pytest

from robollm.config import load_config
from robollm.errors import ConfigError, UserError
from robollm.llm import CandidateScore, LanguageModel, ScoringOptions
from robollm.planner.affordance import HeuristicAffordance
from robollm.planner.grounding import missing_objects
from robollm.planner.prompt import load_prompt
from robollm.planner.saycan import SayCanPlanner
from robollm.scene import ObjectSpec, SceneSpec

SCENE = SceneSpec([ObjectSpec("block", "red", region="left"), ObjectSpec("block", "blue", region="right"),
                   ObjectSpec("bowl", "green", region="right")], source="planner test")


class ScriptedLM(LanguageModel):
    """Prefers, at step k, the k-th text of a script; records every prompt it saw."""

    name = "scripted"

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.prompts: list[str] = []

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        self.prompts.append(prompt)
        step = prompt.rsplit("\n", 1)[-1].split(".")[0]
        want = self.script[min(int(step) - 1, len(self.script) - 1)]
        return [CandidateScore(c, -1.0 if c.strip() == want else -8.0, 1) for c in candidates]


def planner(lm, **kw):
    return SayCanPlanner(lm, ScoringOptions(length="sum"), HeuristicAffordance(), load_prompt("saycan"), **kw)


def test_loop_plans_executes_and_stops_at_done(session_factory):
    lm = ScriptedLM(["pick up the red block.", "place the red block in the green bowl.", "done."])
    session = session_factory(SCENE, executor="symbolic")
    result = planner(lm).run(session, "put the red block in the green bowl")
    assert [s.chosen.text for s in result.steps] == ["pick up the red block",
                                                     "place the red block in the green bowl", "done"]
    assert result.finished
    assert session.succeeded(session.parse_goal("in(red_block, green_bowl)"))
    # every candidate got three scores, and the choice maximises their product
    for step in result.steps:
        assert step.chosen.combined == max(c.combined for c in step.candidates)
        assert all(c.combined == pytest.approx(c.llm_prob * c.affordance) for c in step.candidates)
    # the steps taken so far are in the next prompt
    assert "1. pick up the red block.\n2." in lm.prompts[1]


def test_affordance_vetoes_what_the_model_prefers(session_factory):
    # The model wants to place before picking; the affordance says it cannot succeed.
    lm = ScriptedLM(["place the red block in the green bowl.", "place the red block in the green bowl.", "done."])
    session = session_factory(SCENE, executor="symbolic")
    result = planner(lm, max_steps=3).run(session, "put the red block in the green bowl")
    first = result.steps[0]
    vetoed = next(c for c in first.candidates if c.text == "place the red block in the green bowl")
    assert vetoed.affordance == 0.0 and first.chosen.text != vetoed.text


def test_candidates_cover_every_skill_and_done(session_factory):
    scene = SceneSpec(SCENE.objects + [ObjectSpec("tray", "grey")], source="with tray")
    session = session_factory(scene, executor="symbolic")
    scored, _ = planner(ScriptedLM(["done."])).score(session, "x", [], session.state)
    skills = {s.call.skill for s in scored}
    assert skills == set(session.skills.names()) | {"done"}
    assert sum(1 for s in scored if s.call.skill == "done") == 1


def test_outcome_goes_back_into_the_prompt(session_factory, monkeypatch):
    from robollm.skills.base import Outcome

    lm = ScriptedLM(["pick up the red block.", "done."])
    session = session_factory(SCENE, executor="symbolic")
    real = session.execute

    def slipping(call):
        record = real(call)
        record.outcome = Outcome.fail("grasp slipped", "left")
        return record

    monkeypatch.setattr(session, "execute", slipping)
    planner(lm, max_steps=2).run(session, "pick up the red block")
    assert "1. pick up the red block. It failed: grasp slipped.\n2." in lm.prompts[1]


def test_missing_object_stops_before_acting(session_factory):
    lm = ScriptedLM(["pick up the blue block."])
    session = session_factory(SCENE, executor="symbolic")
    result = planner(lm).run(session, "put the purple block in the green bowl")
    assert result.missing == ["purple block"] and not result.steps and not lm.prompts
    assert "could not find the purple block" in result.stop_reason


def test_grounding_phrases():
    objects = {"red_block": ("red", "block"), "green_bowl": ("green", "bowl")}
    assert missing_objects("put the red cube in the green dish", objects) == []
    assert missing_objects("put the red block in the blue bowl", objects) == ["blue bowl"]
    assert missing_objects("stack the blocks, red at the bottom", objects) == []


@pytest.mark.parametrize("text", ["", "   ", "?!"])
def test_bad_instructions_are_user_errors(text, session_factory):
    session = session_factory(SCENE, executor="symbolic")
    with pytest.raises(UserError):
        planner(ScriptedLM(["done."])).run(session, text)


def test_step_limit_ends_the_loop(session_factory):
    lm = ScriptedLM(["knock on the red block."] * 5)
    session = session_factory(SCENE, executor="symbolic")
    result = planner(lm, max_steps=3).run(session, "knock on the red block")
    assert len(result.steps) == 3 and not result.finished and "step limit" in result.stop_reason


def test_beam_search_runs_and_finishes(session_factory):
    lm = ScriptedLM(["pick up the red block.", "place the red block in the green bowl.", "done."])
    session = session_factory(SCENE, executor="symbolic")
    result = planner(lm, beam_width=3, beam_depth=2).run(session, "put the red block in the green bowl")
    assert result.finished
    assert session.succeeded(session.parse_goal("in(red_block, green_bowl)"))


def test_prompt_file_is_checked(tmp_path):
    p = tmp_path / "prompt.txt"
    p.write_text("# comment\nTask: {instruction}\n")
    with pytest.raises(ConfigError, match="placeholders"):
        load_prompt(str(p))
    with pytest.raises(ConfigError, match="no such file"):
        load_prompt(str(tmp_path / "none.txt"))
    text = load_prompt("saycan").render(["red block"], "do it.", ["pick up the red block."])
    assert text.endswith("Task: do it.\n1. pick up the red block.\n2.") and "#" not in text


def test_config_builds_a_planner_with_the_fake_backend(tmp_path):
    import yaml

    from robollm.config import default_config_path

    data = yaml.safe_load(default_config_path().read_text())
    data["planner"]["llm"] = {"backend": "fake"}
    p = tmp_path / "fake.yaml"
    p.write_text(yaml.safe_dump(data))
    plan = SayCanPlanner.from_config(load_config(p))
    assert plan.llm.name == "fake" and plan.options.length == "sum"
