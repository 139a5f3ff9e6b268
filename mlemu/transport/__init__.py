"""Transports: how requests reach a Workspace's app (in-process, or a loopback server)."""
