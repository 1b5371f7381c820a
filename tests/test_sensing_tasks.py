"""Training tasks with sensing steps: real evidence lines, sensing before acting, no suite text."""

from __future__ import annotations

import json

from robollm.training.sensing_tasks import generate_sensing, load_bank
from robollm.training.synthetic import normalise
from robollm.training.task_split import suite_instructions
from robollm.training.task_text import step_lines

TASKS = generate_sensing(300, seed=5)


def bank_lines(style: str = "beliefs") -> set[str]:
    bank = load_bank()
    return {e[style] if e["ok"] else "No reading." for cue in ("sound", "touch", "weight")
            for entries in bank[cue].values() for e in entries}


def test_every_evidence_line_came_from_the_interpreters():
    known = bank_lines()
    # a weighing's line may end with the comparison of the weights so far (robollm.perception.weight)
    lines = [line.split(" Of the ")[0] for t in TASKS for line in t.evidence.values()]
    assert len(lines) > len(TASKS) and set(lines) <= known
    assert len(set(lines)) > 30  # many readings, not a few fixed strings


def test_the_expert_senses_before_it_acts():
    for t in TASKS:
        first_pick = next(i for i, s in enumerate(t.steps) if s.startswith("pick up"))
        assert first_pick >= 1 and all(i < first_pick for i in t.evidence), t
        assert t.steps[first_pick + 1].startswith("place the")
        if "heaviest" in t.instruction or "lightest" in t.instruction:
            looks = [o for o in t.objects if o.split("_")[0] in ("block", "cup")]
            assert sum(s.startswith("weigh") for s in t.steps) == len(looks)
    kinds = {w for t in TASKS for w in ("heaviest", "lightest", "soft", "hard", "metal", "foam")
             if f" {w} " in f" {t.instruction} "}
    assert kinds == {"heaviest", "lightest", "soft", "hard", "metal", "foam"}
    assert any(s.startswith("touch") for t in TASKS if "soft" not in t.instruction and "hard" not in t.instruction
               for s in t.steps), "a doubtful knock is followed by a touch in some plans"


def test_adjective_tasks_plan_alike_with_the_other_style_of_the_same_readings(tmp_path):
    adjective = generate_sensing(60, seed=5, style="adjectives")
    assert [t.steps for t in adjective] == [t.steps for t in TASKS[:60]]  # the same readings drawn
    lines = [line.split(" Of the ")[0] for t in adjective for line in t.evidence.values()]
    assert set(lines) <= bank_lines("adjectives") and not set(lines) & bank_lines("beliefs")
    # another bank file: its lines, not the shipped ones
    bank = load_bank()
    other = {**bank, "sound": {k: [{**e, "adjectives": "It sounds new."} for e in v] for k, v in bank["sound"].items()}}
    (tmp_path / "bank.json").write_text(json.dumps(other))
    knocks = [line for t in generate_sensing(60, seed=5, style="adjectives", bank=str(tmp_path / "bank.json"))
              for i, line in t.evidence.items() if t.steps[i].startswith("knock")]
    assert knocks and set(knocks) <= {"It sounds new.", "No reading."}


def test_lines_render_as_the_planner_writes_them():
    t = next(t for t in TASKS if t.evidence)
    i = min(t.evidence)
    lines, _ = step_lines(t)[i + 1]
    assert lines[i] == f"{t.steps[i]}. {t.evidence[i]}"


def test_no_suite_instruction_and_deterministic():
    banned = {normalise(s) for s in suite_instructions()}
    tasks = generate_sensing(300, seed=5, exclude=suite_instructions())
    assert not {normalise(t.instruction) for t in tasks} & banned
    assert [t.instruction for t in tasks[:20]] == [t.instruction for t in generate_sensing(20, seed=5, exclude=suite_instructions())]


def test_weighings_after_the_first_say_which_is_heaviest_and_lightest_so_far():
    from robollm.perception.weight import comparison

    assert comparison([("block_a", 90.0)]) == ""
    assert comparison([("block_a", 90.0), ("block_b", 700.0), ("block_c", 300.0)]) == (
        "Of the 3 weighed, the heaviest is the block b and the lightest is the block a.")
    for t in TASKS:
        if "heaviest" in t.instruction or "lightest" in t.instruction:
            last = t.evidence[max(t.evidence)]
            chosen = next(s for s in t.steps if s.startswith("pick up")).removeprefix("pick up ")
            word = "heaviest" if "heaviest" in t.instruction else "lightest"
            assert f"the {word} is {chosen}" in last, (t.instruction, last)


def test_tables_and_hands_as_the_planner_writes_them():
    """Look-alikes named by a letter (block_a) are blocks: their table has regions as at run
    time, and the prompt says what the hands hold after a pick and a place."""
    from robollm.training.synthetic import _colour, _type
    from robollm.training.task_text import hand_notes, table_text

    assert (_type("block_a"), _colour("block_a"), _type("red_block_2"), _colour("red_block_2")) == (
        "block", "", "block", "red")
    assert len({frozenset(t.layout.values()) for t in TASKS}) > 3 and any(t.near for t in TASKS)
    t = TASKS[0]
    scene, hands = table_text(t)
    assert all(f"{o.replace('_', ' ')} ({t.layout[o]}" in scene for o in t.objects) and hands == "both empty"
    for t in TASKS[:40]:
        notes = hand_notes(t)
        pick = next(i for i, s in enumerate(t.steps) if s.startswith("pick up"))
        held = t.steps[pick].removeprefix("pick up the ")
        assert notes[pick].endswith(f"hand holds the {held}.") and notes[pick + 1] == " Now both hands are empty."


def test_some_experts_sense_past_the_one_asked_for_and_still_take_the_one_that_fits():
    """With `sense_past` the object to take is not always the one sensed last: the expert
    senses on, and takes the one whose reading fits (only one does)."""
    from robollm.training.sensing_tasks import _fits

    def sensed_past(t) -> bool:
        pick = next(i for i, s in enumerate(t.steps) if s.startswith("pick up"))
        sensed = [s for s in t.steps[:pick] if not s.startswith("weigh")]
        return bool(sensed) and not sensed[-1].endswith(t.steps[pick].removeprefix("pick up the "))

    assert not any(sensed_past(t) for t in TASKS)  # without it the expert stops at the one it takes
    tasks = generate_sensing(300, seed=5, sense_past=0.3)
    past = [t for t in tasks if sensed_past(t)]
    assert 15 <= len(past) <= 90, len(past)
    bank = load_bank()
    tops = {e["beliefs"]: e["top"] for cue in ("sound", "touch") for entries in bank[cue].values()
            for e in entries if e["ok"]}
    for t in past:
        taken = next(s for s in t.steps if s.startswith("pick up")).removeprefix("pick up the ")
        kind = next((k for k in ("soft", "hard") if f" {k} " in t.instruction), "material")
        word = t.instruction.split(" ")[2]
        wanted = {"wooden": "wood", "steel": "metal"}.get(word, word)
        fitting = {t.steps[i].split("the ", 1)[1] for i, line in t.evidence.items()
                   if _fits(kind, wanted, tops.get(line))}
        assert fitting == {taken}, (t.instruction, t.steps, t.evidence)
