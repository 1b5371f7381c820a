"""Knock recordings for training and measuring the sound classifier.

Two sources, one physics. `record_knocks` runs the real `knock` skill in PyBullet on
objects of every material, shape and size, striking off-centre by a few millimetres
and at different arm speeds; each recording keeps the impacts the microphone heard.
A real knock costs about half a second of CPU, too slow for thousands, so
`synthesise_knocks` reuses the impacts of real knocks on the same material and shape
(their number, timing and strength), scales their strength, gives them the modes of
an object of another size, and renders them with the microphone's own `synthesise`.
How well the fast clips stand in for real ones is measured, not assumed: the shipped
classifier is trained on fast clips and scored on real knocks (`robollm bench sensing`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np

from robollm.config import LaunchConfig, load_config
from robollm.geometry import Pose
from robollm.robot.sensors import AudioClip
from robollm.session import Session
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.robot import PyBulletRobot
from robollm.sim.sensors import ImpactEvent, SimMicrophone, synthesise
from robollm.skill import SkillContext
from robollm.world.scene import MATERIALS, SIZE_RANGE, ObjectSpec, SceneSpec, validate_scene

SHAPES = ("block", "cup", "bowl", "plate")
COLOURS = ("grey", "white", "brown")
PER_SCENE = 3  # objects knocked per simulated scene (one scene set-up serves three knocks)
OFF_CENTRE = 0.25  # strike up to this fraction of the object's size away from the aimed point
SPEEDS = (0.12, 0.4)  # m/s range of the arm's straight-line speed: how hard the knock lands
PRE_ROLL = 0.05  # s kept before the first impact
CLIP = 0.6  # s of recording kept per knock
STRENGTH = (0.4, 2.5)  # range of the factor on real impulses in fast clips


@dataclass
class Knock:
    """One knock: what was struck, how, and what the microphone heard."""

    material: str
    shape: str
    size: float
    clip: AudioClip
    events: list[ImpactEvent] = field(default_factory=list)  # times relative to the clip start
    offset: tuple[float, float] = (0.0, 0.0)  # m the strike point was moved off the aimed one
    speed: float = 0.0  # m/s arm speed (0: a fast clip)
    ok: bool = True
    reason: str = ""


def _knock_config(base: LaunchConfig, speed: float) -> LaunchConfig:
    cfg = copy.deepcopy(base)
    for arm in ("left", "right"):
        ctl = replace(cfg.controller(arm, arm), ee_speed=speed)
        cfg.robot.controllers.setdefault(arm, {})[arm] = ctl
    return cfg


def _window(clip: AudioClip, events: list[ImpactEvent]) -> tuple[AudioClip, list[ImpactEvent]]:
    """`CLIP` seconds from `PRE_ROLL` before the first impact, events relative to that start."""
    rate = clip.sample_rate
    first = min(e[0] for e in events) if events else clip.timestamp
    start = max(0, int(round((first - PRE_ROLL - clip.timestamp) * rate)))
    samples = clip.samples[start:start + int(CLIP * rate)]
    if len(samples) < int(CLIP * rate):
        samples = np.pad(samples, (0, int(CLIP * rate) - len(samples)))
    t0 = clip.timestamp + start / rate
    return AudioClip(samples, rate, 0.0), [(t - t0, j, m, z) for t, j, m, z in events]


def random_object(rng: np.random.Generator, material: str, shape: str, name: str,
                  sizes: tuple[float, float] | None = None) -> ObjectSpec:
    lo, hi = sizes or SIZE_RANGE[shape]
    return ObjectSpec(type=shape, colour=str(rng.choice(COLOURS)), material=material,
                      size=round(float(rng.uniform(lo, hi)), 4), name=name)


def record_knocks(plan: list[tuple[str, str]], seed: int, config: LaunchConfig | None = None,
                  progress=None) -> list[Knock]:
    """Knock one object of each (material, shape) in `plan` with the real skill, in PyBullet.

    Objects go `PER_SCENE` to a scene, laid out by the simulator from `seed`; each knock
    aims a random few millimetres off the usual strike point at a random arm speed.
    """
    base = config or load_config()
    rng = np.random.default_rng(seed)
    out: list[Knock] = []
    for first in range(0, len(plan), PER_SCENE):
        group = plan[first:first + PER_SCENE]
        speed = float(rng.uniform(*SPEEDS))
        specs = [random_object(rng, m, s, f"thing_{i}") for i, (m, s) in enumerate(group)]
        scene = validate_scene(SceneSpec(specs, "<knocks>"))
        with Session(_knock_config(base, speed), scene, int(rng.integers(1 << 30))) as session:
            robot = session.robot
            assert isinstance(robot, PyBulletRobot)
            mic = robot.sensors["microphone"]
            assert isinstance(mic, SimMicrophone)
            knock = session.skill("knock")
            for spec in specs:
                seen = session.observe()
                info = seen.objects[spec.object_name]
                r = OFF_CENTRE * spec.resolved_size
                dx, dy = (float(v) for v in rng.uniform(-r, r, 2))
                if spec.type in ("cup", "bowl"):  # the rim is narrow: move along it, not across
                    along = dy * 0.5
                    dx, dy = -math.sin(info.yaw) * along, math.cos(info.yaw) * along
                x, y, z = info.pose.position
                aimed = replace(info, pose=Pose((x + dx, y + dy, z), info.pose.orientation))
                ctx = SkillContext(session.motion, session.observe,
                                   replace(seen, objects={**seen.objects, spec.object_name: aimed}))
                outcome = knock.run(ctx, obj=spec.object_name)
                clip = outcome.data.get("audio") or mic.read()
                window, events = _window(clip, mic.events)
                out.append(Knock(spec.resolved_material, spec.type, spec.resolved_size, window, events,
                                 (dx, dy), speed, outcome.success, outcome.reason))
                if progress:
                    progress(len(out), len(plan))
    return out


def knock_plan(per_pair: int, seed: int) -> list[tuple[str, str]]:
    """`per_pair` knocks of every (material, shape), shuffled so each scene mixes them."""
    plan = [(m, s) for m in MATERIALS for s in SHAPES for _ in range(per_pair)]
    order = np.random.default_rng(seed).permutation(len(plan))
    return [plan[i] for i in order]


def synthesise_knocks(bank: list[Knock], count: int, seed: int) -> list[Knock]:
    """`count` fast clips, balanced over materials and shapes, from the impacts in `bank`.

    Each takes the impacts of a real knock on the same material and shape, multiplies
    their strength by one random factor, and gives them the modes of an object of a
    random size in the shape's range; the noise floor is the microphone's own.
    """
    rng = np.random.default_rng(seed)
    by_pair: dict[tuple[str, str], list[Knock]] = {}
    for k in bank:
        if k.ok and k.events:
            by_pair.setdefault((k.material, k.shape), []).append(k)
    pairs = sorted(by_pair)
    if not pairs:
        raise ValueError("no real knock with an impact to take impacts from")
    rate = SimMicrophone.SAMPLE_RATE
    out = []
    for i in range(count):
        material, shape = pairs[i % len(pairs)]
        source = by_pair[(material, shape)][int(rng.integers(len(by_pair[(material, shape)])))]
        size = float(rng.uniform(*SIZE_RANGE[shape]))
        mat = MATERIAL_TABLE[material]
        modes, zeta = mat.modes_for(size), mat.damping_ratio
        strength = math.exp(rng.uniform(*np.log(STRENGTH)))
        events = [(t, j * strength, modes, zeta) for t, j, _, _ in source.events]
        samples = synthesise(events, 0.0, int(CLIP * rate), rate, rng)
        out.append(Knock(material, shape, size, AudioClip(samples, rate, 0.0), events))
    return out
