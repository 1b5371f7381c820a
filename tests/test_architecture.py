"""The dependency rule, checked on the import graph of the source (not a list of files).

- The core (`robollm/`) never imports the simulator (`robollm.sim`) or a concrete skill
  (`robollm.skills`); it names them only in registry entry-point strings.
- `robollm.sim` and `robollm.skills` import the core, never each other.
- No module imports from the CLI layer except the CLI layer itself.
- No import cycles between modules, counting imports inside functions too.
- No attribute probing (`hasattr`) of robots, drivers or sensors: capabilities are types.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"robollm": ROOT / "robollm", "robollm.sim": ROOT / "sim", "robollm.skills": ROOT / "skills",
            "robollm.launch": ROOT / "launch"}


def modules() -> dict[str, Path]:
    out = {}
    for prefix, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([prefix, *parts])
            if prefix == "robollm" and parts and parts[0] in ("sim", "skills", "launch"):
                continue
            out[name] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules `name` imports (at any depth of the file, except under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in known and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports(path, name, known) for name, path in mods.items()}


def part(module: str) -> str:
    for p in ("robollm.sim", "robollm.skills", "robollm.launch"):
        if module == p or module.startswith(p + "."):
            return p
    return "core"


def test_the_graph_sees_the_code():
    g = graph()
    assert len(g) > 60
    assert "robollm.world.symbolic" in g["robollm.session"]
    assert "robollm.skill" in g["robollm.skills.manipulation"]


def test_core_never_imports_the_simulator_or_a_concrete_skill():
    bad = [(m, t) for m, ts in graph().items() if part(m) == "core"
           for t in ts if part(t) in ("robollm.sim", "robollm.skills")]
    assert not bad, f"core modules import sim/ or skills/: {bad}"


def test_sim_and_skills_never_import_each_other():
    bad = [(m, t) for m, ts in graph().items() for t in ts
           if {part(m), part(t)} == {"robollm.sim", "robollm.skills"}]
    assert not bad, f"sim/ and skills/ import each other: {bad}"


def test_nothing_outside_the_cli_imports_it():
    cli = lambda m: m == "robollm.cli" or m.startswith("robollm.commands")  # noqa: E731
    bad = [(m, t) for m, ts in graph().items() if not cli(m) and m != "robollm.__main__"
           for t in ts if cli(t)]
    assert not bad, f"library modules import the command line: {bad}"


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_check_has_teeth():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_attribute_probing_of_robots_drivers_or_sensors():
    offenders = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hasattr":
                target = ast.unparse(node.args[0]).lower()
                if any(w in target for w in ("robot", "driver", "sensor", "camera")):
                    offenders.append(f"{name}: {ast.unparse(node)}")
    assert not offenders, offenders
