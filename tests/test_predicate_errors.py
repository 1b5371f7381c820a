"""The success-predicate language's errors: every syntax error is one line naming the
column, what was expected and what was found; hand-built atoms are checked too."""

from __future__ import annotations

import pytest

from robollm.errors import UserError
from robollm.world.predicates import Atom, PredicateError, TrueExpr, parse


def error_of(text: str) -> str:
    with pytest.raises(PredicateError) as info:
        parse(text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("predicate '")
    return message


# --- syntax errors -----------------------------------------------------------------------


def test_missing_comma_names_column_and_expected_token() -> None:
    assert error_of("in(red_block green_bowl)") == (
        "predicate 'in(red_block green_bowl)': expected ',' or ')' at column 14, found 'green_bowl'"
    )


def test_empty_text() -> None:
    for text in ["", "   ", "\n"]:
        message = error_of(text)
        assert "empty" in message and "in(red_block, green_bowl)" in message


def test_trailing_garbage() -> None:
    message = error_of("in(a, b) lifted(c)")
    assert "unexpected 'lifted' at column 10 after a complete predicate" in message
    assert "expected 'and', 'or' or end of text" in message
    assert "unexpected ')' at column 10" in error_of("lifted(a))")


def test_unknown_relation_lists_the_known_ones() -> None:
    message = error_of("lifted(a) and inside(a, b)")
    assert "unknown relation 'inside' at column 15" in message
    assert "known relations: at, at_edge, holding, in, lifted, near, on, touching, upright" in message
    assert "unknown relation 'red_block' at column 1" in error_of("red_block")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in(a)", "'in' at column 1 takes 2 arguments (obj, container), got 1"),
        ("on(a, b, c)", "'on' at column 1 takes 2 arguments (obj, support), got 3"),
        ("true and lifted()", "'lifted' at column 10 takes 1 argument (obj), got 0"),
        ("holding(a)", "'holding' at column 1 takes 2 arguments (arm, obj), got 1"),
        ("at(a)", "'at' at column 1 takes 2 arguments (obj, region), got 1"),
        ("near(a)", "'near' at column 1 takes 2 arguments (obj, obj), got 1"),
    ],
)
def test_wrong_arity_says_how_many_arguments(text: str, expected: str) -> None:
    assert expected in error_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in(a, b", "expected ',' or ')' at column 8, found end of text"),
        ("(lifted(a)", "expected ')' at column 11, found end of text"),
        ("(lifted(a) lifted(b))", "expected ')' at column 12, found 'lifted'"),
        ("in a, b", "expected '(' after 'in' at column 4, found 'a'"),
        ("lifted(a) and", "expected a relation, 'true', 'not' or '(' at column 14, found end"),
        ("lifted(a) or or lifted(b)", "expected a relation, 'true', 'not' or '(' at column 14"),
        ("and lifted(a)", "expected a relation, 'true', 'not' or '(' at column 1, found 'and'"),
        ("not", "expected a relation, 'true', 'not' or '(' at column 4, found end of text"),
        ("()", "expected a relation, 'true', 'not' or '(' at column 2, found ')'"),
        (", lifted(a)", "expected a relation, 'true', 'not' or '(' at column 1, found ','"),
        ("in(a,, b)", "expected a name at column 6, found ','"),
        ("in(and, b)", "expected a name at column 4, found 'and'"),
        ("lifted(true)", "expected a name at column 8, found 'true'"),
        ("lifted(lifted(a))", "expected ',' or ')' at column 14, found '('"),
        ("and(lifted(a),)", "expected a relation, 'true', 'not' or '(' at column 15, found ')'"),
        ("and()", "'and(...)' at column 1 takes at least 1 argument, got 0"),
        ("or()", "'or(...)' at column 1 takes at least 1 argument, got 0"),
        ("not(lifted(a), lifted(b))", "'not(...)' at column 1 takes exactly 1 argument, got 2"),
        ("true(a)", "unexpected '(' at column 5 after a complete predicate"),
    ],
)
def test_syntax_errors_name_column_expected_and_found(text: str, expected: str) -> None:
    message = error_of(text)
    assert message.startswith(f"predicate '{text}': ")
    assert expected in message


@pytest.mark.parametrize(
    ("text", "column", "char"),
    [
        ("in(Red_block, b)", 4, "'R'"),
        ("lifted(a) && lifted(b)", 11, "'&'"),
        ("lifted(1a)", 8, "'1'"),
    ],
)
def test_bad_characters(text: str, column: int, char: str) -> None:
    message = error_of(text)
    assert f"unexpected character {char} at column {column}" in message
    assert "lowercase" in message


def test_multi_line_input_still_gives_a_one_line_message_with_true_columns() -> None:
    message = error_of("lifted(a)\nand in(a b)")
    assert message.startswith("predicate 'lifted(a) and in(a b)': ")
    assert "at column 20, found 'b'" in message  # 'b' is the 20th character of the input


def test_too_deep_nesting_is_a_user_error_not_a_crash() -> None:
    assert parse("(" * 50 + "true" + ")" * 50) == TrueExpr()
    assert "nested more than" in error_of("(" * 2000 + "true" + ")" * 2000)
    assert "nested more than" in error_of("not " * 2000 + "true")


def test_predicate_error_is_a_user_error() -> None:
    assert issubclass(PredicateError, UserError)


def test_atoms_built_by_hand_are_checked() -> None:
    with pytest.raises(ValueError):
        Atom("inside", ("a", "b"))
    with pytest.raises(ValueError):
        Atom("in", ("a",))
    assert Atom("in", ["a", "b"]).args == ("a", "b")  # type: ignore[arg-type]
