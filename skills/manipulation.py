"""Pick, place and hand over: the one-arm manipulation primitives.

Grasps are top-down, aligned with the object's yaw. An object that the holding arm
cannot bring to its target is handed to the other arm through the shared middle of
the table: the holder sets it down there and the other arm picks it up.
"""

from __future__ import annotations

import math

from robollm.geometry import Pose, rotation_matrix, top_down
from robollm.skill import GRASPABLE_TYPES, Outcome, Param, Skill, SkillContext
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import SymbolicState
from robollm.world.symbolic import other_arm as other

APPROACH = 0.12  # m above the grasp or release point to start straight-line moves
CARRY_HEIGHT = 0.22  # m above the table while carrying
EMPTY_WIDTH = 0.004  # m: fingers closed this far hold nothing
GENTLE_FORCE = 10.0  # N: first contact, and the hold for soft objects
RISE_FRACTION = 0.6  # of the hand's rise the object must follow for a lift to count as held
SOFT_YIELD = 0.0015  # m the fingers may sink at one squeeze step before an object counts as soft
CUP_FORCE = 30.0  # N: the most a cup's thin wall is squeezed with
SQUEEZE_STEPS = (2.0, 3.0)  # x GENTLE_FORCE: the steps between the gentle close and the full grasp force


def fold_square(yaw: float) -> float:
    """A yaw folded into [-pi/4, pi/4]: a square block looks the same every 90 degrees."""
    q = math.pi / 2
    return (yaw + q / 2) % q - q / 2


def grasp_yaw(obj: ObjectInfo) -> float:
    return fold_square(obj.yaw)


def clear_grasp_yaw(scene: SceneState, obj: ObjectInfo) -> float:
    """Of the two ways to grip a square object, the one whose fingers land farther from
    its neighbours, so an open finger does not come down on a cup rim beside it."""
    base = grasp_yaw(obj)
    x, y, _ = obj.pose.position
    others = [o for o in scene.objects.values() if o.name != obj.name and scene.holder(o.name) is None]

    def clearance(yaw: float) -> float:
        # The fingers close along the gripper's y axis, rotated by yaw.
        dx, dy = -math.sin(yaw) * 0.055, math.cos(yaw) * 0.055
        fingers = ((x + dx, y + dy), (x - dx, y - dy))
        return min((math.hypot(fx - o.pose.position[0], fy - o.pose.position[1]) - o.radius
                    for fx, fy in fingers for o in others), default=1.0)

    options = [base] if obj.type == "cup" else [base, base + math.pi / 2]
    return max(options, key=clearance)


def grasp_height(obj: ObjectInfo) -> float:
    base = base_height(obj)
    if obj.type == "cup":
        return base + obj.height * 0.6
    return base + obj.height - min(0.018, obj.height / 2)


def hand_full(state: SymbolicState, arm: str) -> Outcome:
    """The failure of a skill that needs `arm` free: which hand holds what."""
    held = state.holding(arm)
    return Outcome.fail(f"the {arm} hand already holds the {str(held).replace('_', ' ')}", arm)


def squeeze(m, arm: str, obj: ObjectInfo) -> tuple[float, float]:
    """Close gently, then squeeze harder step by step up to the arm's grasp force (a cup:
    at most CUP_FORCE).

    An object that gives under a step (foam) is held at the force before it: the full
    grasp force would crush the fingers through it. A thin cup wall may give no sign
    before it is pierced (a foam cup at 40 N), hence the cup's lower limit, which still
    holds a metal cup many times over.

    Returns the width the fingers stopped at and the force they hold with.
    """
    width = m.close_gripper(arm, force=GENTLE_FORCE)
    if width < EMPTY_WIDTH:
        return width, GENTLE_FORCE
    full, held = m.grasp_force(arm), GENTLE_FORCE
    if obj.type == "cup":
        full = min(full, CUP_FORCE)
    for force in [k * GENTLE_FORCE for k in SQUEEZE_STEPS if k * GENTLE_FORCE < full] + [full]:
        firmer = m.close_gripper(arm, force=force)
        if firmer < EMPTY_WIDTH or width - firmer > SOFT_YIELD:
            return (firmer, force) if firmer < EMPTY_WIDTH else (m.close_gripper(arm, force=held), held)
        width, held = firmer, force
    return width, held


