"""Physical properties of the materials objects are made of.

Densities, conductivities and specific heats are handbook values (steel for metal,
pine for wood, ABS for plastic, soda-lime glass, porcelain, polyurethane foam).
Acoustic modes are the first three resonances of a 45 mm block of the material
struck on a hard table: they scale inversely with object size, and the damping ratio
says how fast each ring dies away. Friction and restitution are what the contact
solver uses; `stiffness` is a contact stiffness in N/m, and the solver treats values
at or above `RIGID_STIFFNESS` as rigid.
"""

from __future__ import annotations

from dataclasses import dataclass

from robollm.world.scene import MATERIALS

RIGID_STIFFNESS = 1.0e5
REFERENCE_SIZE = 0.045  # m: the object size the modal frequencies are given for


@dataclass(frozen=True)
class Material:
    name: str
    density: float  # kg/m^3
    friction: float  # Coulomb coefficient against a rubber fingertip/table
    restitution: float
    stiffness: float  # contact stiffness, N/m
    youngs_modulus: float  # Pa
    modal_frequencies: tuple[float, float, float]  # Hz at REFERENCE_SIZE
    damping_ratio: float  # of each acoustic mode
    thermal_conductivity: float  # W/(m K)
    specific_heat: float  # J/(kg K)

    def modes_for(self, size: float) -> tuple[float, ...]:
        return tuple(f * REFERENCE_SIZE / size for f in self.modal_frequencies)

    @property
    def thermal_effusivity(self) -> float:
        """How cold a material feels to the touch: sqrt(k rho c)."""
        return (self.thermal_conductivity * self.density * self.specific_heat) ** 0.5


MATERIAL_TABLE: dict[str, Material] = {
    m.name: m
    for m in (
        Material("metal", 7850.0, 0.55, 0.25, 5.0e6, 200e9, (3150.0, 6900.0, 10400.0), 0.0015, 50.0, 490.0),
        Material("wood", 550.0, 0.75, 0.35, 1.0e6, 11e9, (1050.0, 2500.0, 4100.0), 0.035, 0.15, 1700.0),
        Material("plastic", 1050.0, 0.60, 0.45, 5.0e5, 2.3e9, (1400.0, 3300.0, 5200.0), 0.05, 0.18, 1400.0),
        Material("glass", 2500.0, 0.45, 0.30, 4.0e6, 70e9, (3800.0, 8100.0, 12300.0), 0.003, 1.0, 840.0),
        Material("ceramic", 2300.0, 0.65, 0.25, 3.0e6, 70e9, (2900.0, 6300.0, 9600.0), 0.007, 1.5, 1085.0),
        Material("foam", 35.0, 0.95, 0.05, 1.0e4, 1.0e6, (160.0, 420.0, 730.0), 0.30, 0.03, 1400.0),
    )
}

assert tuple(MATERIAL_TABLE) == MATERIALS, "the material table must cover robollm.world.scene.MATERIALS"
