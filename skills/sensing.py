"""Knock, touch and weigh: interactive perception for objects that look alike.

A camera cannot tell a grey metal block from a grey wooden one; the sound of a
knock, the give under a fingertip and the weight in the hand can. These skills only
gather the raw evidence (audio, contact and wrench streams, a weight) through the
robot's sensors; turning it into material words is perception's job. None of them
changes where anything is: a weighed object goes back where it was.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar

import numpy as np

from robollm.geometry import Pose, top_down
from robollm.robot.motion import Motion
from robollm.robot.sensors import AudioClip, ContactReading, ForceTorque
from robollm.skill import GRASPABLE_TYPES, Outcome, Param, Skill, SkillContext
from robollm.skills.manipulation import (
    APPROACH,
    CARRY_HEIGHT,
    grasp_yaw,
    pick_up_again_if_missed,
    set_down,
)
from robollm.world.state import ObjectInfo
from robollm.world.symbolic import SymbolicState

Point = tuple[float, float, float]
Feel = Callable[..., tuple[float, float]]  # (above, at) -> grasp-point height, normal force

GRAVITY = 9.81
FINGERTIP_DEPTH = 0.0075  # m the closed fingertips reach below the grasp point
KNOCK_LIFT = 0.03  # m of run-up above the surface: enough to arrive briskly
STRIKE_DEPTH = 0.003  # m the strike aims past the surface, so the fingers still move when they hit
RING_TIME = 0.5  # s of listening after the impact: metal still rings after 0.1 s
QUIET_LEVEL = 2e-3  # peak amplitude below which a recording counts as silence
KNOCK_TRIES = 2
RETRY_SHIFT = 0.0005  # m higher start for another knock: the fingers meet at another phase
HOVER = 0.003  # m above the expected surface where the careful press starts
PRESS_STEP = 0.00025  # m per step of the press: a rigid surface gains ~15 N per step
PRESS_LIMIT = 0.006  # m past the expected surface before giving up on finding it
PRESS_FORCE = 3.0  # N of finger normal force that ends the press
SLIDE = 0.006  # m of sideways stroke: the shear along the way shows friction
SLIDE_STEP = 0.001  # m per step of the stroke, each felt at rest
STROKE_MARGIN = 5.0  # N over the target force: the object moves with the fingers
SETTLE = 0.3  # s for an arm to come to rest before measuring
AVERAGE_OVER = 0.5  # s of wrist readings averaged for a weight (one reading jitters)
READ_GRIP_FRICTION = 0.3  # a friction coefficient below any fingertip-object pair's: the relaxed grip still holds
READ_GRIP_MARGIN = 2.0  # x the grip that friction needs for the weight felt first
LIGHTEST_READ_GRIP = 0.3  # N: the gentlest grip a weighing reads with
PUT_BACK_TOLERANCE = 0.02  # m a weighed object may end up from where it stood
RIM_INSET = 0.003  # m in from a container's outer edge: onto its 5-10 mm wall


def strike_point(obj: ObjectInfo) -> Point:
    """Where fingertips meet the object: the top of something solid, else the rim.

    Containers are hollow in the middle, so they are touched on the wall nearest the robot.
    """
    x, y, z = obj.pose.position
    if obj.type in ("block", "plate"):
        return x, y, z + obj.height
    r = obj.footprint[0] / 2 - RIM_INSET
    return x - r * math.cos(obj.yaw), y - r * math.sin(obj.yaw), z + obj.height


def finger_pose(point: Point, obj: ObjectInfo, above: float) -> Pose:
    """Grasp-point pose that puts the closed fingertips `above` metres over `point`."""
    x, y, z = point
    return Pose((x, y, z + FINGERTIP_DEPTH + above), top_down(grasp_yaw(obj)))


def normal_force(reading: ContactReading) -> float:
    return sum(f.normal_force for f in reading.fingers.values())


def stiffness(press: list[tuple[float, float]]) -> float:
    """N/m from the last free step to the deepest one (a lower bound on rigid surfaces)."""
    (z0, f0), (z1, f1) = press[0], press[-1]
    return (f1 - f0) / (z0 - z1) if z0 - z1 > 1e-5 else math.inf


@contextmanager
def sampling(motion: Motion, fn: Callable[[], None]) -> Iterator[None]:
    """Call `fn` at every control tick of the motions inside the block."""
    motion.tick_hooks.append(fn)
    try:
        yield
    finally:
        motion.tick_hooks.remove(fn)


def sense_check(state: SymbolicState, obj: str, cue: str) -> Outcome:
    """The shared preconditions; on success notes that `cue` was gathered for `obj`."""
    if state.types.get(obj) is None:
        return Outcome.fail("object not found")
    holder = state.holder(obj)
    if holder:
        return Outcome.fail("already holding", holder)
    if state.stacked_on(obj):
        return Outcome.fail(f"something is on the {obj.replace('_', ' ')}")
    arm = state.choose_arm(obj)
    if arm is None:
        return Outcome.fail("target out of reach")
    if state.holding(arm) is not None:
        return Outcome.fail("already holding", arm)
    state.sensed.setdefault(obj, set()).add(cue)
    return Outcome(True, arm=arm)


def approach_closed(m: Motion, arm: str, obj: ObjectInfo, point: Point, above: float) -> str:
    """Close the fingers and come down over `point`; empty, or why it could not.

    Zero grasp force: nothing is between the fingers, and a grasp force would make the
    hand grip whatever the fingertips touch.
    """
    m.close_gripper(arm, force=0.0, wait=0.3)
    for height in (APPROACH, above):
        res = m.move({arm: finger_pose(point, obj, height)})
        if not res.ok:
            return res.reason
    return ""


def retreat(m: Motion, arm: str, obj: ObjectInfo) -> None:
    """Back straight up, open the hand again (as the next skill expects) and go home."""
    x, y, z = m.ee_pose(arm).position
    m.move({arm: Pose((x, y, z + APPROACH), top_down(grasp_yaw(obj)))})
    m.open_gripper(arm, wait=0.2)
    m.home(arm)


class FingertipSkill(Skill):
    """Knock and touch: come down over the object with closed fingers, sense, back off."""

    params = (Param("obj", ("object",)),)
    cue: ClassVar[str]  # what the skill adds to `SymbolicState.sensed`
    start_above: ClassVar[float]  # m over the surface where the sensing motion begins

    def apply(self, state: SymbolicState, obj: str) -> Outcome:
        return sense_check(state, obj, self.cue)

    def run(self, ctx: SkillContext, obj: str) -> Outcome:
        check = self.apply(ctx.symbolic(), obj=obj)
        if not check.success:
            return check
        m, arm, info = ctx.motion, check.arm, ctx.scene.objects[obj]
        point = strike_point(info)
        reason = approach_closed(m, arm, info, point, self.start_above)
        out = Outcome.fail(reason, arm) if reason else self.sense(m, arm, info, point)
        retreat(m, arm, info)
        return out

    @abstractmethod
    def sense(self, m: Motion, arm: str, info: ObjectInfo, point: Point) -> Outcome:
        """Gather the evidence, starting `start_above` the surface at `point`."""


class Knock(FingertipSkill):
    """Strike the object with the fingertips and record how it rings."""

    name = "knock"
    template = "knock on the {obj}"
    cue = "sound"
    start_above = KNOCK_LIFT

    def sense(self, m: Motion, arm: str, info: ObjectInfo, point: Point) -> Outcome:
        # Knock again, from a slightly different height, if nothing was heard: a faint
        # first contact can go unheard while the firm one after it is taken as old news.
        for attempt in range(KNOCK_TRIES):
            clip, touches = self._strike(m, arm, info, point, KNOCK_LIFT + RETRY_SHIFT * attempt)
            if not touches:
                return Outcome.fail("no contact with the object", arm)
            if float(np.max(np.abs(clip.samples), initial=0.0)) >= QUIET_LEVEL:
                return Outcome(True, arm=arm, data={
                    "audio": clip, "impact_time": touches[0].timestamp,
                    "strike_force": max(normal_force(r) for r in touches)})
        return Outcome.fail("the knock made no sound", arm)

    @staticmethod
    def _strike(m: Motion, arm: str, info: ObjectInfo, point: Point,
                above: float) -> tuple[AudioClip, list[ContactReading]]:
        """One knock from `above` the surface: the recording and the finger contacts felt."""
        fingers, mic = m.sensor(f"{arm}_fingers"), m.sensor("microphone")
        touches: list[ContactReading] = []

        def notice() -> None:
            reading = fingers.read()
            if normal_force(reading) > 0.0:
                touches.append(reading)

        m.move({arm: finger_pose(point, info, above)})
        mic.start()
        try:
            with sampling(m, notice):
                m.move({arm: finger_pose(point, info, -STRIKE_DEPTH)})
                m.move({arm: finger_pose(point, info, KNOCK_LIFT)})
            if touches:
                m.wait(max(0.0, touches[0].timestamp + RING_TIME - fingers.read().timestamp))
            return mic.read(), touches
        finally:
            mic.stop()


class Touch(FingertipSkill):
    """Press on the object with the fingertips, then stroke sideways: stiffness and friction."""

    name = "touch"
    template = "touch the {obj}"
    cue = "touch"
    start_above = HOVER

    def sense(self, m: Motion, arm: str, info: ObjectInfo, point: Point) -> Outcome:
        fingers, wrist = m.sensor(f"{arm}_fingers"), m.sensor(f"{arm}_wrist_ft")
        contact: list[ContactReading] = []
        wrench: list[ForceTorque] = []

        def record() -> None:
            contact.append(fingers.read())
            wrench.append(wrist.read())

        def feel(above: float, at: Point = point) -> tuple[float, float]:
            """Fingertips to `above` over `at`: the grasp-point height reached, the force felt."""
            m.move({arm: finger_pose(at, info, above)})
            return m.ee_pose(arm).position[2], normal_force(fingers.read())

        with sampling(m, record):
            record()
            press, touched_at = self._press(feel)
            stroke = self._stroke(feel, press, touched_at, info, point) if press else 0.0
        if not press:
            return Outcome.fail("no contact with the object", arm)
        return Outcome(True, arm=arm, data={
            "contact": contact, "wrench": wrench, "press": press, "press_force": press[-1][1],
            "stiffness": stiffness(press), "stroke": stroke})

    @staticmethod
    def _press(feel: Feel) -> tuple[list[tuple[float, float]], float]:
        """Creep down until the fingers feel `PRESS_FORCE`, so a soft object is not crushed.

        Returns (grasp-point height, normal force) for each step in contact, led by the
        last step that felt nothing (empty if nothing was felt), and the commanded height
        above the expected surface where the first touch came.
        """
        press: list[tuple[float, float]] = []
        above = touched_at = HOVER
        free = feel(above)
        while above > -PRESS_LIMIT and (not press or press[-1][1] < PRESS_FORCE):
            above -= PRESS_STEP
            sample = feel(above)
            if sample[1] <= 0.0 and not press:
                free = sample
            else:
                touched_at = touched_at if press else above
                press = (press or [free]) + [sample]
        return press, touched_at

    @staticmethod
    def _stroke(feel: Feel, press: list[tuple[float, float]], above: float, info: ObjectInfo,
                point: Point) -> float:
        """Slide sideways at the first touch's force; returns the distance stroked.

        Position control cannot hold a force, so each step corrects the height by the
        force error over the stiffness just measured. A force far above the target means
        the object moves with the fingers (dragged or tipping), and the stroke ends there.
        A press whose force did not rise (the object gave way beneath the fingers) measured
        no stiffness: the stroke then keeps its height.
        """
        target, k = press[1][1], stiffness(press)
        c, s = math.cos(info.yaw), math.sin(info.yaw)
        sign = -1.0 if point[1] > 0 else 1.0  # towards the middle of the table
        step = (-sign * s * SLIDE_STEP, sign * c * SLIDE_STEP)
        for i in range(1, round(SLIDE / SLIDE_STEP) + 1):
            point = (point[0] + step[0], point[1] + step[1], point[2])
            _, force = feel(above, point)
            if force > target + STROKE_MARGIN:
                return i * SLIDE_STEP
            if k > 0:
                above += float(np.clip((force - target) / k, -PRESS_STEP, 2 * PRESS_STEP))
        return SLIDE


class Weigh(Skill):
    """Lift the object, feel its weight at the wrist, and put it back where it was."""

    name = "weigh"
    template = "weigh the {obj}"
    params = (Param("obj", ("graspable",)),)

    def apply(self, state: SymbolicState, obj: str) -> Outcome:
        kind = state.types.get(obj)
        if kind is not None and kind not in GRASPABLE_TYPES:
            return Outcome.fail(f"a {kind} cannot be lifted with one hand")
        return sense_check(state, obj, "weight")

    @staticmethod
    def _force_z(m: Motion, arm: str) -> tuple[float, list[ForceTorque]]:
        """Mean vertical wrist force once the arm is still: moving, the hand's inertia shows."""
        wrist = m.sensor(f"{arm}_wrist_ft")
        m.wait(SETTLE)
        readings = []
        period = m.control_period  # whole control periods keep the robot's own rhythm
        for _ in range(max(1, round(AVERAGE_OVER / period))):
            m.wait(period)
            readings.append(wrist.read())
        return float(np.mean([r.force[2] for r in readings])), readings

    @staticmethod
    def reading_grip(weight: float, grip: float) -> float:
        """The grip force (N) to read a weight of `weight` N with, never above `grip`."""
        needed = READ_GRIP_MARGIN * max(weight, 0.0) / (2.0 * READ_GRIP_FRICTION)
        return min(grip, max(LIGHTEST_READ_GRIP, needed))

    def run(self, ctx: SkillContext, obj: str) -> Outcome:
        check = self.apply(ctx.symbolic(), obj=obj)
        if not check.success:
            return check
        out = self._weigh(ctx, check.arm, obj)
        ctx.motion.home(check.arm)
        return out

    def _weigh(self, ctx: SkillContext, arm: str, obj: str) -> Outcome:
        m, info = ctx.motion, ctx.scene.objects[obj]
        x, y, z = info.pose.position
        # The empty hand is measured where the full one will be: the same pose, the same bias.
        m.open_gripper(arm, wait=0.3)
        res = m.move({arm: Pose((x, y, CARRY_HEIGHT), top_down(grasp_yaw(info)))})
        if not res.ok:
            return Outcome.fail(res.reason, arm)
        empty, empty_readings = self._force_z(m, arm)
        out = pick_up_again_if_missed(ctx, arm, obj, info)
        if not out.success:
            return out
        first, _ = self._force_z(m, arm)
        # The squeeze itself shows at the wrist: Bullet's fingers pressed into a few grams
        # of foam at 10 N bend its reading by up to 0.9 g, at 0.3 N by 0.04 g. So relax to
        # a grip that still holds twice the weight just felt on the least friction any
        # object has, read the weight, and carry the object back at that grip.
        m.close_gripper(arm, force=self.reading_grip(empty - first, out.data["grip_force"]))
        held, readings = self._force_z(m, arm)
        if ctx.perceive().holder(obj) != arm:
            return Outcome.fail("grasp slipped", arm)
        weight = empty - held
        # The fingers may have nudged the object while closing: aim the hand so that the
        # object itself, not the grasp point, lands where it stood.
        now = ctx.perceive().objects[obj]
        ee = m.ee_pose(arm).position
        spot = (x + ee[0] - now.pose.position[0], y + ee[1] - now.pose.position[1], z)
        put = set_down(ctx, arm, now, spot)
        name = obj.replace("_", " ")
        if not put.success:
            return Outcome.fail(f"could not put the {name} back: {put.reason}", arm)
        # Open fingers can still carry an object away by friction; check it stayed.
        if math.dist(ctx.perceive().objects[obj].pose.position, (x, y, z)) > PUT_BACK_TOLERANCE:
            return Outcome.fail(f"the {name} did not stay where it was put back", arm)
        return Outcome(True, arm=arm, data={
            "weight_newtons": weight, "mass_kg": weight / GRAVITY, "wrench": readings,
            "empty_wrench": empty_readings})
