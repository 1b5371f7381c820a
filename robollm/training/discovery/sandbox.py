"""Running reward terms that a language model wrote, without trusting them.

A model may add a shaping term to a proposal as Python source defining
`reward(m)`, where `m` maps measure names (`distance`, `hand_x`, ...) to floats. That
text is untrusted, so it passes three gates:

1. An AST check before anything runs: no imports, no attribute access at all (so no
   `__class__`/`__globals__` walks), no names with underscores at the front, no
   `global`, `exec`, `eval`, `open`, `getattr`, class definitions, `with` or `try`
   blocks; only the `reward` function and constants at the top level.
2. A separate worker process that runs it with a short list of builtins (numbers,
   `min`/`max`/`abs`, `math`-style functions as plain names) and no `__import__`, in
   an empty temporary folder as its working directory, with an empty environment.
3. Resource limits on that process (`resource`): address space, CPU seconds, no file
   it may write to (RLIMIT_FSIZE 0), few file descriptors; and a wall-clock limit per
   call that the parent enforces by killing the worker.

Without imports or attributes, nothing the code can name reaches a socket or a file,
so it has no network and no file access outside its folder. Any failure turns into
`SandboxError`, with a reason, and the caller drops the term.
"""

from __future__ import annotations

import ast
import json
import select
import subprocess
import sys
import tempfile

from robollm.errors import UserError

MEMORY_BYTES = 256 * 2**20
CPU_SECONDS = 5
CALL_SECONDS = 0.5  # wall-clock limit for compiling, and for each call
MAX_SOURCE = 4000  # characters
SAFE_BUILTINS = ("abs", "min", "max", "sum", "len", "range", "float", "int", "round", "bool", "pow",
                 "True", "False", "None")
MATH_NAMES = ("sqrt", "exp", "log", "tanh", "hypot", "cos", "sin", "atan2", "pi")
_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.AugAssign, ast.If,
    ast.For, ast.While, ast.Break, ast.Continue, ast.Pass, ast.Expr, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Subscript,
    ast.Tuple, ast.List, ast.Dict, ast.keyword, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
    ast.expr_context, ast.Slice,
)
_FORBIDDEN_NAMES = {"eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
                    "vars", "dir", "input", "breakpoint", "help", "type", "object", "super", "memoryview"}


class SandboxError(UserError):
    """Model-written code that was refused, failed, or ran out of time or memory."""


def check_source(source: str) -> None:
    """Refuse code outside the allowed subset, naming the first offence and its line."""
    if len(source) > MAX_SOURCE:
        raise SandboxError(f"reward code is {len(source)} characters; at most {MAX_SOURCE}")
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise SandboxError(f"reward code does not parse: {e.msg} (line {e.lineno})") from None
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if not isinstance(node, _ALLOWED_NODES):
            raise SandboxError(f"reward code line {line}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in _FORBIDDEN_NAMES):
            raise SandboxError(f"reward code line {line}: the name {node.id!r} is not allowed")
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_"):
            raise SandboxError(f"reward code line {line}: the name {node.name!r} is not allowed")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
            raise SandboxError(f"reward code line {line}: strings starting with '_' are not allowed")
    top = [n for n in tree.body if not isinstance(n, ast.Assign)]
    if [type(n) for n in top] != [ast.FunctionDef] or top[0].name != "reward" or len(top[0].args.args) != 1:
        raise SandboxError("reward code must define exactly one function, reward(m), and constants")


# The worker: limits itself before reading any code, then answers one JSON line per line.
_WORKER = r"""
import json, math, resource, sys
mem, cpu = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
resource.setrlimit(resource.RLIMIT_NOFILE, (8, 8))
import builtins
safe = {k: getattr(builtins, k) for k in json.loads(sys.argv[3])}
safe.update({k: getattr(math, k) for k in json.loads(sys.argv[4])})
source = sys.stdin.readline()
namespace = {"__builtins__": safe}
def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
try:
    exec(compile(json.loads(source), "<reward>", "exec"), namespace)
    fn = namespace["reward"]
    answer({"ok": True})
except BaseException as e:
    answer({"error": type(e).__name__ + ": " + str(e)[:200]})
    sys.exit(0)
for line in sys.stdin:
    try:
        value = float(fn(dict(json.loads(line))))
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        answer({"value": value})
    except BaseException as e:
        answer({"error": type(e).__name__ + ": " + str(e)[:200]})
"""


class RewardSandbox:
    """One worker process holding one checked `reward(m)`; call it per control tick."""

    def __init__(self, source: str, memory_bytes: int = MEMORY_BYTES, cpu_seconds: int = CPU_SECONDS,
                 call_seconds: float = CALL_SECONDS) -> None:
        check_source(source)
        self.call_seconds = call_seconds
        self._folder = tempfile.TemporaryDirectory(prefix="robollm-reward-")
        self._proc: subprocess.Popen | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WORKER, str(memory_bytes), str(cpu_seconds),
             json.dumps(SAFE_BUILTINS[:-3]), json.dumps(MATH_NAMES)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self._folder.name, env={}, text=True, close_fds=True)
        self._send(json.dumps(source))
        reply = self._receive()
        if "error" in reply:
            self.close()
            raise SandboxError(f"reward code failed to load: {reply['error']}")

    def __call__(self, measures: dict[str, float]) -> float:
        self._send(json.dumps({k: float(v) for k, v in measures.items()}))
        reply = self._receive()
        if "error" in reply:
            raise SandboxError(f"reward code failed: {reply['error']}")
        return float(reply["value"])

    def _send(self, line: str) -> None:
        if self._proc is None:
            raise SandboxError("reward sandbox is closed")
        try:
            self._proc.stdin.write(line + "\n")  # type: ignore[union-attr]
            self._proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            self.close()
            raise SandboxError("reward code's process ended (a resource limit, or it crashed)") from None

    def _receive(self) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self.call_seconds)
        if not ready:
            self.close()
            raise SandboxError(f"reward code took longer than {self.call_seconds} s and was stopped")
        line = self._proc.stdout.readline()
        if not line:
            self.close()
            raise SandboxError("reward code's process ended (a resource limit, or it crashed)")
        return json.loads(line)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._proc = None
        self._folder.cleanup()

    def __enter__(self) -> RewardSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten sandbox must not leave a process behind
        if getattr(self, "_proc", None) is not None:
            self.close()
