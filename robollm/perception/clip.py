"""`clip-v0`: objects from an RGB-D camera, recognised by a CLIP model.

One look: the camera's depth gives the table plane and the regions standing above it
(`robollm.perception.proposals`); each region's crop is embedded by the model's image
tower, all crops in one batch, and compared with the text embeddings of the prompts
"a photo of a {colour} {type}", "a photo of something {colour}" and "a photo of a
{type}". The pair with the highest summed log-probability names the object. A region
whose best type scores below `min_type_score` (or that looks like none of the types) is
reported and left out of the scene, so the planner never acts on it. Poses and sizes
come from the region's 3-D points; names stay stable across looks (`tracking`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch

from robollm.config import LaunchConfig
from robollm.errors import ConfigError
from robollm.perception.base import Perception
from robollm.perception.crops import crop, to_tensor
from robollm.perception.model import ClipModel, OpenClipCheckpoint, load_project_model
from robollm.perception.proposals import Hand, Look, Measured, look
from robollm.perception.shape import has_width, ruled_out
from robollm.perception.tracking import Detection, Gripper, Tracker
from robollm.perception.vocabulary import (
    COLOUR_NAMES,
    OTHER,
    TYPES,
    colour_prompt,
    object_prompt,
    type_prompt,
)
from robollm.robot.base import Robot
from robollm.robot.sensors import CameraFrame
from robollm.world.regions import table_regions
from robollm.world.state import ObjectInfo, SceneState

DEFAULT_MODEL = "clip-rn-tiny.pt"
ROUND_TYPES = ("bowl", "plate", "cup")
MAX_BASE = 0.15  # m above the table: a region based higher than this stands on nothing


def default_model_path() -> Path:
    return Path(str(files("robollm.launch"))) / "perception" / DEFAULT_MODEL


@dataclass
class ClipOptions:
    camera: str = "table_camera"  # the robot's camera sensor to look through
    model: str | None = None  # a model made by `robollm train perception` (default: the shipped one)
    arch: str | None = None  # an open_clip architecture name, with `checkpoint`: a pretrained model
    checkpoint: str | None = None  # a local open_clip checkpoint file for `arch`
    colours: list[str] = field(default_factory=lambda: list(COLOUR_NAMES))
    types: list[str] = field(default_factory=lambda: list(TYPES))
    min_type_score: float = 0.3  # below this a region matches no type
    min_pixels: int = 40  # smaller regions are specks, not objects


def check_options(options: ClipOptions, source: str) -> None:
    """Everything about the options that can be checked without loading a model."""
    key = f"{source}: key 'perception"
    if (options.arch is None) != (options.checkpoint is None):
        raise ConfigError(f"{key}': 'arch' and 'checkpoint' go together (an open_clip architecture "
                          "and its local checkpoint file)")
    if options.arch is not None and options.model is not None:
        raise ConfigError(f"{key}': give either 'model' (a robollm CLIP model) or 'arch' and "
                          "'checkpoint' (a pretrained open_clip model), not both")
    if not 0.0 <= options.min_type_score < 1.0:
        raise ConfigError(f"{key}.min_type_score' should be in [0, 1), got {options.min_type_score}")
    for name in ("colours", "types"):
        words = getattr(options, name)
        if not words or not all(isinstance(w, str) and w.replace(" ", "").isalpha() for w in words):
            raise ConfigError(f"{key}.{name}' should be a non-empty list of words, got {words!r}")
    path = options.model or (None if options.arch else str(default_model_path()))
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"{key}.model': {path!r}: no such file")
    if options.checkpoint is not None and not Path(options.checkpoint).is_file():
        raise ConfigError(f"{key}.checkpoint': {options.checkpoint!r}: no such file")


def resolved(options: ClipOptions, source: str) -> ClipOptions:
    """The options with `model` and `checkpoint` read from the launch file's folder."""
    from dataclasses import replace

    folder = Path(source).parent if source and not source.startswith("<") else Path(".")

    def fix(p: str | None) -> str | None:
        return p if p is None or Path(p).is_absolute() else str(folder / p)

    return replace(options, model=fix(options.model), checkpoint=fix(options.checkpoint))


def load_model(options: ClipOptions) -> ClipModel:
    if options.arch is not None:
        return OpenClipCheckpoint(options.arch, str(options.checkpoint))
    return load_project_model(Path(options.model) if options.model else default_model_path())


