"""Third-party packages add skills, drivers, perception, affordance models and language-model
backends through Python entry points; a tiny plug-in is installed with pip into a
temporary folder and used through the ordinary registries."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from robollm.config import load_config
from robollm.errors import ConfigError, UserError

PLUGIN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "robollm-demo-plugin"
        version = "0.1.0"

        [tool.setuptools]
        py-modules = ["demo_plugin"]

        [project.entry-points."robollm.skills"]
        wipe-v0 = "demo_plugin:Wipe"

        [project.entry-points."robollm.affordance"]
        half-v0 = "demo_plugin:Half"

        [project.entry-points."robollm.llm"]
        constant-v0 = "demo_plugin:make_constant"

        [project.entry-points."robollm.perception"]
        broken-v0 = "demo_plugin:DoesNotExist"
    """,
    "demo_plugin.py": """
        from robollm.affordance.base import Affordance
        from robollm.llm.fake import FakeLanguageModel
        from robollm.skill import Outcome, Param, Skill


        class Wipe(Skill):
            name = "wipe"
            template = "wipe the {obj}"
            params = (Param("obj", ("object",)),)

            def run(self, ctx, obj):
                return Outcome(True)

            def apply(self, state, obj):
                return Outcome(True)


        class Half(Affordance):
            name = "half"

            def score(self, given, calls):
                return [0.5 for _ in calls]


        def make_constant():
            return FakeLanguageModel({}, -3.0)
    """,
}


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("plugin-src")
    for name, text in PLUGIN.items():
        (src / name).write_text(textwrap.dedent(text))
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(target), str(src)],
                   check=True, capture_output=True, text=True)
    assert list(target.glob("robollm_demo_plugin-*.dist-info"))
    return target


@pytest.fixture
def installed(plugin_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_dir))
    yield plugin_dir
    sys.modules.pop("demo_plugin", None)


def test_a_plugin_skill_joins_the_library(installed):
    from robollm.session import skill_registry

    registry = skill_registry(load_config())
    assert "wipe" in registry and "pick" in registry
    assert registry.spec("wipe").plugin == "robollm-demo-plugin"
    assert registry.make("wipe").describe(obj="red_block") == "wipe the red block"


def test_plugin_affordance_and_backend_are_chosen_by_name(installed, tmp_path):
    import yaml

    from robollm.config import default_config_path
    from robollm.llm.registry import llm_registry

    data = yaml.safe_load(default_config_path().read_text())
    data["planner"]["affordance"] = "half"
    data["planner"]["llm"] = {"backend": "constant"}
    path = tmp_path / "launch.yaml"
    path.write_text(yaml.safe_dump(data))
    cfg = load_config(path)
    assert cfg.planner.affordance.name == "half" and cfg.planner.llm.name == "constant"
    model = llm_registry().make("constant")
    assert model.score("p", [" x"])[0].logprob == -3.0
    data["planner"]["llm"] = {"backend": "constant", "url": "http://x"}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="takes no options"):
        load_config(path)


def test_a_broken_plugin_fails_only_when_used(installed):
    from robollm.perception.registry import perception_registry

    registry = perception_registry()
    assert "broken" in registry.names()  # listing it costs nothing
    with pytest.raises(UserError, match="robollm-demo-plugin.*cannot be loaded"):
        registry.make("broken", robot=None, config=None, options=None)


def test_unknown_names_get_a_suggestion():
    from robollm.affordance.registry import affordance_registry

    with pytest.raises(UserError, match="did you mean 'heuristic'"):
        affordance_registry().spec("heuristc")
