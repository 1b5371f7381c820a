"""What a discovered skill's policy sees and how it starts, shared by training and use.

The training environment (`robollm.sim.discovery_env`) and the policy skill
(`robollm.skills.discovered`) build the observation with these functions from the same
inputs: a perceived scene and the hand's pose. So a policy trained on the simulator's
ground truth runs unchanged on whatever perception reports.

Before the policy takes over, the hand goes to a start pose: on the side of the object
away from where the success predicate wants it (a table edge, another object), or, when
the predicate names no place (tipping over), on the side away from the middle of its
region so the object falls where there is room; at a height that suits the task, and where an
arm reaches it (`plan_start`). The policy learns the contact-rich part; reaching the start is
ordinary motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robollm.geometry import Pose, top_down
from robollm.robot.base import ArmSpec
from robollm.robot.motion import Motion
from robollm.world.geometric import anchor, table_box, tilt
from robollm.world.predicates import Expr, parse
from robollm.world.shaping import predicate_distance
from robollm.world.state import SceneState

OBS_SIZE = 15
STANDOFF = 0.03  # m between the object's footprint and the fingers at the start
FINGER_REACH = 0.012  # m from the grasp point to the front of the closed fingers
MIN_HEIGHT = 0.012  # m above the table the grasp point may go
MIN_BASE_DISTANCE = 0.3  # m from the arm's base: beyond it the approach from above is always reachable
NEAR_BASE_DISTANCE = 0.25  # m: nearer than this, a hand pointing down is out of reach at any height
# Heights above the start pose the hand comes down from, tried in order. Nearer the base
# than MIN_BASE_DISTANCE a Panda pointing down reaches only low poses (measured with the
# rig's IK: at 0.28 m up to 6 cm above the table, at 0.26 m only 2 cm), so there the hand
# comes down from lower.
APPROACH_HEIGHTS = (0.1, 0.05, 0.02)
LIFT_AWAY = APPROACH_HEIGHTS[0]  # m the hand rises when the push ends, in training and in the skill


@dataclass(frozen=True)
class PolicyTask:
    """One low-level task: a success predicate over named objects and how to act on it."""

    success: str  # predicate text, e.g. "at_edge(red_block, left)"
    obj: str  # the object the hand acts on
    push_height: float = 0.4  # fraction of the object's height the fingertips push at
    step: float = 0.01  # m the hand may move per control tick along each axis
    control_hz: float = 10.0
    max_steps: int = 40

    @property
    def goal(self) -> Expr:
        return parse(self.success)


def candidate_directions(scene: SceneState, task: PolicyTask) -> list[tuple[float, float]]:
    """Unit vectors to push along: towards where the predicate wants the object; when it
    names no place (tipping over), towards the middle of the region the object stands
    in, where it has room to fall without leaving the region, then turned by 45-degree
    steps."""
    x, y = scene.objects[task.obj].pose.position[:2]
    point = anchor(task.goal, scene)
    if point is not None and math.hypot(point[0] - x, point[1] - y) > 1e-6:
        d = math.hypot(point[0] - x, point[1] - y)
        return [((point[0] - x) / d, (point[1] - y) / d)]
    region = scene.region_of(task.obj)
    cx, cy = (scene.regions[region] if region else table_box(scene.regions)).center[:2]
    base = math.atan2(cy - y, cx - x) if math.hypot(cx - x, cy - y) > 1e-6 else 0.0
    return [(math.cos(base + k * math.pi / 4), math.sin(base + k * math.pi / 4)) for k in (0, 1, -1, 2, -2, 3, -3, 4)]


def _pose(scene: SceneState, task: PolicyTask, direction: tuple[float, float]) -> Pose:
    obj = scene.objects[task.obj]
    ux, uy = direction
    x, y, z = obj.pose.position
    back = obj.radius + STANDOFF + FINGER_REACH
    height = max(MIN_HEIGHT, task.push_height * obj.height)
    yaw = (math.atan2(uy, ux) + math.pi / 2) % math.pi - math.pi / 2
    return Pose((x - ux * back, y - uy * back, z + height), top_down(yaw))


@dataclass(frozen=True)
class Start:
    """Which arm acts, the direction it pushes along (fixed for the episode), where its hand
    starts, and the height above the start it comes down from."""

    arm: str
    direction: tuple[float, float]
    pose: Pose
    approach: float = APPROACH_HEIGHTS[0]


def approach_height(motion: Motion, arm: str, pose: Pose) -> float | None:
    """The first of `APPROACH_HEIGHTS` from which the arm, leaving home, comes down to
    `pose` in straight lines, as the skill moves; None when there is none."""
    home = tuple(motion.arms[arm].home)
    for h in APPROACH_HEIGHTS:
        above, reason = motion.plan(arm, pose.offset(dz=h), start_joints=home)
        if not reason and not motion.plan(arm, pose, start_joints=above[-1])[1]:
            return h
    return None


def plan_start(scene: SceneState, task: PolicyTask, arms: dict[str, ArmSpec],
               motion: Motion | None = None) -> Start | None:
    """The first direction whose start pose and first 10 cm of travel an arm reaches.

    Without `motion`, a hand at least `MIN_BASE_DISTANCE` from the arm's base counts as
    reaching (the approach from above is then always possible); with it, a start nearer
    the base counts when the arm's own motion plans find a way down to it."""
    obj = scene.objects[task.obj].pose.position
    for direction in candidate_directions(scene, task):
        pose = _pose(scene, task, direction)
        ahead = (obj[0] + 0.1 * direction[0], obj[1] + 0.1 * direction[1])
        for name in ("left", "right"):
            spec = arms[name]
            if not (spec.workspace.contains_xy(*pose.position[:2]) and spec.workspace.contains_xy(*ahead)):
                continue
            base = math.dist(pose.position[:2], spec.base.position[:2])
            if base >= MIN_BASE_DISTANCE:
                return Start(name, direction, pose)
            if motion is not None and base >= NEAR_BASE_DISTANCE:
                h = approach_height(motion, name, pose)
                if h is not None:
                    return Start(name, direction, pose, h)
    return None


