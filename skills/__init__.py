"""Skills: parameterised motions with a language template and a symbolic effect."""
