"""Rerunnable benchmarks of the Faster packages: `hatch run bench:run` (see README.md)."""
