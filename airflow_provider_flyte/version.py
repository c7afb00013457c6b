"""The package version, kept in one place for the user agent and the provider metadata."""

__version__ = "1.0.0.dev0"
