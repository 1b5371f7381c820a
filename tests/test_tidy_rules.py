"""Tidying rules: example sentences, enumeration of consistent summaries, applying a rule,
contradictions, and choosing a summary with a fake language model."""

import pytest

from robollm.errors import UserError
from robollm.llm.fake import FakeLanguageModel
from robollm.planner.tidy.attributes import Thing
from robollm.planner.tidy.prefs import parse_example, rules_from_entries, split_examples
from robollm.planner.tidy.rules import (
    Clause,
    Condition,
    Example,
    Receptacle,
    RuleSet,
    enumerate_rule_sets,
    resolve_contradictions,
)
from robollm.planner.tidy.summarise import SummaryOptions, decide, summarise, summary_prompt

BOX = Receptacle("brown_box", "box", "box")
PLATE = Receptacle("white_plate", "plate", "plate")
BOWL = Receptacle("green_bowl", "bowl", "bowl")
RECS = [BOX, PLATE, BOWL]


def examples(text: str) -> list[Example]:
    return [parse_example(e, RECS) for e in split_examples(text)]


WARM_COOL = examples("the red block went in the box, the yellow cup went in the box, "
                     "the blue block went on the plate, the green cup went on the plate")


def test_sentences_parse_into_things_and_receptacles():
    e = parse_example("the small red metal block went in the box", RECS)
    assert e.thing == Thing("block", "red", "metal", "small") and e.receptacle == BOX
    assert parse_example("The gray wooden cups go on the plate.", RECS).thing == Thing("cup", "grey", "wood")
    assert len(split_examples("a red block went in the box; and the blue cup went on the plate.")) == 2


@pytest.mark.parametrize("text, fragment", [
    ("the banana went in the box", "there is no object 'the banana'"),
    ("the red block went in the drawer", "there is no 'the drawer' on the table"),
    ("the red block went in the blue box", "there is no 'the blue box'"),
    ("the block went in the box", "has no colour"),
    ("red block box", "expected a sentence like"),
])
def test_bad_examples_name_what_is_wrong(text, fragment):
    with pytest.raises(UserError, match=fragment):
        parse_example(text, RECS)


def test_every_enumerated_rule_reproduces_the_examples():
    rules = enumerate_rule_sets(WARM_COOL)
    assert rules and all(r.consistent(WARM_COOL) for r in rules)
    sentences = {r.sentence() for r in rules}
    assert "Warm-coloured things go in the box, and everything else goes on the plate." in sentences
    assert not any(s.startswith("Blocks go") for s in sentences)  # blocks went both ways


def test_an_exception_is_found_when_nothing_simpler_fits():
    ex = examples("the red block went on the plate, the blue block went in the box, the white block went in "
                  "the box, the red cup went in the bowl, the green cup went in the bowl")
    rules = enumerate_rule_sets(ex)
    # "red blocks" first, then the broader clauses: a red cup still goes with the cups
    exceptions = [r for r in rules if r.clauses[0].condition.words() == "red blocks"]
    assert exceptions and all(r.place(Thing("cup", "red")) == BOWL for r in exceptions)
    assert any(r.place(Thing("block", "purple")) == BOX for r in exceptions)


def test_a_rule_places_unseen_objects_exactly():
    rule = rules_from_entries([{"when": {"type": "block", "colour": "red"}, "to": "plate"},
                               {"when": {"type": "block"}, "to": "box"}, {"else": "bowl"}], RECS, "test")
    assert rule.place(Thing("block", "red", "metal", "large")) == PLATE
    assert rule.place(Thing("block", "purple")) == BOX
    assert rule.place(Thing("cup", "red")) == BOWL
    assert rule.sentence() == ("Red blocks go on the plate, blocks go in the box, "
                               "and everything else goes in the bowl.")


def test_an_unknown_material_matches_no_material_clause():
    rule = RuleSet((Clause(Condition((("material", ("metal",)),)), BOX),), PLATE)
    assert rule.place(Thing("block", "red", None)) == PLATE
    assert rule.place(Thing("block", "red", "metal")) == BOX
    assert rule.attributes() == {"material"}


def test_contradictions_are_reported_and_the_majority_kept():
    ex = examples("the red block went in the box, the red block went on the plate, the red block went in the "
                  "box, the blue cup went on the plate")
    kept, found = resolve_contradictions(ex)
    assert len(found) == 1 and found[0].used == BOX
    assert "contradictory examples: the red block went in the box (2 examples) and on the plate (1 example)" \
        in found[0].note()
    assert [e.receptacle for e in kept] == [BOX, BOX, PLATE]
    summary = summarise(None, ex)
    assert summary.contradictions and summary.rule.consistent(kept)


def test_the_language_model_breaks_ties_between_equally_simple_rules():
    warm = "Warm-coloured things go in the box, and everything else goes on the plate."
    cool = "Cool-coloured things go on the plate, and everything else goes in the box."
    options = SummaryOptions(prior_weight=1.0, alpha=0.0)
    for preferred in (warm, cool):
        fake = FakeLanguageModel({preferred: -1.0}, default=-60.0)
        summary = summarise(fake, WARM_COOL, options)
        assert summary.rule.sentence() == preferred
        prompt, candidates = fake.calls[0]
        assert prompt == summary_prompt(WARM_COOL) and len(candidates) == len(summary.ranked)
        assert len(fake.calls) == 1  # one batched call for every candidate


def test_objects_no_rule_covers_are_asked_of_the_model():
    rule = RuleSet((Clause(Condition((("warmth", ("warm",)),)), BOX),
                    Clause(Condition((("warmth", ("cool",)),)), PLATE)))
    from robollm.planner.tidy.summarise import Summary

    fake = FakeLanguageModel({"on the plate.": -1.0, "in the box.": -5.0}, default=-30.0)
    decisions = decide(fake, Summary(rule, examples=WARM_COOL), [Thing("cup", "orange"), Thing("block", "white")],
                       [BOX, PLATE])
    assert [(d.receptacle, d.by) for d in decisions] == [(BOX, "rule"), (PLATE, "language model")]
