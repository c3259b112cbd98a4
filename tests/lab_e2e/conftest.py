"""The lab layer (make lab end to end). Needs root and the VM layer's Debian packages, like tests/vm."""

from tests.lab_e2e.harness import TIMINGS


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "lab layer timings (seconds)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line("%-40s %7.1f" % (name, seconds))
