"""The world as the planner sees it: scene specs, perceived scene state, success
predicates, table regions and the symbolic state skills state their effects on."""
