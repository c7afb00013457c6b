"""The sandbox's version: its build, reported next to the Flyte Admin release it follows (``GetVersion``)."""

__version__ = "1.0.0.dev0"
