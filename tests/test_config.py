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
    with pytest.raises(ConfigError, match=r"key 'sim\.timestep' should be a number, got 'fast'"):
        load_config(p)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["robot"]["arms"]["left"].__setitem__("base", ["a", 0, 0]),
     r"key 'robot\.arms\.left\.base\[0\]' should be a number, got 'a'$"),
    (lambda d: d["robot"]["arms"]["left"].__setitem__("base", {"x": 0}),
     r"key 'robot\.arms\.left\.base' should be a list of numbers, got a mapping$"),
    (lambda d: d["planner"].__setitem__("max_steps", 2.5),
     r"key 'planner\.max_steps' should be a whole number, got 2\.5$"),
    (lambda d: d["sim"].__setitem__("gui", "yes"), r"key 'sim\.gui' should be true or false, got 'yes'$"),
    (lambda d: d["robot"]["controllers"]["both_sync"]["left"].__setitem__("ee_speed", "1e-3"),
     r"ee_speed' should be a number, got '1e-3' \(YAML reads .* write 1\.0e-3\)$"),
    (lambda d: d["robot"].__setitem__("arms", [1, 2]), r"key 'robot\.arms' should be a mapping of names to "
                                                         r"mappings, got a list$"),
])
def test_type_errors_read_as_a_user_would(tmp_path, mutate, message):
    data = default_data()
    mutate(data)
    with pytest.raises(ConfigError, match=message) as e:
        load_config(write(tmp_path, data))
    assert "generator" not in str(e.value) and "typing" not in str(e.value)


def test_a_folder_given_for_the_launch_file_is_called_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, expected a file"):
        load_config(tmp_path)


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


def http(**options):
    return {"backend": "http", "url": "http://127.0.0.1:9", **options}


