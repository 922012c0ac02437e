"""Commands: each parses its arguments (or composes a Hydra config) and calls the library."""
