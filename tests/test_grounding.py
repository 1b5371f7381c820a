"""The grounding check: what the planner refuses, asks about or does nothing for, and that
no valid instruction of the suites or of the training generator is ever refused."""

import pytest
from planning_cases import OBJECTS, THREE, PrefersLM, make_planner, suite_episodes

from robollm.commands.run import hands_of, plan_report
from robollm.errors import LanguageModelUnavailable
from robollm.llm import CandidateScore
from robollm.planner.grounding import ground


class DiesOnSecondCall(PrefersLM):
    """Answers the first scoring call, then its server is gone."""

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        if self.calls >= 1:
            self.calls += 1
            raise LanguageModelUnavailable("http://127.0.0.1:9/v1/completions stopped answering")
        return super()._score(prompt, candidates)


@pytest.mark.parametrize("text, phrase", [
    ("put the banana in the green bowl", "banana"),
    ("put the red ball in the green bowl", "red ball"),
    ("pick up the apples", "apple"),
    ("put the purple block in the green bowl", "purple block"),
    ("put the red block in the gray bowl", "grey bowl"),
    ("put the cups on the plate", "cup"),
    ("put the red block in the tray", "tray"),
])
def test_what_is_not_on_the_table_is_not_grounded(text, phrase):
    g = ground(text, OBJECTS)
    assert g.kind == "missing" and g.refused and phrase in g.missing
    assert g.reason.startswith("could not ground: there is no ") and "red_block" in g.reason


@pytest.mark.parametrize("text, verb", [
    ("paint the red block blue", "paint"),
    ("could you slice the yellow block in half?", "slice"),
    ("please wash the green bowl, then put the red block in it", "wash"),
    ("put the blue block in the green bowl and then open it", "open"),
    ("I want you to write your name on the red block", "write"),
    ("First melt the yellow block. Then put the blue block in the bowl.", "melt"),
])
def test_an_action_no_skill_performs_is_refused(text, verb):
    g = ground(text, OBJECTS, {"pick", "up", "place", "push"})
    assert g.kind == "cannot" and g.refused and g.cannot == [verb]
    assert g.reason == f"cannot do: no skill can {verb}"


@pytest.mark.parametrize("text", [
    "don't paint it, just put the red block in the green bowl",  # negated
    "put the red block close to the green bowl",  # not where a verb stands
    "put the block the colour of a cloud in the green bowl",
    "fill the green bowl with the red and the blue block",
])
def test_those_words_elsewhere_or_negated_are_not_refused(text):
    assert ground(text, OBJECTS).kind != "cannot"


def test_a_skill_that_performs_the_action_lifts_the_refusal():
    assert ground("paint the red block", OBJECTS, {"paint", "block"}).kind == "ok"


def test_a_substance_is_never_on_the_table():
    g = ground("fill the green bowl with water", OBJECTS)
    assert g.kind == "missing" and g.missing == ["water"]


@pytest.mark.parametrize("text", ["mets le bloc rouge dans le bol vert", "pon el bloque rojo en el cuenco verde",
                                  "hmm"])
def test_an_instruction_without_a_known_word_is_not_grounded(text):
    g = ground(text, OBJECTS)
    assert g.kind == "not_understood" and g.refused
    assert g.reason.startswith("could not ground: the instruction has no word the robot understands")


def test_a_singular_reference_to_several_objects_asks_which():
    g = ground("put the block in the green bowl", OBJECTS)
    assert g.kind == "ambiguous" and g.refused
    assert g.reason == "ambiguous: which block: red_block, blue_block or yellow_block?"
    assert g.ambiguous == {"block": ["red_block", "blue_block", "yellow_block"]}
    assert ground("put the cube in the bowl", OBJECTS).kind == "ambiguous"


@pytest.mark.parametrize("text", [
    "put the blocks in the green bowl", "put all blocks in the bowl", "put every block in the bowl",
    "put a block in the bowl", "put any block in the bowl", "put the small block in the bowl",
    "put the block on the left in the bowl", "put the block that is red in the bowl",
    "put the metal block in the bowl", "put the red block in the bowl", "move the cubes to the middle",
])
def test_plural_quantified_or_narrowed_references_are_not_ambiguous(text):
    assert ground(text, OBJECTS).kind == "ok", ground(text, OBJECTS).reason


@pytest.mark.parametrize("text", ["do not touch anything", "leave everything as it is", "don't move", "nothing",
                                  "Do nothing, please.", "leave the blue block where it is",
                                  "Hello robot. Leave the blocks alone. Thanks!"])
def test_an_instruction_that_asks_for_nothing(text):
    g = ground(text, OBJECTS)
    assert g.kind == "nothing" and not g.refused


