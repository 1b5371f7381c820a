"""The robot: the `Robot` and `Sensor` interfaces, capabilities a driver may offer,
Panda kinematics and the arm model, and the narrow motion interface skills use."""
