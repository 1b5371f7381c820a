import pytest
import yaml

from robollm.cli import main
from robollm.config import default_config_path, load_config
from robollm.errors import ConfigError


def write(tmp_path, data, name="launch.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


def default_data():
    return yaml.safe_load(default_config_path().read_text())


def test_default_config_loads():
    cfg = load_config()
    assert cfg.robot.driver == "pybullet"
    assert set(cfg.robot.arms) == {"left", "right"}
    assert cfg.controller("both_sync", "left").grasp_force == 70.0
    assert cfg.controller("left", "left").grasp_force == 40.0  # default where the file is silent


def test_unknown_key_names_file_and_key(tmp_path):
    data = default_data()
    data["robot"]["arms"]["left"]["bse"] = [0, 0, 0]
    p = write(tmp_path, data)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert str(p) in msg and "robot.arms.left.bse" in msg and "workspace_low" in msg


def test_wrong_type_names_key_and_expected_type(tmp_path):
    data = default_data()
    data["sim"]["timestep"] = "fast"
    p = write(tmp_path, data)
    with pytest.raises(ConfigError, match=r"sim\.timestep.*float.*'fast'"):
        load_config(p)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    p = write(tmp_path, "robot: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)


def test_semantic_checks(tmp_path):
    data = default_data()
    data["robot"]["controllers"]["sideways"] = {}
    with pytest.raises(ConfigError, match="coordination mode 'robot.controllers.sideways'"):
        load_config(write(tmp_path, data))
    data = default_data()
    data["robot"]["arms"]["left"]["base"] = [0, 0]
    with pytest.raises(ConfigError, match=r"robot\.arms\.left\.base.*3 numbers"):
        load_config(write(tmp_path, data))


@pytest.mark.parametrize("key, value, message", [
    ("num_examples", -1, r"planner\.num_examples.*0 \(all\) or more"),
    ("scoring", {"neutral": "empty"}, r"planner\.scoring\.neutral.*prior or no_task.*'empty'"),
    ("llm", {"backend": "http", "url": "http://127.0.0.1:9", "adapter": "saycan-smollm2"},
     r"unknown key 'planner\.llm\.adapter'; expected one of url, model"),
])
def test_planner_settings_are_checked(tmp_path, key, value, message):
    data = default_data()
    data["planner"][key] = value
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, data))


def test_check_config_cli(tmp_path, capsys):
    assert main(["check-config", str(default_config_path())]) == 0
    assert "ok" in capsys.readouterr().out
    data = default_data()
    data["planer"] = {}
    assert main(["check-config", str(write(tmp_path, data))]) == 2
    err = capsys.readouterr().err
    assert "planer" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
