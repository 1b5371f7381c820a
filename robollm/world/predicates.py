"""Task success predicates: a tiny language parsed by hand, never by ``eval``.

Success conditions come from task files and from a language model, so they are untrusted
text. A dedicated grammar keeps them to relations over scene names, and lets every
mistake be reported with its column and what was expected instead of a Python traceback.

Grammar (``not`` binds tighter than ``and``, which binds tighter than ``or``)::

    expr    := conj ('or' conj)*          conj := unary ('and' unary)*
    unary   := 'not' unary | primary
    primary := 'true' | '(' expr ')' | ('and' | 'or' | 'not') '(' expr (',' expr)* ')'
             | RELATION '(' NAME (',' NAME)* ')'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeVar, runtime_checkable

from robollm.errors import UserError

# Per relation, the kind of scene name each argument must be, and its role for messages.
RELATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "in": (("object", "obj"), ("object", "container")),
    "on": (("object", "obj"), ("object", "support")),
    "holding": (("arm", "arm"), ("object", "obj")),
    "lifted": (("object", "obj"),),
    "at": (("object", "obj"), ("region", "region")),
    "near": (("object", "obj"), ("object", "obj")),
    # Relations skill discovery needs (robollm.world.geometric): how an object stands,
    # whether it reaches a table edge, and whether it rests against another object.
    "upright": (("object", "obj"),),
    "at_edge": (("object", "obj"), ("region", "region")),
    "touching": (("object", "obj"), ("object", "obj")),
}
KEYWORDS = frozenset({"and", "or", "not", "true"})
MAX_DEPTH = 100  # deeper nesting is a generated mess, and would hit Python's recursion limit
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
T = TypeVar("T")


class PredicateError(UserError):
    """A predicate that does not parse, or names things the scene does not have."""


@dataclass(frozen=True)
class TrueExpr:
    def __str__(self) -> str:
        return "true"


@dataclass(frozen=True)
class Atom:
    relation: str
    args: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))  # a list would break hashing
        if len(RELATIONS.get(self.relation, ())) != len(self.args):
            raise ValueError(f"not a known relation with this arity: {self}")

    def __str__(self) -> str:
        return f"{self.relation}({', '.join(self.args)})"


@dataclass(frozen=True)
class Not:
    operand: Expr

    def __str__(self) -> str:
        grouped = isinstance(self.operand, And | Or)
        return f"not ({self.operand})" if grouped else f"not {self.operand}"


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, And | Or) else str(o) for o in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]

    def __str__(self) -> str:
        return " or ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


Expr = TrueExpr | Atom | Not | And | Or


def _join(cls: type[And] | type[Or], operands: list[Expr]) -> Expr:
    """Flatten nested and/or so every spelling of one condition gets one AST and one text."""
    flat: list[Expr] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, cls) else (operand,))
    return flat[0] if len(flat) == 1 else cls(tuple(flat))


def _error(text: str, message: str) -> PredicateError:
    # Blank out line breaks so the message stays one line and every column still lines up.
    shown = text.translate({ord("\n"): " ", ord("\r"): " ", ord("\t"): " "})
    return PredicateError(f"predicate '{shown}': {message}")


class _Token(NamedTuple):
    kind: str  # "name", "(", ")", ",", or "end"
    text: str
    column: int  # 1-based, as an editor shows it


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        start, ch = i, text[i]
        i += 1
        if ch in "(),":
            tokens.append(_Token(ch, ch, i))
        elif "a" <= ch <= "z":
            while i < len(text) and text[i] in _NAME_CHARS:
                i += 1
            tokens.append(_Token("name", text[start:i], start + 1))
        elif not ch.isspace():
            rule = "names are lowercase letters, digits and '_', starting with a letter"
            raise _error(text, f"unexpected character {ch!r} at column {i}; {rule}")
    return [*tokens, _Token("end", "", len(text) + 1)]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.pos, self.depth = text, _tokenize(text), 0, 0

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def at_word(self, word: str) -> bool:
        return self.peek().kind == "name" and self.peek().text == word

    def error(self, message: str) -> PredicateError:
        return _error(self.text, message)

    def fail(self, expected: str) -> PredicateError:
        token = self.peek()
        found = "end of text" if token.kind == "end" else f"'{token.text}'"
        return self.error(f"expected {expected} at column {token.column}, found {found}")

    def expr(self, word: str = "or") -> Expr:
        """One loop for both infix levels: 'or' joins conjunctions, 'and' joins unaries."""
        operand = (lambda: self.expr("and")) if word == "or" else self.unary
        operands = [operand()]
        while self.at_word(word):
            self.advance()
            operands.append(operand())
        return _join(Or if word == "or" else And, operands)

    def unary(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep")
        if self.at_word("not") and self.peek(1).kind != "(":
            self.advance()
            result: Expr = Not(self.unary())
        else:
            result = self.primary()
        self.depth -= 1
        return result

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind == "(":
            return self.arguments(self.expr, single=True)[0]
        if token.kind != "name" or (token.text in ("and", "or") and self.peek(1).kind != "("):
            raise self.fail("a relation, 'true', 'not' or '('")
        word, column = self.advance()[1:]
        if word == "true":
            return TrueExpr()
        if word in KEYWORDS:  # and/or/not in function form
            operands = self.arguments(self.expr)
            if not operands or (word == "not" and len(operands) != 1):
                count = "exactly 1 argument" if word == "not" else "at least 1 argument"
                raise self.error(
                    f"'{word}(...)' at column {column} takes {count}, got {len(operands)}"
                )
            if word == "not":
                return Not(operands[0])
            return _join(And if word == "and" else Or, operands)
        if word not in RELATIONS:
            known = ", ".join(sorted(RELATIONS))
            raise self.error(
                f"unknown relation '{word}' at column {column}; known relations: {known}"
            )
        if self.peek().kind != "(":
            raise self.fail(f"'(' after '{word}'")
        args, spec = self.arguments(self.name), RELATIONS[word]
        if len(args) != len(spec):
            takes = f"{len(spec)} argument{'' if len(spec) == 1 else 's'}"
            roles = ", ".join(role for _, role in spec)
            raise self.error(
                f"'{word}' at column {column} takes {takes} ({roles}), got {len(args)}"
            )
        return Atom(word, tuple(args))

    def name(self) -> str:
        if self.peek().kind != "name" or self.peek().text in KEYWORDS:
            raise self.fail("a name")
        return self.advance().text

    def arguments(self, item: Callable[[], T], single: bool = False) -> list[T]:
        """Parse '(' item, ... ')'; a grouping parenthesis is the single-item case."""
        self.advance()  # the '(' the caller has seen
        items: list[T] = [] if self.peek().kind == ")" and not single else [item()]
        while items and not single and self.peek().kind == ",":
            self.advance()
            items.append(item())
        if self.peek().kind != ")":
            raise self.fail("')'" if single else "',' or ')'")
        self.advance()
        return items


def parse(text: str) -> Expr:
    """Turn predicate text into an AST, or fail with a one-line, column-precise reason."""
    if not text.strip():
        raise _error(text, "empty; write a condition such as 'in(red_block, green_bowl)' or 'true'")
    parser = _Parser(text)
    result = parser.expr()
    if (extra := parser.peek()).kind != "end":
        message = f"unexpected '{extra.text}' at column {extra.column} after a complete predicate"
        raise _error(text, f"{message}; expected 'and', 'or' or end of text")
    return result


@runtime_checkable
class Facts(Protocol):
    """What a world (the simulation or a symbolic state) answers, so predicates stay pure."""

    def objects(self) -> set[str]: ...
    def regions(self) -> set[str]: ...
    def arms(self) -> set[str]: ...
    def holds(self, relation: str, args: tuple[str, ...]) -> bool: ...


def atoms(expr: Expr) -> list[Atom]:
    """Distinct atoms in reading order, so a report can show which parts of a goal held."""
    if isinstance(expr, Atom | TrueExpr):
        return [expr] if isinstance(expr, Atom) else []
    children = (expr.operand,) if isinstance(expr, Not) else expr.operands
    return list(dict.fromkeys(atom for child in children for atom in atoms(child)))


def validate(expr: Expr, facts: Facts) -> None:
    """Reject names the scene lacks, all at once, since a typo would otherwise read as False."""
    known = {"object": facts.objects(), "region": facts.regions(), "arm": facts.arms()}
    unknown: dict[str, list[str]] = {kind: [] for kind in known}
    for atom in atoms(expr):
        for (kind, _), name in zip(RELATIONS[atom.relation], atom.args, strict=True):
            if name not in known[kind] and name not in unknown[kind]:
                unknown[kind].append(name)
    problems = [
        f"unknown {kind}{'s' if len(names) > 1 else ''} {', '.join(repr(n) for n in names)}; "
        f"{kind}s in this scene: {', '.join(sorted(known[kind])) or '(none)'}"
        for kind, names in unknown.items()
        if names
    ]
    if problems:
        raise _error(str(expr), "; ".join(problems))


def _truth(expr: Expr, facts: Facts) -> bool:
    if isinstance(expr, TrueExpr):
        return True
    if isinstance(expr, Atom):
        return bool(facts.holds(expr.relation, expr.args))
    if isinstance(expr, Not):
        return not _truth(expr.operand, facts)
    results = (_truth(operand, facts) for operand in expr.operands)
    return all(results) if isinstance(expr, And) else any(results)


def evaluate(expr: Expr, facts: Facts) -> bool:
    """Validate before answering: a misspelt name must be an error, never a quiet False."""
    validate(expr, facts)
    return _truth(expr, facts)


@dataclass
class SymbolicFacts:
    """A world given as plain sets: for tests, and for a symbolic executor to update."""

    object_names: set[str] = field(default_factory=set)
    region_names: set[str] = field(default_factory=set)
    arm_names: set[str] = field(default_factory=set)
    true_facts: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    def objects(self) -> set[str]:
        return set(self.object_names)

    def regions(self) -> set[str]:
        return set(self.region_names)

    def arms(self) -> set[str]:
        return set(self.arm_names)

    def holds(self, relation: str, args: tuple[str, ...]) -> bool:
        return (relation, tuple(args)) in self.true_facts
