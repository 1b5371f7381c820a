"""One tidy run on a robot: look, parse the examples against what is on the table, summarise
(or reuse the person's current summary), sense what the rule needs, decide and put away."""

from __future__ import annotations

from robollm.config import LaunchConfig
from robollm.errors import UserError
from robollm.llm.base import LanguageModel
from robollm.planner.tidy.act import put_away, receptacles_of, sense_materials, things_of
from robollm.planner.tidy.prefs import (
    Preferences,
    parse_example,
    rules_from_entries,
    save_preferences,
)
from robollm.planner.tidy.summarise import Summary, decide, summarise
from robollm.planner.tidy.tidier import summary_options, tidy_language_model
from robollm.session import Session
from robollm.world.scene import SceneSpec


def tidy(config: LaunchConfig, scene: SceneSpec, prefs: Preferences, *, seed: int = 0,
         executor: str = "physics", save_to: str | None = None, dry_run: bool = False,
         echo: bool = True, llm: LanguageModel | None = None) -> dict:
    """Run it; returns what `--json` prints. Examples are checked against the table before
    the model loads or anything moves."""
    say = print if echo else (lambda *a, **k: None)
    with Session(config, scene, seed, executor=executor) as session:
        seen = session.observe()
        receptacles = receptacles_of(seen)
        things = things_of(seen, receptacles)
        if not receptacles:
            raise UserError(f"scene {scene.source}: nothing to put things in (no bowl, plate, tray or box)")
        examples = [parse_example(text, receptacles) for text in prefs.examples]
        say(f"robollm tidy: scene {scene.source} | seed {seed} | executor {executor} | "
            f"perception: {session.perception.name}")
        say("examples: " + "; ".join(prefs.examples))
        loaded: list[LanguageModel] = [llm] if llm is not None else []

        def model() -> LanguageModel:
            if not loaded:
                loaded.append(tidy_language_model(config))
            return loaded[0]

        if prefs.summary_current():
            rule = rules_from_entries(prefs.summary_rules or [], receptacles, f"{prefs.source}: summary")
            summary = Summary(rule, examples=examples)
            if not rule.consistent(examples):
                say("note: the stored summary does not reproduce every example (edited by hand?); using it")
            say(f"rules (from {prefs.source}, derived earlier or edited by hand):")
        else:
            summary = summarise(model(), examples, summary_options(config))
            for c in summary.contradictions:
                say("note: " + c.note())
            say(f"rules (chosen by {model().name} from {len(summary.ranked)} consistent summaries):")
            if save_to:
                save_preferences(prefs, summary.rule, save_to)
        say(f"  {summary.rule.sentence()}")
        for i, c in enumerate(summary.rule.clauses, 1):
            say(f"  {i}. {c.condition.words()} -> {c.receptacle.words}")
        if summary.rule.default is not None:
            say(f"  {len(summary.rule.clauses) + 1}. everything else -> {summary.rule.default.words}")
        if save_to and not prefs.summary_current():
            say(f"saved: {save_to}")
        if not dry_run and executor == "physics":
            things = sense_materials(session, things, summary.rule)
        decisions = decide(model() if any(summary.rule.place(t) is None for t in things) else None,
                           summary, things, receptacles)
        say("plan:")
        for d in decisions:
            say(f"  {d.thing.phrase():<34} -> {d.receptacle.where():<20} ({d.by})")
        placements = [] if dry_run else put_away(session, [(d.thing.name, d.receptacle) for d in decisions])
        for p in placements:
            status = "ok" if p.holds else ("FAILED: " + p.reason if p.reason else "FAILED: not there at the end")
            say(f"  {p.obj} -> {p.receptacle}: {status}")
        done = sum(p.holds for p in placements)
        if not dry_run:
            say(f"tidied {done} of {len(placements)} objects")
    for m in loaded[len([llm] if llm else []):]:
        m.close()
    return {"rules": summary.rule.sentence(), "contradictions": [c.note() for c in summary.contradictions],
            "decisions": [{"object": d.thing.name, "receptacle": d.receptacle.name, "by": d.by} for d in decisions],
            "placements": [vars(p) for p in placements], "success": dry_run or done == len(placements)}
