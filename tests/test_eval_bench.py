"""`robollm bench eval` measures the executors on the same episodes and checks they agree."""

import json

import yaml

from robollm.cli import main
from robollm.config import default_config_path


def test_bench_eval_reports_each_executor_and_the_ratio(tmp_path, capsys):
    data = yaml.safe_load(default_config_path().read_text())
    data["planner"]["llm"] = {"backend": "fake"}
    data["planner"]["max_steps"] = 2
    config = tmp_path / "fake.yaml"
    config.write_text(yaml.safe_dump(data))
    code = main(["bench", "eval", "--suite", "wording", "--limit", "2", "--executor", "symbolic",
                 "--config", str(config), "--no-ray", "--min-processes", "0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["same_outcomes"] and out["runs"] == 2
    names = [e["name"] for e in out["executors"]]
    assert names == ["1 worker", "2 workers"]
    assert all(e["episodes_per_s"] > 0 and e["startup_s"] >= 0 for e in out["executors"])
    assert "speedup" in out["executors"][1]
