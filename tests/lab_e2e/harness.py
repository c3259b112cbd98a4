"""Shared by tests/lab_e2e/conftest.py and the lab test (one module instance, so TIMINGS is shared)."""

TIMINGS = {}
