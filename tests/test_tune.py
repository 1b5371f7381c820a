"""Tuning the planner's language model: LoRA training, saving, merging and the command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import PLAN_PAIRS as PAIRS

from robollm.cli import main
from robollm.errors import ConfigError, UserError
from robollm.llm.adapters import merge_adapter, read_meta, resolve_adapter
from robollm.llm.hf import HFCausalLM
from robollm.training.planner_lm import save_adapter, train_lora


@pytest.fixture(scope="module")
def trained(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    peft_model, losses = train_lora(model, tokenizer, PAIRS * 8, PAIRS, rank=4, alpha=8, lr=1e-2,
                                    epochs=3, batch_size=4, seed=0)
    assert losses["valid_nll_after"] < losses["valid_nll_before"] * 0.7, losses
    out = tmp_path_factory.mktemp("adapter")
    save_adapter(peft_model, out, {"base_model": tiny_folder.name, "prompt_sha256": "x"})
    return out


def test_training_raises_the_expert_steps_likelihood(tiny_folder: Path, trained: Path) -> None:
    plain = HFCausalLM.load(tiny_folder, threads=1)
    tuned = HFCausalLM.load(tiny_folder, threads=1, adapter=str(trained))
    assert tuned.name.endswith("+" + trained.name)
    prompt, step = PAIRS[0]
    others = [" pick up the blue bowl.", " done."]
    before = [s.logprob for s in plain.score(prompt, [step, *others])]
    after = [s.logprob for s in tuned.score(prompt, [step, *others])]
    assert after[0] > before[0] + 1.0
    assert after[0] > max(after[1:])  # the expert's step is now the model's first choice


def test_merged_weights_equal_peft_merge(tiny_folder: Path, trained: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    ours = AutoModelForCausalLM.from_pretrained(tiny_folder)
    assert merge_adapter(ours, trained) == 2 * 7  # two layers, seven projections each
    theirs = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_folder), str(trained))
    theirs = theirs.merge_and_unload()
    ids = torch.tensor([[1, 5, 9, 17, 33, 2]])
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, theirs(ids).logits, atol=1e-5, rtol=1e-5)
        plain = AutoModelForCausalLM.from_pretrained(tiny_folder)(ids).logits
    assert (ours(ids).logits - plain).abs().max() > 1e-3  # the merge changed something


def test_adapter_errors_name_the_problem(tiny_folder: Path, trained: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        resolve_adapter(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "adapter_model.safetensors").unlink()
    with pytest.raises(ConfigError, match="missing adapter_model.safetensors"):
        resolve_adapter(broken)
    other = tmp_path / "other"
    shutil.copytree(trained, other)
    (other / "robollm-adapter.json").write_text(json.dumps({"base_model": "SomeOtherModel.gguf"}))
    with pytest.raises(UserError, match="trained on SomeOtherModel.gguf"):
        HFCausalLM.load(tiny_folder, adapter=str(other))


@pytest.mark.parametrize("name, prompt", [("saycan-hands-smollm2", "saycan_scene.txt"),
                                          ("saycan-smollm2", "saycan_tuned.txt")])
def test_shipped_adapter_is_found_by_name_and_records_its_training(name: str, prompt: str) -> None:
    from robollm.llm.adapters import text_digest

    where = resolve_adapter(name)
    meta = read_meta(where)
    assert meta["base_model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert meta["prompt"] == prompt
    assert meta["command"].startswith("robollm train planner-lm")
    assert meta["valid_nll_after"] < meta["valid_nll_before"]
    # the same command with the recorded settings builds the same training pairs
    from robollm.commands.train import make_samples
    from robollm.planner.prompt import load_prompt

    train, valid = make_samples(load_prompt(meta["prompt"].removesuffix(".txt")), meta["tasks"], meta["seed"],
                                meta.get("sensing_tasks", 0), meta.get("skill_library"),
                                family_weights=meta.get("family_weights"), sense_past=meta.get("sense_past", 0.0))
    assert (len(train), len(valid)) == (meta["train_steps"], meta["valid_steps"])
    if "pairs_sha256" in meta:
        assert text_digest(json.dumps(train)) == meta["pairs_sha256"]


def test_train_command_writes_an_adapter(tiny_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "adapter"
    code = main(["train", "planner-lm", "--out", str(out), "--model", str(tiny_folder), "--tasks", "4",
                 "--sensing-tasks", "1", "--prompt", "saycan_tuned", "--epochs", "1", "--batch-size", "8", "--device", "cpu", "--dump", str(tmp_path / "pairs.jsonl")])
    assert code == 0
    meta = read_meta(out)
    assert meta["base_model"] == tiny_folder.name and meta["tasks"] == 4 and meta["prompt"] == "saycan_tuned.txt"
    pairs = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert pairs and all(p["continuation"].startswith(" ") and p["continuation"].endswith(".") for p in pairs)
    printed = capsys.readouterr().out
    assert "validation loss" in printed
    assert "training: batch 1/" in printed  # no terminal: progress as plain lines
    assert meta["skill_library"] == "robollm.skills.catalog:register_with_hands"  # the default launch file's
    assert meta["evidence_style"] == "beliefs" and "evidence_bank" not in meta  # the shipped bank
    # an existing adapter is never overwritten
    before = (out / "adapter_model.safetensors").read_bytes()
    assert main(["train", "planner-lm", "--out", str(out), "--model", str(tiny_folder), "--tasks", "4"]) == 2
    assert (out / "adapter_model.safetensors").read_bytes() == before
    assert "already exists" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    assert main(["train", "planner-lm", "--out", str(blocker / "sub"), "--model", str(tiny_folder)]) == 2
    assert "cannot create the folder" in capsys.readouterr().err and blocker.read_text() == "mine"


def test_family_weights_are_recorded_and_draw_the_tasks(tiny_folder: Path, tmp_path: Path) -> None:
    from robollm.training.synthetic_language import language_families

    weights = tmp_path / "weights.json"
    only_under = {name: 0 for name in language_families(hands=True)} | {"under": 1.5}
    weights.write_text(json.dumps(only_under))
    out = tmp_path / "adapter"
    assert main(["train", "planner-lm", "--out", str(out), "--model", str(tiny_folder), "--tasks", "6",
                 "--sensing-tasks", "0", "--batch-size", "8", "--device", "cpu", "--family-weights", str(weights),
                 "--dump", str(tmp_path / "pairs.jsonl")]) == 0
    meta = read_meta(out)
    assert meta["family_weights"] == {k: float(v) for k, v in only_under.items()}
    from robollm.training.task_split import split_tasks

    train_tasks, valid_tasks = split_tasks(6, 0, 0, language=True, library=meta["skill_library"],
                                           family_weights=meta["family_weights"])
    assert {t.family for t in train_tasks + valid_tasks} == {"under"}
    from robollm.commands.train import make_samples
    from robollm.llm.adapters import text_digest
    from robollm.planner.prompt import load_prompt

    train, _ = make_samples(load_prompt("saycan_scene"), 6, 0, 0, meta["skill_library"],
                            family_weights=meta["family_weights"])
    assert text_digest(json.dumps(train)) == meta["pairs_sha256"]  # the record rebuilds the pairs


def test_adjective_evidence_from_another_bank_is_recorded_and_kept(tiny_folder: Path, tmp_path: Path) -> None:
    from robollm.training.sensing_tasks import BANK, BANK_COPY

    bank = tmp_path / "my-bank.json"
    bank.write_text(BANK.read_text())
    out = tmp_path / "adapter"
    assert main(["train", "planner-lm", "--out", str(out), "--model", str(tiny_folder), "--tasks", "4",
                 "--sensing-tasks", "4", "--prompt", "saycan_tuned", "--batch-size", "8", "--device", "cpu",
                 "--evidence-style", "adjectives", "--evidence-bank", str(bank),
                 "--dump", str(tmp_path / "pairs.jsonl")]) == 0
    meta = read_meta(out)
    assert meta["evidence_style"] == "adjectives" and meta["evidence_bank"]["file"] == "my-bank.json"
    assert (out / BANK_COPY).read_text() == bank.read_text()
    prompts = (tmp_path / "pairs.jsonl").read_text()
    assert "It weighs about" in prompts or "It sounds" in prompts or "It feels" in prompts
    assert "(within" not in prompts and "It is probably" not in prompts


@pytest.mark.parametrize("flags, message", [
    (["--tasks", "0"], "--tasks must be at least 1"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--rank-weight", "-1"], "--rank-weight must be 0 or more"),
    (["--sensing-tasks", "-1"], "--sensing-tasks must be 0 or more"),
    (["--sense-past", "1.5"], "--sense-past must be a share from 0 to 1, got 1.5"),
    (["--layers", "0"], "--layers must be at least 1"),
    (["--layers", "2", "--init", "saycan-hands-smollm2"], "--layers applies to new adapters"),
    (["--init", "/no/such/adapter"], "no such folder"),
    (["--device", "tpu"], "expected cpu, cuda or auto"),
    (["--model", "/no/such/model"], "does not exist"),
    (["--prompt", "/no/such/prompt.txt"], "no such file"),
    (["--skills", "no.such.module:register"], "--skills 'no.such.module:register': expected a skill library"),
    (["--evidence-bank", "/no/such/bank.json"], "--evidence-bank '/no/such/bank.json': cannot read it"),
    (["--evidence-bank", "BROKEN"], "not JSON"),
    (["--evidence-bank", "NO_TOUCH"], "no usable 'touch' lines for every material and shape"),
    (["--family-weights", "/no/such/weights.json"], "--family-weights '/no/such/weights.json': cannot read"),
    (["--family-weights", "BROKEN"], "not JSON"),
    (["--family-weights", "UNKNOWN_FAMILY"], "no family 'except_two'; the families are pick_place,"),
    (["--family-weights", "NEGATIVE"], "the weight of 'under' should be a number of 0 or more, got -1"),
    (["--family-weights", "ALL_ZERO"], "every family has weight 0"),
    (["--family-weights", "NEGATIVE", "--prompt", "saycan_tuned"], "which prompt"),
])
def test_train_command_rejects_bad_options(tmp_path: Path, capsys, flags, message) -> None:
    from robollm.training.sensing_tasks import load_bank
    from robollm.training.synthetic_language import language_families

    files = {"BROKEN": "{not json", "NO_TOUCH": json.dumps({**load_bank(), "touch": {}}),
             "UNKNOWN_FAMILY": json.dumps({"except_one": 2, "except_two": 1}), "NEGATIVE": json.dumps({"under": -1}),
             "ALL_ZERO": json.dumps(dict.fromkeys(language_families(hands=True), 0))}
    for i, flag in enumerate(flags):
        if flag in files:
            (tmp_path / "given.json").write_text(files[flag])
            flags = [*flags[:i], str(tmp_path / "given.json"), *flags[i + 1:]]
    assert main(["train", "planner-lm", "--out", str(tmp_path / "a"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("planner, fragment", [
    ({"prompt": "saycan"}, "was trained with the prompt saycan_scene.txt"),
    ({"llm": {"backend": "hf", "adapter": "/no/such/adapter"}}, "no such folder"),
])
def test_run_refuses_a_mismatched_or_missing_adapter(tmp_path: Path, capsys, planner, fragment) -> None:
    import yaml

    from robollm.config import launch_dir

    data = yaml.safe_load((launch_dir() / "sim_bimanual.yaml").read_text())
    data["planner"].update(planner)
    path = tmp_path / "launch.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", "put the red block in the green bowl", "--config", str(path), "--executor", "symbolic"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_training_is_deterministic_under_a_seed(tiny_folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)

    def weights(seed: int) -> list[torch.Tensor]:
        model, _ = train_lora(AutoModelForCausalLM.from_pretrained(tiny_folder), tokenizer, PAIRS * 2, PAIRS,
                              rank=2, epochs=1, batch_size=2, seed=seed)
        return [p.detach().clone() for n, p in model.named_parameters() if "lora_" in n]

    first, again, other = weights(0), weights(0), weights(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_top_layers_in_bf16_adapt_only_those_layers_and_still_learn(tiny_folder: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)

    def run() -> tuple[object, dict[str, float]]:
        return train_lora(AutoModelForCausalLM.from_pretrained(tiny_folder), tokenizer, PAIRS * 8, PAIRS, rank=4,
                          alpha=8, lr=1e-2, epochs=3, batch_size=4, seed=0, layers=1, bf16=True)

    model, losses = run()
    assert losses["valid_nll_after"] < losses["valid_nll_before"] * 0.8, losses
    adapted = {n.split(".layers.")[1].split(".")[0] for n, _ in model.named_parameters() if "lora_" in n}
    assert adapted == {"1"}  # the tiny model's top layer of two
    again, _ = run()
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(model.named_parameters(), again.named_parameters(),
                                                            strict=True))
    save_adapter(model, tmp_path / "a", {"base_model": tiny_folder.name, "prompt_sha256": "x"})
    assert merge_adapter(AutoModelForCausalLM.from_pretrained(tiny_folder), tmp_path / "a") == 7


def test_train_command_refuses_more_layers_than_the_model_has(tiny_folder: Path, tmp_path: Path, capsys) -> None:
    assert main(["train", "planner-lm", "--out", str(tmp_path / "a"), "--model", str(tiny_folder), "--tasks", "2",
                 "--sensing-tasks", "0", "--prompt", "saycan_tuned", "--layers", "3"]) == 2
    assert "--layers 3: the model has 2 layers" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_serve_refuses_an_adapter_without_the_hf_backend(capsys) -> None:
    assert main(["serve", "--backend", "fake", "--adapter", "saycan-smollm2", "--port", "0"]) == 2
    assert "adapter works with the hf backend only" in capsys.readouterr().err


def test_run_refuses_an_adapter_tuned_for_another_skill_library(tmp_path: Path, capsys) -> None:
    import shutil

    import yaml

    from robollm.config import launch_dir

    adapter = tmp_path / "adapter"
    shutil.copytree(launch_dir() / "adapters" / "saycan-smollm2", adapter)
    record = json.loads((adapter / "robollm-adapter.json").read_text())
    (adapter / "robollm-adapter.json").write_text(json.dumps(
        {**record, "skill_library": "robollm.skills.catalog:register_builtin"}))
    data = yaml.safe_load((launch_dir() / "sim_bimanual.yaml").read_text())  # with the hand skills
    data["planner"]["llm"]["adapter"] = str(adapter)
    path = tmp_path / "launch.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", "put the red block in the green bowl", "--config", str(path), "--executor", "symbolic"]) == 2
    err = capsys.readouterr().err
    assert "was trained with the skill library robollm.skills.catalog:register_builtin" in err
    assert "Traceback" not in err
