"""A user's own open_clip checkpoint loads from the launch file; bad ones fail in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from robollm.cli import main
from robollm.config import default_config_path, load_config
from robollm.errors import UserError
from robollm.perception.model import TINY_ARCH, OpenClipCheckpoint, open_clip_module


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A randomly initialised open_clip model of a small architecture, saved to a file."""
    open_clip = open_clip_module()
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("clip") / "tiny-random.pt"
    torch.save(open_clip.create_model(TINY_ARCH).state_dict(), path)
    return path


def launch_with(tmp_path, perception) -> str:
    data = yaml.safe_load(default_config_path().read_text())
    data["perception"] = perception
    path = tmp_path / "camera.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_a_saved_open_clip_model_loads_and_embeds(checkpoint):
    model = OpenClipCheckpoint(TINY_ARCH, str(checkpoint))
    img = model.embed_images(torch.zeros(3, 3, 64, 64))
    txt = model.embed_texts(["a photo of a red block", "a photo of a bowl"])
    assert img.shape == (3, 128) and txt.shape == (2, 128)
    assert torch.allclose(img.norm(dim=1), torch.ones(3), atol=1e-5)


def test_unknown_arch_missing_file_and_misfit_checkpoint(checkpoint, tmp_path):
    with pytest.raises(UserError, match="not an open_clip architecture"):
        OpenClipCheckpoint("ViT-B-33", str(checkpoint))
    with pytest.raises(UserError, match="no such file"):
        OpenClipCheckpoint(TINY_ARCH, str(tmp_path / "nothing.pt"))
    with pytest.raises(UserError, match="does not fit"):
        OpenClipCheckpoint("RN50", str(checkpoint))
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(UserError, match="checkpoint"):
        OpenClipCheckpoint(TINY_ARCH, str(junk))


def test_check_config_reports_a_bad_checkpoint_in_one_line(checkpoint, tmp_path, capsys):
    good = launch_with(tmp_path, {"name": "clip", "arch": TINY_ARCH, "checkpoint": str(checkpoint)})
    assert main(["check-config", good]) == 0
    bad = launch_with(tmp_path, {"name": "clip", "arch": "RN50", "checkpoint": str(checkpoint)})
    assert main(["check-config", bad]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not fit" in err and "perception" in err
    lone = launch_with(tmp_path, {"name": "clip", "arch": TINY_ARCH})
    assert main(["check-config", lone]) == 2
    assert "'arch' and 'checkpoint' go together" in capsys.readouterr().err
    typo = launch_with(tmp_path, {"name": "clip", "camra": "x"})
    assert main(["check-config", typo]) == 2
    assert "camra" in capsys.readouterr().err


def test_a_user_checkpoint_runs_the_whole_pass_zero_shot(checkpoint, tmp_path, session_factory):
    """Random weights recognise nothing with confidence: the look must say so, not crash,
    and nothing it could not place may reach the scene."""
    cfg = load_config(launch_with(tmp_path, {"name": "clip", "arch": TINY_ARCH, "checkpoint": str(checkpoint),
                                             "min_type_score": 0.9}))
    session = session_factory("default", cfg=cfg)
    report = session.perception.report()
    assert report.startswith("saw 5 objects") and report.count("matched no type above 0.9") == 5
    assert session.scene.objects == {}
    assert session.perception.name.startswith("camera (table_camera) + CLIP robollm-rn-tiny")


def test_training_saves_a_model_that_reloads_to_the_same_embeddings(tmp_path):
    from robollm.perception.model import load_project_model
    from robollm.training.perception import TrainSettings, all_prompts, train

    rng = np.random.default_rng(0)
    data = {"crops": rng.integers(0, 255, (40, 64, 64, 3), dtype=np.uint8),
            "colours": np.array(["red", "blue"] * 20), "types": np.array(["block", "bowl", "cup", "other"] * 10)}

    def sentence(texts):  # a stand-in for the sentence encoder: a fixed vector per text
        return torch.stack([torch.from_numpy(np.random.default_rng(abs(hash(t)) % 2**32).normal(size=384))
                            .float() for t in texts])

    model, stats = train(data, sentence, TrainSettings(epochs=1, batch_size=16))
    assert stats["train_crops"] + stats["valid_crops"] == 40 and len(stats["history"]) == 1
    model.sentence = sentence  # prompts not cached yet come from the stand-in
    model.save(tmp_path / "m.pt", {"note": "test"}, all_prompts())
    again = load_project_model(tmp_path / "m.pt")
    x = torch.zeros(2, 3, 64, 64)
    assert torch.allclose(model.embed_images(x), again.embed_images(x), atol=2e-2)  # stored in half precision
    assert torch.allclose(model.embed_texts(["a photo of a red block"]),
                          again.embed_texts(["a photo of a red block"]), atol=2e-2)


def test_the_inference_copy_folds_every_batch_norm_and_gives_the_same_embeddings():
    """Also: its attention pool asks only the returned (mean) token's query."""
    from robollm.perception.model import TINY_CONFIG, FirstTokenPool, build_tower, inference_copy

    torch.manual_seed(0)
    tower = build_tower(TINY_CONFIG)
    for m in tower.modules():  # running statistics that are not the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    tower.eval()
    fast = inference_copy(tower)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in tower.modules())  # what is saved stays as it was
    assert isinstance(fast.attnpool, FirstTokenPool) and not isinstance(tower.attnpool, FirstTokenPool)
    x = torch.rand(5, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        want = tower(x)
        assert torch.allclose(fast(x.contiguous(memory_format=torch.channels_last)), want, atol=1e-4)
        assert torch.allclose(fast(x[:1]), want[:1], atol=1e-4)  # one crop as in a batch
