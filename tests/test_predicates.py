"""Tests for the success-predicate language: grammar, validation, evaluation (its syntax
errors: test_predicate_errors.py)."""

from __future__ import annotations

import ast
import itertools
import random
import re
from pathlib import Path

import pytest

import robollm.world.predicates as predicates
from robollm.world.predicates import (
    And,
    Atom,
    Expr,
    Facts,
    Not,
    Or,
    PredicateError,
    SymbolicFacts,
    TrueExpr,
    atoms,
    evaluate,
    parse,
    validate,
)

A = Atom("lifted", ("a",))
B = Atom("lifted", ("b",))
C = Atom("lifted", ("c",))
D = Atom("lifted", ("d",))


def scene(*true: str) -> SymbolicFacts:
    """A small tabletop; each argument is an atom (in predicate syntax) that holds."""
    facts: set[tuple[str, tuple[str, ...]]] = set()
    for text in true:
        atom = parse(text)
        assert isinstance(atom, Atom)
        facts.add((atom.relation, atom.args))
    return SymbolicFacts(
        object_names={"red_block", "blue_block", "green_bowl", "blue_bowl", "tray", "a", "b", "c"},
        region_names={"left_zone", "right_zone"},
        arm_names={"left", "right"},
        true_facts=facts,
    )




# --- grammar -----------------------------------------------------------------------------


def test_atoms_of_every_relation_parse_with_their_arguments() -> None:
    assert parse("in(red_block, green_bowl)") == Atom("in", ("red_block", "green_bowl"))
    assert parse("on(a,b)") == Atom("on", ("a", "b"))
    assert parse("holding(left, red_block)") == Atom("holding", ("left", "red_block"))
    assert parse("lifted(tray)") == Atom("lifted", ("tray",))
    assert parse("at(red_block, left_zone)") == Atom("at", ("red_block", "left_zone"))
    assert parse("near(block_2, bowl_10)") == Atom("near", ("block_2", "bowl_10"))
    assert parse("true") == TrueExpr()


def test_whitespace_including_newlines_is_insignificant() -> None:
    assert parse("  in ( a ,\n\tb )\n") == Atom("in", ("a", "b"))
    assert parse("lifted(a)\nand\nlifted(b)") == And((A, B))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    assert parse("lifted(a) or lifted(b) and lifted(c)") == Or((A, And((B, C))))
    assert parse("lifted(a) and lifted(b) or lifted(c)") == Or((And((A, B)), C))
    assert parse("not lifted(a) and lifted(b)") == And((Not(A), B))
    assert parse("not lifted(a) or lifted(b)") == Or((Not(A), B))
    assert parse("lifted(a) and not lifted(b) or not lifted(c) and lifted(d)") == Or(
        (And((A, Not(B))), And((Not(C), D)))
    )
    assert parse("not not lifted(a)") == Not(Not(A))


def test_parentheses_override_precedence_and_may_nest() -> None:
    assert parse("(lifted(a) or lifted(b)) and lifted(c)") == And((Or((A, B)), C))
    assert parse("not (lifted(a) or lifted(b))") == Not(Or((A, B)))
    assert parse("((((lifted(a)))))") == A
    assert parse("((lifted(a) or (lifted(b) and (lifted(c) or lifted(d)))))") == Or(
        (A, And((B, Or((C, D)))))
    )


def test_function_forms_take_any_number_of_arguments() -> None:
    assert parse("and(in(red_block, green_bowl), lifted(tray))") == And(
        (Atom("in", ("red_block", "green_bowl")), Atom("lifted", ("tray",)))
    )
    assert parse("or(lifted(a), lifted(b), lifted(c))") == Or((A, B, C))
    assert parse("not(lifted(a))") == Not(A)
    assert parse("and(lifted(a))") == A
    assert parse("and(or(lifted(a), lifted(b)), not(lifted(c)))") == And((Or((A, B)), Not(C)))
    assert parse("and(lifted(a), lifted(b) or lifted(c))") == And((A, Or((B, C))))
    assert parse("or(lifted(a), lifted(b)) and lifted(c)") == And((Or((A, B)), C))
    assert parse("not(lifted(a)) and lifted(b)") == And((Not(A), B))


def test_every_spelling_of_a_chain_gives_one_flat_ast() -> None:
    flat = And((A, B, C))
    for text in [
        "lifted(a) and lifted(b) and lifted(c)",
        "lifted(a) and (lifted(b) and lifted(c))",
        "(lifted(a) and lifted(b)) and lifted(c)",
        "and(lifted(a), and(lifted(b), lifted(c)))",
        "and(lifted(a), lifted(b)) and lifted(c)",
    ]:
        assert parse(text) == flat, text
    assert parse("or(lifted(a), or(lifted(b), lifted(c)))") == Or((A, B, C))


