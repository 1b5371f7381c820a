"""The SayCan loop: at every step, score every candidate skill call by how useful the
language model finds its text (log-likelihood after the prompt, instruction and steps
so far) and by how likely it is to succeed (affordance); execute the best product;
feed the outcome back into the prompt; stop at `done` or the step limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from robollm.affordance.base import Affordance, AffordanceInput
from robollm.affordance.registry import affordance_registry
from robollm.config import LaunchConfig
from robollm.errors import ConfigError, LanguageModelUnavailable, UserError
from robollm.llm import (
    LanguageModel,
    ScoringOptions,
    score_candidates,
    softmax,
)
from robollm.llm.options import HFOptions
from robollm.llm.registry import llm_registry
from robollm.llm.temperature import softmax_t
from robollm.perception.evidence import Evidence
from robollm.perception.weight import with_comparison
from robollm.plan import SkillCall
from robollm.planner.alternatives import swap_alternatives
from robollm.planner.candidates import DONE, describe, enumerate_calls
from robollm.planner.grounding import Grounding, ground
from robollm.planner.left_alone import LeftAlone, left_alone
from robollm.planner.prompt import ExampleSelector, PromptTemplate, load_prompt
from robollm.planner.reading import Reading, read_instruction, scene_table
from robollm.planner.scene_text import hands_note, hands_text, perceived_scene_text
from robollm.session import Session
from robollm.skill import Outcome
from robollm.world.state import SceneState
from robollm.world.symbolic import SymbolicState


@dataclass
class Scored:
    call: SkillCall
    text: str
    llm: float | None  # the language model's score (log scale, after length handling and
    # calibration); None when it was not asked, because the affordance rules the call out
    llm_prob: float  # softmax of `llm` / temperature over this step's scored candidates (0 if not scored)
    affordance: float
    combined: float  # llm_prob x affordance
    llm_prob_raw: float | None = None  # the same softmax before the temperature (None: not scored)


@dataclass
class StepReport:
    index: int
    candidates: list[Scored]  # best first
    chosen: Scored
    outcome: Outcome | None  # None for `done`
    lm_seconds: float
    evidence: Evidence | None = None  # what a sensing step found, as the prompt was told it


@dataclass
class PlanResult:
    instruction: str
    steps: list[StepReport] = field(default_factory=list)
    finished: bool = False  # the planner chose `done`
    stop_reason: str = ""
    missing: list[str] = field(default_factory=list)  # phrases with nothing on the table to match
    grounding: Grounding | None = None  # the check before the first step (None: not run)
    left_alone: LeftAlone = field(default_factory=LeftAlone)  # what the instruction leaves out
    reading: Reading | None = None  # the instruction as the planner read it (robollm.planner.reading)
    lm_unavailable: bool = False  # the language model stopped answering; the run ended there
    swapped: str | None = None  # also scored with its alternatives swapped (robollm.planner.alternatives)

    @property
    def refused(self) -> bool:
        """The instruction was not acted on: it could not be grounded or was ambiguous."""
        return self.grounding is not None and self.grounding.refused

    @property
    def lm_seconds_per_step(self) -> float:
        return sum(s.lm_seconds for s in self.steps) / max(1, len(self.steps))


def check_instruction(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise UserError("the instruction is empty; say what the robot should do, e.g. "
                        "\"put the red block in the green bowl\"")
    if not any(c.isalpha() for c in cleaned):
        raise UserError(f"instruction {text!r} has no words; expected a sentence such as "
                        "\"put the red block in the green bowl\"")
    return cleaned


def check_adapter_prompt(adapter: str, prompt: PromptTemplate, library: str | None = None) -> None:
    """A tuned model scores well only after the prompt it was trained with, and over the
    candidates of the skill library it was trained with (when its record names one)."""
    from robollm.llm.adapters import read_meta, resolve_adapter, text_digest

    meta = read_meta(resolve_adapter(adapter))
    if library and meta.get("skill_library") and meta["skill_library"] != library:
        raise ConfigError(f"planner.llm.adapter {adapter!r} was trained with the skill library "
                          f"{meta['skill_library']}, but skills.library is {library}; use that library or "
                          "retrain the adapter with `robollm train planner-lm --skills ...`")
    if meta.get("prompt_sha256") and meta["prompt_sha256"] != text_digest(prompt.text):
        raise ConfigError(f"planner.llm.adapter {adapter!r} was trained with the prompt "
                          f"{meta.get('prompt', '?')}, but planner.prompt is {prompt.source} (or that file "
                          "was edited since); set planner.prompt to the adapter's prompt or retrain "
                          "the adapter with `robollm train planner-lm --prompt ...`")


class SayCanPlanner:
    def __init__(self, llm: LanguageModel, options: ScoringOptions, affordance: Affordance,
                 prompt: PromptTemplate, max_steps: int = 10, beam_width: int = 1,
                 beam_depth: int = 2, score_impossible: bool = False,
                 selector: ExampleSelector | None = None, neutral_without_task: bool = False,
                 evidence_style: str = "beliefs", temperature: float = 1.0, read: bool = True,
                 both_orders: bool = True) -> None:
        self.llm, self.options, self.affordance, self.prompt = llm, options, affordance, prompt
        self.max_steps, self.beam_width, self.beam_depth = max_steps, beam_width, beam_depth
        self.score_impossible, self.selector = score_impossible, selector
        self.neutral_without_task = neutral_without_task
        self.evidence_style = evidence_style
        self.read = read  # rewrite the instruction as robollm.planner.reading does before the model reads it
        self.temperature = temperature  # divides the model's scores before the softmax (robollm.llm.temperature)
        self.both_orders = both_orders  # score a choice "X or Y" as "Y or X" too (robollm.planner.alternatives)
        self.swapped: str | None = None  # this run's instruction with its alternatives swapped, if it offers any
        self.examples: list[str] | None = None  # this run's examples; None = the whole pool
        self._failed: list[tuple[SkillCall, SceneState]] = []  # this run's failed calls
        self._just_failed = False  # the last step's call failed: `done` may not come next
        self._table = ("", "")  # {scene} and {hands} as the table was when the run began
        self.left_out = LeftAlone()  # what this run's instruction leaves out (robollm.planner.left_alone)
        self.reading: Reading | None = None  # this run's instruction as read (robollm.planner.reading)

    @classmethod
    def from_config(cls, config: LaunchConfig, llm: LanguageModel | None = None) -> SayCanPlanner:
        pc = config.planner
        prompt = load_prompt(pc.prompt)
        if llm is None:
            if isinstance(pc.llm.options, HFOptions) and pc.llm.options.adapter is not None:
                check_adapter_prompt(pc.llm.options.adapter, prompt, config.skills.library)  # before the model loads
            registry = llm_registry()
            llm = (registry.make(pc.llm.name, options=pc.llm.options) if pc.llm.options is not None
                   else registry.make(pc.llm.name))
        options = ScoringOptions(length=pc.scoring.length, length_power=pc.scoring.length_power,
                                 calibration=pc.scoring.calibration, alpha=pc.scoring.alpha)
        registry = affordance_registry()
        affordance = (registry.make(pc.affordance.name, options=pc.affordance.options)
                      if pc.affordance.options is not None else registry.make(pc.affordance.name))
        temperature = pc.scoring.temperature
        if temperature is None:  # the one fitted for the adapter, if any (robollm train lm-temperature)
            temperature = 1.0
            if isinstance(pc.llm.options, HFOptions) and pc.llm.options.adapter is not None:
                from robollm.llm.adapters import resolve_adapter
                from robollm.llm.temperature import read_temperature

                temperature = read_temperature(resolve_adapter(pc.llm.options.adapter))[0]
        selector = None
        if prompt.uses_examples and 0 < pc.num_examples < len(prompt.examples):
            selector = ExampleSelector(prompt.examples, pc.num_examples)
        return cls(llm, options, affordance, prompt, pc.max_steps, pc.beam_width,
                   pc.beam_depth, pc.score_impossible, selector=selector,
                   neutral_without_task=pc.scoring.neutral == "no_task",
                   evidence_style=config.sensing.style, temperature=temperature, read=pc.read_instruction,
                   both_orders=pc.scoring.both_orders)

    # -- one step -----------------------------------------------------------------------
    def score(self, session: Session, instruction: str, lines: list[str],
              state: SymbolicState) -> tuple[list[Scored], float]:
        skills = {name: session.skill(name) for name in session.skills.names()}
        calls = enumerate_calls(skills, state)
        texts = [describe(skills, c) for c in calls]
        objects = [n.replace("_", " ") for n in session.scene.objects]  # as perceived
        prompt = self.prompt.render(objects, instruction, lines, self.examples, *self._table)
        given = AffordanceInput(session.scene, state, skills, tuple(self._failed),
                                scene_current=session.executor != "symbolic")
        affordances = self.affordance.score(given, calls)
        if self._just_failed:  # no claim of success right after a failure: try again or otherwise
            affordances = [0.0 if c == DONE else a for c, a in zip(calls, affordances, strict=True)]
        if self.left_out:  # what the instruction leaves out is never disturbed, whatever the model says
            affordances = [0.0 if a > 0 and self._disturbs(session, state, c) else a
                           for c, a in zip(calls, affordances, strict=True)]
        # A call the affordance rules out (0) has a combined score of 0 whatever the model
        # says, so by default the model is not asked about it. The softmax over the calls
        # that are asked differs from one over all calls by one common factor, so the
        # ranking is the same either way.
        asked = [i for i, a in enumerate(affordances) if a > 0 or self.score_impossible]
        started = time.perf_counter()
        options = self.options
        if options.calibration and self.neutral_without_task:
            options = replace(options, neutral_prompt=self.prompt.render(objects, "", lines, self.examples,
                                                                         *self._table))
        prompts = [prompt]
        if self.swapped is not None and asked:  # the same step with the alternatives swapped
            prompts.append(self.prompt.render(objects, self.swapped, lines, self.examples, *self._table))
        asked_texts = [f" {texts[i]}." for i in asked]
        runs = [score_candidates(self.llm, p, asked_texts, options) for p in prompts]
        values = _mean(runs)
        tempered, plain = _mean([softmax_t(v, self.temperature) for v in runs]), _mean([softmax(v) for v in runs])
        seconds = time.perf_counter() - started
        llm: list[float | None] = [None] * len(calls)
        probs = [0.0] * len(calls)
        raw: list[float | None] = [None] * len(calls)
        for i, v, p, r in zip(asked, values, tempered, plain, strict=True):
            llm[i], probs[i], raw[i] = v, p, r
        scored = [Scored(c, t, v, p, a, p * a, r)
                  for c, t, v, p, a, r in zip(calls, texts, llm, probs, affordances, raw, strict=True)]
        scored.sort(key=lambda s: (-s.combined, -s.llm_prob))
        return scored, seconds

    def _disturbs(self, session: Session, state: SymbolicState, call: SkillCall) -> bool:
        """Whether `call` acts on an object the instruction leaves out (`LeftAlone.kept` or
        `excluded`: its first argument, a knock or touch too), or, applied to `state`, moves
        one or puts something in or on an excluded one."""
        if call == DONE:
            return False
        kept, excluded = self.left_out.kept, self.left_out.excluded
        if call.args and call.args[0] in kept + excluded:
            return True
        after = self._imagine(session, state, call)

        def where(s: SymbolicState, obj: str) -> tuple:
            return s.relation.get(obj), s.parent.get(obj), obj in s.lifted_objects, obj in s.tipped

        if any(where(state, o) != where(after, o) for o in kept + excluded):
            return True
        return any(after.parent.get(o) in excluded and state.parent.get(o) != after.parent.get(o)
                   for o in after.parent)

    def _imagine(self, session: Session, state: SymbolicState, call: SkillCall) -> SymbolicState:
        nxt = state.copy()
        if call != DONE:
            skill = session.skill(call.skill)
            skill.apply(nxt, **dict(zip([p.name for p in skill.params], call.args, strict=True)))
        return nxt

    def _beam(self, session: Session, instruction: str, lines: list[str], state: SymbolicState,
              first: list[Scored]) -> tuple[Scored, float]:
        """Score whole sequences with the symbolic executor; return the best one's first step."""
        beams = [(math.log(s.combined), s, self._imagine(session, state, s.call), lines + [s.text + "."],
                  s.call == DONE) for s in first[: self.beam_width] if s.combined > 0]
        seconds = 0.0
        for _ in range(self.beam_depth - 1):
            grown = []
            for logp, head, st, ls, done in beams:
                if done:
                    grown.append((logp, head, st, ls, True))
                    continue
                nxt, sec = self.score(session, instruction, ls, st)
                seconds += sec
                for s in nxt[: self.beam_width]:
                    if s.combined > 0:
                        grown.append((logp + math.log(s.combined), head, self._imagine(session, st, s.call),
                                      ls + [s.text + "."], s.call == DONE))
            beams = sorted(grown, key=lambda b: -b[0])[: self.beam_width] or beams
        return (max(beams, key=lambda b: b[0])[1] if beams else first[0]), seconds

    # -- the loop -----------------------------------------------------------------------
    def run(self, session: Session, instruction: str,
            on_step: Callable[[StepReport], None] | None = None) -> PlanResult:
        instruction = check_instruction(instruction)
        result = PlanResult(instruction)
        scene = {n: (o.colour, o.type) for n, o in session.scene.objects.items()}  # as perceived
        words = {w for name in session.skills.names() for w in name.split("_")}
        if self.read:  # what the model, the grounding and the left-alone checks read
            result.reading = read_instruction(instruction, scene_table(session.scene, session.state), words)
            instruction = result.reading.text
        self.reading = result.reading
        self.swapped = swap_alternatives(instruction) if self.both_orders else None
        result.swapped = self.swapped
        result.grounding = ground(instruction, scene, words)
        self.left_out = LeftAlone() if result.grounding.refused else \
            left_alone(result.reading.unexpanded if result.reading else instruction, scene)
        result.left_alone = self.left_out
        if result.grounding.refused:  # nothing moves: say what could not be grounded
            result.missing = result.grounding.missing
            result.stop_reason = result.grounding.reason
            return result
        if result.grounding.kind == "nothing":  # asks for no action: done, at once
            done = Scored(DONE, "done", None, 1.0, 1.0, 1.0)
            report = StepReport(1, [done], done, None, 0.0)
            result.steps.append(report)
            if on_step:
                on_step(report)
            result.finished = True
            result.stop_reason = "chose done: the instruction asks for no action"
            return result
        self.examples = self.selector.select(instruction) if self.selector else None
        self._failed = []  # a failed call is re-scored from the scene it left
        self._just_failed = False
        if self.prompt.uses_scene:  # told once, as the run begins: the steps say what changed
            self._table = (perceived_scene_text(session.scene, session.state), hands_text(session.state))
        lines: list[str] = []
        weighed: list[tuple[str, float]] = []  # (object, grams) of this run's weighings
        for index in range(1, self.max_steps + 1):
            state = session.state
            try:
                scored, seconds = self.score(session, instruction, lines, state)
                chosen = scored[0]
                if self.beam_width > 1:
                    chosen, extra = self._beam(session, instruction, lines, state, scored)
                    seconds += extra
            except LanguageModelUnavailable as e:
                # No further skill runs; the session's exit leaves the robot safe.
                result.lm_unavailable = True
                result.stop_reason = f"language model unavailable: {e}"
                return result
            if chosen.combined <= 0.0:
                chosen = next(s for s in scored if s.call == DONE)
            seen = session.scene
            before = session.state.copy() if self.prompt.tells_hands else None
            record = None if chosen.call == DONE else session.execute(chosen.call)
            outcome = None if record is None else record.outcome
            evidence = None if record is None else record.evidence
            if outcome is not None and not outcome.success:
                self._failed.append((chosen.call, seen))
            self._just_failed = outcome is not None and not outcome.success
            report = StepReport(index, scored, chosen, outcome, seconds, evidence)
            result.steps.append(report)
            if on_step:
                on_step(report)
            if chosen.call == DONE:
                result.finished = True
                result.stop_reason = "chose done"
                return result
            line = chosen.text + "."
            if before is not None and outcome is not None and outcome.success:
                line += hands_note(before, session.state)
            line = outcome_line(line, outcome, evidence, self.evidence_style)
            if evidence is not None and evidence.ok and evidence.cue == "weight" and chosen.call.args:
                line = with_comparison(line, weighed, chosen.call.args[0], evidence.values["grams"])
            lines.append(line)
        result.stop_reason = f"step limit ({self.max_steps}) reached"
        return result


def _mean(rows: list[list[float]]) -> list[float]:
    """Element-wise mean of equally long rows (one row: the row itself)."""
    return [sum(col) / len(rows) for col in zip(*rows, strict=True)]


def outcome_line(line: str, outcome: Outcome | None, evidence: Evidence | None, style: str) -> str:
    """A step as the prompt tells it: the step, why it failed, and what sensing found."""
    if outcome is not None and not outcome.success:
        line += f" It failed: {outcome.reason}."
    if evidence is not None:
        line += " " + (evidence.line(style) if evidence.ok else "No reading.")
    return line
