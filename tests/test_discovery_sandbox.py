"""Model-written reward code: what the sandbox runs, and the hostile samples it refuses."""

from __future__ import annotations

import time

import pytest

from robollm.training.discovery.sandbox import RewardSandbox, SandboxError, check_source

GOOD = """
SCALE = 2.0
def reward(m):
    d = hypot(m["hand_x"] - m["obj_x"], m["hand_y"] - m["obj_y"])
    return -SCALE * min(d, 1.0) + (1.0 if m["distance"] < 0.01 else 0.0)
"""


def test_a_well_behaved_term_runs_in_its_own_process():
    with RewardSandbox(GOOD) as sandbox:
        value = sandbox({"hand_x": 0.3, "obj_x": 0.6, "hand_y": 0.0, "obj_y": 0.4, "distance": 0.0})
        assert value == pytest.approx(-2 * 0.5 + 1.0)
        assert sandbox._proc.pid != 0


REFUSED_BEFORE_RUNNING = {
    "import": "import os\ndef reward(m):\n    return 0.0",
    "import inside": "def reward(m):\n    import socket\n    return 0.0",
    "open": "def reward(m):\n    return len(open('/etc/passwd').read())",
    "class walk": "def reward(m):\n    return len(().__class__.__bases__[0].__subclasses__())",
    "globals": "def reward(m):\n    return reward.__globals__",
    "dunder name": "def reward(m):\n    return __builtins__",
    "dunder string": "def reward(m):\n    return m['__class__']",
    "eval": "def reward(m):\n    return eval('1')",
    "getattr": "def reward(m):\n    return getattr(m, 'keys')",
    "lambda": "f = lambda: 0\ndef reward(m):\n    return 0.0",
    "class": "class A:\n    pass\ndef reward(m):\n    return 0.0",
    "try": "def reward(m):\n    try:\n        return 1.0\n    except Exception:\n        return 0.0",
    "no reward": "def score(m):\n    return 0.0",
    "syntax": "def reward(m) return 0",
}


@pytest.mark.parametrize("name", sorted(REFUSED_BEFORE_RUNNING))
def test_hostile_code_is_refused_before_it_runs(name):
    with pytest.raises(SandboxError):
        check_source(REFUSED_BEFORE_RUNNING[name])


@pytest.mark.parametrize(("source", "message"), [
    ("def reward(m):\n    while True:\n        pass\n", "longer than"),
    ("def reward(m):\n    x = [0] * (10 ** 9)\n    return len(x)\n", "MemoryError"),
    ("def reward(m):\n    return 'a' * (10 ** 10)\n", "MemoryError"),
    ("def reward(m):\n    return m['missing']\n", "KeyError"),
    ("def reward(m):\n    return float('nan')\n", "not a finite number"),
])
def test_runaway_code_is_stopped_by_limits(source, message):
    start = time.perf_counter()
    with RewardSandbox(source, call_seconds=0.5) as sandbox, pytest.raises(SandboxError, match=message):
        sandbox({"distance": 1.0})
    assert time.perf_counter() - start < 5.0


def test_code_gets_only_the_listed_builtins_and_no_files():
    # `range` is there; `print` and `__import__` are not, and nothing can be written.
    with RewardSandbox("def reward(m):\n    return sum(range(4))\n") as sandbox:
        assert sandbox({}) == 6.0
    with RewardSandbox("def reward(m):\n    print('x')\n    return 0.0\n") as sandbox, \
            pytest.raises(SandboxError, match="NameError"):
        sandbox({})
