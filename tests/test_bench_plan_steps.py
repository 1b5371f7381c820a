"""`robollm bench plan-steps`: the planner model's choices on fresh generator tasks, per family."""

from __future__ import annotations

import json

from robollm.cli import main


def test_counts_the_steps_where_the_expert_call_scores_highest(write_launch, capsys) -> None:
    # The fake model prefers "done" to everything: of a pick-up's two steps only the last is right.
    config = write_launch({"backend": "fake", "scores": {"done.": -1.0}})
    assert main(["bench", "plan-steps", "--config", config, "--families", "pick_up,all_into", "--tasks", "3",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    pick = report["families"]["pick_up"]
    assert pick == {"tasks": 3, "tasks_right": 0, "steps": 6, "steps_right": 3}
    into = report["families"]["all_into"]
    assert into["steps_right"] == 3 and into["steps"] > 6
    assert report["total"]["steps"] == pick["steps"] + into["steps"]


def test_rejects_an_unknown_family_and_a_prompt_without_the_table(write_launch, capsys) -> None:
    config = write_launch()
    assert main(["bench", "plan-steps", "--config", config, "--families", "pick_up,juggle"]) == 2
    assert "--families: unknown juggle" in capsys.readouterr().err
    plain = write_launch(prompt="saycan", name="plain.yaml")
    assert main(["bench", "plan-steps", "--config", plain]) == 2
    assert "does not describe the table" in capsys.readouterr().err
