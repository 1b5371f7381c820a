"""Camera geometry on synthetic depth: deprojection, the table plane, proposals, footprints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robollm.geometry import Pose
from robollm.perception.geometry import (
    deproject,
    fit_plane,
    merge_fragments,
    min_area_rectangle,
    project,
    propose,
    rotation_matrix,
)
from robollm.perception.proposals import Hand, look
from robollm.robot.sensors import CameraFrame

# A camera 1 m above the table at (0.5, 0), looking straight down; image right is -y,
# image down is -x (x right, y down, z forward in the camera frame).
DOWN = (math.sqrt(0.5), -math.sqrt(0.5), 0.0, 0.0)  # columns: x=(0,-1,0), y=(-1,0,0), z=(0,0,-1)
CAMERA = Pose((0.5, 0.0, 1.0), DOWN)
INTRINSICS = (200.0, 200.0, 80.0, 60.0)
W, H = 160, 120


def table_frame(boxes: list[tuple[float, float, float, float, tuple[int, int, int]]]) -> CameraFrame:
    """Depth and colour of a grey table at z = 0 with axis-aligned boxes (x, y, half side,
    height, colour) on it, rendered by casting each pixel's ray."""
    rot = rotation_matrix(DOWN)
    u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    rays = np.stack([(u - INTRINSICS[2]) / INTRINSICS[0], (v - INTRINSICS[3]) / INTRINSICS[1], np.ones_like(u)], -1)
    world_dir = rays @ rot.T  # direction per unit of depth
    depth = 1.0 / -world_dir[..., 2]  # the table at z = 0
    rgb = np.full((H, W, 3), 150, dtype=np.uint8)
    for x, y, half, height, colour in boxes:
        d_top = (1.0 - height) / -world_dir[..., 2]
        px = 0.5 + world_dir[..., 0] * d_top
        py = 0.0 + world_dir[..., 1] * d_top
        inside = (np.abs(px - x) <= half) & (np.abs(py - y) <= half)
        depth = np.where(inside, np.minimum(depth, d_top), depth)
        rgb[inside] = colour
    return CameraFrame(rgb, depth.astype(np.float32), None, {}, INTRINSICS, CAMERA, 0.0)


def test_rotation_of_the_straight_down_camera():
    rot = rotation_matrix(DOWN)
    assert np.allclose(rot[:, 2], (0, 0, -1))
    assert np.allclose(rot @ rot.T, np.eye(3))


