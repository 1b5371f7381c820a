"""The tabletop task as a Gymnasium environment, where one action is one skill call.

Action: `MultiDiscrete([n_skills, n_args, n_args])`: the skill's index in
`env.skill_names`, then indices into `env.arg_names` (the scene's objects, in scene
order and padded to `MAX_OBJECTS`, then the regions and push directions) for its
first and second argument. Arguments a skill does not take are ignored.

Observation (`Dict`):
- `rgb`: the front camera, `(image_size, image_size, 3)` uint8;
- `objects`: `(MAX_OBJECTS, 7)` float32 in [-2, 2], each object's position and quaternion
  (x, y, z, qx, qy, qz, qw) in scene order, zero rows for absent objects;
- `holding`: for the left and right arm, 1 + the index of the held object, 0 if empty.

Reward is 1 on the step where the success predicate first holds, else 0; the
episode terminates on success and truncates after `max_steps` skill calls.

An action outside the action space (a negative or too large index, a wrong shape, a
non-integer) raises `ValueError` naming the action and the space, and so does a
success predicate that does not parse or names what the scene lacks, at construction.
Stepping an episode that has terminated or truncated raises `RuntimeError`: call
`reset()` first. (Gymnasium leaves that case undefined; refusing it keeps a reward of
1 from being counted twice.)
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robollm.config import load_config
from robollm.errors import UserError
from robollm.plan import SkillCall
from robollm.session import Session
from robollm.skill import DIRECTIONS
from robollm.world.scene import load_scene

ENV_ID = "robollm/BimanualTabletop-v0"
MAX_OBJECTS = 8


def register_envs() -> None:
    """Register the environment with Gymnasium (explicitly; nothing registers on import)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="robollm.sim.gym_env:BimanualTabletopEnv")


class BimanualTabletopEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(self, config: str | None = None, scene: str = "default", success: str = "true",
                 max_steps: int = 8, image_size: int = 64, render_mode: str | None = None) -> None:
        self.config = load_config(config)
        self.scene = load_scene(scene)
        if len(self.scene.objects) > MAX_OBJECTS:
            raise ValueError(f"scene has {len(self.scene.objects)} objects; the environment holds {MAX_OBJECTS}")
        self.success_text, self.max_steps, self.image_size = success, max_steps, image_size
        self.render_mode = render_mode
        self.session: Session | None = None
        probe = Session(self.config, self.scene, 0)
        try:
            try:
                probe.parse_goal(success)  # a bad predicate fails here, not at the first reset
            except UserError as e:
                raise ValueError(f"bad success predicate: {e}") from e
            self.skill_names = probe.skills.names()
            self.object_names = self.scene.names()
            self.arg_names = (self.object_names
                              + [f"<none{i}>" for i in range(MAX_OBJECTS - len(self.object_names))]
                              + sorted(probe.state.regions()) + list(DIRECTIONS))
        finally:
            probe.close()
        self.action_space = spaces.MultiDiscrete([len(self.skill_names), len(self.arg_names), len(self.arg_names)])
        self.observation_space = spaces.Dict({
            "rgb": spaces.Box(0, 255, (image_size, image_size, 3), np.uint8),
            "objects": spaces.Box(-2.0, 2.0, (MAX_OBJECTS, 7), np.float32),
            "holding": spaces.MultiDiscrete([MAX_OBJECTS + 1, MAX_OBJECTS + 1]),
        })
        self._steps = 0
        self._ended = False  # the episode terminated or truncated; step() needs a reset first

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self.session is not None:
            self.session.close()
        episode_seed = int(self.np_random.integers(0, 2**31 - 1))
        self.session = Session(self.config, self.scene, episode_seed)
        self.goal = self.session.parse_goal(self.success_text)
        self._steps = 0
        self._ended = False
        return self._observe(), {"seed": episode_seed}

    def _check_action(self, action) -> np.ndarray:
        arr = np.asarray(action)
        integral = arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(np.isfinite(arr))
                                              and np.all(arr == np.round(arr)))
        if arr.shape != self.action_space.shape or not integral or not self.action_space.contains(
                arr.astype(self.action_space.dtype)):
            n_skills, n_args, _ = (int(n) for n in self.action_space.nvec)
            raise ValueError(f"action {action!r} is not in the action space {self.action_space}: "
                             f"expected 3 integers, a skill index in 0..{n_skills - 1} and two "
                             f"argument indices in 0..{n_args - 1}")
        return arr.astype(np.int64)

    def step(self, action):
        if self.session is None:
            raise RuntimeError("call reset() before step()")
        if self._ended:
            raise RuntimeError("the episode has ended (terminated or truncated); call reset() before step()")
        action = self._check_action(action)
        skill = self.skill_names[int(action[0])]
        spec = self.session.skill(skill)
        args = tuple(self.arg_names[int(a)] for a in action[1:1 + len(spec.params)])
        call = SkillCall(skill, args)
        if any(a.startswith("<none") for a in args):
            outcome = {"success": False, "reason": "object not found"}
        else:
            record = self.session.execute(call)
            outcome = {"success": record.outcome.success, "reason": record.outcome.reason}
        self._steps += 1
        done = self.session.succeeded(self.goal)
        info = {"call": str(call), **outcome}
        truncated = self._steps >= self.max_steps and not done
        self._ended = done or truncated
        return self._observe(), float(done), done, truncated, info

    def _observe(self) -> dict[str, np.ndarray]:
        scene = self.session.observe()
        objects = np.zeros((MAX_OBJECTS, 7), np.float32)
        for i, name in enumerate(self.object_names):
            pose = scene.objects[name].pose
            objects[i] = (*pose.position, *pose.orientation)
        holding = np.array([self.object_names.index(h) + 1 if h else 0
                            for h in (scene.holding["left"], scene.holding["right"])], dtype=np.int64)
        rgb = self.session.robot.sensors["front_camera"].read(self.image_size, self.image_size).rgb
        return {"rgb": rgb, "objects": objects, "holding": holding}

    def render(self):
        if self.session is None:
            return None
        return self.session.robot.sensors["front_camera"].read(320, 240).rgb

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
