"""Launch configurations that ship with robollm (YAML files beside this one)."""
