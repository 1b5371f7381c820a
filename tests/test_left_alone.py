"""What an instruction leaves out (robollm.planner.left_alone): read from its words,
never an object the goal or the expert plan moves, and held to by the planner."""

import re

import pytest
from planning_cases import OBJECTS, THREE, PrefersLM, make_planner, suite_episodes

from robollm.planner.left_alone import left_alone


def _atoms(expr) -> list:
    from robollm.world.predicates import atoms

    return list(atoms(expr))


def test_what_an_instruction_leaves_out_is_never_what_its_goal_moves():
    """For every suite episode: the objects the check says to leave alone are never the
    moved object of the success predicate (unless the atom holds from the start: "and the
    blue block stays at the left"), and the excluded ones never its destination."""
    from robollm.world.predicates import parse

    wrong, found = [], 0
    for ep in suite_episodes():
        spec = {o.object_name: o for o in ep.scene_spec().objects}
        objects = {n: (o.colour, o.type) for n, o in spec.items()}
        g = left_alone(ep.instruction, objects)
        found += bool(g)
        for atom in _atoms(parse(ep.success)):
            stays = atom.relation == "at" and getattr(spec.get(atom.args[0]), "region", None) == atom.args[1]
            if atom.args and atom.args[0] in g.kept + g.excluded and not stays or \
                    (len(atom.args) > 1 and atom.relation in ("in", "on") and atom.args[1] in g.excluded):
                wrong.append((ep.id, ep.instruction, g.kept, g.excluded))
    assert not wrong
    assert found >= 5  # the language suite's exceptions and the like


def test_what_a_training_instruction_leaves_out_its_plan_never_moves():
    from robollm.training.synthetic_language import generate_language

    wrong, found = [], 0
    for task in generate_language(600, seed=3, hands=True):
        objects = {n: tuple(n.rsplit("_", 1)) for n in task.objects}
        g = left_alone(task.instruction, objects)
        found += bool(g)
        for step in task.steps:
            text = f" {step} "
            moved = re.match(r" (?:pick up|push|lift|hand|tip|slide|nudge|place|put) (?:the )?(\w+ \w+)", text)
            if moved and moved.group(1).replace(" ", "_") in g.kept + g.excluded or \
                    any(f" {n.replace('_', ' ')} " in text for n in g.excluded):
                wrong.append((task.instruction, step, g.kept, g.excluded))
    assert not wrong
    assert found >= 30


@pytest.mark.parametrize("text, kept, excluded", [
    ("put every block in the green bowl except the red one", [], ["red_block"]),
    ("all the blocks other than the blue one go in the bowl", [], ["blue_block"]),
    ("leave the yellow block alone and put the red block in the bowl", ["yellow_block"], []),
    ("the blue block stays where it is; move the red block to the left", ["blue_block"], []),
    ("put the red block in the bowl without touching the blue block", ["blue_block"], []),
    ("keep the red block where it is and stack the blue block on it", ["red_block"], []),
    ("put everything but the red block in the green bowl", [], ["red_block"]),
    ("all the blocks but the blue one go in the bowl", [], ["blue_block"]),
    ("the yellow block is fine where it is; put the red block in the bowl", ["yellow_block"], []),
    ("the red block can remain there. move the blue block", ["red_block"], []),
    ("put the red block in the bowl, but the blue one goes on the left", [], []),  # "but" the conjunction
    ("leave the red block in the green bowl", [], []),  # where to leave it: a placement
    ("put the red block in the green bowl", [], []),
])
def test_what_the_instruction_leaves_out(text, kept, excluded):
    g = left_alone(text, OBJECTS)
    assert (g.kept, g.excluded) == (kept, excluded)


def test_the_planner_never_moves_what_the_instruction_leaves_out(session_factory):
    """The model prefers the excluded block's pick; the planner rules it out."""
    lm = PrefersLM()  # "pick up the red block."
    session = session_factory(THREE, executor="symbolic")
    planner = make_planner(lm)
    result = planner.run(session, "put every block in the green bowl except the red one")
    assert (planner.left_out.kept, planner.left_out.excluded) == ([], ["red_block"])
    assert result.left_alone is planner.left_out
    first = result.steps[0]
    red = next(c for c in first.candidates if c.text == "pick up the red block")
    assert red.affordance == 0.0 and first.chosen.text != "pick up the red block"
    assert all("red block" not in s.chosen.text for s in result.steps)