def lying_middle(obj: ObjectInfo) -> tuple[float, float, float] | None:
    """The middle of a block knocked onto a side (None for anything upright): its frame's
    origin, the bottom face's centre, is then on a side face, half its height from the
    middle along the frame's z axis."""
    up = rotation_matrix(obj.pose.orientation)[:, 2]
    if obj.type != "block" or up[2] > 0.9:
        return None
    x, y, z = (float(p + a * obj.height / 2) for p, a in zip(obj.pose.position, up, strict=True))
    return x, y, z


def base_height(obj: ObjectInfo) -> float:
    """The height of the object's underside."""
    middle = lying_middle(obj)
    return obj.pose.position[2] if middle is None else middle[2] - obj.height / 2


def pick_up(ctx: SkillContext, arm: str, obj: ObjectInfo) -> Outcome:
    m = ctx.motion
    middle, z = lying_middle(obj), grasp_height(obj)
    if middle is None:
        x, y, _ = obj.pose.position
        orn = top_down(clear_grasp_yaw(ctx.scene, obj))
    else:  # a cube on its side: top-down across the two faces that now stand
        x, y, _ = middle
        across = min(rotation_matrix(obj.pose.orientation).T, key=lambda a: abs(a[2]))  # the most level axis
        orn = top_down(fold_square(math.atan2(-across[0], across[1])))
    m.open_gripper(arm, wait=0.3)
    for target in (Pose((x, y, z + APPROACH), orn), Pose((x, y, z), orn)):
        res = m.move({arm: target})
        if not res.ok:
            return Outcome.fail(res.reason, arm)
    width, grip = squeeze(m, arm, obj)
    if width < EMPTY_WIDTH:
        m.open_gripper(arm, wait=0.2)
        m.move({arm: Pose((x, y, z + APPROACH), orn)})
        return Outcome.fail("grasp missed: the fingers closed on nothing", arm)
    lift = max(z + APPROACH, CARRY_HEIGHT)
    res = m.move({arm: Pose((x, y, lift), orn)})
    if m.gripper_width(arm) < EMPTY_WIDTH:
        return Outcome.fail("grasp slipped", arm)
    if not res.ok:
        return Outcome.fail(res.reason, arm)
    # Open fingers resting on the object, or a grip too weak to hold it, leave the width
    # looking like a grasp: only the object rising with the hand shows that it is held.
    rise = _rise(ctx, obj)
    if rise < RISE_FRACTION * (lift - z):
        m.open_gripper(arm, wait=0.3)
        return Outcome.fail(f"grasp failed: the {obj.name.replace('_', ' ')} did not rise with the hand "
                            f"(it came up {max(rise, 0.0) * 100:.0f} cm)", arm)
    return Outcome(True, arm=arm, data={"grasp_width": width, "grip_force": grip, "rise": rise})


def _rise(ctx: SkillContext, obj: ObjectInfo) -> float:
    """How far the object has come up since `obj` was perceived (a fresh look)."""
    seen = ctx.perceive().objects.get(obj.name)
    return -1.0 if seen is None else seen.pose.position[2] - obj.pose.position[2]


def release_point(scene: SceneState, obj: ObjectInfo, target: str) -> tuple[float, float, float] | None:
    """Where the object's footprint centre should end up: x, y and the z of its bottom.

    On or in a wide target (plate, bowl, tray) the object goes to the spot farthest from
    what is already there, so two blocks can share a plate. Into a tall narrow container
    (a cup) it is released just above the rim and drops in.
    """
    if target in scene.regions:
        spot = scene.free_spot(target, obj.radius, avoid=(obj.name,))
        return None if spot is None else (spot[0], spot[1], 0.0)
    t = scene.objects[target]
    tx, ty, tz = t.pose.position
    if t.type == "cup":
        return (tx, ty, tz + t.height + 0.005)
    z = tz + 0.012 if t.type in ("bowl", "tray", "box") else tz + t.height + 0.002
    if t.type == "block":
        return (tx, ty, z)
    x, y = _roomiest_spot(scene, obj, t)
    return (x, y, z)


