"""Each simulation owns its own PyBullet client; nothing here touches the global `p.*`."""

from __future__ import annotations

from robollm.util.quiet import import_pybullet, quiet_stdout

pybullet, bullet_client = import_pybullet()


def new_client(gui: bool = False, timestep: float = 1.0 / 240.0) -> bullet_client.BulletClient:
    mode = pybullet.GUI if gui else pybullet.DIRECT
    with quiet_stdout():
        pb = bullet_client.BulletClient(connection_mode=mode)
    pb.setGravity(0.0, 0.0, -9.81)
    pb.setTimeStep(timestep)
    pb.setPhysicsEngineParameter(
        numSolverIterations=80,
        deterministicOverlappingPairs=1,
        enableConeFriction=1,
    )
    if gui:
        pb.configureDebugVisualizer(pb.COV_ENABLE_GUI, 0)
        pb.resetDebugVisualizerCamera(1.3, 90.0, -35.0, (0.45, 0.0, 0.05))
    return pb