class Recogniser:
    """Crops to (colour, type, scores), all crops of a look in one batch."""

    def __init__(self, model: ClipModel, colours: list[str], types: list[str]) -> None:
        self.model, self.colours, self.types = model, list(colours), [*types, OTHER]
        pair_prompts = [object_prompt(c, t) for t in types for c in colours]
        self.t_pair = model.embed_texts(pair_prompts).view(len(types), len(colours), -1)
        self.t_col = model.embed_texts([colour_prompt(c) for c in colours])
        self.t_typ = model.embed_texts([type_prompt(t) for t in self.types])

    def classify(self, crops: torch.Tensor, ruled_out: torch.Tensor | None = None) -> list[tuple[str, str, float, float]]:
        """`ruled_out` (N, types), optional: types a crop's measured shape cannot be
        (`robollm.perception.shape`); the type scores are renormalised over the rest."""
        if len(crops) == 0:
            return []
        img = self.model.embed_images(crops)
        s = self.model.logit_scale
        n_types = len(self.types) - 1
        pair = torch.log_softmax(s * torch.einsum("nd,tcd->ntc", img, self.t_pair).flatten(1), dim=1)
        pair = pair.view(len(img), n_types, len(self.colours))
        col = torch.softmax(s * img @ self.t_col.T, dim=1)
        typ = torch.softmax(s * img @ self.t_typ.T, dim=1)
        if ruled_out is not None:
            keep = torch.cat([~ruled_out, torch.ones(len(img), 1, dtype=torch.bool)], dim=1)  # never rules out OTHER
            typ = typ * keep
            typ = typ / typ.sum(dim=1, keepdim=True).clamp_min(1e-12)
            pair = pair.masked_fill(ruled_out[:, :, None], float("-inf"))
        joint = pair + col.log()[:, None, :] + typ[:, :n_types].log()[:, :, None]
        out = []
        for i in range(len(img)):
            t, c = divmod(int(joint[i].flatten().argmax()), len(self.colours))
            best_type = int(typ[i].argmax())
            kind = self.types[t] if best_type != n_types else OTHER
            out.append((self.colours[c], kind, float(typ[i, t]), float(col[i, c])))
        return out


def _size(kind: str, m: Measured) -> float:
    short, long = m.extent
    if kind in ROUND_TYPES:
        return long
    if kind in ("tray", "box"):
        return _body_length(m)
    return (short + long) / 2


def _body_length(m: Measured) -> float:
    """Length of a tray or box without its handles: the span along the long side over
    which the footprint is at least half as wide as it is overall."""
    xy = m.region.points[:, :2] - np.asarray(m.centre)
    c, s = math.cos(m.yaw), math.sin(m.yaw)
    along = xy @ np.array([-s, c])
    across = xy @ np.array([c, s])
    bins = np.floor(along / 0.01).astype(int)
    wide = [b for b in np.unique(bins) if np.ptp(across[bins == b]) > 0.5 * m.extent[0]]
    return (max(wide) - min(wide) + 1) * 0.01 if wide else m.extent[1]


@dataclass
class Unmatched:
    position: tuple[float, float]
    best: str
    score: float
    bbox: tuple[int, int, int, int] = (0, 0, 0, 0)


