"""robollm: language-model planning for a two-armed robot."""

__version__ = "0.1.0"
