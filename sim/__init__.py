"""The simulated world: PyBullet clients, the two-arm rig, objects, sensors and scenes."""
