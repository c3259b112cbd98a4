"""Kubernetes API stand-in for the calico role's tests (never imported by the collection)."""
