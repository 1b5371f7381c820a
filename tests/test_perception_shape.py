"""The measured shape rules out types a crop's look suggests: a tall dish is no plate."""

from __future__ import annotations

import numpy as np
import torch

from robollm.perception.clip import Recogniser
from robollm.perception.model import ClipModel
from robollm.perception.shape import has_width, hollowness, ruled_out
from robollm.perception.vocabulary import TYPES

BOWL = (0.057, 0.15)  # height, long side of the footprint (m)
PLATE = (0.012, 0.17)
BLOCK = (0.045, 0.045)
CUP = (0.09, 0.075)


def excluded(height_long: tuple[float, float], on_table: bool = True) -> set[str]:
    flags = ruled_out(list(TYPES), *height_long, on_table)
    return {t for t, out in zip(TYPES, flags, strict=True) if out}


def test_each_shape_keeps_its_own_type_and_rules_out_others():
    assert excluded(BOWL) == {"plate", "block", "cup"}
    assert excluded(PLATE) == {"block", "cup"}
    assert excluded(BLOCK) == {"plate"}
    assert excluded(CUP) == {"plate", "bowl"}  # taller than wide


def _seen_from_above(height: float, wall: float | None, side: float = 0.06, step: float = 0.002):
    """Points of a square thing `side` wide: a flat top at `height`, or, with `wall`, an
    open vessel whose floor lies `wall` below its rim."""
    g = np.arange(-side / 2, side / 2 + 1e-9, step)
    xy = np.array([(x, y) for x in g for y in g]) + (0.5, 0.1)
    rim = np.maximum(np.abs(xy[:, 0] - 0.5), np.abs(xy[:, 1] - 0.1)) > side / 2 - 0.006
    z = np.full(len(xy), height) if wall is None else np.where(rim, height, height - wall)
    return xy, z


def test_hollowness_tells_a_solid_top_from_an_open_vessel():
    solid = hollowness(*_seen_from_above(0.05, None), 0.05, (0.5, 0.1), 0.0, (0.06, 0.06), 0.05)
    vessel = hollowness(*_seen_from_above(0.09, 0.08), 0.09, (0.5, 0.1), 0.0, (0.06, 0.06), 0.09)
    assert solid == 0.0
    assert 0.85 < vessel < 0.9
    assert hollowness(np.zeros((3, 2)), np.zeros(3), 0.0, (0.0, 0.0), 0.0, (0.06, 0.06), 0.05) is None  # too few points


def test_a_dark_cup_and_a_dark_block_part_by_hollowness():
    """Same height and width: only the middle of the footprint tells them apart."""
    square = (0.06, 0.06)
    assert excluded_with(square, hollow=0.9) >= {"block"} and "cup" not in excluded_with(square, hollow=0.9)
    assert "cup" in excluded_with(square, hollow=0.0) and "block" not in excluded_with(square, hollow=0.0)
    assert not {"cup", "block"} & excluded_with(square, hollow=None)  # not measured: no rule


def excluded_with(height_long: tuple[float, float], hollow: float | None) -> set[str]:
    flags = ruled_out(list(TYPES), *height_long, True, hollow)
    return {t for t, out in zip(TYPES, flags, strict=True) if out}


def test_a_region_not_seen_down_to_the_table_rules_nothing_out():
    """The top of something on a stack, or half hidden, may look flat without being so."""
    assert excluded(PLATE, on_table=False) == set()
    assert excluded(BOWL, on_table=False) == set()


def test_a_type_without_a_rule_is_never_ruled_out():
    assert ruled_out(["plate", "saucer"], 0.06, 0.15, True) == [True, False]
    assert ruled_out(["plate"], 0.06, 0.15, True) == [False]  # nothing left: the shape is not trusted


def test_a_line_of_pixels_along_an_edge_is_no_thing_but_a_strip_of_a_block_is():
    assert not has_width((0.0, 0.337))  # a tray's wall seen edge-on
    assert has_width((0.016, 0.032))  # the side of a block seen under another
    assert has_width((0.045, 0.045))


class OneLook(ClipModel):
    """Every crop embeds to one vector; texts embed by keyword, so one crop 'looks like'
    a black plate, a little like a black bowl."""

    label = "fake"
    logit_scale = 20.0

    def __init__(self) -> None:
        self.axes = {"plate": 0, "bowl": 1, "black": 2}

    def embed_images(self, crops: torch.Tensor) -> torch.Tensor:
        v = torch.zeros(len(crops), 4)
        v[:, 0], v[:, 1], v[:, 2] = 0.7, 0.5, 0.5
        return torch.nn.functional.normalize(v, dim=1)

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), 4)
        out[:, 3] = 0.3
        for i, text in enumerate(texts):
            for word, axis in self.axes.items():
                if word in text.split():
                    out[i, axis] = 1.0
        return torch.nn.functional.normalize(out, dim=1)


def test_recognition_picks_the_best_type_the_shape_allows():
    rec = Recogniser(OneLook(), ["black", "white"], list(TYPES))
    crops = torch.zeros(1, 3, 8, 8)
    assert rec.classify(crops)[0][:2] == ("black", "plate")
    shape = torch.tensor([ruled_out(list(TYPES), *BOWL, True)])
    colour, kind, type_score, _ = rec.classify(crops, shape)[0]
    assert (colour, kind) == ("black", "bowl")
    assert type_score > 0.3  # renormalised over what the shape allows
