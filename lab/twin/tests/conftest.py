"""Prints the live twin timings (lab/twin/tests/test_live_vm.py) at the end of the run: numbers, not timed tests."""

from lab.twin.tests import test_live_vm


def pytest_terminal_summary(terminalreporter):
    if test_live_vm.TIMINGS:
        terminalreporter.write_sep("-", "AWS-side twins on a real kernel: timings (seconds)")
        for name, seconds in test_live_vm.TIMINGS.items():
            terminalreporter.write_line("%-40s %7.1f" % (name, seconds))