# Mistakes that `check-config` said "ok" to: each fails with the file, the dotted key and
# what was expected, in `check-config` and in `run` alike.
BAD_LAUNCH = [
    ("missing prompt", lambda d: d["planner"].__setitem__("prompt", "nosuch.txt"),
     r"key 'planner\.prompt': prompt '.*nosuch\.txt': no such file"),
    ("prompt folder", lambda d: d["planner"].__setitem__("prompt", "/"),
     r"key 'planner\.prompt': / is a folder, expected a file"),
    ("missing model", lambda d: d["planner"]["llm"].__setitem__("model", "/no/model"),
     r"key 'planner\.llm\.model': language model not found: /no/model does not exist"),
    ("missing adapter", lambda d: d["planner"]["llm"].__setitem__("adapter", "nosuch-adapter"),
     r"key 'planner\.llm\.adapter': language-model adapter 'nosuch-adapter': no such folder"),
    ("unknown dtype", lambda d: d["planner"]["llm"].__setitem__("dtype", "float8"),
     r"key 'planner\.llm\.dtype': unknown dtype 'float8'; expected one of float32"),
    ("unknown affordance", lambda d: d["planner"].__setitem__("affordance", "magic"),
     r"key 'planner\.affordance': unknown affordance model 'magic'.*heuristic"),
    ("unknown perception", lambda d: d.__setitem__("perception", "xray"),
     r"key 'perception': unknown perception 'xray'.*ground_truth"),
    ("ftp url", lambda d: d["planner"].__setitem__("llm", {"backend": "http", "url": "ftp://host:1"}),
     r"key 'planner\.llm\.url' should be an http:// or https:// URL with a host.*got 'ftp://host:1'"),
    ("url without scheme", lambda d: d["planner"].__setitem__("llm", {"backend": "http", "url": "localhost:8000"}),
     r"key 'planner\.llm\.url' should be an http:// or https:// URL.*got 'localhost:8000'"),
    ("url without host", lambda d: d["planner"].__setitem__("llm", {"backend": "http", "url": "http://"}),
     r"key 'planner\.llm\.url' should be an http:// or https:// URL with a host"),
    ("negative timeout", lambda d: d["planner"].__setitem__("llm", http(timeout=-1)),
     r"key 'planner\.llm\.timeout' should be a positive number of seconds, got -1\.0"),
    ("negative retries", lambda d: d["planner"].__setitem__("llm", http(retries=-1)),
     r"key 'planner\.llm\.retries' should be 0 or more, got -1"),
    ("negative ee_speed", lambda d: d["robot"]["controllers"]["both_sync"]["left"].__setitem__("ee_speed", -0.1),
     r"key 'robot\.controllers\.both_sync\.left\.ee_speed' should be a positive speed in m/s, got -0\.1"),
    ("zero grasp_force", lambda d: d["robot"]["controllers"]["both_sync"]["right"].__setitem__("grasp_force", 0),
     r"key 'robot\.controllers\.both_sync\.right\.grasp_force' should be a positive force in N, got 0\.0"),
    ("negative grasp_force", lambda d: d["robot"]["controllers"].__setitem__("left", {"left": {"grasp_force": -5}}),
     r"key 'robot\.controllers\.left\.left\.grasp_force' should be a positive force"),
    ("joint speed scale", lambda d: d["robot"]["controllers"].__setitem__("right", {"right": {"joint_speed_scale": 1.5}}),
     r"key 'robot\.controllers\.right\.right\.joint_speed_scale' should be a fraction in \(0, 1\]"),
    ("controller timeout", lambda d: d["robot"]["controllers"].__setitem__("right", {"right": {"timeout": 0}}),
     r"key 'robot\.controllers\.right\.right\.timeout' should be a positive time"),
    ("settle time", lambda d: d["robot"]["controllers"].__setitem__("right", {"right": {"settle_time": -1}}),
     r"settle_time' should be a time of 0 s or more"),
    ("position tolerance", lambda d: d["robot"]["controllers"].__setitem__("right", {"right": {"position_tolerance": 0}}),
     r"position_tolerance' should be a positive distance"),
    ("inverted workspace", lambda d: d["robot"]["arms"]["left"].__setitem__("workspace_low", [0.9, -0.14, -0.02]),
     r"keys 'robot\.arms\.left\.workspace_low' and 'workspace_high'.*x from 0\.9 to 0\.78"),
    ("inverted table", lambda d: d.__setitem__("table", {"low": [0.7, -0.5], "high": [0.3, 0.5]}),
     r"keys 'table\.low' and 'table\.high'.*x from 0\.7 to 0\.3"),
    ("options the driver ignores", lambda d: d["robot"].__setitem__("options", {"speed": 1}),
     r"key 'robot\.options': the 'pybullet' driver takes no options, got speed"),
    ("unknown driver", lambda d: d["robot"].__setitem__("driver", "ur5"),
     r"key 'robot\.driver': unknown robot driver 'ur5'"),
    ("missing scene", lambda d: d["sim"].__setitem__("scene", "nosuch.yaml"),
     r"key 'sim\.scene': scene '.*nosuch\.yaml': no such file"),
    ("unknown built-in scene", lambda d: d["sim"].__setitem__("scene", "nosuch"),
     r"key 'sim\.scene': scene 'nosuch': no such file or built-in scene"),
    ("skills library", lambda d: d["skills"].__setitem__("library", "nosuch.module:fill"),
     r"key 'skills\.library' = 'nosuch\.module:fill' could not be loaded"),
]


