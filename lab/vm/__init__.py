"""A real Linux kernel for tests: a Debian bookworm VM under QEMU (TCG), reachable by SSH on loopback.

`python -m lab.vm build|start|stop|status|inventory|ssh` (see README "Node role gre_tunnel").
"""
