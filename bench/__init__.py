"""Parley's load benchmarks: `make bench` (full) and `make bench-quick` (under a minute)."""