@pytest.mark.parametrize("name, mutate, message", BAD_LAUNCH, ids=[b[0] for b in BAD_LAUNCH])
def test_check_config_refuses_what_run_would_trip_on(tmp_path, capsys, name, mutate, message):
    import re

    data = default_data()
    mutate(data)
    p = write(tmp_path, data)
    assert main(["check-config", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"robollm: error: {p}: ")
    assert re.search(message, err), err
    # `run` stops at the same check, before a model or the simulator loads
    argv = ["run", "put the red block in the green bowl", "--config", str(p)]
    assert main(argv) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_scripted_run_checks_everything_but_the_planner(tmp_path, capsys):
    data = default_data()
    data["robot"]["options"] = {"speed": 1}
    assert main(["run", "--plan", "pick red_block", "--config", str(write(tmp_path, data))]) == 2
    assert "key 'robot.options'" in capsys.readouterr().err
    data = default_data()
    data["planner"]["prompt"] = "nosuch.txt"  # a scripted plan never reads the prompt
    code = main(["run", "--plan", "pick red_block", "--executor", "symbolic", "--config",
                 str(write(tmp_path, data)), "--json"])
    assert code == 0


def test_relative_paths_are_read_from_the_launch_files_folder(tmp_path, monkeypatch):
    from robollm.config import launch_dir
    from robollm.launch_check import check_launch

    folder = tmp_path / "robot" / "launch"
    (folder / "scenes").mkdir(parents=True)
    (folder / "scenes" / "two.yaml").write_text(
        "objects: [{type: block, colour: red}, {type: bowl, colour: green}]\n")
    (folder / "my_prompt.txt").write_text((launch_dir() / "prompts" / "saycan_tuned.txt").read_text())
    data = default_data()
    data["sim"]["scene"] = "scenes/two.yaml"
    data["planner"]["prompt"] = "my_prompt.txt"
    data["planner"]["llm"]["adapter"] = None
    p = write(folder, data)
    monkeypatch.chdir(tmp_path)  # not the launch file's folder
    cfg = load_config(p)
    assert cfg.sim.scene == str(folder / "scenes" / "two.yaml")
    assert cfg.planner.prompt == str(folder / "my_prompt.txt")
    found = check_launch(cfg)
    assert found.scene.names() == ["red_block", "green_bowl"]
    # names of shipped things stay names
    cfg = load_config()
    assert (cfg.sim.scene, cfg.planner.prompt, cfg.planner.llm.options.adapter) == \
        ("default", "saycan_scene", "saycan-hands-smollm2")
    # a missing relative file is reported with the launch file and the key
    data["sim"]["scene"] = "scenes/three.yaml"
    with pytest.raises(ConfigError, match=rf"^{p}: key 'sim\.scene': scene '{folder}/scenes/three\.yaml': no such file"):
        check_launch(load_config(write(folder, data)))


def test_the_model_path_is_relative_to_the_launch_file_but_a_server_model_name_is_not(tmp_path):
    data = default_data()
    data["planner"]["llm"] = {"backend": "hf", "model": "models/tiny.gguf"}
    cfg = load_config(write(tmp_path, data))
    assert cfg.planner.llm.options.model == str(tmp_path / "models" / "tiny.gguf")
    data["planner"]["llm"] = {"backend": "http", "url": "http://127.0.0.1:9", "model": "org/model-1b"}
    assert load_config(write(tmp_path, data)).planner.llm.options.model == "org/model-1b"


def test_check_config_says_what_it_checked(capsys):
    assert main(["check-config", str(default_config_path())]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "saycan_scene.txt" in out and "saycan-hands-smollm2" in out and "default.yaml" in out


def test_check_config_refuses_ground_truth_on_a_driver_without_it(capsys, tmp_path):
    from conftest import real_launch_copy

    real = real_launch_copy(tmp_path, perception="ground_truth")
    assert main(["check-config", str(real)]) == 2
    err = capsys.readouterr().err
    assert f"{real}: key 'perception' = ground_truth needs a driver that offers GroundTruth" in err
    assert len(err.strip().splitlines()) == 1


def test_every_shipped_launch_file_loads():
    """The launch files the README points to parse and validate as they ship."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "launch"
    files = sorted(folder.glob("*.yaml"))
    assert {"sim_bimanual.yaml", "sim_hand_written.yaml", "real_panda_bimanual.yaml"} <= {f.name for f in files}
    loaded = {f.name: load_config(f) for f in files}  # raises ConfigError on any mistake
    assert loaded["sim_hand_written.yaml"].skills.library == "robollm.skills.catalog:register_hand_written"
    assert loaded["sim_bimanual.yaml"].skills.library == "robollm.skills.catalog:register_with_hands"
