"""The language model's temperature: fitting, metrics, the planner reading it, held-out steps."""

from __future__ import annotations

import json
import math

import pytest

from robollm.llm.temperature import (
    TEMPERATURE_FILE,
    chosen_ece,
    fit_temperature,
    nll,
    read_temperature,
    softmax_t,
)


def test_fit_flattens_an_overconfident_model_and_sharpens_a_timid_one():
    # Right 4 times in 5 with a 10-nat margin: too sure, so T > 1 lowers the NLL.
    sure = [([10.0, 0.0, 0.0], 0)] * 4 + [([10.0, 0.0, 0.0], 1)]
    t = fit_temperature(sure)
    assert t > 1.5 and nll(sure, t) < nll(sure, 1.0)
    assert chosen_ece(sure, t)["ece"] < chosen_ece(sure, 1.0)["ece"]
    timid = [([0.2, 0.0], 0)] * 9 + [([0.2, 0.0], 1)]
    assert fit_temperature(timid) < 1.0
    # The ranking never changes, only how much the others keep.
    p1, p2 = softmax_t([3.0, 1.0, 0.0], 1.0), softmax_t([3.0, 1.0, 0.0], 4.0)
    assert p1.index(max(p1)) == p2.index(max(p2)) and p2[1] > p1[1]
    assert math.isclose(sum(p2), 1.0)


def test_temperature_file_is_read_and_checked(tmp_path):
    from robollm.errors import ConfigError

    assert read_temperature(tmp_path)[0] == 1.0  # none fitted: unchanged scores
    (tmp_path / TEMPERATURE_FILE).write_text(json.dumps({"temperature": 2.5}))
    assert read_temperature(tmp_path)[0] == 2.5
    (tmp_path / TEMPERATURE_FILE).write_text(json.dumps({"temperature": -1}))
    with pytest.raises(ConfigError, match="positive"):
        read_temperature(tmp_path)
    (tmp_path / TEMPERATURE_FILE).write_text("{")
    with pytest.raises(ConfigError, match=TEMPERATURE_FILE):
        read_temperature(tmp_path)


def test_heldout_steps_come_from_the_generator_and_hold_the_expert_step():
    from robollm.planner.prompt import load_prompt
    from robollm.training.lm_temperature import heldout_steps
    from robollm.training.synthetic import normalise
    from robollm.training.task_split import split_tasks, suite_instructions

    train, valid = split_tasks(300, 0)
    assert len(valid) == 9 and not {t.instruction for t in valid} & {t.instruction for t in train}
    steps, skipped = heldout_steps(valid, load_prompt("saycan_tuned"), limit=20)
    assert len(steps) == 20 and skipped == 0
    banned = {normalise(i) for i in suite_instructions()}
    assert all(normalise(t.instruction) not in banned for t in valid)  # never an evaluation suite
    for s in steps:
        assert 0 <= s.target < len(s.candidates) and s.candidates[s.target].endswith(".")
    assert any(s.candidates[s.target] == " done." for s in steps)

