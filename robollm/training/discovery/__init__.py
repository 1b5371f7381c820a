"""Skill discovery: propose tasks, shape their rewards from success predicates, train
low-level policies, verify them in physics and add them to the skill library."""
