"""What a discovered skill's policy sees and how it starts, shared by training and use.

The training environment (`robollm.sim.discovery_env`) and the policy skill
(`robollm.skills.discovered`) build the observation with these functions from the same
inputs: a perceived scene and the hand's pose. So a policy trained on the simulator's
ground truth runs unchanged on whatever perception reports.

Before the policy takes over, the hand goes to a start pose: on the side of the object
away from where the success predicate wants it (a table edge, another object), or on
the robot's side when the predicate names no place (tipping over), at a height that
suits the task. The policy learns the contact-rich part; reaching the start is
ordinary motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robollm.geometry import Pose, top_down
from robollm.robot.base import ArmSpec
from robollm.world.geometric import anchor, tilt
from robollm.world.predicates import Expr, parse
from robollm.world.shaping import predicate_distance
from robollm.world.state import SceneState

OBS_SIZE = 15
STANDOFF = 0.03  # m between the object's footprint and the fingers at the start
FINGER_REACH = 0.012  # m from the grasp point to the front of the closed fingers
MIN_HEIGHT = 0.012  # m above the table the grasp point may go


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


def push_direction(scene: SceneState, task: PolicyTask) -> tuple[float, float]:
    """Unit vector from the object towards where the predicate wants it (or away from the robot)."""
    x, y = scene.objects[task.obj].pose.position[:2]
    point = anchor(task.goal, scene)
    if point is None or math.hypot(point[0] - x, point[1] - y) < 1e-6:
        return 1.0, 0.0
    d = math.hypot(point[0] - x, point[1] - y)
    return (point[0] - x) / d, (point[1] - y) / d


def start_pose(scene: SceneState, task: PolicyTask) -> Pose:
    obj = scene.objects[task.obj]
    ux, uy = push_direction(scene, task)
    x, y, z = obj.pose.position
    back = obj.radius + STANDOFF + FINGER_REACH
    height = max(MIN_HEIGHT, task.push_height * obj.height)
    yaw = (math.atan2(uy, ux) + math.pi / 2) % math.pi - math.pi / 2
    return Pose((x - ux * back, y - uy * back, z + height), top_down(yaw))


def choose_arm(scene: SceneState, task: PolicyTask, arms: dict[str, ArmSpec]) -> str | None:
    """An arm whose workspace holds the start pose and the place the object should go."""
    start = start_pose(scene, task).position
    obj = scene.objects[task.obj].pose.position
    ux, uy = push_direction(scene, task)
    reach = (obj[0] + 0.1 * ux, obj[1] + 0.1 * uy)
    for name in ("left", "right"):
        ws = arms[name].workspace
        if ws.contains_xy(*start[:2]) and ws.contains_xy(*reach):
            return name
    return None


def observe(scene: SceneState, hand: Pose, task: PolicyTask, step_index: int,
            direction: tuple[float, float], goal: Expr | None = None) -> np.ndarray:
    """The policy's input: hand, object relative to hand, goal relative to object, the
    object's up axis, the predicate's remaining distance and the time left.

    `direction` is `push_direction` at the start, kept for the whole episode so the
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