def _roomiest_spot(scene: SceneState, obj: ObjectInfo, target: ObjectInfo) -> tuple[float, float]:
    tx, ty, _ = target.pose.position
    inside = [o for o in scene.objects.values()
              if o.name not in (obj.name, target.name) and scene.holder(o.name) is None
              and math.hypot(o.pose.position[0] - tx, o.pose.position[1] - ty) < target.radius]
    if not inside:
        return tx, ty
    reach = max(0.0, min(target.footprint) / 2 - obj.radius - 0.012)
    spots = [(tx, ty)] + [(tx + reach * math.cos(a), ty + reach * math.sin(a))
                          for a in (i * math.pi / 4 for i in range(8))]
    return max(spots, key=lambda p: min(math.hypot(p[0] - o.pose.position[0], p[1] - o.pose.position[1])
                                        for o in inside))


def set_down(ctx: SkillContext, arm: str, obj: ObjectInfo, point: tuple[float, float, float]) -> Outcome:
    m = ctx.motion
    ee = m.ee_pose(arm)
    # Keep the grasp as it is: the offset between the grasp point and the object's base.
    offset = ee.position[2] - base_height(obj)
    x, y, zb = point
    z = zb + offset + 0.008
    orn = ee.orientation
    for target in (Pose((x, y, max(z + APPROACH, CARRY_HEIGHT)), orn), Pose((x, y, z), orn)):
        res = m.move({arm: target})
        if not res.ok:
            return Outcome.fail(res.reason, arm)
        if m.gripper_width(arm) < EMPTY_WIDTH:
            return Outcome.fail("grasp slipped", arm)
    m.open_gripper(arm, wait=0.4)
    m.move({arm: Pose((x, y, z + APPROACH), orn)})
    return Outcome(True, arm=arm)


def pick_up_again_if_missed(ctx: SkillContext, arm: str, obj_name: str, info: ObjectInfo) -> Outcome:
    """`pick_up` of `info` (the object as last seen), and once more from a fresh look if
    the fingers closed on nothing: a light, soft object (a 3 g foam block) can squirt out
    of the closing fingers and stand a little further on."""
    out = pick_up(ctx, arm, info)
    if not out.success and out.reason.startswith("grasp missed"):
        out = pick_up(ctx, arm, ctx.perceive().objects[obj_name])
    return out


def hand_over_via_table(ctx: SkillContext, giver: str, obj_name: str) -> Outcome:
    """Set the object down in the shared middle and pick it up with the other arm."""
    scene = ctx.perceive()
    obj = scene.objects[obj_name]
    spot = scene.free_spot("middle", obj.radius, avoid=(obj_name,))
    if spot is None:
        return Outcome.fail("no free space in the middle for a hand-over", giver)
    out = set_down(ctx, giver, obj, (spot[0], spot[1], 0.0))
    if not out.success:
        return out
    ctx.motion.home(giver)
    scene = ctx.perceive()
    taker = other(giver)
    out = pick_up_again_if_missed(ctx, taker, obj_name, scene.objects[obj_name])
    out.data["handed_over"] = True
    return out


def cannot_pick(state: SymbolicState, obj: str) -> Outcome | None:
    """Why no hand can pick `obj` up, whichever arm would: a failed outcome, or None."""
    if state.types.get(obj) is None:
        return Outcome.fail("object not found")
    if state.holder(obj):
        return hand_full(state, state.holder(obj))
    if state.types[obj] not in GRASPABLE_TYPES:
        return Outcome.fail(f"a {state.types[obj]} cannot be picked with one hand")
    if state.stacked_on(obj):
        return Outcome.fail(f"something is on the {obj.replace('_', ' ')}")
    return None