def choose_arm(scene: SceneState, task: PolicyTask, arms: dict[str, ArmSpec]) -> str | None:
    start = plan_start(scene, task, arms)
    return start.arm if start else None


def observe(scene: SceneState, hand: Pose, task: PolicyTask, step_index: int,
            direction: tuple[float, float], goal: Expr | None = None) -> np.ndarray:
    """The policy's input: hand, object relative to hand, goal relative to object, the
    object's up axis, the predicate's remaining distance and the time left.

    `direction` is the start's (`plan_start`), kept for the whole episode so the
    frame does not turn under the policy as the object moves."""
    goal = goal or task.goal
    obj = scene.objects[task.obj]
    ox, oy, oz = obj.pose.position
    hx, hy, hz = hand.position
    point = anchor(goal, scene) or (ox, oy)
    qx, qy, qz, qw = obj.pose.orientation
    up = (2 * (qx * qz + qw * qy), 2 * (qy * qz - qw * qx), 1 - 2 * (qx * qx + qy * qy))
    ux, uy = direction
    # Positions in a frame turned so that x points where the object should go: the
    # same push looks the same whichever way it points.
    def turn(dx: float, dy: float) -> tuple[float, float]:
        return ux * dx + uy * dy, -uy * dx + ux * dy
    rel = turn(ox - hx, oy - hy)
    to_goal = turn(point[0] - ox, point[1] - oy)
    up_xy = turn(up[0], up[1])
    distance = predicate_distance(goal, scene)
    feats = [*(10 * v for v in rel), 10 * (oz - hz), *(10 * v for v in to_goal), *up_xy, up[2],
             10 * distance, min(distance, 0.01) * 100, tilt(obj.pose.orientation),
             10 * hz, step_index / task.max_steps, ux, uy]
    return np.asarray(feats, dtype=np.float32)


def hand_target(hand: Pose, action: np.ndarray, scene: SceneState, task: PolicyTask,
                direction: tuple[float, float]) -> Pose:
    """Where one action sends the hand: a step in the turned frame, kept above the table."""
    a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0) * task.step
    ux, uy = direction
    dx, dy = ux * a[0] - uy * a[1], uy * a[0] + ux * a[1]
    x, y, z = hand.position
    table_z = min(b.low[2] for b in scene.regions.values())
    z = max(table_z + MIN_HEIGHT, z + a[2])
    return Pose((x + dx, y + dy, z), hand.orientation)