class ClipPerception(Perception):
    def __init__(self, robot: Robot, config: LaunchConfig, options: ClipOptions | None = None) -> None:
        self.options = resolved(options or ClipOptions(), config.source)
        check_options(self.options, config.source)
        if self.options.camera not in robot.sensors or robot.sensors[self.options.camera].info.kind != "camera":
            cams = sorted(n for n, s in robot.sensors.items() if s.info.kind == "camera")
            raise ConfigError(f"{config.source}: key 'perception.camera': the {config.robot.driver!r} driver has "
                              f"no camera {self.options.camera!r}; its cameras: {', '.join(cams) or 'none'}")
        self.robot, self.config = robot, config
        self.camera = robot.sensors[self.options.camera]
        self.model = load_model(self.options)
        self.name = f"camera ({self.options.camera}) + CLIP {self.model.label}"
        self.recogniser = Recogniser(self.model, self.options.colours, self.options.types)
        self.tracker = Tracker()
        self.regions = table_regions(config.table, robot.arms)
        self._table_z = config.table.height
        self.last_look: Look | None = None
        self.last_frame: CameraFrame | None = None
        self.last_detections: list[Detection] = []
        self.last_unmatched: list[Unmatched] = []

    @classmethod
    def check_config(cls, config: LaunchConfig) -> None:
        """The options, and the model they name: loading it is the only way to know that a
        checkpoint fits its architecture."""
        options = resolved(config.perception.options or ClipOptions(), config.source)
        check_options(options, config.source)
        from robollm.errors import UserError

        try:
            load_model(options)
        except UserError as e:
            raise ConfigError(f"{config.source}: key 'perception': {e}") from None

    # -- one look -------------------------------------------------------------------
    def _grippers(self) -> tuple[dict[str, Gripper], float]:
        obs = self.robot.observe()
        grippers = {a: Gripper(tuple(s.ee_pose.position), s.gripper_width, self.robot.arms[a].gripper_max_width)
                    for a, s in obs.arms.items()}
        return grippers, obs.time

    def detect(self, frame: CameraFrame, hands: list[Hand] | None = None) -> tuple[Look, list[Detection], list[Unmatched]]:
        """Proposals, recognition and geometry of one frame, without tracking."""
        t = self.config.table
        seen = look(frame, tuple(t.low), tuple(t.high), hands)
        # Nothing on a table floats: a region whose lowest part is high up is an arm. A
        # region with no width seen from above is a wall seen edge-on, not a thing.
        props = [m for m in seen.proposals if m.pixels >= self.options.min_pixels
                 and m.base_z - self._table_z < MAX_BASE and has_width(m.extent)]
        crops = to_tensor([crop(frame.rgb, m.region.bbox) for m in props]) if props else torch.zeros(0)
        shapes = torch.tensor([ruled_out(self.options.types, m.height, m.extent[1], m.on_table, m.hollow)
                               for m in props], dtype=torch.bool).view(len(props), len(self.options.types))
        labels = self.recogniser.classify(crops, shapes)
        dets, unknown = [], []
        for m, (colour, kind, t_score, c_score) in zip(props, labels, strict=True):
            if kind == OTHER or t_score < self.options.min_type_score:
                unknown.append(Unmatched(m.centre, kind, t_score, m.region.bbox))
                continue
            yaw = m.yaw if kind != "block" else (m.yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
            dets.append(Detection(kind, colour, t_score, c_score, m.centre, m.base_z, m.height, m.extent,
                                  0.0 if kind in ROUND_TYPES else yaw, _size(kind, m), m.region.bbox,
                                  m.region.pixels))
        return seen, _drop_fragments(dets), unknown

    def observe(self) -> SceneState:
        grippers, now = self._grippers()
        self.tracker.update_holds(grippers)
        holding = self.tracker.holding()
        hands = [Hand(g.position, a in holding) for a, g in grippers.items()]
        frame = self.camera.read()
        seen, dets, unknown = self.detect(frame, hands)
        if seen.status == "ok":
            self.tracker.update(dets)
        self.last_look, self.last_frame, self.last_detections, self.last_unmatched = seen, frame, dets, unknown
        return self.scene(now)

    def scene(self, now: float = 0.0) -> SceneState:
        objects = {}
        for t in self.tracker.tracks.values():
            d = t.det
            footprint = (d.size, d.size) if d.type in (*ROUND_TYPES, "block") else d.extent
            objects[t.name] = ObjectInfo(t.name, d.type, d.colour, d.size, t.pose, d.height, footprint)
        holding = self.tracker.holding()
        return SceneState(objects, {a: holding.get(a) for a in self.robot.arms}, dict(self.regions), now)

    def confidence(self, name: str) -> float | None:
        t = self.tracker.tracks.get(name)
        return None if t is None else min(t.det.type_score, t.det.colour_score)

    def camera_name(self) -> str | None:
        return self.options.camera

    def last_image(self) -> CameraFrame | None:
        return self.last_frame

    def report(self) -> str:
        """What the last look saw, in one line."""
        seen = self.last_look
        if seen is None:
            return "nothing looked at yet"
        if seen.status == "no depth":
            return f"camera {self.options.camera!r} gave no depth: nothing can be placed"
        if seen.status == "no table":
            return f"camera {self.options.camera!r}: no table plane found in the depth image"
        n = len(self.last_detections) + len(self.last_unmatched)
        if n == 0:
            return "saw no objects: the table looks empty"
        text = f"saw {n} object{'s' if n != 1 else ''}"
        for u in self.last_unmatched:
            text += (f"; one at ({u.position[0]:.2f}, {u.position[1]:.2f}) matched no type above "
                     f"{self.options.min_type_score:g} (best: {u.best}, {u.score:.2f})")
        return text


def _drop_fragments(dets: list[Detection]) -> list[Detection]:
    """A small piece of colour inside a larger object of the same colour and type is part
    of it (a shaded facet split off its bowl)."""
    keep = []
    for d in dets:
        inside = any(o is not d and o.label == d.label and o.size > d.size and
                     math.dist(o.centre, d.centre) < o.extent[1] / 2 for o in dets)
        if not inside:
            keep.append(d)
    return keep