def test_a_clause_that_leaves_something_is_part_of_a_request():
    assert ground("move the red block to the right side but leave the blue block where it is", OBJECTS).kind == "ok"
    assert ground("don't forget to put the red block in the bowl", OBJECTS).kind == "ok"
    # a second sentence that asks for something
    assert ground("Don't do anything with the blue block. Just put the red block in the bowl.", OBJECTS).kind == "ok"
    assert ground("leave the blue block alone. Put the red block on the yellow cube", OBJECTS).kind == "ok"


def test_no_suite_instruction_is_refused_or_ambiguous():
    """Except the `language` suite's `cannot` episodes, which ask for what no skill does:
    each of those is refused (an action no skill performs, or water, which is never on
    the table)."""
    episodes = list(suite_episodes())
    assert len(episodes) >= 130
    wrong = []
    for ep in episodes:
        scene = ep.scene_spec()
        objects = {o.object_name: (o.colour, o.type) for o in scene.objects}
        g = ground(ep.instruction, objects)
        if (g.refused and g.kind in ("cannot", "missing")) != (ep.family == "cannot") or \
                (ep.family != "cannot" and g.kind != "ok"):
            wrong.append((ep.id, ep.instruction, g.kind, g.reason))
    assert not wrong
    assert sum(ep.family == "cannot" for ep in episodes) >= 5


def test_no_generated_training_instruction_is_refused_or_ambiguous():
    from robollm.training.synthetic_families import generate

    refused = []
    tasks = generate(400, seed=0) + generate(400, seed=7)
    for task in tasks:
        objects = {n: tuple(n.rsplit("_", 1)) for n in task.objects}
        g = ground(task.instruction, objects)
        if g.kind != "ok":
            refused.append((task.instruction, task.objects, g.reason))
    assert not refused


def test_the_check_reads_what_perception_reports(session_factory):
    """The suites' scenes as the session perceives them give the same answer as their files."""
    ep = next(e for e in suite_episodes() if e.id.startswith("multi_object"))
    session = session_factory(ep.scene_spec(), executor="symbolic")
    perceived = {n: (o.colour, o.type) for n, o in session.scene.objects.items()}
    assert perceived == {o.object_name: (o.colour, o.type) for o in ep.scene_spec().objects}
    assert ground(ep.instruction, perceived).kind == "ok"


# -- the planner stops before acting --------------------------------------------------------
@pytest.mark.parametrize("text, start", [
    ("put the banana in the green bowl", "could not ground: there is no banana"),
    ("put the red ball in the green bowl", "could not ground: there is no red ball"),
    ("mets le bloc rouge dans le bol vert", "could not ground: the instruction has no word"),
    ("put the block in the green bowl", "ambiguous: which block: red_block, blue_block or yellow_block?"),
    ("please paint the red block green", "cannot do: no skill can paint"),
])
def test_the_planner_does_not_act_on_what_it_cannot_ground(text, start, session_factory):
    lm = PrefersLM()
    session = session_factory(THREE, executor="symbolic")
    result = make_planner(lm).run(session, text)
    assert result.stop_reason.startswith(start) and result.refused
    assert not result.steps and lm.calls == 0 and not session.history
    assert not result.finished


def test_the_planner_chooses_done_for_an_instruction_that_asks_for_nothing(session_factory):
    lm = PrefersLM()
    session = session_factory(THREE, executor="symbolic")
    result = make_planner(lm).run(session, "do not touch anything")
    assert [s.chosen.text for s in result.steps] == ["done"] and result.steps[0].index == 1
    assert result.steps[0].outcome is None and result.finished and not result.refused
    assert lm.calls == 0 and not session.history and result.stop_reason.startswith("chose done")


# -- the language model dies in the middle of a run ---------------------------------------
def test_the_planner_stops_when_the_language_model_dies(session_factory):
    lm = DiesOnSecondCall()
    session = session_factory(THREE, executor="symbolic")
    result = make_planner(lm).run(session, "put the red block in the green bowl")
    assert result.lm_unavailable and not result.finished and not result.refused
    assert result.stop_reason == ("language model unavailable: "
                                  "http://127.0.0.1:9/v1/completions stopped answering")
    assert [s.chosen.text for s in result.steps] == ["pick up the red block"]
    assert [str(r.call) for r in session.history] == ["pick(red_block)"]  # nothing after it
    assert lm.calls == 2
    assert "red_block" in hands_of(session).values()


def test_the_report_of_a_run_cut_short_says_what_the_hands_hold(session_factory, capsys):
    session = session_factory(THREE, executor="symbolic")
    result = make_planner(DiesOnSecondCall()).run(session, "put the red block in the green bowl")
    hands = hands_of(session)
    report = plan_report(result, hands, 3, [])
    out = capsys.readouterr().out
    arm = next(a for a, o in hands.items() if o == "red_block")
    assert "stopped: language model unavailable: " in out and f"{arm} holds red_block" in out
    assert report["lm_unavailable"] and report["stopped_early"] and not report["completed"]
    assert report["hands"][arm] == "red_block" and len(report["steps"]) == 1
