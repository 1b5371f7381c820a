"""Shared fixtures. Tests never reach a model hub: offline mode is forced here."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from robollm.config import LaunchConfig, load_config  # noqa: E402

# Text the tiny model's tokenizer is trained on, besides the SayCan example prompt.
TINY_TEXT = ("Objects: red block, blue bowl.\nHuman: put the red block in the blue bowl.\nRobot: 1. "
             "pick up the red block and place it in the blue bowl. pick up the red block and place "
             "it on the table. pick up the blue bowl. done. x")


# the steps of two short plans, as the planner's training pairs (prompt, step text)
PLAN_PAIRS = [("Objects: red block, blue bowl.\nTask: put the red block in the blue bowl.\n1.", " pick up the red block."),
              ("Objects: red block, blue bowl.\nTask: put the red block in the blue bowl.\n1. pick up the red block.\n2.",
               " place the red block in the blue bowl."),
              ("Objects: red block, blue bowl.\nTask: pick up the red block.\n1. pick up the red block.\n2.", " done.")]


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """A tiny random Llama (and a byte-level BPE trained on a few sentences) saved as a folder."""
    import torch

    from robollm.util.compat import ensure_torchvision

    ensure_torchvision()  # before transformers is imported (see robollm.util.compat)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from robollm.llm.examples import saycan_candidates, saycan_prompt

    corpus = [TINY_TEXT, saycan_prompt(), *saycan_candidates()] * 3
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    raw.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>")
    config = LlamaConfig(
        vocab_size=raw.get_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        initializer_range=0.3,  # large weights: context and position visibly matter
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def config() -> LaunchConfig:
    return load_config()


@pytest.fixture
def session_factory(config):
    from robollm.session import Session
    from robollm.world.scene import load_scene

    made = []

    def make(scene="default", seed=0, executor="physics", cfg=None):
        s = Session(cfg or config, load_scene(scene) if isinstance(scene, str) else scene, seed,
                    executor=executor)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def write_launch(tmp_path):
    """Write the default launch file with another language model (default: the fake one, no
    weights) and planner settings; returns its path as text."""
    import yaml

    from robollm.config import default_config_path

    def write(llm: dict | None = None, name: str = "fake.yaml", **planner) -> str:
        data = yaml.safe_load(default_config_path().read_text())
        data["planner"]["llm"] = llm or {"backend": "fake"}
        data["planner"].update(planner)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data))
        return str(path)

    return write


def real_launch_copy(folder, perception="ground_truth", name: str = "real_panda_bimanual.yaml",
                     **options):
    """The real-robot launch file written to `folder` with another `perception` (tests of the
    driver alone need none that is camera-based) and `robot.options` changed; its path."""
    import yaml

    from robollm.config import launch_dir

    data = yaml.safe_load((launch_dir() / "real_panda_bimanual.yaml").read_text())
    data["perception"] = perception
    data["robot"]["options"].update(options)
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path
