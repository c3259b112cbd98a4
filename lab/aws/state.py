"""Operator knobs and the time-driven lifecycle (pending -> available, deleting -> deleted -> gone)."""

import threading
import time

KNOB_DEFAULTS = {
    "throttle_rate": 0.0,
    "latency_ms": 0.0,
    "vpc_attachment_pending_seconds": 0.0,
    "connect_pending_seconds": 0.0,
    "connect_peer_pending_seconds": 0.0,
    "deleting_seconds": 0.0,
    "deleted_retention_seconds": 60.0,
}


class Knobs:
    """Thread-safe knob values; unknown names and out-of-range values are refused."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values = dict(KNOB_DEFAULTS)

    def reset(self):
        with self._lock:
            self._values = dict(KNOB_DEFAULTS)

    def as_dict(self):
        with self._lock:
            return dict(self._values)

    def update(self, changes):
        checked = {}
        for name, value in changes.items():
            if name not in KNOB_DEFAULTS:
                raise ValueError("unknown knob %r (known: %s)" % (name, ", ".join(sorted(KNOB_DEFAULTS))))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("knob %r must be a number" % name)
            if value < 0 or (name == "throttle_rate" and value > 1):
                raise ValueError("knob %r out of range: %r" % (name, value))
            checked[name] = float(value)
        with self._lock:
            self._values.update(checked)
        return self.as_dict()

    def __getitem__(self, name):
        with self._lock:
            return self._values[name]


class Lifecycle:
    """State of an object from timestamps, evaluated when read (no background threads).

    The delays are captured when the transition starts, so changing a knob later does not rewrite history.
    """

    def __init__(self, pending_seconds):
        self.created = time.monotonic()
        self.pending_seconds = pending_seconds
        self.deleted_at = None
        self.deleting_seconds = 0.0
        self.retention_seconds = 0.0

    def delete(self, deleting_seconds, retention_seconds):
        if self.deleted_at is None:
            self.deleted_at = time.monotonic()
            self.deleting_seconds = deleting_seconds
            self.retention_seconds = retention_seconds

    @property
    def state(self):
        now = time.monotonic()
        if self.deleted_at is None:
            return "pending" if now < self.created + self.pending_seconds else "available"
        return "deleting" if now < self.deleted_at + self.deleting_seconds else "deleted"

    @property
    def expired(self):
        """True once a deleted object is no longer describable."""
        if self.deleted_at is None:
            return False
        return time.monotonic() >= self.deleted_at + self.deleting_seconds + self.retention_seconds
