"""The preferences file and `robollm tidy` / `robollm eval tidy` end to end, with the fake
language model (no weights)."""

import json

import pytest
import yaml

from robollm.cli import main
from robollm.errors import ConfigError
from robollm.planner.tidy.benchmark import load_benchmark
from robollm.planner.tidy.prefs import load_preferences

EXAMPLES = ("the red block went in the tray, the yellow block went in the tray, "
            "the blue block went on the plate, the green cup went on the plate")


@pytest.fixture
def fake_launch(write_launch):
    return write_launch()


def test_preferences_file_round_trip_and_hand_edits_stick(tmp_path, fake_launch, capsys):
    prefs = tmp_path / "alex.yaml"
    argv = ["tidy", EXAMPLES, "--prefs", str(prefs), "--config", fake_launch, "--executor", "symbolic", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    data = yaml.safe_load(prefs.read_text())
    assert data["examples"][0] == "the red block went in the tray" and data["summary"]["rules"]
    assert data["summary"]["sentence"] == first["rules"]
    # a person corrects the summary by hand: it is used as written while the examples stay
    data["summary"]["rules"] = [{"when": {"type": "cup"}, "to": "tray"}, {"else": "plate"}]
    prefs.write_text(yaml.safe_dump(data))
    assert main(["tidy", "--prefs", str(prefs), "--config", fake_launch, "--executor", "symbolic",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rules"] == "Cups go in the tray, and everything else goes on the plate."
    assert {d["object"]: d["receptacle"] for d in out["decisions"]}["pink_cup"] == "grey_tray"
    assert load_preferences(prefs).summary_current()


def test_tidy_prints_rules_and_puts_everything_away(fake_launch, capsys):
    assert main(["tidy", EXAMPLES, "--config", fake_launch, "--executor", "symbolic"]) == 0
    out = capsys.readouterr().out
    assert "rules (chosen by fake from" in out and "tidied 4 of 4 objects" in out
    assert "the small purple block" in out  # an unseen colour, placed by the rule


def test_contradictory_examples_are_reported(fake_launch, capsys):
    text = EXAMPLES + ", the red block went on the plate, the red block went in the tray"
    assert main(["tidy", text, "--config", fake_launch, "--executor", "symbolic", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "note: contradictory examples: the red block went in the tray (2 examples) and on the plate " \
           "(1 example); using in the tray, which has the most support" in out


@pytest.mark.parametrize("extra, fragment", [
    (["the banana went in the tray"], "there is no object 'the banana'"),
    (["the red block went in the drawer"], "there is no 'the drawer' on the table; receptacles here: "),
    (["--prefs", "/nonexistent/alex.yaml"], "no such file"),
    (["the red block went in the tray", "--seed", "-1"], "--seed must be 0 or more"),
])
def test_bad_input_is_one_line_and_exit_2(extra, fragment, fake_launch, capsys):
    assert main(["tidy", *extra, "--config", fake_launch, "--executor", "symbolic"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_preferences_file_with_an_unknown_key_fails_with_the_key(tmp_path, fake_launch, capsys):
    prefs = tmp_path / "sam.yaml"
    prefs.write_text("person: sam\nexamples: [the red block went in the tray]\ncolour_rules: []\n")
    assert main(["tidy", "--prefs", str(prefs), "--config", fake_launch]) == 2
    assert "unknown key 'colour_rules'" in capsys.readouterr().err
    prefs.write_text("examples: [the red block went in the tray]\nsummary: {rules: [{when: {shape: round}, "
                     "to: box}]}\n")
    with pytest.raises(ConfigError, match=r"summary.rules\[0\].when: unknown attribute 'shape'"):
        load_preferences(prefs)


def test_tidy_in_physics_on_a_tiny_scene(tmp_path, fake_launch, capsys):
    scene = tmp_path / "tiny.yaml"
    scene.write_text("objects:\n  - {type: plate, colour: white, pose: [0.5, -0.2]}\n"
                     "  - {type: bowl, colour: green, pose: [0.5, 0.2]}\n"
                     "  - {type: block, colour: orange, pose: [0.42, 0.0]}\n")
    code = main(["tidy", "the red block went on the plate, the blue cup went in the bowl", "--scene", str(scene),
                 "--config", fake_launch, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["placements"][0]["holds"] and out["placements"][0]["receptacle"] == "white_plate"


def test_the_shipped_benchmark_is_consistent_and_needs_summarising():
    scenarios = load_benchmark()
    assert len(scenarios) >= 48 and {s.split for s in scenarios} == {"validation", "test"}
    for s in scenarios:
        assert s.truth.consistent(s.examples), s.id
        assert all(s.truth.place(o.thing) == o.goes for o in s.objects), s.id
        assert any(o.seen for o in s.objects) and any(not o.seen for o in s.objects), s.id
        # an unseen object is never one the examples show (same type and colour)
        shown = {(e.thing.type, e.thing.colour, e.thing.material, e.thing.size) for e in s.examples}
        assert not any((o.thing.type, o.thing.colour) in {k[:2] for k in shown} and
                       all(e.thing.material in (None, o.thing.material) and e.thing.size in (None, o.thing.size)
                           for e in s.examples if (e.thing.type, e.thing.colour) == (o.thing.type, o.thing.colour))
                       for o in s.objects if not o.seen), s.id


def test_eval_tidy_reports_every_method_per_split(fake_launch, capsys):
    assert main(["eval", "tidy", "--config", fake_launch, "--limit", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for split in ("validation", "test"):
        methods = out["table"][split]["methods"]
        assert set(methods) == {"summary", "summary (prior only)", "summary (generated)", "examples only",
                                "common sense", "ground-truth summary"}
        assert methods["ground-truth summary"]["unseen"]["accuracy"] == 1.0


def test_the_shipped_benchmark_is_what_its_generator_writes() -> None:
    """sim/tidy/tidy.yaml comes from `python -m robollm.sim.tidy_benchmark`: regenerating it
    gives the same scenarios, and none of them has examples that a strictly simpler rule
    fits while sending an unseen object elsewhere."""
    from robollm.planner.tidy.benchmark import builtin_benchmark
    from robollm.sim.tidy_benchmark import build, simpler_reading

    built = build()
    shipped = yaml.safe_load(open(builtin_benchmark()))
    assert built == shipped
    assert all(simpler_reading(s) is None for s in built["scenarios"])


def test_examples_that_show_a_simpler_rule_are_found() -> None:
    from robollm.sim.tidy_benchmark import simpler_reading

    confounded = {
        "id": "warmth-x", "split": "test",
        "receptacles": [{"type": "plate", "colour": "yellow", "size": 0.22}, {"type": "bowl", "colour": "white", "size": 0.2}],
        "examples": ["the red block went on the plate", "the yellow block went on the plate",
                     "the blue cup went in the bowl", "the green cup went in the bowl"],
        "summary": [{"when": {"warmth": "warm"}, "to": "plate"}, {"when": {"warmth": "cool"}, "to": "bowl"}],
        "objects": [{"name": "orange_cup", "type": "cup", "colour": "orange", "material": "wood", "size": 0.058,
                     "goes": "plate"},
                    {"name": "cyan_block", "type": "block", "colour": "cyan", "material": "wood", "size": 0.04,
                     "goes": "bowl"}],
    }
    rule = simpler_reading(confounded)
    assert rule is not None and ("Blocks" in rule.sentence() or "Cups" in rule.sentence())
