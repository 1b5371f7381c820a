"""Scoring interface, combination rules, the fake backend, the prefix tree and the compat fix."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from robollm.errors import UserError  # noqa: E402
from robollm.llm import (  # noqa: E402
    CandidateScore,
    FakeLanguageModel,
    ScoringOptions,
    combine,
    create_language_model,
    score_candidates,
    softmax,
)
from robollm.llm.base import split_words  # noqa: E402
from robollm.llm.examples import saycan_candidates, saycan_prompt  # noqa: E402
from robollm.llm.factory import read_scores  # noqa: E402
from robollm.llm.token_tree import build_tree, tree_mask  # noqa: E402


def _score(text: str, logprob: float, n: int, prior: float | None = None) -> CandidateScore:
    return CandidateScore(text, logprob, n, unconditional_logprob=prior)


def test_sum_prefers_short_and_mean_corrects_for_length() -> None:
    scores = [_score("short", -3.0, 1), _score("long", -4.0, 4)]
    assert combine(scores, ScoringOptions()) == [-3.0, -4.0]
    assert combine(scores, ScoringOptions(length="mean")) == [-3.0, -1.0]
    half = combine(scores, ScoringOptions(length="mean", length_power=0.5))
    assert half == pytest.approx([-3.0, -2.0])


def test_calibration_subtracts_scaled_prior_before_length_division() -> None:
    scores = [_score("a", -6.0, 2, prior=-4.0), _score("b", -5.0, 2, prior=-1.0)]
    options = ScoringOptions(calibration=True, alpha=0.5)
    assert combine(scores, options) == pytest.approx([-4.0, -4.5])
    both = ScoringOptions(calibration=True, alpha=1.0, length="mean")
    assert combine(scores, both) == pytest.approx([-1.0, -2.0])


def test_calibration_without_prior_is_an_error() -> None:
    with pytest.raises(ValueError, match="unconditional"):
        combine([_score("a", -1.0, 1)], ScoringOptions(calibration=True))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"length": "max"},
        {"length_power": -1.0},
        {"alpha": math.nan},
        {"calibration": True, "neutral_prompt": ""},
    ],
)
def test_bad_options_are_user_errors(kwargs: dict) -> None:
    with pytest.raises(UserError):
        ScoringOptions(**kwargs)


def test_softmax_is_a_stable_distribution() -> None:
    probs = softmax([-1000.0, -1001.0, -1002.0])
    assert sum(probs) == pytest.approx(1.0)
    assert probs[0] > probs[1] > probs[2]
    assert softmax([]) == []


def test_fake_returns_table_values_default_and_token_counts() -> None:
    fake = FakeLanguageModel({"pick up the red block.": -1.5, "done.": -0.5}, default=-9.0)
    scores = fake.score("Robot:", [" pick up the red block.", " done.", " dance."])
    assert [s.logprob for s in scores] == pytest.approx([-1.5, -0.5, -9.0])
    assert [s.num_tokens for s in scores] == [5, 1, 1]
    assert sum(scores[0].token_logprobs) == pytest.approx(-1.5)
    assert fake.calls == [("Robot:", (" pick up the red block.", " done.", " dance."))]


def test_calibration_uses_the_neutral_prompt_scores() -> None:
    options = ScoringOptions(calibration=True)
    fake = FakeLanguageModel(
        {"a": -1.0, "b": -2.0},
        prompt_scores={options.neutral_prompt: {"a": -0.5, "b": -4.0}},
    )
    scores = fake.score("task", [" a", " b"], neutral_prompt=options.neutral_prompt)
    assert [s.unconditional_logprob for s in scores] == [-0.5, -4.0]
    # Uncalibrated, "a" wins; calibrated, "b" is far more likely than its prior says.
    assert score_candidates(fake, "task", [" a", " b"], ScoringOptions()) == [-1.0, -2.0]
    assert score_candidates(fake, "task", [" a", " b"], options) == pytest.approx([-0.5, 2.0])


def test_empty_candidates_are_rejected_and_no_candidates_is_fine() -> None:
    fake = FakeLanguageModel()
    with pytest.raises(UserError, match="empty candidate"):
        fake.score("p", ["ok", "  "])
    assert fake.score("p", []) == []


def test_fake_whole_text_path_matches_candidate_path() -> None:
    fake = FakeLanguageModel({"pick up the red block.": -2.0}, default=-7.0)
    prompt = "Robot: 1."
    for candidate in [" pick up the red block.", " something else"]:
        direct = fake.score(prompt, [candidate])[0]
        tokens = fake.token_logprobs(prompt + candidate)
        assert "".join(t.text for t in tokens) == prompt + candidate
        tail = [t.logprob for t in tokens if t.offset + len(t.text) > len(prompt)]
        assert len(tail) == direct.num_tokens
        assert sum(tail) == pytest.approx(direct.logprob)
        assert tokens[0].logprob is None


def test_split_words_keeps_leading_space_and_offsets() -> None:
    assert split_words(" pick  up\nit") == [(" pick", 0), ("  up", 5), ("\nit", 9)]


def test_factory_and_read_scores(tmp_path) -> None:
    assert read_scores('{"done": -1}') == {"done": -1.0}
    path = tmp_path / "scores.json"
    path.write_text('{"a": -2.5}')
    assert read_scores(str(path)) == {"a": -2.5}
    with pytest.raises(UserError):
        read_scores('{"a": "x"}')
    with pytest.raises(UserError):
        read_scores(str(tmp_path / "missing.json"))
    fake = create_language_model("fake", scores={"a": -2.5})
    assert fake.score("p", [" a"])[0].logprob == -2.5
    with pytest.raises(UserError, match="unknown"):
        create_language_model("gpt")
    with pytest.raises(UserError, match="missing required key 'planner.llm.url'"):
        create_language_model("http")
    with pytest.raises(UserError, match="did you mean 'fake'"):
        create_language_model("fak")


def test_benchmark_step_has_53_distinct_candidates() -> None:
    candidates = saycan_candidates()
    assert len(candidates) == len(set(candidates)) == 53
    assert all(c.startswith(" ") for c in candidates)
    assert candidates[-1] == " done."
    assert not any("red block on the red block" in c for c in candidates)
    assert saycan_prompt().endswith("2.")


def test_tree_shares_prefixes_and_maps_every_target() -> None:
    tree = build_tree([[1, 2, 3, 4], [1, 2, 5], [7], [1, 9]])
    assert tree.tokens == [1, 2, 3]
    assert tree.parents == [-1, 0, 1]
    assert tree.depths == [0, 1, 2]
    assert tree.paths == [[0, 1, 2], [0, 1], [], [0]]


def test_tree_mask_sees_prompt_and_ancestors_only() -> None:
    tree = build_tree([[1, 2, 3], [1, 4, 5], [6, 7]])  # nodes: 1, 2, 4, 6
    allowed = tree_mask(tree, prompt_len=2, dtype=torch.float32)[0, 0] == 0
    expected = torch.tensor(
        [
            [1, 1, 1, 0, 0, 0],
            [1, 1, 1, 1, 0, 0],
            [1, 1, 1, 0, 1, 0],
            [1, 1, 0, 0, 0, 1],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(allowed, expected)


def test_compat_lets_transformers_import_in_a_fresh_process() -> None:
    code = (
        "from robollm.util.compat import ensure_torchvision\n"
        "first = ensure_torchvision(); second = ensure_torchvision()\n"
        "import torchvision, transformers\n"
        "assert second is False\n"
        "print('ok', first)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")
