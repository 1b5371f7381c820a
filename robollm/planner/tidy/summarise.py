"""Choosing a summary with the language model, SayCan-style, and placing objects that no
rule covers.

Every rule set consistent with the examples is written as a sentence and scored by its
mean token log-likelihood after a prompt that lists the examples: one shared prompt, all
candidates in one batched pass (the backends share the prompt's computation). A
simplicity prior (`prior_weight` per unit of rule cost) is added, since a person
summarising names the broad rule, not a list of cases. Scoring the closed set of
consistent summaries keeps the model from stating a rule the examples contradict, which
free generation with a 135M-parameter model does often.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from robollm.llm.base import LanguageModel
from robollm.planner.tidy.attributes import Thing
from robollm.planner.tidy.rules import (
    Contradiction,
    Example,
    Receptacle,
    RuleSet,
    enumerate_rule_sets,
    resolve_contradictions,
)

HEADER = "A person tidied up a table. Here is where they put things:\n"
SUMMARY_CUE = "\nIn short, the person's rule for tidying is:"
DEFAULT_PRIOR_WEIGHT = 1.0
DEFAULT_ALPHA = 0.0
DEFAULT_MAX_CANDIDATES = 60


@dataclass
class ScoredRule:
    rule: RuleSet
    lm: float  # mean token log-likelihood of the sentence after the examples
    prior: float  # -prior_weight x cost
    total: float


@dataclass
class Summary:
    rule: RuleSet
    ranked: list[ScoredRule] = field(default_factory=list)  # best first
    contradictions: list[Contradiction] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)  # after contradictions were resolved


def example_lines(examples: Sequence[Example]) -> str:
    return "".join(f"- {e.thing.phrase()} went {e.receptacle.where()}.\n" for e in examples)


def summary_prompt(examples: Sequence[Example]) -> str:
    return HEADER + example_lines(examples) + SUMMARY_CUE


@dataclass(frozen=True)
class SummaryOptions:
    """How summaries are chosen. `alpha` > 0 subtracts that share of each sentence's mean
    log-likelihood without the examples (how much the examples, rather than the wording,
    support it); `max_candidates` keeps only the simplest consistent rule sets for the
    model to score (the prior would rule out the rest anyway)."""

    prior_weight: float = DEFAULT_PRIOR_WEIGHT
    alpha: float = DEFAULT_ALPHA
    max_candidates: int = DEFAULT_MAX_CANDIDATES


def candidate_scores(llm: LanguageModel, examples: Sequence[Example], candidates: Sequence[RuleSet],
                     alpha: float) -> list[float]:
    """Mean token log-likelihood of each rule's sentence after the examples, in one batched
    pass (and one more without the examples when `alpha` is not 0)."""
    texts = [" " + c.sentence() for c in candidates]
    scores = llm.score(summary_prompt(examples), texts)
    values = [s.logprob / max(1, s.num_tokens) for s in scores]
    if alpha:
        neutral = llm.score(summary_prompt([]), texts)
        values = [v - alpha * n.logprob / max(1, n.num_tokens) for v, n in zip(values, neutral, strict=True)]
    return values


def summarise(llm: LanguageModel | None, examples: Sequence[Example],
              options: SummaryOptions | None = None) -> Summary:
    """The best-scoring consistent rule set. Without a model (`llm` None) the prior alone
    decides, which is the ablation that shows what the model adds."""
    options = options or SummaryOptions()
    prior_weight = options.prior_weight
    kept, contradictions = resolve_contradictions(examples)
    candidates = enumerate_rule_sets(kept, options.max_candidates)
    if not candidates:  # cannot happen with contradictions resolved; kept as a guard
        return Summary(RuleSet(()), [], contradictions, kept)
    lms = candidate_scores(llm, kept, candidates, options.alpha) if llm is not None else [0.0] * len(candidates)
    ranked = [ScoredRule(c, lm, -prior_weight * c.cost(), lm - prior_weight * c.cost())
              for c, lm in zip(candidates, lms, strict=True)]
    ranked.sort(key=lambda s: -s.total)
    return Summary(ranked[0].rule, ranked, contradictions, kept)


def place_prompt(thing: Thing, receptacles: Sequence[Receptacle], examples: Sequence[Example] | None,
                 rule: RuleSet | str | None = None) -> str:
    """The question "where does this go?" with the examples (or none: common sense) and,
    when a summary exists, its sentence (a rule set's, or a generated one as written)."""
    places = ", ".join(f"the {r.words}" for r in receptacles)
    if examples:
        text = HEADER + example_lines(examples)
    else:
        text = f"A person is tidying up a table. Things can go in these places: {places}.\n"
    if isinstance(rule, str) and rule.strip():
        text += f"Their rule: {rule.strip()}\n"
    elif isinstance(rule, RuleSet) and (rule.clauses or rule.default):
        text += f"Their rule: {rule.sentence()}\n"
    return text + f"- {thing.phrase()} went"


def generated_summary(llm: LanguageModel, examples: Sequence[Example], max_tokens: int = 40) -> str:
    """The model's own summary, generated greedily after the summary prompt (its first
    sentence): TidyBot's way, measured against scoring the consistent rules."""
    text = llm.generate(summary_prompt(examples), max_tokens=max_tokens).strip()
    first = text.split("\n")[0]
    return (first.split(". ")[0].rstrip(".") + ".") if first else ""


def place_by_lm(llm: LanguageModel, thing: Thing, receptacles: Sequence[Receptacle],
                examples: Sequence[Example] | None, rule: RuleSet | str | None = None) -> Receptacle:
    """The receptacle whose " in the box." continuation the model finds most likely."""
    continuations = [f" {r.where()}." for r in receptacles]
    scores = llm.score(place_prompt(thing, receptacles, examples, rule), continuations)
    best = max(range(len(receptacles)), key=lambda i: scores[i].logprob)
    return receptacles[best]


@dataclass
class Decision:
    thing: Thing
    receptacle: Receptacle
    by: str  # "rule" | "language model"


def decide(llm: LanguageModel | None, summary: Summary, things: Sequence[Thing],
           receptacles: Sequence[Receptacle]) -> list[Decision]:
    """Every object's receptacle: the rule where it covers the object, else the model's
    common sense with the examples and the rule in its prompt."""
    out = []
    for thing in things:
        placed = summary.rule.place(thing)
        if placed is not None:
            out.append(Decision(thing, placed, "rule"))
        elif llm is not None:
            out.append(Decision(thing, place_by_lm(llm, thing, receptacles, summary.examples, summary.rule),
                                "language model"))
        else:
            out.append(Decision(thing, receptacles[0], "first receptacle"))
    return out
