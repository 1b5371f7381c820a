"""A skill's symbolic effect, derived from its success predicate.

A discovered skill has no hand-written `apply`: what it does to the symbolic scene is
what its success predicate says becomes true (and, under `not`, false). Only
conjunctions of literals describe one definite effect; a disjunction leaves the
result open, so such a predicate cannot be a skill's effect and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from robollm.errors import UserError
from robollm.world.predicates import And, Atom, Expr, Not, TrueExpr
from robollm.world.symbolic import SymbolicState

# Relations a discovered skill may state as effects, and which argument moves.
SETTABLE = ("at", "upright", "at_edge", "touching", "near")


@dataclass(frozen=True)
class Effect:
    adds: tuple[Atom, ...]
    deletes: tuple[Atom, ...]

    def moved(self) -> list[str]:
        """Objects the effect moves: the first argument of each atom."""
        return list(dict.fromkeys(a.args[0] for a in self.adds + self.deletes))

    def apply(self, state: SymbolicState) -> None:
        """Change `state` as the skill would; the moved objects lose their old relations."""
        for atom in self.adds:
            if atom.relation in ("at", "at_edge"):
                state.put(atom.args[0], "at", atom.args[1])
        for atom in self.adds:
            rel, args = atom.relation, atom.args
            if rel == "upright":
                state.tipped.discard(args[0])
            elif rel in ("at_edge", "touching"):
                state.contacts.add((rel, args))
            elif rel == "near":
                state.near_pairs.add(frozenset(args))
        for atom in self.deletes:
            rel, args = atom.relation, atom.args
            if rel == "upright":
                state.tipped.add(args[0])
            else:
                state.contacts.discard((rel, args))
                if rel == "near":
                    state.near_pairs.discard(frozenset(args))


def derive_effect(expr: Expr) -> Effect:
    """The adds and deletes a conjunction of literals states, or a user error saying why not."""
    literals = expr.operands if isinstance(expr, And) else (expr,)
    adds: list[Atom] = []
    deletes: list[Atom] = []
    for lit in literals:
        if isinstance(lit, TrueExpr):
            continue
        negated = isinstance(lit, Not)
        atom = lit.operand if negated else lit
        if not isinstance(atom, Atom):
            raise UserError(f"predicate '{expr}': an effect must be a conjunction of relations or "
                            f"their negations; '{lit}' is not")
        if atom.relation not in SETTABLE:
            if negated:  # a side condition such as "not on(a, b)": checked, not stated
                continue
            raise UserError(f"predicate '{expr}': a discovered skill cannot state '{atom}' as its "
                            f"effect; it can state {', '.join(SETTABLE)}")
        (deletes if negated else adds).append(atom)
    if not adds and not deletes:
        raise UserError(f"predicate '{expr}': states no effect")
    return Effect(tuple(adds), tuple(deletes))
