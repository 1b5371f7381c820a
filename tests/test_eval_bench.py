"""`robollm bench eval` measures the executors on the same episodes and checks they agree."""

import json

from robollm.cli import main


def test_bench_eval_reports_each_executor_and_the_ratio(write_launch, capsys):
    config = write_launch(max_steps=2)
    code = main(["bench", "eval", "--suite", "wording", "--limit", "2", "--executor", "symbolic",
                 "--config", str(config), "--no-ray", "--min-processes", "0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["same_outcomes"] and out["runs"] == 2
    names = [e["name"] for e in out["executors"]]
    assert names == ["1 worker", "2 workers"]
    assert all(e["episodes_per_s"] > 0 and e["startup_s"] >= 0 for e in out["executors"])
    assert "speedup" in out["executors"][1]