def test_canonical_text() -> None:
    assert str(parse("in( red_block ,green_bowl )")) == "in(red_block, green_bowl)"
    assert str(parse("and(lifted(a), or(lifted(b), lifted(c)))")) == (
        "lifted(a) and (lifted(b) or lifted(c))"
    )
    assert str(parse("not (lifted(a) and lifted(b))")) == "not (lifted(a) and lifted(b))"
    assert str(parse("or(and(lifted(a), lifted(b)), true)")) == "lifted(a) and lifted(b) or true"
    assert str(parse("not(not(lifted(a)))")) == "not not lifted(a)"


ROUND_TRIP = [
    "true",
    "not true",
    "in(red_block, green_bowl)",
    "on(red_block, blue_block) and not holding(left, red_block)",
    "at(red_block, left_zone) or near(red_block, blue_bowl)",
    "and(in(red_block, green_bowl), lifted(tray))",
    "or(and(lifted(a), lifted(b)), and(lifted(c), not lifted(d)))",
    "not (lifted(a) or lifted(b)) and lifted(c)",
    "not (lifted(a) and lifted(b)) or lifted(c)",
    "(lifted(a) or lifted(b)) and (lifted(c) or lifted(d))",
    "not not (lifted(a) or not (lifted(b) and lifted(c)))",
    "and(or(lifted(a), and(lifted(b), or(lifted(c), lifted(d)))), not(true))",
    "((lifted(a))) and ((lifted(b)) or ((lifted(c))))",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip_of_written_expressions(text: str) -> None:
    tree = parse(text)
    assert parse(str(tree)) == tree
    assert str(parse(str(tree))) == str(tree)


def random_expr(rng: random.Random, depth: int, parent: type | None = None) -> Expr:
    """A random AST in the shape the parser produces (no and directly inside and, etc.)."""
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.1:
            return TrueExpr()
        relation = rng.choice(sorted(predicates.RELATIONS))
        arity = len(predicates.RELATIONS[relation])
        return Atom(relation, tuple(rng.choice(["a", "b", "left", "x_1"]) for _ in range(arity)))
    kinds = [k for k in (Not, And, Or) if k is not parent]
    kind = rng.choice(kinds)
    if kind is Not:
        return Not(random_expr(rng, depth - 1, Not))
    operands = tuple(random_expr(rng, depth - 1, kind) for _ in range(rng.randint(2, 4)))
    return kind(operands)


def test_round_trip_of_random_trees() -> None:
    rng = random.Random(1234)
    for _ in range(500):
        tree = random_expr(rng, depth=5)
        assert parse(str(tree)) == tree, str(tree)


def test_parser_output_is_hashable_and_frozen() -> None:
    tree = parse("lifted(a) and not lifted(b)")
    assert tree in {tree}
    with pytest.raises(AttributeError):
        tree.operands = ()  # type: ignore[misc]


# --- validation ----------------------------------------------------------------------------


def validation_error(text: str, facts: Facts) -> str:
    with pytest.raises(PredicateError) as info:
        validate(parse(text), facts)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_unknown_object_lists_the_scene_objects() -> None:
    facts = SymbolicFacts({"red_block", "green_bowl", "blue_bowl"}, set(), {"left"})
    assert validation_error("in(purple_block, green_bowl)", facts) == (
        "predicate 'in(purple_block, green_bowl)': unknown object 'purple_block'; "
        "objects in this scene: blue_bowl, green_bowl, red_block"
    )


def test_every_unknown_name_is_reported_once_in_one_line() -> None:
    message = validation_error(
        "holding(middle, purple_block) and at(red_block, nowhere) and near(x, purple_block)",
        scene(),
    )
    assert "unknown objects 'purple_block', 'x'; objects in this scene: a, b, blue_block" in message
    assert "unknown region 'nowhere'; regions in this scene: left_zone, right_zone" in message
    assert "unknown arm 'middle'; arms in this scene: left, right" in message
    report = message.split("': ", 1)[1]
    assert report.count("purple_block") == 1


def test_argument_kinds_follow_position() -> None:
    # Arm and object swapped: each name is checked against the kind its position needs.
    message = validation_error("holding(red_block, left)", scene())
    assert "unknown object 'left'" in message
    assert "unknown arm 'red_block'" in message
    message = validation_error("at(left_zone, red_block)", scene())
    assert "unknown object 'left_zone'" in message
    assert "unknown region 'red_block'" in message
    validate(parse("holding(left, red_block) and at(tray, right_zone)"), scene())


def test_names_under_not_and_function_forms_are_validated() -> None:
    assert "unknown object 'ghost'" in validation_error("not lifted(ghost)", scene())
    assert "unknown object 'ghost'" in validation_error("or(true, lifted(ghost))", scene())


def test_empty_scene_kinds_say_none() -> None:
    message = validation_error("at(a, zone)", SymbolicFacts({"a"}, set(), set()))
    assert "unknown region 'zone'; regions in this scene: (none)" in message


def test_true_needs_no_names() -> None:
    validate(TrueExpr(), SymbolicFacts())


# --- evaluation ----------------------------------------------------------------------------


def test_atoms_are_looked_up_in_the_facts() -> None:
    facts = scene("in(red_block, green_bowl)", "holding(left, tray)")
    assert evaluate(parse("in(red_block, green_bowl)"), facts) is True
    assert evaluate(parse("in(green_bowl, red_block)"), facts) is False
    assert evaluate(parse("holding(left, tray)"), facts) is True
    assert evaluate(parse("holding(right, tray)"), facts) is False
    assert evaluate(parse("true"), facts) is True


def test_task_examples() -> None:
    facts = scene("on(red_block, blue_block)", "near(red_block, blue_bowl)")
    assert evaluate(parse("on(red_block, blue_block) and not holding(left, red_block)"), facts)
    assert evaluate(parse("at(red_block, left_zone) or near(red_block, blue_bowl)"), facts)
    assert not evaluate(parse("and(in(red_block, green_bowl), lifted(tray))"), facts)
    facts.true_facts.add(("holding", ("left", "red_block")))
    assert not evaluate(parse("on(red_block, blue_block) and not holding(left, red_block)"), facts)


@pytest.mark.parametrize("a,b,c", list(itertools.product([False, True], repeat=3)))
def test_truth_tables(a: bool, b: bool, c: bool) -> None:
    true = [name for name, value in zip("abc", (a, b, c), strict=True) if value]
    facts = scene(*(f"lifted({name})" for name in true))

    def ev(text: str) -> bool:
        return evaluate(parse(text), facts)

    assert ev("lifted(a)") is a
    assert ev("not lifted(a)") is (not a)
    assert ev("lifted(a) and lifted(b)") is (a and b)
    assert ev("lifted(a) or lifted(b)") is (a or b)
    assert ev("lifted(a) or lifted(b) and lifted(c)") is (a or (b and c))
    assert ev("(lifted(a) or lifted(b)) and lifted(c)") is ((a or b) and c)
    assert ev("not lifted(a) and lifted(b)") is ((not a) and b)
    assert ev("not (lifted(a) and lifted(b))") is (not (a and b))
    assert ev("and(lifted(a), lifted(b), lifted(c))") is (a and b and c)
    assert ev("or(lifted(a), lifted(b), lifted(c))") is (a or b or c)
    assert ev("not(lifted(c)) or and(lifted(a), not lifted(b))") is ((not c) or (a and not b))
    assert ev("lifted(a) or true") is True
    assert ev("lifted(a) and not true") is False


class CountingFacts(SymbolicFacts):
    def __init__(self, facts: SymbolicFacts) -> None:
        super().__init__(facts.object_names, facts.region_names, facts.arm_names, facts.true_facts)
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def holds(self, relation: str, args: tuple[str, ...]) -> bool:
        self.calls.append((relation, args))
        return super().holds(relation, args)


def test_evaluate_validates_before_asking_the_world() -> None:
    facts = CountingFacts(scene("lifted(a)"))
    with pytest.raises(PredicateError, match="unknown object 'ghost'"):
        evaluate(parse("lifted(a) or lifted(ghost)"), facts)
    assert facts.calls == []


def test_atoms_in_reading_order_without_duplicates() -> None:
    tree = parse("lifted(b) and (not lifted(a) or lifted(b)) and or(true, in(a, c), lifted(a))")
    assert atoms(tree) == [B, A, Atom("in", ("a", "c"))]
    assert atoms(TrueExpr()) == []


def test_symbolic_facts_is_a_facts_world() -> None:
    facts = SymbolicFacts({"a"}, {"zone"}, {"left"}, {("lifted", ("a",))})
    assert isinstance(facts, Facts)
    assert facts.objects() == {"a"} and facts.regions() == {"zone"} and facts.arms() == {"left"}
    assert facts.holds("lifted", ("a",)) and not facts.holds("lifted", ("b",))
    facts.objects().add("b")  # callers get a copy; the world is not changed through it
    assert facts.objects() == {"a"}


def test_module_never_evaluates_code() -> None:
    source = Path(predicates.__file__).read_text()
    tree = ast.parse(source)
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"eval", "exec", "compile", "__import__"}
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    assert not re.search(r"\b(eval|exec)\s*\(", code)
