"""`robollm discover` and `robollm bench discovery`: bad input is one line and exit 2;
a shipped skill is never replaced unless asked."""

from __future__ import annotations

import json

import pytest

from robollm.cli import main
from robollm.errors import UserError
from robollm.training.discovery.verify import write_skill


@pytest.mark.parametrize(("argv", "message"), [
    (["--out", "{tmp}/o", "--budget-minutes", "0"], "must be positive"),
    (["--out", "{tmp}/o", "--scene", "no_such_scene"], "no_such_scene"),
    (["--out", "{tmp}/file"], "is a file"),
    (["--out", "{tmp}/o", "--proposer", "oracle"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    try:
        code = main(["discover", *[a.replace("{tmp}", str(tmp_path)) for a in argv]])
    except SystemExit as stop:  # argparse's own mistakes leave through the parser
        code = stop.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0]  # usage (argparse), then one line


def test_bench_refuses_too_few_steps(capsys):
    assert main(["bench", "discovery", "--steps", "3"]) == 2
    assert "--steps must be at least 64" in capsys.readouterr().err


def test_a_skill_in_the_library_is_replaced_only_when_asked(tmp_path):
    policy = tmp_path / "policy.safetensors"
    policy.write_bytes(b"weights")
    manifest = {"name": "slide_to_edge", "version": 0}
    folder = write_skill(tmp_path / "lib", manifest, policy, {"history": []})
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    with pytest.raises(UserError, match="--overwrite"):
        write_skill(tmp_path / "lib", {**manifest, "version": 1}, policy, {})
    assert json.loads((folder / "manifest.json").read_text())["version"] == 0
    write_skill(tmp_path / "lib", {**manifest, "version": 1}, policy, {}, overwrite=True)
    assert json.loads((folder / "manifest.json").read_text())["version"] == 1
