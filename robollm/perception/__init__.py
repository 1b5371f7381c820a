"""Perception: what the planner and skills know about the scene, from the selected source."""
