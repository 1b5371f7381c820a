"""The planner model's training loss: continuations only, the steps of one plan packed into
one row, the opening every row shares run once, and the ranking loss against the other
candidates; each checked against the plain computation."""

from __future__ import annotations

from pathlib import Path

import torch
from conftest import PLAN_PAIRS as PAIRS

from robollm.cli import main
from robollm.llm.adapters import read_meta


def test_loss_on_continuations_equals_the_full_logits_loss(tiny_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from robollm.training.planner_lm import _batch, _mean_loss, tokenise

    model = AutoModelForCausalLM.from_pretrained(tiny_folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    batch = _batch(tokenise(tokenizer, PAIRS), tokenizer.eos_token_id, "cpu")
    with torch.no_grad():
        loss, count = _mean_loss(model, batch)
        logp = torch.log_softmax(model(input_ids=batch["input_ids"]).logits[:, :-1], dim=-1)
    labels = batch["labels"][:, 1:]
    keep = labels != -100
    expected = -(logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * keep).sum()
    assert count == int(keep.sum()) > 0
    torch.testing.assert_close(loss, expected, atol=1e-4, rtol=1e-5)


def test_the_steps_of_one_plan_share_a_row_and_score_as_they_do_alone(tiny_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from robollm.training.planner_lm import _batch, _mean_loss, batches, pack, tokenise

    model = AutoModelForCausalLM.from_pretrained(tiny_folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    rows = pack(tokenizer, PAIRS)
    # The first two pairs are steps 1 and 2 of one plan; the third is another task.
    assert [len(spans) for _, spans in rows] == [2, 1]
    with torch.no_grad():
        packed, n_packed = _mean_loss(model, _batch(rows, tokenizer.eos_token_id, "cpu"))
        alone, n_alone = _mean_loss(model, _batch(tokenise(tokenizer, PAIRS), tokenizer.eos_token_id, "cpu"))
    assert n_packed == n_alone
    torch.testing.assert_close(packed, alone, atol=1e-4, rtol=1e-5)
    # A batch holds about `steps` step texts, whatever the rows' lengths.
    assert [sum(len(s) for _, s in g) for g in batches(rows, [0, 1], 2)] == [2, 1]


def test_a_pair_that_does_not_extend_the_one_before_starts_a_row(tiny_folder: Path) -> None:
    from transformers import AutoTokenizer

    from robollm.training.planner_lm import pack

    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    reordered = [PAIRS[1], PAIRS[0], PAIRS[2]]
    assert [len(spans) for _, spans in pack(tokenizer, reordered)] == [1, 1, 1]


def test_the_shared_opening_runs_once_and_gives_the_same_loss(tiny_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from robollm.training.planner_lm import _batch, _mean_loss, pack, shared_start

    model = AutoModelForCausalLM.from_pretrained(tiny_folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    opening = "You are a robot. " * 6
    rows = pack(tokenizer, [(opening + p, c) for p, c in PAIRS])
    assert shared_start(rows) >= 16
    plain, shared = _batch(rows, tokenizer.eos_token_id, "cpu"), _batch(rows, tokenizer.eos_token_id, "cpu", share=True)
    assert "prefix" in shared and shared["input_ids"].shape[1] < plain["input_ids"].shape[1]
    loss, n = _mean_loss(model, plain)
    loss_shared, n_shared = _mean_loss(model, shared)
    assert n == n_shared
    torch.testing.assert_close(loss_shared, loss, atol=1e-4, rtol=1e-5)
    loss_shared.backward()  # gradients flow through the opening's keys and values
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_ranking_loss_sets_the_expert_step_against_the_other_candidates(tiny_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from robollm.training.planner_lm import _batch, _mean_loss, branch_points, pack

    model = AutoModelForCausalLM.from_pretrained(tiny_folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    options = [" pick up the red block.", " pick up the blue bowl.", " done."]
    alternatives = [options, None, options]
    rows = pack(tokenizer, PAIRS)
    points = branch_points(tokenizer, rows, PAIRS, alternatives)
    ids = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    first, red, blue = ids(options[0]), ids(" pick up the red"), ids(" pick up the blue")
    # Step 1 ("pick up the red block") parts from "done" at its first id and from the
    # bowl where "red" and "blue" part; the second pair has no candidates.
    (start, _), _ = rows[0][1]
    split = next(j for j, (a, b) in enumerate(zip(red, blue, strict=False)) if a != b)
    assert [p for p, _ in points[0]] == [start, start + split]
    assert sorted(points[0][0][1]) == sorted({first[0], ids(" done.")[0]})
    assert len(points[1]) == 1  # "done" against "pick"
    batch = _batch(rows, tokenizer.eos_token_id, "cpu", branches=points)
    with torch.no_grad():
        nll, n = _mean_loss(model, batch)
        both, n2 = _mean_loss(model, batch, rank_weight=0.5)
        logp = torch.log_softmax(model(input_ids=batch["input_ids"]).logits[:, :-1], dim=-1)
    expected = 0.0
    for r, here in enumerate(points):
        for pos, allowed in here:
            lp = logp[r, pos - 1]
            expected += float(torch.logsumexp(lp[allowed], 0) - lp[rows[r][0][pos]])
    assert n == n2 and expected > 0
    torch.testing.assert_close(both - nll, torch.tensor(0.5 * expected), atol=1e-4, rtol=1e-4)


def test_train_command_with_the_ranking_loss_goes_on_from_an_adapter(tiny_folder: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    common = ["--model", str(tiny_folder), "--tasks", "4", "--sensing-tasks", "0", "--prompt", "saycan_tuned",
              "--batch-size", "8", "--device", "cpu"]
    assert main(["train", "planner-lm", "--out", str(first), *common]) == 0
    assert main(["train", "planner-lm", "--out", str(second), *common, "--rank-weight", "1",
                 "--init", str(first)]) == 0
    meta = read_meta(second)
    assert meta["rank_weight"] == 1.0 and meta["init"] == str(first)
    assert meta["init_meta"]["pairs_sha256"] == read_meta(first)["pairs_sha256"]
    assert (second / "adapter_model.safetensors").read_bytes() != (first / "adapter_model.safetensors").read_bytes()


def test_ranking_loss_is_the_same_with_the_shared_opening(tiny_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from robollm.training.planner_lm import _batch, _mean_loss, branch_points, pack

    model = AutoModelForCausalLM.from_pretrained(tiny_folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    pairs = [("You are a robot. " * 6 + p, c) for p, c in PAIRS]
    options = [" pick up the red block.", " pick up the blue bowl.", " place the red block in the blue bowl.",
               " done."]
    rows = pack(tokenizer, pairs)
    points = branch_points(tokenizer, rows, pairs, [options] * len(pairs))
    plain = _batch(rows, tokenizer.eos_token_id, "cpu", branches=points)
    shared = _batch(rows, tokenizer.eos_token_id, "cpu", share=True, branches=points)
    assert "prefix" in shared
    torch.testing.assert_close(shared["branch_target"], plain["branch_target"])
    with torch.no_grad():
        a, _ = _mean_loss(model, plain, rank_weight=1.0)
        b, _ = _mean_loss(model, shared, rank_weight=1.0)
        nll, _ = _mean_loss(model, plain)
    assert float(a - nll) > 0
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-5)
