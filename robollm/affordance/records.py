"""Affordance data: one JSON line per skill call tried in physics, and its folder.

A record holds what the planner could have known before the call (the perceived scene,
what each hand holds, which cues were sensed), the call, the heuristic's answer and what
physics made of it. Records carry the skill-library version they were collected with:
a model trained on one library's outcomes says nothing about another's. The folder
splits scenes, not calls, into training and held-out sets, so no held-out scene was
ever seen in training, even through another call in it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robollm.errors import UserError
from robollm.geometry import Pose
from robollm.world.state import ObjectInfo, SceneState

# Bumped whenever a skill's motion or success check changes what succeeds.
LIBRARY_VERSION = "builtin-skills-2026.12"
HELDOUT_EVERY = 5  # scene seeds divisible by this are held out
TRAIN_FILE, HELDOUT_FILE, META_FILE = "train.jsonl", "heldout.jsonl", "collection.json"
REQUIRED = ("version", "scene_seed", "step", "scene", "call", "heuristic", "success")


def is_heldout(scene_seed: int) -> bool:
    return scene_seed % HELDOUT_EVERY == 0


def object_record(o: ObjectInfo) -> dict[str, Any]:
    return {"name": o.name, "type": o.type, "colour": o.colour, "size": round(o.size, 5),
            "height": round(o.height, 5), "footprint": [round(v, 5) for v in o.footprint],
            "position": [round(v, 5) for v in o.pose.position],
            "orientation": [round(v, 6) for v in o.pose.orientation],
            "material": o.material, "properties": dict(o.properties)}


def scene_record(scene: SceneState, sensed: dict[str, set[str]]) -> dict[str, Any]:
    return {"objects": [object_record(o) for o in scene.objects.values()],
            "holding": dict(scene.holding),
            "sensed": {k: sorted(v) for k, v in sorted(sensed.items()) if v}}


def scene_from_record(data: dict[str, Any], regions: dict) -> SceneState:
    """The perceived scene back from a record (regions come from the launch file)."""
    objects = {}
    for o in data["objects"]:
        objects[o["name"]] = ObjectInfo(
            name=o["name"], type=o["type"], colour=o["colour"], size=float(o["size"]),
            pose=Pose(tuple(o["position"]), tuple(o["orientation"])), height=float(o["height"]),
            footprint=tuple(o["footprint"]), material=o.get("material"),
            properties=dict(o.get("properties") or {}))
    return SceneState(objects, dict(data["holding"]), regions)


@dataclass
class DataSet:
    train: list[dict[str, Any]]
    heldout: list[dict[str, Any]]
    meta: dict[str, Any]


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Checked records from one file: a collection's `.jsonl`, or a `.jsonl.gz` of held-out
    calls that `robollm train affordance` writes beside its weights."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return list(_read_lines(path))
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot be read as records ({e})") from None


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{path}:{n}: malformed record ({e.msg})") from None
            if not isinstance(record, dict) or any(k not in record for k in REQUIRED):
                missing = [k for k in REQUIRED if not isinstance(record, dict) or k not in record]
                raise UserError(f"{path}:{n}: malformed record (missing {', '.join(missing)})")
            if record["version"] != LIBRARY_VERSION:
                raise UserError(f"{path}:{n}: collected with skill library {record['version']!r}, this is "
                                f"{LIBRARY_VERSION!r}; collect again with `robollm collect affordance`")
            if not isinstance(record["scene"], dict) or not isinstance(record["call"], dict) \
                    or not isinstance(record["success"], bool):
                raise UserError(f"{path}:{n}: malformed record (scene, call or success has the wrong type)")
            yield record


def load_dataset(folder: str | Path, need_train: bool | None = True) -> DataSet:
    """Read and check a collected folder; any problem is one UserError line. `need_train`:
    both sets must hold records (True), the held-out one (False), or either (None: one of
    several folders, whose sizes are checked together)."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"--data {str(folder)!r}: no such folder")
    train_path, held_path = root / TRAIN_FILE, root / HELDOUT_FILE
    if not train_path.is_file() and not held_path.is_file():
        raise UserError(f"--data {str(folder)!r} holds no {TRAIN_FILE} or {HELDOUT_FILE}; "
                        "make one with `robollm collect affordance`")
    train = list(_read_lines(train_path)) if train_path.is_file() else []
    heldout = list(_read_lines(held_path)) if held_path.is_file() else []
    _check_sizes(str(folder), train, heldout, need_train)
    meta = {}
    if (root / META_FILE).is_file():
        try:
            meta = json.loads((root / META_FILE).read_text())
        except json.JSONDecodeError:
            raise UserError(f"{root / META_FILE}: not JSON") from None
    return DataSet(train, heldout, meta)


def _check_sizes(what: str, train: list, heldout: list, need_train: bool | None) -> None:
    if need_train is None:
        return
    if need_train and (not train or not heldout):
        raise UserError(f"--data {what!r}: {len(train)} training and {len(heldout)} held-out "
                        "records; both sets must be non-empty")
    if not need_train and not heldout:
        raise UserError(f"--data {what!r}: no held-out records")


def _in_order(record: dict[str, Any]) -> tuple[int, int]:
    return record["scene_seed"], record["step"]


def load_datasets(folders: Sequence[str | Path]) -> DataSet:
    """Several collections as one (for example a first run and a later one from further
    seeds). A scene seed found in two folders stops it: the same scene twice would be
    counted twice, or seen in training and held out at once."""
    if len(folders) == 1:
        return load_dataset(folders[0])
    parts = [load_dataset(f, need_train=None) for f in folders]
    seen: dict[int, str] = {}
    for folder, part in zip(folders, parts, strict=True):
        for seed in {r["scene_seed"] for r in part.train + part.heldout}:
            if seed in seen:
                raise UserError(f"--data {str(folder)!r} and {seen[seed]!r} both hold scene seed {seed}; "
                                "collections to train on together need different --seed ranges")
            seen[seed] = str(folder)
    train = sorted((r for p in parts for r in p.train), key=_in_order)
    heldout = sorted((r for p in parts for r in p.heldout), key=_in_order)
    _check_sizes(" ".join(map(str, folders)), train, heldout, True)
    return DataSet(train, heldout, {"collections": [p.meta for p in parts]})


def write_split(folder: Path, records: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Sorted by scene and step, so the same collection always gives the same bytes."""
    ordered = sorted(records, key=_in_order)
    counts = [0, 0]
    with open(folder / TRAIN_FILE, "w") as train, open(folder / HELDOUT_FILE, "w") as held:
        for r in ordered:
            out = held if is_heldout(r["scene_seed"]) else train
            counts[out is held] += 1
            out.write(json.dumps(r, sort_keys=True) + "\n")
    return counts[0], counts[1]
