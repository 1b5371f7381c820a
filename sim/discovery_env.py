"""A low-level Gymnasium environment for training discovered skills.

Where `BimanualTabletop-v0` takes one skill call per step, this one takes one control
tick: a small end-effector move of one arm (or both), at `control_hz` (10 Hz by
default), through the same `Motion.servo` that the policy skill uses on the robot.
It is kept cheap for CPU training: DIRECT mode, a few objects, short episodes, and a
scene reloaded in place at each reset instead of a new simulation.

Observation: `robollm.training.discovery.features.observe` (15 floats, per arm).
Action: `Box(-1, 1, (3 * arms,))`, a hand step in a frame turned towards the goal,
scaled by `task.step` metres (plus a gripper command per arm with `gripper=True`:
above 0 closes the fingers, otherwise they open).

Reward: dense shaping from the success predicate's geometry. Each tick earns the
decrease of the predicate's distance (`robollm.world.geometric.predicate_distance`),
scaled, plus the decrease of the hand's distance to the object until they meet, plus
any extra terms (`extra_reward`, such as sandboxed model-written code); success adds
a bonus and ends the episode, and an object off the table ends it with a penalty.
An episode ends where the policy skill stops: when the predicate holds in the
perceived scene. Then, as in verification, the hand lifts away, things come to rest
for half a second, and the simulator's geometric facts judge success.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robollm.config import load_config
from robollm.errors import UserError
from robollm.geometry import Pose
from robollm.robot.base import ArmCommand
from robollm.session import Session
from robollm.training.discovery.features import (
    LIFT_AWAY,
    OBS_SIZE,
    PolicyTask,
    hand_target,
    observe,
    plan_start,
)
from robollm.world.geometric import nothing_fell
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import evaluate
from robollm.world.scene import SceneSpec, load_scene
from robollm.world.shaping import predicate_distance

ENV_ID = "robollm/SkillDiscovery-v0"
PROGRESS_SCALE = 20.0  # reward per metre the predicate's distance shrinks
REACH_SCALE = 5.0  # reward per metre the hand closes on the object
SUCCESS_BONUS = 5.0
FALL_PENALTY = 2.0
# Seconds a new layout is given to come to rest: a tenth, where a task run gives 0.3, as
# its objects drop half a millimetre (resets are a cost every episode pays).
SETTLE = 0.1
RELEASE_WAIT = 0.5  # s after the hand lifts away before success is judged, as in verification


def register_envs() -> None:
    """Register the environment with Gymnasium (explicitly; nothing registers on import)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="robollm.sim.discovery_env:DiscoveryEnv")


class DiscoveryEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, task: PolicyTask | dict, scene: str | SceneSpec = "discovery", config: str | None = None,
                 gripper: bool = False,
                 extra_reward: Callable[[dict[str, float]], float] | None = None,
                 reward_code: str | None = None) -> None:
        self.task = task if isinstance(task, PolicyTask) else PolicyTask(**task)
        self.reward_error = ""
        if reward_code is not None and extra_reward is None:
            # Model-written terms run only in the sandbox's own process (robollm.training.discovery.sandbox).
            from robollm.training.discovery.sandbox import RewardSandbox, SandboxError

            try:
                extra_reward = RewardSandbox(reward_code)
            except SandboxError as e:
                self.reward_error = str(e)
        self.config = load_config(config)
        self.scene_spec = scene if isinstance(scene, SceneSpec) else load_scene(scene)
        self.gripper, self.extra_reward = gripper, extra_reward
        try:
            self.goal = self.task.goal
        except UserError as e:
            raise ValueError(f"bad success predicate: {e}") from e
        self.session = Session(self.config, self.scene_spec, 0)
        self.session.parse_goal(self.task.success)  # names the scene lacks fail here
        self.robot = self.session.robot
        self.world = self.robot.world
        per_arm = 4 if gripper else 3
        self.action_space = spaces.Box(-1.0, 1.0, (per_arm,), np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, (OBS_SIZE,), np.float32)
        self.arm = "left"
        self.direction = (1.0, 0.0)
        self._orientation: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0)
        self._steps, self._prev_distance, self._prev_reach = 0, 0.0, 0.0

    # -- episode ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        for _ in range(20):  # layouts where no arm reaches the start pose are drawn again
            layout = int(self.np_random.integers(0, 2**31 - 1))
            self.world.load_scene(self.scene_spec, layout, settle=SETTLE)
            scene = self.robot.true_scene()
            start = plan_start(scene, self.task, self.robot.arms, self.session.motion)
            if start is not None:
                break
        else:
            raise RuntimeError(f"no arm reaches {self.task.obj} in 20 layouts of {self.scene_spec.source}")
        self.arm, self.direction = start.arm, start.direction
        self._teleport(start.pose)
        self._steps = 0
        scene = self.robot.true_scene()
        self._prev_distance = predicate_distance(self.goal, scene)
        self._prev_reach = self._reach(scene)
        return self._observe(scene), {"layout": layout, "arm": start.arm}

    def _teleport(self, pose: Pose) -> None:
        """Put the hand at the start pose with closed fingers, as the skill's approach leaves it."""
        pb, body = self.world.pb, self.world.arm_bodies[self.arm]
        spec = self.robot.arms[self.arm]
        for other, other_body in self.world.arm_bodies.items():
            for j, q in enumerate(self.robot.arms[other].home):
                pb.resetJointState(other_body, j, q)
        q, _ = self.robot.kinematics.inverse(spec, pose, spec.home)
        for j, v in enumerate(q):
            pb.resetJointState(body, j, v)
        for finger in (9, 10):
            pb.resetJointState(body, finger, 0.0)
        self.robot.send_action({a: ArmCommand(joints=tuple(self.robot.arms[a].home)) for a in self.robot.arms})
        self.robot.send_action({self.arm: ArmCommand(joints=q, gripper_width=0.0)})
        self._orientation = pose.orientation
        self.robot.wait(0.05)

    def step(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(self.action_space.shape)
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action {action!r} is not finite")
        scene = self.robot.true_scene()
        hand = self._hand()
        target = hand_target(hand, action[:3], scene, self.task, self.direction)
        if self.gripper:
            width = 0.0 if action[3] > 0 else self.robot.arms[self.arm].gripper_max_width
            self.robot.send_action({self.arm: ArmCommand(gripper_width=width)})
        self.session.motion.servo({self.arm: target}, 1.0 / self.task.control_hz)
        self._steps += 1
        scene = self.robot.true_scene()
        distance, reach = predicate_distance(self.goal, scene), self._reach(scene)
        reward = PROGRESS_SCALE * (self._prev_distance - distance) + REACH_SCALE * (self._prev_reach - reach)
        self._prev_distance, self._prev_reach = distance, reach
        info: dict[str, Any] = {"distance": distance}
        if self.extra_reward is not None:
            try:
                reward += float(self.extra_reward(self._measures(scene, distance)))
            except UserError as e:  # a failing extra term is dropped; the shaped reward goes on
                self.reward_error, self.extra_reward = str(e), None
        if self.reward_error:
            info["reward_code_error"] = self.reward_error
        # The skill stops when perception says the predicate holds, lifts its hand away,
        # and verification lets things come to rest before the simulator's geometry says
        # whether it really holds (a cup tipped over can roll on, out of its region).
        # Training ends and judges episodes the same way.
        stopped = evaluate(self.goal, PerceivedFacts(scene))
        fell = not nothing_fell(scene)
        success = False
        if stopped and not fell:
            self._release()
            scene = self.robot.true_scene()
            fell = not nothing_fell(scene)
            success = not fell and evaluate(self.goal, self.robot.geometric_facts())
        terminated = stopped or fell
        if success:
            reward += SUCCESS_BONUS
        elif fell:
            reward -= FALL_PENALTY
        truncated = not terminated and self._steps >= self.task.max_steps
        info.update(success=success, fell=fell)
        return self._observe(scene), float(reward), terminated, truncated, info

    # -- helpers ------------------------------------------------------------------------
    def _release(self) -> None:
        """Lift the hand straight up, as the skill does when it stops, and let things settle."""
        self.session.motion.move({self.arm: self._hand().offset(dz=LIFT_AWAY)})
        self.robot.wait(RELEASE_WAIT)

    def _hand(self) -> Pose:
        return Pose(self.robot.observe().arms[self.arm].ee_pose.position, self._orientation)

    def _observe(self, scene) -> np.ndarray:
        return observe(scene, self._hand(), self.task, self._steps, self.direction, self.goal)

    def _reach(self, scene) -> float:
        """Metres between the fingertips and the object's footprint (0 once they meet)."""
        obj = scene.objects[self.task.obj]
        h = self._hand().position
        gap = math.dist(h[:2], obj.pose.position[:2]) - obj.radius - 0.012
        return max(0.0, gap)

    def _measures(self, scene, distance: float) -> dict[str, float]:
        """Plain numbers an extra reward term may read (nothing of the simulator itself)."""
        obj = scene.objects[self.task.obj]
        h = self._hand().position
        return {"distance": distance, "hand_x": h[0], "hand_y": h[1], "hand_z": h[2],
                "obj_x": obj.pose.position[0], "obj_y": obj.pose.position[1], "obj_z": obj.pose.position[2],
                "step": float(self._steps)}

    def close(self) -> None:
        closer = getattr(self.extra_reward, "close", None)
        if closer is not None:
            closer()
        self.session.close()