class Pick(Skill):
    name = "pick"
    template = "pick up the {obj}"
    params = (Param("obj", ("graspable",)),)

    def apply(self, state: SymbolicState, obj: str) -> Outcome:
        refused = cannot_pick(state, obj)
        if refused:
            return refused
        arm = state.choose_arm(obj)
        if arm is None:
            return Outcome.fail("target out of reach")
        if state.holding(arm) is not None:
            return hand_full(state, arm)
        state.put(obj, "held", arm)
        return Outcome(True, arm=arm)

    def run(self, ctx: SkillContext, obj: str) -> Outcome:
        sym = ctx.symbolic()
        check = self.apply(sym, obj=obj)
        if not check.success:
            return check
        out = pick_up(ctx, check.arm, ctx.scene.objects[obj])
        ctx.motion.home(check.arm) if not out.success else None
        return out


class Place(Skill):
    name = "place"
    template = "place the {obj} in the {target}"
    params = (Param("obj", ("graspable",)), Param("target", ("container", "support", "region")))

    def describe(self, **args: str) -> str:
        target = args["target"]
        if target in ("left", "right", "middle"):
            where = "in the middle of the table" if target == "middle" else f"on the {target} side of the table"
            return f"place the {args['obj'].replace('_', ' ')} {where}"
        prep = "in" if target.split("_")[-1] in ("bowl", "cup", "tray", "box") else "on"
        return f"place the {args['obj'].replace('_', ' ')} {prep} the {target.replace('_', ' ')}"

    def apply(self, state: SymbolicState, obj: str, target: str) -> Outcome:
        arm = state.holder(obj)
        if arm is None:
            return Outcome.fail(f"not holding the {obj.replace('_', ' ')}")
        if target == obj:
            return Outcome.fail("cannot place an object on itself")
        region = target if target in state.region_names else state.region_of(target)
        if target not in state.region_names and state.holder(target):
            return Outcome.fail(f"the {target.replace('_', ' ')} is in a hand")
        if state.types.get(target) == "block" and state.stacked_on(target):
            return Outcome.fail(f"something is already on the {target.replace('_', ' ')}")
        if not state.reaches(arm, region):
            if state.holding(other(arm)) is not None:
                return Outcome.fail("target out of reach (the other hand is full)", arm)
            arm = other(arm)
        if target in state.region_names:
            state.put(obj, "at", target)
        else:
            kind = state.types[target]
            state.put(obj, "in" if kind in ("bowl", "cup", "tray", "box") else "on", target)
        return Outcome(True, arm=arm)

    def run(self, ctx: SkillContext, obj: str, target: str) -> Outcome:
        sym = ctx.symbolic()
        check = self.apply(sym.copy(), obj=obj, target=target)
        if not check.success:
            return check
        arm = sym.holder(obj)
        handed = False
        if check.arm != arm:
            out = hand_over_via_table(ctx, arm, obj)
            if not out.success:
                return out
            arm, handed = check.arm, True
        scene = ctx.perceive()
        point = release_point(scene, scene.objects[obj], target)
        if point is None:
            return Outcome.fail(f"no free space in the {target} region", arm)
        out = set_down(ctx, arm, scene.objects[obj], point)
        ctx.motion.home(arm)
        out.data["handed_over"] = handed
        return out


class HandOver(Skill):
    name = "hand_over"
    template = "hand the {obj} to the other hand"
    params = (Param("obj", ("graspable",)),)

    def apply(self, state: SymbolicState, obj: str) -> Outcome:
        arm = state.holder(obj)
        if arm is None:
            return Outcome.fail(f"not holding the {obj.replace('_', ' ')}")
        if state.holding(other(arm)) is not None:
            return hand_full(state, other(arm))
        state.put(obj, "held", other(arm))
        return Outcome(True, arm=other(arm))

    def run(self, ctx: SkillContext, obj: str) -> Outcome:
        sym = ctx.symbolic()
        check = self.apply(sym.copy(), obj=obj)
        if not check.success:
            return check
        return hand_over_via_table(ctx, sym.holder(obj), obj)


