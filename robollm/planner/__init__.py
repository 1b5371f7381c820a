"""The SayCan planner: language-model usefulness times affordance, one skill per step."""
