"""Polling helper of the VM and lab layers (they wait for daemons, BGP sessions and controllers)."""

import time


def wait_for(predicate, timeout, interval=1.0):
    """Call predicate until it returns something truthy or timeout seconds passed; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