def test_deproject_and_project_are_inverse():
    depth = np.full((H, W), 0.8, dtype=np.float32)
    pts = deproject(depth, INTRINSICS, CAMERA)
    assert np.allclose(pts[..., 2], 0.2)  # 0.8 m below a camera at 1 m
    centre = pts[H // 2, W // 2]
    assert abs(centre[0] - 0.5) < 0.01 and abs(centre[1]) < 0.01
    uv = project(pts.reshape(-1, 3), INTRINSICS, CAMERA).reshape(H, W, 2)
    assert np.allclose(uv[..., 0], np.arange(W) + 0.5, atol=1e-6)
    assert np.allclose(uv[..., 1], (np.arange(H) + 0.5)[:, None], atol=1e-6)


def test_plane_fit_ignores_what_stands_on_the_table():
    rng = np.random.default_rng(0)
    table = np.column_stack([rng.uniform(0, 1, 3000), rng.uniform(-0.5, 0.5, 3000), rng.normal(0.1, 0.0005, 3000)])
    clutter = np.column_stack([rng.uniform(0, 1, 800), rng.uniform(-0.5, 0.5, 800), rng.uniform(0.12, 0.3, 800)])
    plane = fit_plane(np.vstack([table, clutter]))
    assert plane is not None
    assert plane.normal[2] > 0.999
    assert abs(plane.offset - 0.1) < 0.002
    assert fit_plane(np.zeros((10, 3))) is None


def test_proposals_split_touching_objects_of_different_colours():
    frame = table_frame([(0.5, 0.0, 0.025, 0.05, (200, 30, 30)), (0.5, 0.05, 0.025, 0.05, (30, 30, 200)),
                         (0.4, -0.1, 0.02, 0.04, (30, 200, 30))])
    seen = look(frame, (0.3, -0.25), (0.7, 0.25))
    assert seen.status == "ok"
    assert len(seen.proposals) == 3
    centres = sorted((round(m.centre[0], 2), round(m.centre[1], 2)) for m in seen.proposals)
    assert centres == [(0.4, -0.1), (0.5, 0.0), (0.5, 0.05)]
    tops = sorted(round(m.base_z + m.height, 2) for m in seen.proposals)
    assert tops == [0.04, 0.05, 0.05]  # seen straight from above: the top faces only


def test_a_hand_hides_what_is_under_it_and_no_depth_is_reported():
    frame = table_frame([(0.5, 0.0, 0.025, 0.05, (200, 30, 30))])
    assert len(look(frame, (0.3, -0.25), (0.7, 0.25), [Hand((0.5, 0.0, 0.06), holding=True)]).proposals) == 0
    empty = CameraFrame(frame.rgb, np.zeros_like(frame.depth), None, {}, INTRINSICS, CAMERA, 0.0)
    assert look(empty, (0.3, -0.25), (0.7, 0.25)).status == "no depth"
    assert look(table_frame([]), (0.3, -0.25), (0.7, 0.25)).proposals == []


def test_a_fragment_merged_twice_takes_no_pixels_of_another_region():
    """A small piece that joins a small neighbour, which then joins the body, must bring
    only its own pixels along: a grey speck far away (a bit of an arm) stays apart, or the
    body's footprint would stretch across the table to it."""
    labels = -np.ones((20, 30), dtype=np.int64)
    labels[0:10, 0:10] = 0  # the body
    labels[11, 0:5] = 1  # a fragment touching only fragment 2
    labels[10, 0:10] = 2  # a fragment touching the body
    labels[15, 20:26] = 3  # a grey speck touching nothing
    chroma = np.zeros((20, 30, 3))
    chroma[..., 2] = 1.0
    chroma[15, 20:26] = 1 / math.sqrt(3)
    out = merge_fragments(labels, chroma)
    body = out[0, 0]
    assert (out[0:12][labels[0:12] >= 0] == body).all()  # both fragments joined the body
    speck = out[15, 20:26]
    assert (speck == speck[0]).all() and speck[0] != body


def test_black_fragments_do_not_join_a_white_region():
    """Black, grey and white share one colour direction: the black sides of a block seen
    under a white one stay apart (brightness tells them apart), while a shaded facet of
    the white block joins it."""
    labels = -np.ones((20, 30), dtype=np.int64)
    labels[0:10, 0:10] = 0  # a white top face
    labels[10:12, 0:10] = 1  # its shaded side, 20 px
    labels[12:14, 0:10] = 2  # black sides of the block below, 20 px
    rgb = np.zeros((20, 30, 3))
    rgb[0:10] = 219.0
    rgb[10:12] = 140.0
    rgb[12:14] = 14.0
    col = rgb + 8.0
    chroma = col / np.linalg.norm(col, axis=-1, keepdims=True)
    out = merge_fragments(labels, chroma, col.sum(axis=-1))
    assert out[10, 0] == out[0, 0]
    assert out[12, 0] != out[0, 0]


def test_propose_drops_specks():
    frame = table_frame([(0.5, 0.0, 0.002, 0.05, (200, 30, 30))])
    seen = look(frame, (0.3, -0.25), (0.7, 0.25))
    points = deproject(frame.depth, INTRINSICS, CAMERA)
    assert propose(frame.rgb, points, seen.plane, np.ones((H, W), bool), min_pixels=12) == []


@pytest.mark.parametrize("yaw", [0.0, 0.3, -0.6])
def test_min_area_rectangle_finds_a_rotated_block(yaw):
    g = np.stack(np.meshgrid(np.linspace(-0.02, 0.02, 30), np.linspace(-0.03, 0.03, 40)), -1).reshape(-1, 2)
    c, s = math.cos(yaw), math.sin(yaw)
    pts = g @ np.array([[c, s], [-s, c]]) + (0.4, 0.1)
    fp = min_area_rectangle(pts, step_deg=1.0)
    assert np.allclose(fp.centre, (0.4, 0.1), atol=1e-3)
    assert np.allclose(sorted(fp.extent), (0.04, 0.06), atol=2e-3)
    folded = (fp.yaw - yaw) % (math.pi / 2)
    assert min(folded, math.pi / 2 - folded) < math.radians(1.5)
