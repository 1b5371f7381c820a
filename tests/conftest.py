"""Shared fixtures. Tests never reach a model hub: offline mode is forced here."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from robollm.config import LaunchConfig, load_config  # noqa: E402


@pytest.fixture(scope="session")
def config() -> LaunchConfig:
    return load_config()


@pytest.fixture
def session_factory(config):
    from robollm.runtime import Session
    from robollm.scene import load_scene

    made = []

    def make(scene="default", seed=0, executor="physics", cfg=None):
        s = Session(cfg or config, load_scene(scene) if isinstance(scene, str) else scene, seed,
                    executor=executor)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
