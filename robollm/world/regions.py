"""Table regions from the arms' workspaces: what only the left arm reaches, what only
the right arm reaches, and the shared middle where both do (and hand-overs happen)."""

from __future__ import annotations

from robollm.config import TableConfig
from robollm.geometry import Box
from robollm.robot.base import ArmSpec


def table_regions(table: TableConfig, arms: dict[str, ArmSpec]) -> dict[str, Box]:
    (x0, y0), (x1, y1) = table.low, table.high
    z0, z1 = table.height, table.height + 0.5
    shared_low = arms["left"].workspace.low[1]  # the left arm reaches down to here
    shared_high = arms["right"].workspace.high[1]  # the right arm reaches up to here
    return {
        "left": Box((x0, shared_high, z0), (x1, y1, z1)),
        "middle": Box((x0, shared_low, z0), (x1, shared_high, z1)),
        "right": Box((x0, y0, z0), (x1, shared_low, z1)),
    }


def arms_reaching(x: float, y: float, arms: dict[str, ArmSpec]) -> list[str]:
    """Arms whose workspace contains the point, left first."""
    return [name for name in ("left", "right") if arms[name].workspace.contains_xy(x, y)]
